#include "net/connection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "net/socket_io.h"
#include "net/tls.h"
#include "net/tls_connection.h"

namespace bulwark::net {
namespace internal {

Status WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30)));
    if (n > 0) return OkStatus();
    if (n == 0) return DeadlineExceededError("timed out waiting for the peer");
    if (errno != EINTR) return SocketError(errno, "poll");
  }
}

Status SocketError(int err, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return UnavailableError(std::move(message));
}

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return SocketError(errno, "fcntl");
  }
  return OkStatus();
}

}  // namespace internal

namespace {

using internal::Clock;
using internal::SocketError;
using internal::WaitFor;

// A plain socket (TCP or Unix). On Unix sockets every read is a recvmsg that keeps any
// passed descriptors for ReceiveDescriptor.
class PlainConnection final : public Connection {
 public:
  PlainConnection(UniqueFd fd, Peer peer) : Connection(std::move(peer)), fd_(std::move(fd)) {
    (void)internal::SetNonBlocking(fd_.get());
  }

  Result<std::size_t> Read(std::span<char> out, std::chrono::milliseconds timeout) override {
    if (tls_) return tls_->Read(out, timeout);
    if (!pending_.empty()) {
      std::size_t n = std::min(out.size(), pending_.size());
      std::copy_n(pending_.begin(), n, out.begin());
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
      return n;
    }
    return ReadSocket(out, Clock::now() + timeout);
  }

  Status Write(std::string_view data, std::chrono::milliseconds timeout) override {
    if (tls_) return tls_->Write(data, timeout);
    auto deadline = Clock::now() + timeout;
    while (!data.empty()) {
      ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        BULWARK_RETURN_IF_ERROR(WaitFor(fd_.get(), POLLOUT, deadline));
        continue;
      }
      return SocketError(errno, "send");
    }
    return OkStatus();
  }

  Result<UniqueFd> ReceiveDescriptor(std::chrono::milliseconds timeout) override {
    if (peer().transport != Transport::kUnix || tls_) {
      return FailedPreconditionError("descriptors can only be passed over a Unix socket");
    }
    auto deadline = Clock::now() + timeout;
    while (descriptors_.empty()) {
      char chunk[512];
      BULWARK_ASSIGN_OR_RETURN(std::size_t n, ReadSocket(chunk, deadline));
      if (n == 0 && descriptors_.empty()) {
        return FailedPreconditionError("connection closed before a descriptor arrived");
      }
      pending_.insert(pending_.end(), chunk, chunk + n);
    }
    UniqueFd fd = std::move(descriptors_.front());
    descriptors_.pop_front();
    return fd;
  }

  void ShutdownWrite() override {
    if (tls_) return tls_->ShutdownWrite();
    ::shutdown(fd_.get(), SHUT_WR);
  }

  // The socket moves into a TlsConnection that serves every later call.
  Status StartTls(const TlsContext& context, std::string_view peer_name,
                  std::chrono::milliseconds timeout) override {
    if (tls_) return FailedPreconditionError("the connection is already using TLS");
    if (!pending_.empty() || !descriptors_.empty()) {
      return FailedPreconditionError("unread plain-text input is pending");
    }
    BULWARK_ASSIGN_OR_RETURN(internal::SslPtr ssl, NewUpgradeSsl(context, fd_.get(), peer_name));
    tls_ = std::make_unique<internal::TlsConnection>(std::move(fd_), std::move(ssl), peer());
    set_transport(Transport::kTls);
    return tls_->Handshake(timeout);
  }

 private:
  Result<std::size_t> ReadSocket(std::span<char> out, Clock::time_point deadline) {
    for (;;) {
      ssize_t n = peer().transport == Transport::kUnix ? ReceiveWithRights(out)
                                                       : ::recv(fd_.get(), out.data(), out.size(), 0);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BULWARK_RETURN_IF_ERROR(WaitFor(fd_.get(), POLLIN, deadline));
        continue;
      }
      if (errno == ECONNRESET || errno == ENOTCONN || errno == EPIPE) {
        return UnavailableError("connection reset by peer");
      }
      return SocketError(errno, "recv");
    }
  }

  ssize_t ReceiveWithRights(std::span<char> out) {
    constexpr std::size_t kMaxDescriptors = 8;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxDescriptors)];
    iovec iov{out.data(), out.size()};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(fd_.get(), &message, MSG_CMSG_CLOEXEC);
    if (n < 0) return n;
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        descriptors_.emplace_back(fd);  // owned from here on, closed if never asked for
      }
    }
    // Descriptors beyond the control buffer were closed by the kernel (MSG_CTRUNC).
    return n;
  }

  UniqueFd fd_;  // moved into tls_ by StartTls
  std::deque<char> pending_;
  std::deque<UniqueFd> descriptors_;
  std::unique_ptr<internal::TlsConnection> tls_;  // set once TLS has started
};

}  // namespace

std::unique_ptr<Connection> SocketConnection(UniqueFd fd, Peer peer) {
  return std::make_unique<PlainConnection>(std::move(fd), std::move(peer));
}

// --- BufferedReader ---------------------------------------------------------------------

Result<std::size_t> BufferedReader::Fill() {
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 65536 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  char chunk[16384];
  BULWARK_ASSIGN_OR_RETURN(std::size_t n, connection_.Read(chunk, timeout_));
  buffer_.append(chunk, n);
  return n;
}

void BufferedReader::Consume(std::size_t n) { start_ += std::min(n, buffered()); }

Result<std::string> BufferedReader::ReadUntil(std::string_view delimiter, std::size_t max) {
  std::size_t searched = 0;  // bytes of the buffered data already searched
  for (;;) {
    std::string_view data = Peek();
    std::size_t from = searched >= delimiter.size() ? searched - delimiter.size() + 1 : 0;
    std::size_t at = data.find(delimiter, from);
    if (at != std::string_view::npos && at <= max) {
      std::string out(data.substr(0, at));
      Consume(at + delimiter.size());
      return out;
    }
    if (data.size() > max) {
      return ResourceExhaustedError("more than " + std::to_string(max) +
                                    " bytes without a delimiter");
    }
    searched = data.size();
    BULWARK_ASSIGN_OR_RETURN(std::size_t n, Fill());
    if (n == 0) return FailedPreconditionError("connection closed");
  }
}

Status BufferedReader::ReadExactly(std::size_t n, std::string& out) {
  while (buffered() < n) {
    // Large bodies go straight to `out` instead of through the buffer.
    std::size_t missing = n - buffered();
    if (buffered() == 0 && missing >= 16384) {
      std::size_t old = out.size();
      out.resize(old + missing);
      std::size_t got = 0;
      while (got < missing) {
        BULWARK_ASSIGN_OR_RETURN(std::size_t r,
                                 connection_.Read({out.data() + old + got, missing - got}, timeout_));
        if (r == 0) {
          out.resize(old + got);
          return FailedPreconditionError("connection closed");
        }
        got += r;
      }
      return OkStatus();
    }
    BULWARK_ASSIGN_OR_RETURN(std::size_t r, Fill());
    if (r == 0) return FailedPreconditionError("connection closed");
  }
  out.append(Peek().substr(0, n));
  Consume(n);
  return OkStatus();
}

Result<bool> BufferedReader::WaitForData() {
  auto deadline = internal::Clock::now() + timeout_;
  while (buffered() == 0) {
    if (connection_.stopping()) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                      internal::Clock::now());
    if (left.count() <= 0) return DeadlineExceededError("timed out waiting for the peer");
    // Short slices, so that a stopping server ends idle sessions promptly.
    std::chrono::milliseconds slice = std::min(left, std::chrono::milliseconds(200));
    std::chrono::milliseconds saved = timeout_;
    timeout_ = slice;
    Result<std::size_t> n = Fill();
    timeout_ = saved;
    if (!n.ok()) {
      if (n.status().code() == StatusCode::kDeadlineExceeded) continue;
      return n.status();
    }
    if (*n == 0) return false;
  }
  return true;
}

}  // namespace bulwark::net

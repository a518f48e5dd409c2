#include "net/stream_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include "net/socket_io.h"
#include "net/tls_connection.h"

namespace bulwark::net {
namespace {

using internal::Clock;
using internal::SocketError;
using internal::WaitFor;

using internal::OpenSslError;
using internal::SslPtr;
using internal::TlsConnection;

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

Result<SslCtxPtr> MakeTlsContext(const Endpoint& endpoint) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return InternalError(OpenSslError("SSL_CTX_new"));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), endpoint.certificate_file.c_str()) != 1) {
    return InvalidArgumentError(OpenSslError("TLS certificate " + endpoint.certificate_file));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), endpoint.private_key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return InvalidArgumentError(OpenSslError("TLS private key " + endpoint.private_key_file));
  }
  return ctx;
}

struct Listener {
  Endpoint endpoint;
  UniqueFd fd;
  SslCtxPtr tls;
};

Result<Listener> Bind(Endpoint endpoint) {
  Listener listener;
  std::string where = Describe(endpoint);
  if (endpoint.transport == Transport::kUnix) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (endpoint.path.empty() || endpoint.path.size() >= sizeof(address.sun_path)) {
      return InvalidArgumentError("Unix socket path \"" + endpoint.path +
                                  "\" is empty or too long (at most " +
                                  std::to_string(sizeof(address.sun_path) - 1) + " bytes)");
    }
    std::memcpy(address.sun_path, endpoint.path.c_str(), endpoint.path.size() + 1);
    struct stat st {};
    if (::lstat(endpoint.path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return FailedPreconditionError(where + ": exists and is not a socket");
      }
      // A socket nobody answers on is left over from an earlier run.
      UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (probe.valid() && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&address),
                                     sizeof(address)) == 0) {
        return FailedPreconditionError(where + ": another server is listening on it");
      }
      ::unlink(endpoint.path.c_str());
    }
    listener.fd = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener.fd.valid()) return SocketError(errno, where);
    if (::bind(listener.fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      return SocketError(errno, where);
    }
    ::chmod(endpoint.path.c_str(), endpoint.socket_mode);
  } else {
    sockaddr_storage storage{};
    socklen_t length = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    std::string host = endpoint.address;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(endpoint.port);
      length = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(endpoint.port);
      length = sizeof(sockaddr_in6);
    } else {
      return InvalidArgumentError(where + ": \"" + endpoint.address +
                                  "\" is not an IPv4 or IPv6 address");
    }
    listener.fd = UniqueFd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener.fd.valid()) return SocketError(errno, where);
    int one = 1;
    ::setsockopt(listener.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(listener.fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
      return SocketError(errno, where);
    }
    if (::getsockname(listener.fd.get(), reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
      endpoint.port = ntohs(storage.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
    }
    if (endpoint.transport == Transport::kTls) {
      BULWARK_ASSIGN_OR_RETURN(listener.tls, MakeTlsContext(endpoint));
    }
  }
  if (::listen(listener.fd.get(), 128) != 0) return SocketError(errno, where);
  BULWARK_RETURN_IF_ERROR(internal::SetNonBlocking(listener.fd.get()));
  listener.endpoint = std::move(endpoint);
  return listener;
}

Peer PeerOf(int fd, Transport transport) {
  Peer peer;
  peer.transport = transport;
  if (transport == Transport::kUnix) {
    peer.address = "unix";
    peer.loopback = true;
    return peer;
  }
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return peer;
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    peer.address = std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
    peer.loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  } else if (storage.ss_family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    peer.address = "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
    peer.loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) != 0;
  }
  return peer;
}

}  // namespace

std::string Describe(const Endpoint& endpoint) {
  switch (endpoint.transport) {
    case Transport::kUnix: return "unix:" + endpoint.path;
    case Transport::kTcp:
    case Transport::kTls: {
      bool v6 = endpoint.address.find(':') != std::string::npos &&
                endpoint.address.front() != '[';
      std::string host = v6 ? "[" + endpoint.address + "]" : endpoint.address;
      return std::string(endpoint.transport == Transport::kTls ? "tls " : "") + host + ":" +
             std::to_string(endpoint.port);
    }
  }
  return "";
}

class StreamServer::Impl {
 public:
  Impl(ServerOptions options, ConnectionHandler handler, OverloadHandler overloaded)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        overloaded_(std::move(overloaded)) {}

  ~Impl() { Stop(std::chrono::milliseconds(0)); }

  Status Start(std::vector<Endpoint> endpoints) {
    for (auto& endpoint : endpoints) {
      Result<Listener> listener = Bind(std::move(endpoint));
      if (!listener.ok()) {
        return Status(listener.status().code(),
                      options_.name + " listener: " + listener.status().message());
      }
      bound_.push_back(listener->endpoint);
      listeners_.push_back(std::move(*listener));
    }
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return SocketError(errno, "pipe");
    wake_read_ = UniqueFd(pipe_fds[0]);
    wake_write_ = UniqueFd(pipe_fds[1]);
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return OkStatus();
  }

  const std::vector<Endpoint>& bound() const { return bound_; }
  bool stopping() const { return stopping_.load(); }

  std::size_t active() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return active_;
  }

  void Stop(std::chrono::milliseconds grace) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    stopping_.store(true);
    lock.unlock();
    if (wake_write_.valid()) {
      char byte = 0;
      (void)!::write(wake_write_.get(), &byte, 1);
    }
    if (acceptor_.joinable()) acceptor_.join();
    for (const Listener& l : listeners_) {
      if (l.endpoint.transport == Transport::kUnix) ::unlink(l.endpoint.path.c_str());
    }
    listeners_.clear();
    lock.lock();
    if (!idle_.wait_for(lock, grace, [this] { return active_ == 0; })) {
      // Cut what is left: blocked reads and writes fail and the handlers return.
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    idle_.wait(lock, [this] { return active_ == 0; });
    lock.unlock();
    std::list<std::thread> threads;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  void AcceptLoop() {
    std::vector<pollfd> fds;
    for (const Listener& l : listeners_) fds.push_back({l.fd.get(), POLLIN, 0});
    fds.push_back({wake_read_.get(), POLLIN, 0});
    while (!stopping_.load()) {
      for (auto& p : fds) p.revents = 0;
      int n = ::poll(fds.data(), fds.size(), 1000);
      if (n < 0 && errno != EINTR) {
        std::fprintf(stderr, "%s: poll: %s\n", options_.name.c_str(), std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      for (std::size_t i = 0; n > 0 && i < listeners_.size(); ++i) {
        if ((fds[i].revents & POLLIN) == 0) continue;
        for (;;) {
          int fd = ::accept4(listeners_[i].fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
          if (fd < 0) break;  // EAGAIN, or a transient error (EMFILE…): poll again
          Admit(UniqueFd(fd), listeners_[i]);
        }
      }
      ReapFinished();
    }
  }

  void Admit(UniqueFd fd, const Listener& listener) {
    Transport transport = listener.endpoint.transport;
    if (transport != Transport::kUnix) {
      int one = 1;
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    SSL* ssl = nullptr;
    if (transport == Transport::kTls) {
      ssl = SSL_new(listener.tls.get());
      if (ssl == nullptr || SSL_set_fd(ssl, fd.get()) != 1) {
        SSL_free(ssl);
        return;
      }
      SSL_set_accept_state(ssl);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    bool overloaded = active_ >= options_.max_connections;
    ++active_;
    int raw = fd.get();
    open_fds_.push_back(raw);
    threads_.emplace_back([this, raw, transport, ssl, overloaded, fd = std::move(fd)]() mutable {
      std::unique_ptr<Connection> connection =
          Serve(std::move(fd), transport, SslPtr(ssl), overloaded);
      Forget(raw);         // before the descriptor is closed and its number reused
      connection.reset();  // closes it
      Finished();
    });
  }

  // Runs the connection; returns it (still open) so that it is closed only after Forget.
  std::unique_ptr<Connection> Serve(UniqueFd fd, Transport transport, SslPtr ssl,
                                    bool overloaded) {
    Peer peer = PeerOf(fd.get(), transport);
    if (transport == Transport::kTls) {
      (void)internal::SetNonBlocking(fd.get());
      auto tls = std::make_unique<TlsConnection>(std::move(fd), std::move(ssl), peer);
      if (!tls->Handshake(std::chrono::seconds(10)).ok()) return tls;
      return Run(std::move(tls), overloaded);
    }
    return Run(SocketConnection(std::move(fd), peer), overloaded);
  }

  std::unique_ptr<Connection> Run(std::unique_ptr<Connection> connection, bool overloaded) {
    connection->set_stop_flag(&stopping_);
    if (overloaded) {
      if (overloaded_) overloaded_(*connection);
    } else {
      handler_(*connection);
    }
    return connection;
  }

  void Forget(int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    open_fds_.remove(fd);
  }

  void Finished() {
    std::lock_guard<std::mutex> lock(mutex_);
    --active_;
    finished_.push_back(std::this_thread::get_id());
    idle_.notify_all();
  }

  // Joins the threads of connections that have ended.
  void ReapFinished() {
    std::list<std::thread> done;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto id : finished_) {
        for (auto it = threads_.begin(); it != threads_.end(); ++it) {
          if (it->get_id() == id) {
            done.splice(done.end(), threads_, it);
            break;
          }
        }
      }
      finished_.clear();
    }
    for (auto& t : done) t.join();
  }

  ServerOptions options_;
  ConnectionHandler handler_;
  OverloadHandler overloaded_;
  std::vector<Listener> listeners_;
  std::vector<Endpoint> bound_;
  UniqueFd wake_read_, wake_write_;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  bool stopped_ = false;
  std::size_t active_ = 0;
  std::list<int> open_fds_;
  std::list<std::thread> threads_;
  std::vector<std::thread::id> finished_;
};

StreamServer::StreamServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamServer::~StreamServer() { impl_->Stop(std::chrono::milliseconds(0)); }

Result<std::unique_ptr<StreamServer>> StreamServer::Start(std::vector<Endpoint> endpoints,
                                                          ServerOptions options,
                                                          ConnectionHandler handler,
                                                          OverloadHandler overloaded) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler),
                                     std::move(overloaded));
  BULWARK_RETURN_IF_ERROR(impl->Start(std::move(endpoints)));
  return std::unique_ptr<StreamServer>(new StreamServer(std::move(impl)));
}

const std::vector<Endpoint>& StreamServer::bound() const { return impl_->bound(); }
void StreamServer::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }
bool StreamServer::stopping() const { return impl_->stopping(); }
std::size_t StreamServer::active_connections() const { return impl_->active(); }

}  // namespace bulwark::net

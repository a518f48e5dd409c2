// SyslogForwarder over Boost.Asio (+ asio::ssl): every network step is an asynchronous
// operation with a deadline, run to completion on the transport's own io_context by the
// thread doing the pass, so the pass stays synchronous and still times out or is interrupted.

#include "service/syslog_forwarder.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "service/audit_export.h"

namespace bulwark::service {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using ErrorCode = boost::system::error_code;

constexpr std::chrono::milliseconds kGracefulCloseTimeout{2000};

std::string LocalHostname() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "-";
  return buffer;
}

// The one place where Asio error codes become a Status.
Status NetworkError(const std::string& what, const ErrorCode& ec, bool timed_out) {
  if (timed_out) return DeadlineExceededError(what + ": timeout");
  if (ec == asio::error::operation_aborted) return UnavailableError(what + ": stopped");
  return UnavailableError(what + ": " + ec.message());
}

}  // namespace

// One connection to the receiver at a time. Thread safety: Interrupt() from any thread; the
// rest from the thread doing the pass (SyslogForwarder serializes passes).
class SyslogForwarder::Transport {
 public:
  Transport(const SyslogTarget& target, std::chrono::milliseconds timeout,
            const std::atomic<bool>& stopping)
      : target_(target),
        server_name_(target.server_name.empty() ? target.host : target.server_name),
        timeout_(timeout),
        stopping_(stopping) {}

  bool connected() const { return plain_.has_value() || tls_.has_value(); }

  // Opens the connection unless one is open.
  Status Connect() {
    if (connected()) return OkStatus();
    std::string peer = target_.host + ":" + std::to_string(target_.port);
    if (target_.tls && !ssl_context_) BULWARK_RETURN_IF_ERROR(MakeSslContext());

    std::vector<tcp::endpoint> endpoints;
    resolver_.emplace(io_);
    bool timed_out = false;
    ErrorCode ec = Run(
        [&](auto handler) {
          resolver_->async_resolve(
              target_.host, std::to_string(target_.port),
              [&endpoints, handler](const ErrorCode& resolve_ec,
                                    const tcp::resolver::results_type& results) mutable {
                for (const auto& entry : results) endpoints.push_back(entry.endpoint());
                handler(resolve_ec);
              });
        },
        timed_out);
    resolver_.reset();
    if (ec) return NetworkError("resolving " + target_.host, ec, timed_out);

    tcp::socket* socket = nullptr;
    if (target_.tls) {
      tls_.emplace(io_, *ssl_context_);
      socket = &tls_->next_layer();
    } else {
      plain_.emplace(io_);
      socket = &*plain_;
    }
    ec = Run([&](auto handler) { asio::async_connect(*socket, endpoints, handler); }, timed_out);
    if (ec) {
      Close();
      return NetworkError("connecting to " + peer, ec, timed_out);
    }
    if (!target_.tls) return OkStatus();

    SSL* native = tls_->native_handle();
    ErrorCode address_ec;
    asio::ip::make_address(server_name_, address_ec);
    bool is_ip = !address_ec;
    if (!is_ip) SSL_set_tlsext_host_name(native, server_name_.c_str());
    tls_->set_verify_mode(ssl::verify_peer);
    int set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), server_name_.c_str())
                    : SSL_set1_host(native, server_name_.c_str());
    if (set != 1) {
      Close();
      return InvalidArgumentError("cannot verify the syslog receiver as " + server_name_);
    }
    ec = Run([&](auto handler) { tls_->async_handshake(ssl::stream_base::client, handler); },
             timed_out);
    if (ec) {
      long verify = SSL_get_verify_result(native);
      Close();
      if (!timed_out && verify != X509_V_OK) {
        return UnavailableError(
            "TLS handshake with " + peer +
            ": certificate verification failed: " + X509_verify_cert_error_string(verify));
      }
      return NetworkError("TLS handshake with " + peer, ec, timed_out);
    }
    return OkStatus();
  }

  // Closes the connection when the receiver has closed it (or reset it): a syslog receiver
  // never sends application data, so readable means closing. TLS 1.3 session tickets are
  // readable too; they are consumed here without closing.
  void DropIfClosed() {
    if (!connected()) return;
    tcp::socket& socket = tls_ ? tls_->next_layer() : *plain_;
    pollfd descriptor{socket.native_handle(), POLLIN, 0};
    int ready = ::poll(&descriptor, 1, 0);
    if (ready == 0) return;
    if (ready < 0 || (descriptor.revents & (POLLERR | POLLNVAL)) != 0) {
      Close();
      return;
    }
    ErrorCode ec;
    socket.non_blocking(true, ec);
    if (ec) {
      Close();
      return;
    }
    char scratch[4096];
    for (;;) {
      std::size_t n = tls_ ? tls_->read_some(asio::buffer(scratch), ec)
                           : socket.read_some(asio::buffer(scratch), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec || n == 0) {
        Close();
        return;
      }
    }
    socket.non_blocking(false, ec);
    if (ec) Close();
  }

  // Writes all of `bytes` on the open connection (precondition: connected()).
  Status Write(const std::string& bytes) {
    bool timed_out = false;
    ErrorCode ec;
    if (tls_) {
      ec = Run([&](auto handler) { asio::async_write(*tls_, asio::buffer(bytes), handler); },
               timed_out);
    } else {
      ec = Run([&](auto handler) { asio::async_write(*plain_, asio::buffer(bytes), handler); },
               timed_out);
    }
    if (ec) {
      Close();
      return NetworkError("writing to " + target_.host + ":" + std::to_string(target_.port), ec,
                          timed_out);
    }
    return OkStatus();
  }

  // Closes gracefully, so that the receiver reads everything written before: TLS close_notify,
  // then a TCP half-close, then reads (and discards) until the receiver closes its side, all
  // within kGracefulCloseTimeout (bounded by io_timeout). Closing a socket with unread input
  // (a TLS 1.3 session ticket, say) would send a reset, and a reset can make the receiver's
  // kernel discard data it has not handed to the receiver yet.
  void Shutdown() {
    if (!connected()) return;
    const auto deadline =
        std::chrono::steady_clock::now() + std::min(timeout_, kGracefulCloseTimeout);
    auto remaining = [&] {
      return std::max(std::chrono::milliseconds(1),
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()));
    };
    bool timed_out = false;
    if (tls_) {
      Run([&](auto handler) { tls_->async_shutdown(handler); }, timed_out, remaining());
    }
    tcp::socket& socket = tls_ ? tls_->next_layer() : *plain_;
    ErrorCode ec;
    if (!timed_out && socket.is_open()) socket.shutdown(tcp::socket::shutdown_send, ec);
    char scratch[4096];
    while (!ec && !timed_out && socket.is_open() && std::chrono::steady_clock::now() < deadline) {
      ec = Run([&](auto handler) { socket.async_read_some(asio::buffer(scratch), handler); },
               timed_out, remaining());
    }
    Close();
  }

  // Closes at once, without a TLS close_notify: for a connection that failed or that the
  // receiver closed.
  void Close() {
    CloseSockets();
    tls_.reset();
    plain_.reset();
  }

  // Thread-safe: makes the operation in progress (if any) fail promptly. A request that
  // arrives while no operation runs is a no-op once stopping_ is cleared again.
  void Interrupt() {
    asio::post(io_, [this] {
      if (stopping_) CloseSockets();
    });
  }

 private:
  Status MakeSslContext() {
    ssl::context context(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    ErrorCode ec;
    if (!target_.ca_file.empty()) {
      context.load_verify_file(target_.ca_file, ec);
      if (ec) {
        return InvalidArgumentError("cannot load CA file " + target_.ca_file + ": " + ec.message());
      }
    } else {
      context.set_default_verify_paths(ec);
      if (ec) return InternalError("cannot load the default trust store: " + ec.message());
    }
    ssl_context_.emplace(std::move(context));
    return OkStatus();
  }

  void CloseSockets() {
    ErrorCode ignored;
    if (resolver_) resolver_->cancel();
    if (tls_) tls_->next_layer().close(ignored);
    if (plain_) plain_->close(ignored);
  }

  // Starts one asynchronous operation through `initiate(handler)` and runs the io_context
  // until it completed, or until `timeout` (default timeout_) passed: then the sockets are
  // closed, the operation completes with an error and `timed_out` is set. Returns
  // operation_aborted without starting anything when a stop was requested.
  template <typename Initiate>
  ErrorCode Run(Initiate&& initiate, bool& timed_out) {
    return Run(std::forward<Initiate>(initiate), timed_out, timeout_);
  }
  template <typename Initiate>
  ErrorCode Run(Initiate&& initiate, bool& timed_out, std::chrono::milliseconds timeout) {
    timed_out = false;
    if (stopping_) return asio::error::operation_aborted;
    ErrorCode result = asio::error::would_block;
    bool done = false;
    asio::steady_timer timer(io_);
    timer.expires_after(timeout);
    timer.async_wait([&](const ErrorCode& ec) {
      if (!ec && !done) {
        timed_out = true;
        CloseSockets();
      }
    });
    initiate([&](const ErrorCode& ec, auto&&...) {
      result = ec;
      done = true;
      timer.cancel();
    });
    io_.restart();
    io_.run();
    return result;
  }

  // Constant after construction.
  const SyslogTarget target_;
  const std::string server_name_;
  const std::chrono::milliseconds timeout_;
  const std::atomic<bool>& stopping_;
  // Declared before the objects bound to it, so that they are destroyed first.
  asio::io_context io_;
  std::optional<ssl::context> ssl_context_;  // built on the first TLS connect
  std::optional<tcp::resolver> resolver_;    // while resolving
  // At most one of the two is set: the open connection.
  std::optional<tcp::socket> plain_;
  std::optional<ssl::stream<tcp::socket>> tls_;
};

SyslogForwarder::SyslogForwarder(storage::Store& store, SyslogTarget target, std::string site_id,
                                 SyslogForwarderOptions options)
    : store_(store),
      target_(std::move(target)),
      site_id_(std::move(site_id)),
      options_(std::move(options)),
      hostname_(options_.hostname.empty() ? LocalHostname() : options_.hostname),
      transport_(std::make_unique<Transport>(target_, options_.io_timeout, stopping_)) {}

SyslogForwarder::~SyslogForwarder() { Stop(); }

std::string SyslogForwarder::CursorKey(const std::string& tenant_id) {
  return "syslog.cursor." + tenant_id;
}

SyslogForwarderStats SyslogForwarder::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void SyslogForwarder::RecordFailure(const Status& status) {
  std::lock_guard lock(stats_mu_);
  ++stats_.failures;
  stats_.last_error = status.ToString();
}

Result<int> SyslogForwarder::DeliverTenant(const std::string& tenant_id) {
  const std::string key = CursorKey(tenant_id);
  BULWARK_ASSIGN_OR_RETURN(std::optional<std::string> stored, store_.GetMeta(key));
  std::int64_t cursor = 0;
  if (stored) {
    const char* end = stored->data() + stored->size();
    auto [next, error] = std::from_chars(stored->data(), end, cursor);
    if (error != std::errc() || next != end || cursor < 0) {
      return InternalError("bad syslog cursor " + key + " = \"" + *stored + "\"");
    }
  }
  const int batch_size = std::clamp(options_.batch_size, 1, 1000);
  int sent = 0;
  for (;;) {
    if (stopping_) return UnavailableError("syslog forwarder stopped");
    BULWARK_ASSIGN_OR_RETURN(
        std::vector<storage::Event> events,
        store_.QueryEvents(tenant_id, {.after_seq = cursor, .limit = batch_size}));
    if (events.empty()) break;
    std::string payload;
    for (const storage::Event& event : events) {
      std::string message = EventToSyslog(event, hostname_, site_id_);
      payload += std::to_string(message.size());
      payload += ' ';
      payload += message;
    }
    BULWARK_RETURN_IF_ERROR(transport_->Connect());
    BULWARK_RETURN_IF_ERROR(transport_->Write(payload));
    {
      std::lock_guard lock(stats_mu_);
      stats_.delivered += static_cast<std::int64_t>(events.size());
    }
    cursor = events.back().seq;
    sent += static_cast<int>(events.size());
    // A failure here repeats this batch on the next pass (at least once).
    BULWARK_RETURN_IF_ERROR(store_.SetMeta(key, std::to_string(cursor)));
    if (static_cast<int>(events.size()) < batch_size) break;
  }
  return sent;
}

Result<int> SyslogForwarder::DeliverOnce() {
  std::lock_guard deliver_lock(deliver_mu_);
  Result<int> result = [&]() -> Result<int> {
    // The adapter boundary: Asio and OpenSSL wrappers may throw (allocation, context setup).
    try {
      transport_->DropIfClosed();
      BULWARK_ASSIGN_OR_RETURN(std::vector<storage::Tenant> tenants, store_.ListTenants());
      int sent = 0;
      for (const storage::Tenant& tenant : tenants) {
        BULWARK_ASSIGN_OR_RETURN(int tenant_sent, DeliverTenant(tenant.id));
        sent += tenant_sent;
      }
      return sent;
    } catch (const std::exception& error) {
      return InternalError(std::string("syslog forwarder: ") + error.what());
    }
  }();
  if (!result.ok()) {
    transport_->Close();
    RecordFailure(result.status());
  }
  std::lock_guard lock(stats_mu_);
  stats_.connected = transport_->connected();
  return result;
}

void SyslogForwarder::Run() {
  std::chrono::milliseconds backoff = options_.backoff_min;
  std::unique_lock lock(loop_mu_);
  while (!stop_requested_) {
    lock.unlock();
    Result<int> result = DeliverOnce();
    lock.lock();
    std::chrono::milliseconds wait = options_.poll_interval;
    if (result.ok()) {
      backoff = options_.backoff_min;
    } else {
      wait = backoff;
      backoff = std::min(backoff * 2, std::max(options_.backoff_max, options_.backoff_min));
    }
    loop_cv_.wait_for(lock, wait, [this] { return stop_requested_; });
  }
}

void SyslogForwarder::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(loop_mu_);
    stop_requested_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void SyslogForwarder::Stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(loop_mu_);
      stop_requested_ = true;
    }
    stopping_ = true;
    loop_cv_.notify_all();
    transport_->Interrupt();
    thread_.join();
    stopping_ = false;
  }
  std::lock_guard deliver_lock(deliver_mu_);
  try {
    transport_->Shutdown();
  } catch (const std::exception&) {
    transport_->Close();  // not reached with the error_code overloads; closes regardless
  }
  std::lock_guard lock(stats_mu_);
  stats_.connected = false;
}

}  // namespace bulwark::service

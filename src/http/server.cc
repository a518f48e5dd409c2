// HttpsServer over Boost.Beast and Asio (OpenSSL). One Session per connection, running on
// its own strand; non-inline handlers run on the WorkerPool and post their response back.

#include "http/server.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "bulwark/common/text.h"
#include "http/metrics.h"
#include "http/url.h"
#include "http/worker_pool.h"

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Mozilla "intermediate" TLS 1.2 suites (forward secret AEAD only); TLS 1.3 uses defaults.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// After an error response to a request whose rest was not read, unread input is drained
// for this long (at most kDrainBytes) so the peer sees the response, not a reset.
constexpr std::chrono::seconds kDrainTime{2};
constexpr std::size_t kDrainBytes = 1 << 20;
constexpr std::chrono::seconds kShutdownTime{2};
constexpr std::string_view kUnmatchedRoute = "unmatched";

std::string HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::string_view ToStd(beast::string_view text) { return {text.data(), text.size()}; }

bool IsToken(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool IsSafeValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "other";
}

Response InvokeSafely(const RoutedHandler& handler, const Request& request,
                      const PathParams& params) {
  // The exception boundary for handlers: nothing they throw (std::bad_alloc, a library
  // exception) reaches the client beyond a generic 500.
  try {
    return handler(request, params);
  } catch (...) {
    return Response::Error(500, "internal", "internal server error");
  }
}

bhttp::response<bhttp::string_body> BuildResponse(Response response, const ServerOptions& options) {
  int status = response.status;
  if (status < 200 || status > 599) status = 500;  // no 1xx through this path
  bhttp::response<bhttp::string_body> out;
  out.version(11);
  out.result(static_cast<unsigned>(status));
  out.set(bhttp::field::server, options.server_name);
  out.set(bhttp::field::date, HttpDate());
  bool bodiless = status == 204 || status == 304;
  if (bodiless) response.body.clear();
  if (!bodiless && !response.content_type.empty() && IsSafeValue(response.content_type)) {
    out.set(bhttp::field::content_type, response.content_type);
  }
  for (const auto& [name, value] : response.headers) {
    if (!IsToken(name) || !IsSafeValue(value)) continue;
    std::string lower = AsciiLower(name);
    if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection" ||
        lower == "server" || lower == "date" || lower == "content-type") {
      continue;
    }
    out.insert(name, value);
  }
  static constexpr const char* kSecurityHeaders[][2] = {
      {"Strict-Transport-Security", "max-age=31536000"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Cache-Control", "no-store"},
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
  };
  for (const auto& [name, value] : kSecurityHeaders) {
    if (out.find(name) == out.end()) out.set(name, value);
  }
  out.body() = std::move(response.body);
  return out;
}

class ServerImpl;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerImpl& server, tcp::socket&& socket, std::string remote_address);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // All three run on the session's strand (they post/dispatch themselves).
  void Run();
  void NotifyStopping();
  void ForceClose();

 private:
  enum class State { kHandshake, kIdle, kReading, kProcessing, kWriting, kDraining, kClosing };
  enum class After { kKeepAlive, kClose, kDrainAndClose };

  void OnHandshake(beast::error_code ec);
  void ReadNext();
  void OnIdleRead(beast::error_code ec, std::size_t bytes);
  void ReadHeader();
  void OnHeader(beast::error_code ec, std::size_t bytes);
  void ReadBody();
  void OnBody(beast::error_code ec, std::size_t bytes);
  void OnReadError(beast::error_code ec);
  void Process();
  void Finish(Response response, std::string route, After after);
  void OnWrite(beast::error_code ec, std::size_t bytes);
  void WriteAccessLog(double seconds) const;
  void Drain();
  void OnDrain(beast::error_code ec, std::size_t bytes);
  void Shutdown();
  void Close();
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  ServerImpl& server_;
  const ServerOptions& options_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  bhttp::response<bhttp::string_body> response_;
  const std::string remote_address_;
  State state_ = State::kHandshake;
  After after_ = After::kKeepAlive;
  int requests_served_ = 0;
  std::size_t drained_ = 0;
  Clock::time_point request_start_;
  std::string route_label_;
  std::string method_label_;
};

class ServerImpl final : public HttpsServer {
 public:
  ServerImpl(const ServerOptions& options, std::shared_ptr<const Router> router);
  ~ServerImpl() override;
  Status Init();
  void Start() override;
  void Stop(std::chrono::seconds grace) override;
  std::uint16_t port() const override { return port_; }

  // For sessions.
  const ServerOptions& options() const { return options_; }
  const Router& router() const { return *router_; }
  ssl::context& ssl_context() { return ssl_context_; }
  WorkerPool& workers() { return *workers_; }
  bool stopping() const { return stopping_.load(); }
  void Unregister(Session* session);
  void RecordRequest(std::string_view route, std::string_view method, int status, double seconds);
  void RecordRejected() {
    if (rejected_ != nullptr) rejected_->Increment();
  }

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  std::vector<std::shared_ptr<Session>> LiveSessions();

  // Declared before the io_context: a session destroyed with it still unregisters here.
  const ServerOptions options_;
  const std::shared_ptr<const Router> router_;
  Metrics* const metrics_;
  const std::vector<double> latency_bounds_ = LatencyBuckets();
  Gauge* queue_depth_ = nullptr;  // into *metrics_; constant after construction
  Gauge* connections_ = nullptr;  // into *metrics_; constant after construction
  Counter* rejected_ = nullptr;   // into *metrics_; constant after construction
  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // Guarded by sessions_mu_.
  std::atomic<bool> stopping_{false};
  std::unique_ptr<WorkerPool> workers_;
  ssl::context ssl_context_{ssl::context::tls_server};
  asio::io_context io_context_;
  tcp::acceptor acceptor_{io_context_};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;
  std::uint16_t port_ = 0;
  bool started_ = false;  // controlling thread only
  bool stopped_ = false;  // controlling thread only
};

// ---- Session ----

Session::Session(ServerImpl& server, tcp::socket&& socket, std::string remote_address)
    : server_(server),
      options_(server.options()),
      stream_(std::move(socket), server.ssl_context()),
      remote_address_(std::move(remote_address)) {}

Session::~Session() { server_.Unregister(this); }

void Session::Run() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->state_ = State::kHandshake;
    self->Tcp().expires_after(self->options_.header_timeout);
    self->stream_.async_handshake(ssl::stream_base::server,
                                  beast::bind_front_handler(&Session::OnHandshake, self));
  });
}

void Session::NotifyStopping() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    switch (self->state_) {
      case State::kHandshake:
      case State::kIdle:
      case State::kDraining:
      case State::kClosing:
        self->Close();
        break;
      default:  // a request in progress finishes; its response says Connection: close
        break;
    }
  });
}

void Session::ForceClose() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void Session::OnHandshake(beast::error_code ec) {
  if (ec) return Close();  // includes plain HTTP sent to the TLS port
  ReadNext();
}

void Session::ReadNext() {
  if (server_.stopping()) return Shutdown();
  parser_.emplace();
  parser_->header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(options_.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(static_cast<std::uint64_t>(options_.max_body_bytes));
  route_label_ = kUnmatchedRoute;
  method_label_ = "other";
  if (buffer_.size() > 0) return ReadHeader();  // pipelined bytes already here
  state_ = State::kIdle;
  Tcp().expires_after(requests_served_ == 0 ? options_.header_timeout : options_.idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096),
                          beast::bind_front_handler(&Session::OnIdleRead, shared_from_this()));
}

void Session::OnIdleRead(beast::error_code ec, std::size_t bytes) {
  if (ec) return Close();
  buffer_.commit(bytes);
  ReadHeader();
}

void Session::ReadHeader() {
  state_ = State::kReading;
  request_start_ = Clock::now();
  Tcp().expires_after(options_.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
}

void Session::OnHeader(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) return OnReadError(ec);
  method_label_ = MethodLabel(ToStd(parser_->get().method_string()));
  if (parser_->is_done()) return Process();
  if (beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
    continue_.emplace(bhttp::status::continue_, 11);
    Tcp().expires_after(options_.body_timeout);
    bhttp::async_write(stream_, *continue_,
                       [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                         if (write_ec) return self->Close();
                         self->ReadBody();
                       });
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  Tcp().expires_after(options_.body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&Session::OnBody, shared_from_this()));
}

void Session::OnBody(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) return OnReadError(ec);
  Process();
}

void Session::OnReadError(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    return Finish(Response::Error(
                      413, "payload_too_large",
                      "request body exceeds " + std::to_string(options_.max_body_bytes) + " bytes"),
                  std::string(kUnmatchedRoute), After::kDrainAndClose);
  }
  if (ec == bhttp::error::header_limit) {
    return Finish(Response::Error(431, "headers_too_large", "request headers too large"),
                  std::string(kUnmatchedRoute), After::kDrainAndClose);
  }
  // The peer went away or was too slow: nobody to answer.
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == bhttp::error::need_more ||
      ec.category() != bhttp::make_error_code(bhttp::error::bad_target).category()) {
    return Close();
  }
  Finish(Response::Error(400, "bad_request", "malformed HTTP request"),
         std::string(kUnmatchedRoute), After::kDrainAndClose);
}

void Session::Process() {
  state_ = State::kProcessing;
  Tcp().expires_never();
  auto& message = parser_->get();
  Request request;
  request.method = std::string(ToStd(message.method_string()));
  request.target = std::string(ToStd(message.target()));
  for (const auto& field : message) {
    request.headers.emplace(AsciiLower(ToStd(field.name_string())), std::string(ToStd(field.value())));
  }
  request.remote_address = remote_address_;
  After after = message.keep_alive() ? After::kKeepAlive : After::kClose;
  request.body = std::move(message.body());
  Result<ParsedTarget> target = ParseTarget(request.target);
  if (!target.ok()) {
    return Finish(Response::Error(400, "bad_request", target.status().message()),
                  std::string(kUnmatchedRoute), after);
  }
  request.path = std::move(target->path);
  request.query = std::move(target->query);

  const Router& router = server_.router();
  Router::Match match = router.Resolve(request.method, request.path);
  if (match.handler == nullptr) {
    return Finish(router.Dispatch(request), std::string(kUnmatchedRoute), after);
  }
  if (match.inline_handler) {
    Response response = InvokeSafely(*match.handler, request, match.params);
    return Finish(std::move(response), std::move(match.pattern), after);
  }
  std::string route = match.pattern;
  bool queued = server_.workers().TrySubmit(
      [self = shared_from_this(), handler = match.handler, request = std::move(request),
       params = std::move(match.params), pattern = match.pattern, after]() mutable {
        Response response = InvokeSafely(*handler, request, params);
        asio::post(self->stream_.get_executor(),
                   [self, response = std::move(response), label = std::move(pattern),
                    after]() mutable { self->Finish(std::move(response), label, after); });
      });
  if (!queued) {
    server_.RecordRejected();
    Response busy = Response::Error(503, "overloaded", "server busy, retry later");
    busy.headers.emplace_back("Retry-After", "1");
    Finish(std::move(busy), std::move(route), after);
  }
}

void Session::Finish(Response response, std::string route, After after) {
  state_ = State::kWriting;
  if (after == After::kKeepAlive && server_.stopping()) after = After::kClose;
  after_ = after;
  route_label_ = std::move(route);
  response_ = BuildResponse(std::move(response), options_);
  response_.keep_alive(after == After::kKeepAlive);
  response_.prepare_payload();
  Tcp().expires_after(options_.body_timeout);
  bhttp::async_write(stream_, response_,
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
}

void Session::OnWrite(beast::error_code ec, std::size_t /*bytes*/) {
  double seconds = std::chrono::duration<double>(Clock::now() - request_start_).count();
  server_.RecordRequest(route_label_, method_label_, response_.result_int(), seconds);
  if (options_.access_log) WriteAccessLog(seconds);
  if (ec) return Close();
  ++requests_served_;
  response_ = {};
  switch (after_) {
    case After::kKeepAlive:
      return ReadNext();
    case After::kClose:
      return Shutdown();
    case After::kDrainAndClose:
      state_ = State::kDraining;
      if (server_.stopping()) return Close();
      Tcp().expires_after(kDrainTime);
      return Drain();
  }
}

void Session::Drain() {
  buffer_.consume(buffer_.size());
  stream_.async_read_some(buffer_.prepare(16384),
                          beast::bind_front_handler(&Session::OnDrain, shared_from_this()));
}

void Session::OnDrain(beast::error_code ec, std::size_t bytes) {
  drained_ += bytes;
  if (ec || drained_ > kDrainBytes) return Close();
  buffer_.commit(bytes);
  Drain();
}

void Session::Shutdown() {
  state_ = State::kClosing;
  Tcp().expires_after(kShutdownTime);
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
}

void Session::Close() {
  state_ = State::kClosing;
  beast::error_code ignored;
  Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  Tcp().close();
}

// ---- ServerImpl ----

ServerImpl::ServerImpl(const ServerOptions& options, std::shared_ptr<const Router> router)
    : options_(options), router_(std::move(router)), metrics_(options.metrics) {
  if (metrics_ != nullptr) {
    queue_depth_ =
        &metrics_->GetGauge("bulwark_http_queue_depth", "Requests waiting for a worker thread.");
    connections_ = &metrics_->GetGauge("bulwark_http_connections", "Open HTTPS connections.");
    rejected_ = &metrics_->GetCounter("bulwark_http_rejected_total",
                                      "Requests answered 503 because the worker queue was full.");
  }
  int workers = options_.worker_threads;
  if (workers <= 0) workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  workers_ = std::make_unique<WorkerPool>(workers, options_.max_queued, queue_depth_);
}

ServerImpl::~ServerImpl() { Stop(std::chrono::seconds(0)); }

Status ServerImpl::Init() {
  if (router_ == nullptr) return InvalidArgumentError("no router");
  beast::error_code ec;
  ssl_context_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                               ssl::context::single_dh_use,
                           ec);
  if (ec) return InternalError("TLS options: " + ec.message());
  SSL_CTX* native = ssl_context_.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return InternalError("TLS protocol/cipher configuration failed");
  }
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  ssl_context_.use_certificate_chain_file(options_.certificate_file, ec);
  if (ec) {
    return InvalidArgumentError("certificate " + options_.certificate_file + ": " + ec.message());
  }
  ssl_context_.use_private_key_file(options_.private_key_file, ssl::context::pem, ec);
  if (ec) {
    return InvalidArgumentError("private key " + options_.private_key_file + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgumentError("private key does not match the certificate");
  }

  asio::ip::address address = asio::ip::make_address(options_.address, ec);
  if (ec) return InvalidArgumentError("bad listen address: " + options_.address);
  tcp::endpoint endpoint(address, options_.port);
  std::string where = options_.address + ":" + std::to_string(options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return UnavailableError("cannot listen on " + where + ": " + ec.message());
  return OkStatus();
}

void ServerImpl::Start() {
  if (started_ || stopped_) return;
  started_ = true;
  workers_->Start();
  work_.emplace(asio::make_work_guard(io_context_));
  Accept();
  int threads = std::max(1, options_.io_threads);
  for (int i = 0; i < threads; ++i) {
    io_threads_.emplace_back([this] {
      while (true) {
        // The exception boundary of the I/O threads (std::bad_alloc in a completion
        // handler): the connection concerned is lost, the server keeps running.
        try {
          io_context_.run();
          return;
        } catch (...) {
        }
      }
    });
  }
}

void ServerImpl::Accept() {
  acceptor_.async_accept(asio::make_strand(io_context_),
                         beast::bind_front_handler(&ServerImpl::OnAccept, this));
}

void ServerImpl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open() || stopping_.load()) return;
  if (ec) return Accept();  // e.g. EMFILE, a connection reset before accept
  // Responses go out as several TLS records; without TCP_NODELAY, Nagle's algorithm holds
  // the last one until the peer's delayed ACK (~40 ms per response larger than a segment).
  beast::error_code option_ec;
  socket.set_option(tcp::no_delay(true), option_ec);
  beast::error_code endpoint_ec;
  asio::ip::address address = socket.remote_endpoint(endpoint_ec).address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  auto session = std::make_shared<Session>(*this, std::move(socket),
                                           endpoint_ec ? std::string() : address.to_string());
  {
    std::lock_guard lock(sessions_mu_);
    sessions_.emplace(session.get(), session);
  }
  if (connections_ != nullptr) connections_->Add(1);
  // Stop() sets stopping_ before it looks at sessions_, so a session registered after
  // that look sees the flag here and is simply dropped.
  if (!stopping_.load()) session->Run();
  Accept();
}

void ServerImpl::Unregister(Session* session) {
  {
    std::lock_guard lock(sessions_mu_);
    sessions_.erase(session);
  }
  if (connections_ != nullptr) connections_->Add(-1);
  sessions_cv_.notify_all();
}

std::vector<std::shared_ptr<Session>> ServerImpl::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard lock(sessions_mu_);
  for (auto& [pointer, weak] : sessions_) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  return live;
}

void ServerImpl::Stop(std::chrono::seconds grace) {
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  if (!started_) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return;
  }
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  // Shared pointers are released outside sessions_mu_: the last one runs ~Session, which
  // takes the mutex.
  for (const auto& session : LiveSessions()) session->NotifyStopping();
  {
    std::unique_lock lock(sessions_mu_);
    sessions_cv_.wait_for(lock, grace, [this] { return sessions_.empty(); });
  }
  for (const auto& session : LiveSessions()) session->ForceClose();
  work_.reset();
  // Give the forced closes a moment to run, then stop whatever remains.
  {
    std::unique_lock lock(sessions_mu_);
    sessions_cv_.wait_for(lock, std::chrono::milliseconds(200),
                          [this] { return sessions_.empty(); });
  }
  io_context_.stop();
  for (std::thread& thread : io_threads_) thread.join();
  io_threads_.clear();
  workers_->Stop();
}

void Session::WriteAccessLog(double seconds) const {
  // Labels are our own route patterns and method names: no escaping needed beyond quotes,
  // which they cannot contain. One fwrite keeps concurrent lines whole.
  char line[512];
  int length = std::snprintf(
      line, sizeof line,
      "{\"time\":%lld,\"level\":\"info\",\"msg\":\"request\",\"method\":\"%s\","
      "\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f,\"remote\":\"%s\"}\n",
      static_cast<long long>(std::time(nullptr)), method_label_.c_str(), route_label_.c_str(),
      response_.result_int(), seconds * 1000, remote_address_.c_str());
  if (length > 0) {
    std::fwrite(line, 1, std::min<std::size_t>(static_cast<std::size_t>(length), sizeof line - 1),
                stderr);
  }
}

void ServerImpl::RecordRequest(std::string_view route, std::string_view method, int status,
                               double seconds) {
  if (metrics_ == nullptr) return;
  metrics_
      ->GetCounter("bulwark_http_requests_total", "HTTP requests answered.",
                   {{"route", std::string(route)},
                    {"method", std::string(method)},
                    {"status", std::to_string(status)}})
      .Increment();
  metrics_
      ->GetHistogram("bulwark_http_request_duration_seconds",
                     "Time from the first byte of a request to its response written.",
                     latency_bounds_, {{"route", std::string(route)}})
      .Observe(seconds);
}

}  // namespace

Result<std::unique_ptr<HttpsServer>> HttpsServer::Create(const ServerOptions& options,
                                                         std::shared_ptr<const Router> router) {
  // Boost may throw while constructing the io_context or the TLS context.
  try {
    auto server = std::make_unique<ServerImpl>(options, std::move(router));
    BULWARK_RETURN_IF_ERROR(server->Init());
    return std::unique_ptr<HttpsServer>(std::move(server));
  } catch (const std::exception& error) {
    return InternalError(std::string("cannot create HTTPS server: ") + error.what());
  }
}

}  // namespace bulwark::http

// Client over Boost.Beast: every step is an asynchronous operation with a deadline, run to
// completion on the client's own io_context, so the synchronous API still times out.

#include "http/client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <optional>

#include "bulwark/common/text.h"

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string_view ToStd(beast::string_view text) { return {text.data(), text.size()}; }
beast::string_view ToBeast(std::string_view text) { return {text.data(), text.size()}; }

bool IsToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

struct Url {
  bool tls = false;
  std::string host;         // without brackets
  std::string port;         // always set
  std::string host_header;  // "host", "host:8443", "[::1]:8443"
  std::string target;       // "/path?query"
  std::string key;          // identifies a reusable connection
};

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  std::string lower = AsciiLower(text.substr(0, 8));
  if (lower.starts_with("https://")) {
    url.tls = true;
    text.remove_prefix(8);
  } else if (lower.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    return InvalidArgumentError("URL must start with http:// or https://");
  }
  std::size_t authority_end = text.find_first_of("/?#");
  std::string_view authority = text.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : text.substr(authority_end);
  target = target.substr(0, target.find('#'));
  url.target =
      target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("user information in URLs is not supported");
  }
  std::string_view port;
  bool bracketed = false;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("bad IPv6 literal in URL");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return InvalidArgumentError("bad URL authority");
      port = rest.substr(1);
    }
    bracketed = true;
  } else {
    std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return InvalidArgumentError("URL without a host");
  for (char c : url.host) {
    if (c <= ' ' || c == '/' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      return InvalidArgumentError("bad host in URL");
    }
  }
  std::string default_port = url.tls ? "443" : "80";
  if (port.empty()) {
    url.port = default_port;
  } else {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
      return InvalidArgumentError("bad port in URL");
    }
    url.port = std::string(port);
  }
  url.host_header = bracketed ? "[" + url.host + "]" : url.host;
  if (url.port != default_port) url.host_header += ":" + url.port;
  url.key = (url.tls ? "https://" : "http://") + url.host_header;
  return url;
}

Status NetworkError(std::string_view what, beast::error_code ec) {
  if (ec == beast::error::timeout) return DeadlineExceededError(std::string(what) + ": timeout");
  if (ec == bhttp::error::body_limit) {
    return ResourceExhaustedError(std::string(what) + ": response body too large");
  }
  return UnavailableError(std::string(what) + ": " + ec.message());
}

}  // namespace

std::string ClientResponse::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

struct Client::Impl {
  explicit Impl(ClientOptions client_options) : options(std::move(client_options)) {}

  // Starts one asynchronous operation through `initiate(handler)` and runs the io_context
  // until it (and its timers) completed.
  template <typename Initiate>
  beast::error_code Run(Initiate&& initiate) {
    beast::error_code result = asio::error::would_block;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_context.restart();
    io_context.run();
    return result;
  }

  void Disconnect() {
    beast::error_code ignored;
    if (tls) beast::get_lowest_layer(*tls).socket().close(ignored);
    if (plain) plain->socket().close(ignored);
    tls.reset();
    plain.reset();
    buffer.consume(buffer.size());
    connection_key.clear();
  }

  Status Connect(const Url& url, Clock::time_point deadline) {
    Disconnect();
    tcp::resolver resolver(io_context);
    asio::steady_timer timer(io_context);
    tcp::resolver::results_type endpoints;
    bool timed_out = false;
    timer.expires_at(deadline);
    timer.async_wait([&](beast::error_code ec) {
      if (!ec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    beast::error_code ec = Run([&](auto handler) {
      resolver.async_resolve(
          url.host, url.port,
          [&, handler](beast::error_code resolve_ec, tcp::resolver::results_type results) mutable {
            timer.cancel();
            endpoints = std::move(results);
            handler(resolve_ec);
          });
    });
    if (timed_out) return DeadlineExceededError("resolving " + url.host + ": timeout");
    if (ec) return UnavailableError("resolving " + url.host + ": " + ec.message());

    beast::tcp_stream* lowest = nullptr;
    if (url.tls) {
      tls.emplace(io_context, ssl_context);
      lowest = &beast::get_lowest_layer(*tls);
    } else {
      plain.emplace(io_context);
      lowest = &*plain;
    }
    lowest->expires_at(deadline);
    ec = Run([&](auto handler) { lowest->async_connect(endpoints, handler); });
    if (ec) {
      Disconnect();
      return NetworkError("connecting to " + url.host_header, ec);
    }
    ++opened;
    beast::error_code nodelay_ec;  // requests are written in pieces: no Nagle delay
    lowest->socket().set_option(asio::ip::tcp::no_delay(true), nodelay_ec);
    if (url.tls) {
      SSL* native = tls->native_handle();
      beast::error_code address_ec;
      asio::ip::make_address(url.host, address_ec);
      bool is_ip = !address_ec;
      if (!is_ip) SSL_set_tlsext_host_name(native, url.host.c_str());
      if (options.insecure_skip_verify) {
        tls->set_verify_mode(ssl::verify_none);
      } else {
        tls->set_verify_mode(ssl::verify_peer);
        int set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), url.host.c_str())
                        : SSL_set1_host(native, url.host.c_str());
        if (set != 1) {
          Disconnect();
          return InvalidArgumentError("cannot verify host " + url.host);
        }
      }
      lowest->expires_at(deadline);
      ec = Run([&](auto handler) { tls->async_handshake(ssl::stream_base::client, handler); });
      if (ec) {
        Disconnect();
        return NetworkError("TLS handshake with " + url.host_header, ec);
      }
    }
    connection_key = url.key;
    return OkStatus();
  }

  // Writes `request` and reads the response on the open connection. `got_bytes` tells
  // whether any response byte arrived (a failure without one may be retried).
  template <typename Stream>
  Result<ClientResponse> Exchange(Stream& stream, bhttp::request<bhttp::string_body>& request,
                                  Clock::time_point deadline, bool& got_bytes) {
    got_bytes = false;
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    lowest.expires_at(deadline);
    beast::error_code ec = Run([&](auto handler) { bhttp::async_write(stream, request, handler); });
    if (ec) return NetworkError("sending request", ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(static_cast<std::uint64_t>(options.max_response_body_bytes));
    if (request.method() == bhttp::verb::head) parser.skip(true);
    lowest.expires_at(deadline);
    ec = Run([&](auto handler) { bhttp::async_read(stream, buffer, parser, handler); });
    got_bytes = parser.got_some();
    if (ec) return NetworkError("reading response", ec);
    auto& message = parser.get();
    ClientResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.emplace(AsciiLower(ToStd(field.name_string())),
                               std::string(ToStd(field.value())));
    }
    response.body = std::move(message.body());
    if (!options.keep_alive || !message.keep_alive()) Disconnect();
    return response;
  }

  Result<ClientResponse> Send(std::string_view method, std::string_view url_text,
                              const ClientHeaders& headers, std::string_view body) {
    BULWARK_ASSIGN_OR_RETURN(Url url, ParseUrl(url_text));
    if (!IsToken(method)) return InvalidArgumentError("bad HTTP method");
    bhttp::request<bhttp::string_body> request;
    bhttp::verb verb = bhttp::string_to_verb(ToBeast(method));
    if (verb == bhttp::verb::unknown) {
      request.method_string(ToBeast(method));
    } else {
      request.method(verb);
    }
    request.target(url.target);
    request.version(11);
    request.set(bhttp::field::host, url.host_header);
    request.set(bhttp::field::user_agent, options.user_agent);
    for (const auto& [name, value] : headers) {
      if (!IsToken(name) ||
          value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        return InvalidArgumentError("bad request header " + name);
      }
      std::string lower = AsciiLower(name);
      if (lower == "content-length" || lower == "transfer-encoding") continue;
      if (lower == "host") {
        request.set(bhttp::field::host, value);
      } else {
        request.insert(name, value);
      }
    }
    request.body() = std::string(body);
    request.keep_alive(options.keep_alive);
    request.prepare_payload();

    Clock::time_point deadline = Clock::now() + options.timeout;
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = connection_key == url.key;
      if (!reused) BULWARK_RETURN_IF_ERROR(Connect(url, deadline));
      bool got_bytes = false;
      Result<ClientResponse> response = tls ? Exchange(*tls, request, deadline, got_bytes)
                                            : Exchange(*plain, request, deadline, got_bytes);
      if (response.ok()) return response;
      Disconnect();
      bool retry =
          reused && !got_bytes && response.status().code() != StatusCode::kDeadlineExceeded;
      if (!retry) return response.status();
    }
    return UnavailableError("connection failed");
  }

  // Constant after construction.
  const ClientOptions options;
  std::mutex mu;  // serializes Send()
  // Guarded by mu.
  asio::io_context io_context;
  ssl::context ssl_context{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::string connection_key;  // Url::key of the open connection, "" when none
  std::size_t opened = 0;
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() {
  if (impl_) impl_->Disconnect();
}

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  // The adapter boundary: Boost may throw while building its contexts.
  try {
    auto impl = std::make_unique<Impl>(std::move(options));
    SSL_CTX_set_min_proto_version(impl->ssl_context.native_handle(), TLS1_2_VERSION);
    beast::error_code ec;
    if (!impl->options.ca_file.empty()) {
      impl->ssl_context.load_verify_file(impl->options.ca_file, ec);
      if (ec) {
        return InvalidArgumentError("cannot load CA file " + impl->options.ca_file + ": " +
                                    ec.message());
      }
    } else {
      impl->ssl_context.set_default_verify_paths(ec);
      if (ec) return InternalError("cannot load the default trust store: " + ec.message());
    }
    return std::unique_ptr<Client>(new Client(std::move(impl)));
  } catch (const std::exception& error) {
    return InternalError(std::string("cannot create HTTP client: ") + error.what());
  }
}

Result<ClientResponse> Client::Send(std::string_view method, std::string_view url,
                                    const ClientHeaders& headers, std::string_view body) {
  std::lock_guard lock(impl_->mu);
  try {
    return impl_->Send(method, url, headers, body);
  } catch (const std::exception& error) {
    impl_->Disconnect();
    return InternalError(std::string("HTTP client: ") + error.what());
  }
}

std::size_t Client::connections_opened() const {
  std::lock_guard lock(impl_->mu);
  return impl_->opened;
}

}  // namespace bulwark::http

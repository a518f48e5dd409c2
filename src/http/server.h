#pragma once
// HttpsServer: the TLS (1.2+) HTTP/1.1 server of `bulwark serve` (Boost.Beast + OpenSSL).
// Keep-alive, request size limits, header/body/idle timeouts, graceful shutdown.
//
// Handlers run on a worker pool, not on the I/O threads, so a slow handler (a scan) never
// stalls reading, TLS handshakes or the light routes; routes registered as `inline_handler`
// (health, readiness, metrics) run on the I/O thread and stay fast while scans saturate the
// CPUs. When the worker queue is full the server answers 503 with Retry-After itself.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"

namespace bulwark::http {

class Metrics;  // http/metrics.h

struct Request {
  std::string method;                             // "GET", "POST", …
  std::string target;                             // raw request target ("/api/v1/events?limit=10")
  std::string path;                               // percent-decoded path without the query
  std::multimap<std::string, std::string> query;  // decoded query parameters
  // Header names lower-cased.
  std::multimap<std::string, std::string> headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1"

  // First value of a header (lower-case name) or "".
  std::string Header(std::string_view lower_name) const;
  // First value of a query parameter or "".
  std::string Query(std::string_view name) const;
  // Value of one cookie from the Cookie header, or "".
  std::string Cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Set-Cookie, …)
  std::string body;

  static Response Json(int status, std::string body);
  // {"error":{"code":CODE,"message":MESSAGE}} (both JSON-escaped).
  static Response Error(int status, std::string_view code, std::string_view message);
};

// The server always sets Server, Date, Content-Length and Connection itself, and these
// security headers unless `Response::headers` already names them: Strict-Transport-Security,
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY, Cache-Control: no-store,
// Content-Security-Policy: default-src 'none'; frame-ancestors 'none'. Extra headers whose
// name or value holds CR, LF or NUL are dropped (no response splitting).

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;     // 0 = any free port (tests); see HttpsServer::port()
  std::string certificate_file;  // PEM chain
  std::string private_key_file;  // PEM
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  std::chrono::seconds header_timeout{10};  // to receive a request's headers
  std::chrono::seconds body_timeout{120};   // to receive its body
  std::chrono::seconds idle_timeout{60};    // keep-alive between requests
  int io_threads = 1;
  int worker_threads = 0;        // 0 = hardware concurrency
  std::size_t max_queued = 256;  // waiting requests beyond which the server answers 503
  std::string server_name = "bulwark";
  // Borrowed, may be null; must outlive the server. Receives bulwark_http_requests_total
  // {route,method,status}, bulwark_http_request_duration_seconds{route},
  // bulwark_http_queue_depth, bulwark_http_rejected_total and bulwark_http_connections.
  Metrics* metrics = nullptr;
  // One JSON line per answered request on stderr: time, method, route pattern (never the
  // raw path or query, which may carry ids or addresses), status, duration, client address.
  bool access_log = false;
};

class Router;

// Thread safety: Start() and Stop() are called from one controlling thread; port() anywhere.
// The timeouts: header_timeout covers the TLS handshake and each request's headers from its
// first byte; idle_timeout the wait for the first byte of the next request on a kept-alive
// connection; body_timeout reading a body and writing a response. An expired timeout closes
// the connection without a response. Malformed HTTP gets 400 (oversized headers 431, a body
// over max_body_bytes 413) and the connection is closed.
class HttpsServer {
 public:
  // Binds and listens (kUnavailable if the port is taken, kInvalidArgument for a bad
  // address or certificate/key). Serving starts with Start(). `router` must not be null.
  static Result<std::unique_ptr<HttpsServer>> Create(const ServerOptions& options,
                                                     std::shared_ptr<const Router> router);
  virtual ~HttpsServer() = default;
  // Starts the I/O threads and the worker pool. Calling it twice does nothing.
  virtual void Start() = 0;
  // Stops accepting, closes idle keep-alive connections, lets requests in progress finish
  // (up to `grace`), then closes every connection and joins all threads. A handler still
  // running after `grace` is waited for (it cannot be interrupted) but its response is
  // dropped. Idempotent; the destructor calls Stop(0s) if needed.
  virtual void Stop(std::chrono::seconds grace = std::chrono::seconds(10)) = 0;
  virtual std::uint16_t port() const = 0;
};

// Router: method + path pattern → handler. Unknown path → 404 JSON error; known path with
// another method → 405 with Allow. Path parameters are passed in PathParams.
//
// Patterns are '/'-separated segments matched against the decoded path segment by
// segment: a literal matches itself exactly, "{name}" any non-empty segment. When several
// patterns match, the most specific wins (at the first differing segment a literal beats a
// parameter), then the one added first.
// Thread safety: Add() while setting up only; Resolve() and Dispatch() are const and safe
// from any number of threads once the router is shared with the server.
using PathParams = std::map<std::string, std::string>;
using RoutedHandler = std::function<Response(const Request&, const PathParams&)>;

class Router {
 public:
  void Add(std::string method, std::string pattern, RoutedHandler handler,
           bool inline_handler = false);
  // Resolves the route; fills `params`. nullptr when none matches (with `status` 404/405).
  struct Match {
    const RoutedHandler* handler = nullptr;  // points into the router
    PathParams params;
    bool inline_handler = false;
    int status = 404;     // when handler == nullptr
    std::string allow;    // for 405: "GET, POST"
    std::string pattern;  // the matched pattern ("/api/v1/events/{id}"); "" for 404
  };
  Match Resolve(std::string_view method, std::string_view path) const;
  // Resolves and runs (or answers the 404/405 error). Does not catch exceptions.
  Response Dispatch(const Request& request) const;
  // Every registered route as (method, pattern), in the order added (documentation checks).
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Entry {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    RoutedHandler handler;
    bool inline_handler;
  };
  std::vector<Entry> entries_;
};

// Writes a self-signed certificate (EC P-256, SHA-256, 825 days, SAN localhost/127.0.0.1/::1
// plus `extra_names`: an IP address when one parses, else a DNS name) and its key (0600,
// created exclusively) if they do not exist yet; parent directories are created. OK without
// touching anything when both files exist; kFailedPrecondition when only one does;
// kInvalidArgument for an extra name that is neither an IP nor a DNS name; kInternal or
// kPermissionDenied when writing fails (a key written by this call is then removed).
Status EnsureSelfSignedCertificate(const std::string& certificate_file,
                                   const std::string& private_key_file,
                                   const std::vector<std::string>& extra_names = {});

}  // namespace bulwark::http

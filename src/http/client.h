#pragma once
// Client: a small synchronous HTTP/1.1 client for http:// and https:// URLs (Boost.Beast
// underneath, kept out of this header). Used by the server's tests and by connectors that
// speak HTTP (an S3-compatible object store).
//
// Each call blocks the calling thread until the response is read or the timeout passes.
// With keep_alive, the connection to the last scheme/host/port is kept and reused; a
// request on a reused connection that fails before any response byte arrives is retried
// once on a fresh connection. Thread safety: one Client per thread (calls are serialized
// by a mutex, so sharing is safe but not concurrent).

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"

namespace bulwark::http {

struct ClientOptions {
  // Whole request: resolve, connect, TLS handshake, write and read.
  std::chrono::milliseconds timeout{30000};
  // PEM bundle of trusted CAs for https; empty = the system's default trust store.
  std::string ca_file;
  // Skips certificate and host name verification. For tests only.
  bool insecure_skip_verify = false;
  bool keep_alive = true;
  std::size_t max_response_body_bytes = 64 * 1024 * 1024;
  std::string user_agent = "bulwark";
};

struct ClientResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // First value of a header (lower-case name) or "".
  std::string Header(std::string_view lower_name) const;
};

using ClientHeaders = std::vector<std::pair<std::string, std::string>>;

class Client {
 public:
  // kInvalidArgument when `ca_file` cannot be loaded.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `method` to `url` ("https://host:port/path?query"). Host, User-Agent, and
  // Content-Length (when there is a body or the method is POST/PUT/PATCH) are set here;
  // `headers` may add others (CR/LF in them is kInvalidArgument). Any HTTP status is a
  // successful Result. Errors: kInvalidArgument (bad URL or header), kDeadlineExceeded
  // (timeout), kUnavailable (resolve/connect/TLS failure incl. verification, connection
  // closed, malformed response), kResourceExhausted (body over max_response_body_bytes).
  Result<ClientResponse> Send(std::string_view method, std::string_view url,
                              const ClientHeaders& headers = {}, std::string_view body = {});
  Result<ClientResponse> Get(std::string_view url, const ClientHeaders& headers = {}) {
    return Send("GET", url, headers);
  }
  Result<ClientResponse> Post(std::string_view url, std::string_view body,
                              std::string_view content_type = "application/json") {
    return Send("POST", url, {{"Content-Type", std::string(content_type)}}, body);
  }

  // Connections opened so far (tests check keep-alive reuse with it).
  std::size_t connections_opened() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::http

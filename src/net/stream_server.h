#pragma once
// StreamServer: accepts connections on TCP, TLS-over-TCP and Unix-socket listeners and runs
// a protocol handler for each on its own thread, with a cap on concurrent connections.
// Front-ends with simple request/response protocols (clamd, ICAP) use it; the HTTPS API
// has its own server (src/http).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "net/connection.h"

namespace bulwark::net {

struct Endpoint {
  Transport transport = Transport::kTcp;
  std::string address = "127.0.0.1";  // TCP and TLS
  std::uint16_t port = 0;             // 0: any free port (see StreamServer::bound)
  std::string path;                   // Unix socket path (replaced if a stale socket is there)
  unsigned socket_mode = 0660;        // Unix socket permissions
  // TLS only: PEM files (TLS 1.2 or later is required of clients).
  std::string certificate_file;
  std::string private_key_file;
};

struct ServerOptions {
  std::string name;  // for messages: "clamd", "ICAP"
  std::size_t max_connections = 128;
};

// Runs one connection to its end. The server closes the connection when it returns.
using ConnectionHandler = std::function<void(Connection&)>;
// Answers a connection turned away because max_connections are busy (say so in the
// protocol's own words, briefly); the server closes it afterwards.
using OverloadHandler = std::function<void(Connection&)>;

class StreamServer {
 public:
  // Binds every endpoint (all or nothing: a bind failure names the endpoint) and starts
  // accepting.
  static Result<std::unique_ptr<StreamServer>> Start(std::vector<Endpoint> endpoints,
                                                     ServerOptions options,
                                                     ConnectionHandler handler,
                                                     OverloadHandler overloaded = nullptr);
  ~StreamServer();  // Stop(0s)
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // The endpoints as bound (TCP port filled in when 0 was asked for).
  const std::vector<Endpoint>& bound() const;
  // Stops accepting; connections still open after `grace` are cut (their reads and writes
  // fail with kUnavailable and their handlers return). Waits for every handler to end.
  void Stop(std::chrono::milliseconds grace);
  // True once Stop has begun: handlers in keep-alive loops end their session.
  bool stopping() const;
  std::size_t active_connections() const;

 private:
  class Impl;
  explicit StreamServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:3310", "[::1]:3310", "unix:/run/bulwark/clamd.sock" or "tls 127.0.0.1:3311".
std::string Describe(const Endpoint& endpoint);

}  // namespace bulwark::net

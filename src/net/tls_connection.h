#pragma once
// Private to src/net: a Connection over OpenSSL on a non-blocking socket, used by the TLS
// listener (handshake at accept) and by STARTTLS (handshake mid-stream).

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "net/connection.h"
#include "net/socket_io.h"

namespace bulwark::net::internal {

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

// The reason of the last OpenSSL failure after `what`; clears OpenSSL's error queue.
std::string OpenSslError(std::string_view what);

}  // namespace bulwark::net::internal

namespace bulwark::net {
class TlsContext;
// The SSL object of a STARTTLS upgrade of `fd` (not owned): accept or connect state per
// `context`, SNI and the name to verify for a client.
Result<internal::SslPtr> NewUpgradeSsl(const TlsContext& context, int fd,
                                       std::string_view peer_name);
}  // namespace bulwark::net

namespace bulwark::net::internal {

// TLS over a non-blocking socket; `ssl` is already bound to `fd` and set to accept or
// connect. The handshake runs on the caller's thread.
class TlsConnection final : public Connection {
 public:
  TlsConnection(UniqueFd fd, SslPtr ssl, Peer peer);

  Status Handshake(std::chrono::milliseconds timeout);
  Result<std::size_t> Read(std::span<char> out, std::chrono::milliseconds timeout) override;
  Status Write(std::string_view data, std::chrono::milliseconds timeout) override;
  Result<UniqueFd> ReceiveDescriptor(std::chrono::milliseconds) override;
  void ShutdownWrite() override;
  Status StartTls(const TlsContext&, std::string_view, std::chrono::milliseconds) override;

 private:
  // After an SSL call returned `r`: waits for the socket when OpenSSL wants I/O, or turns
  // the failure into a Status.
  Status Await(int r, Clock::time_point deadline, std::string_view what);

  UniqueFd fd_;
  SslPtr ssl_;
};

}  // namespace bulwark::net::internal

#pragma once
// TLS for connections that begin in plain text and upgrade mid-stream (STARTTLS, RFC 3207):
// a TlsContext holds the OpenSSL settings of one side, Connection::StartTls applies it.
// Also the outgoing TCP connection of a client (an SMTP relay to its next hop).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"
#include "net/connection.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace bulwark::net {

// Immutable after creation; one context serves every connection at once.
class TlsContext {
 public:
  // The server side: the certificate chain and private key (PEM). TLS 1.2 or later.
  // kInvalidArgument names the file that cannot be used.
  static Result<std::shared_ptr<const TlsContext>> Server(const std::string& certificate_file,
                                                          const std::string& private_key_file);
  // The client side. `verify` false: encrypt with whatever certificate the server shows
  // (opportunistic TLS). `verify` true: the chain must verify against `ca_file` (PEM), or
  // the system's trust store when it is "", and the certificate must name the host given to
  // StartTls. TLS 1.2 or later.
  static Result<std::shared_ptr<const TlsContext>> Client(bool verify, const std::string& ca_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool server() const { return server_; }
  bool verify() const { return verify_; }
  SSL_CTX* get() const { return ctx_; }

 private:
  TlsContext(SSL_CTX* ctx, bool server, bool verify)
      : ctx_(ctx), server_(server), verify_(verify) {}
  SSL_CTX* ctx_;  // owned
  bool server_;
  bool verify_;
};

// Connects to host:port (a name is resolved; every address is tried in turn) within
// `timeout`. kUnavailable names the host when no address accepts, kDeadlineExceeded when
// the time ran out.
Result<std::unique_ptr<Connection>> ConnectTcp(const std::string& host, std::uint16_t port,
                                               std::chrono::milliseconds timeout);

}  // namespace bulwark::net

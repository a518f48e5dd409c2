#include "net/tls.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/socket_io.h"
#include "net/tls_connection.h"

namespace bulwark::net {
namespace internal {

std::string OpenSslError(std::string_view what) {
  std::string message(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    message += ": ";
    message += text;
  }
  ERR_clear_error();
  return message;
}

TlsConnection::TlsConnection(UniqueFd fd, SslPtr ssl, Peer peer)
    : Connection(std::move(peer)), fd_(std::move(fd)), ssl_(std::move(ssl)) {
  set_transport(Transport::kTls);
}

Status TlsConnection::Handshake(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int r = SSL_do_handshake(ssl_.get());
    if (r == 1) return OkStatus();
    BULWARK_RETURN_IF_ERROR(Await(r, deadline, "TLS handshake"));
  }
}

Result<std::size_t> TlsConnection::Read(std::span<char> out, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    std::size_t n = 0;
    int r = SSL_read_ex(ssl_.get(), out.data(), out.size(), &n);
    if (r == 1) return n;
    int error = SSL_get_error(ssl_.get(), r);
    if (error == SSL_ERROR_ZERO_RETURN) return std::size_t{0};
    if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return std::size_t{0};  // EOF
    BULWARK_RETURN_IF_ERROR(Await(r, deadline, "TLS read"));
  }
}

Status TlsConnection::Write(std::string_view data, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    std::size_t n = 0;
    int r = SSL_write_ex(ssl_.get(), data.data(), data.size(), &n);
    if (r == 1) {
      data.remove_prefix(n);
      continue;
    }
    BULWARK_RETURN_IF_ERROR(Await(r, deadline, "TLS write"));
  }
  return OkStatus();
}

Result<UniqueFd> TlsConnection::ReceiveDescriptor(std::chrono::milliseconds) {
  return FailedPreconditionError("descriptors can only be passed over a Unix socket");
}

void TlsConnection::ShutdownWrite() {
  SSL_shutdown(ssl_.get());  // close_notify; no wait for the peer's
  ::shutdown(fd_.get(), SHUT_WR);
}

Status TlsConnection::StartTls(const TlsContext&, std::string_view, std::chrono::milliseconds) {
  return FailedPreconditionError("the connection is already using TLS");
}

Status TlsConnection::Await(int r, Clock::time_point deadline, std::string_view what) {
  int error = SSL_get_error(ssl_.get(), r);
  if (error == SSL_ERROR_WANT_READ) return WaitFor(fd_.get(), POLLIN, deadline);
  if (error == SSL_ERROR_WANT_WRITE) return WaitFor(fd_.get(), POLLOUT, deadline);
  if (error == SSL_ERROR_SYSCALL && errno != 0) {
    int saved = errno;
    ERR_clear_error();
    return SocketError(saved, what);
  }
  return UnavailableError(OpenSslError(what));
}

}  // namespace internal

namespace {

using internal::Clock;
using internal::OpenSslError;

// Tries one resolved address; a connected, non-blocking socket or why not.
Result<UniqueFd> ConnectOne(const addrinfo& ai, Clock::time_point deadline) {
  UniqueFd fd(::socket(ai.ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return internal::SocketError(errno, "socket");
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return internal::SocketError(errno, "connect");
    BULWARK_RETURN_IF_ERROR(internal::WaitFor(fd.get(), POLLOUT, deadline));
    int error = 0;
    socklen_t length = sizeof(error);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return internal::SocketError(error, "connect");
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
  ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
}

bool IsIpAddress(std::string_view host) {
  std::string text(host);
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

}  // namespace

Result<std::shared_ptr<const TlsContext>> TlsContext::Server(const std::string& certificate_file,
                                                             const std::string& private_key_file) {
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return InternalError(OpenSslError("SSL_CTX_new"));
  std::shared_ptr<const TlsContext> context(new TlsContext(raw, true, false));
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(raw, certificate_file.c_str()) != 1) {
    return InvalidArgumentError(OpenSslError("TLS certificate " + certificate_file));
  }
  if (SSL_CTX_use_PrivateKey_file(raw, private_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(raw) != 1) {
    return InvalidArgumentError(OpenSslError("TLS private key " + private_key_file));
  }
  return context;
}

Result<std::shared_ptr<const TlsContext>> TlsContext::Client(bool verify,
                                                             const std::string& ca_file) {
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) return InternalError(OpenSslError("SSL_CTX_new"));
  std::shared_ptr<const TlsContext> context(new TlsContext(raw, false, verify));
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  if (!verify) {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
    return context;
  }
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
  int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(raw)
                               : SSL_CTX_load_verify_locations(raw, ca_file.c_str(), nullptr);
  if (loaded != 1) {
    return InvalidArgumentError(
        OpenSslError("TLS trust anchors " + (ca_file.empty() ? "(system store)" : ca_file)));
  }
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Status Connection::StartTls(const TlsContext&, std::string_view, std::chrono::milliseconds) {
  return FailedPreconditionError("this connection cannot start TLS");
}

// Creates the SSL object of a STARTTLS upgrade for `fd` (not owned): server or client
// state, SNI and the name to verify.
Result<internal::SslPtr> NewUpgradeSsl(const TlsContext& context, int fd,
                                       std::string_view peer_name) {
  internal::SslPtr ssl(SSL_new(context.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return InternalError(OpenSslError("SSL_new"));
  if (context.server()) {
    SSL_set_accept_state(ssl.get());
    return ssl;
  }
  SSL_set_connect_state(ssl.get());
  std::string name(peer_name);
  bool ip = IsIpAddress(name);
  if (!name.empty() && !ip) SSL_set_tlsext_host_name(ssl.get(), name.c_str());
  if (context.verify() && !name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    if (set != 1) return InvalidArgumentError(OpenSslError("TLS peer name " + name));
  }
  return ssl;
}

Result<std::unique_ptr<Connection>> ConnectTcp(const std::string& host, std::uint16_t port,
                                               std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return UnavailableError(host + ": cannot resolve: " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
  Status last = UnavailableError(host + ": no address");
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    Result<UniqueFd> fd = ConnectOne(*ai, deadline);
    if (fd.ok()) {
      Peer peer;
      peer.transport = Transport::kTcp;
      peer.address = AddressText(ai->ai_addr);
      return SocketConnection(std::move(*fd), peer);
    }
    last = Status(fd.status().code(), host + ":" + service + ": " + fd.status().message());
    if (fd.status().code() == StatusCode::kDeadlineExceeded) break;
  }
  return last;
}

}  // namespace bulwark::net

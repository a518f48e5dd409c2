#pragma once
// Connection: one accepted client of a StreamServer (TCP, TLS over TCP, or a Unix socket),
// with blocking reads and writes bounded by a timeout. Protocol front-ends (clamd, ICAP)
// are written against this interface and a BufferedReader over it; tests can give them a
// socketpair instead of a server.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"
#include "bulwark/common/unique_fd.h"

namespace bulwark::net {

enum class Transport { kTcp, kTls, kUnix };

class TlsContext;  // net/tls.h

struct Peer {
  Transport transport = Transport::kTcp;
  std::string address;    // "127.0.0.1:51234", "[::1]:51234", or "unix"
  bool loopback = false;  // TCP from a loopback address, or any Unix-socket client
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Reads what is available, up to out.size() bytes, waiting at most `timeout` for the
  // first byte. Returns 0 when the peer has closed. Errors: kDeadlineExceeded (nothing
  // arrived in time), kUnavailable when the server cut the
  // connection broke (reset, TLS failure).
  virtual Result<std::size_t> Read(std::span<char> out, std::chrono::milliseconds timeout) = 0;
  // Writes all of `data` within `timeout`.
  virtual Status Write(std::string_view data, std::chrono::milliseconds timeout) = 0;
  // Unix sockets only: the next file descriptor the peer passed with SCM_RIGHTS (clamd's
  // FILDES). Descriptors that arrive with ordinary reads are kept for this call; data bytes
  // read while waiting for one (such as the byte that carries it) are returned by later
  // Reads, so the byte stream stays whole. kFailedPrecondition on other transports;
  // kDeadlineExceeded when none arrives in time.
  virtual Result<UniqueFd> ReceiveDescriptor(std::chrono::milliseconds timeout) = 0;
  // Half-closes the sending side after everything written (a clean end for the peer).
  virtual void ShutdownWrite() = 0;
  // Upgrades a plain connection to TLS in place (STARTTLS, RFC 3207): the handshake runs
  // now, as the server or the client per `context`; every later Read and Write is
  // encrypted and peer().transport becomes kTls. `peer_name` (client side) is sent as SNI
  // and, when the context verifies, must be named by the certificate (a host name or an IP
  // address). The caller discards whatever it had read but not consumed before the upgrade
  // (bytes that arrived in plain text must never be taken as sent under TLS).
  // kFailedPrecondition on a TLS connection already, or when unread plain bytes are pending;
  // kUnavailable when the handshake fails (the connection is then unusable);
  // kDeadlineExceeded when it does not complete within `timeout`.
  virtual Status StartTls(const TlsContext& context, std::string_view peer_name,
                          std::chrono::milliseconds timeout);

  const Peer& peer() const { return peer_; }
  // True once the server has begun to stop: handlers end keep-alive sessions at the next
  // message boundary (BufferedReader::WaitForData reports it as a close).
  bool stopping() const { return stopping_ != nullptr && stopping_->load(); }
  void set_stop_flag(const std::atomic<bool>* stopping) { stopping_ = stopping; }

 protected:
  explicit Connection(Peer peer) : peer_(std::move(peer)) {}
  void set_transport(Transport transport) { peer_.transport = transport; }

 private:
  Peer peer_;
  const std::atomic<bool>* stopping_ = nullptr;
};

// A connection over a connected socket descriptor (TCP or Unix), without TLS. For servers
// and for tests (socketpair).
std::unique_ptr<Connection> SocketConnection(UniqueFd fd, Peer peer);

// Buffered reading over a Connection: lines or delimited records, and exact byte counts,
// each with a size limit. Every call waits at most `timeout` for each piece of input.
class BufferedReader {
 public:
  BufferedReader(Connection& connection, std::chrono::milliseconds timeout)
      : connection_(connection), timeout_(timeout) {}

  // Up to (not including) `delimiter`, which is consumed. kResourceExhausted when `max`
  // bytes arrive without it; kFailedPrecondition ("connection closed") when the peer closes
  // first.
  Result<std::string> ReadUntil(std::string_view delimiter, std::size_t max);
  // Exactly `n` bytes appended to `out`; kFailedPrecondition if the peer closes first.
  Status ReadExactly(std::size_t n, std::string& out);
  // Waits until at least one byte is buffered (between messages of a keep-alive session).
  // False when the peer closed cleanly first, or when the server is stopping and nothing
  // has arrived.
  Result<bool> WaitForData();
  // Bytes already buffered (read from the connection, not yet consumed).
  std::size_t buffered() const { return buffer_.size() - start_; }
  // The buffered bytes, without consuming them; Consume(n) drops the first n of them.
  std::string_view Peek() const { return std::string_view(buffer_).substr(start_); }
  void Consume(std::size_t n);
  std::chrono::milliseconds timeout() const { return timeout_; }
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  Connection& connection() { return connection_; }

 private:
  Result<std::size_t> Fill();

  Connection& connection_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::size_t start_ = 0;
};

}  // namespace bulwark::net

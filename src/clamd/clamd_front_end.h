#pragma once
// ClamdFrontEnd: the clamd-compatible front-end of `bulwark serve` (docs/clamd.md). It
// listens where [clamd] says — TCP (loopback by default), a Unix socket, and optionally
// TLS with per-tenant API tokens (AUTH) — and answers every connection with a
// ClamdSession whose scans go through service::ScanContent.
//
// Legacy listeners (TCP, Unix) scan for [clamd] tenant (events, policy, lists of that
// tenant), or for nobody when it is empty (a plain clamd: engine verdict, nothing
// recorded). On the TLS listener the tenant is the one of the token sent with AUTH.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "clamd/clamd_session.h"
#include "net/stream_server.h"
#include "service/config.h"
#include "service/site.h"

namespace bulwark::clamd {

class ClamdFrontEnd {
 public:
  // Binds every enabled listener and starts answering. Start errors (each names its
  // cause): the site has no engine; no listener is enabled; [clamd] tenant names no tenant;
  // a scan directory does not exist; TLS is on without certificate files; a bind fails.
  // Warns on stderr when the plain TCP listener binds a non-loopback address.
  //
  // `request_shutdown` is called (on a connection's thread) when a client sends SHUTDOWN
  // and allow_shutdown is set; it must only ask the service to stop, not call Stop()
  // itself (Stop waits for that very connection). `site` must outlive the front-end.
  static Result<std::unique_ptr<ClamdFrontEnd>> Start(service::Site& site,
                                                      const service::ClamdConfig& config,
                                                      std::string certificate_file,
                                                      std::string private_key_file,
                                                      std::function<void()> request_shutdown);
  ~ClamdFrontEnd();  // Stop(0s)
  ClamdFrontEnd(const ClamdFrontEnd&) = delete;
  ClamdFrontEnd& operator=(const ClamdFrontEnd&) = delete;

  // The listeners as bound (ephemeral TCP ports filled in).
  const std::vector<net::Endpoint>& bound() const;
  // Stops accepting and ends sessions: an IDSESSION ends at its next command; connections
  // still open after `grace` are cut. Returns when every connection has ended. Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  class SiteBackend;
  ClamdFrontEnd() = default;

  std::unique_ptr<SiteBackend> backend_;
  ClamdSessionOptions legacy_options_;  // TCP and Unix socket; constant after Start
  ClamdSessionOptions tls_options_;     // TLS: AUTH first; constant after Start
  std::atomic<bool> stopping_{false};
  std::unique_ptr<net::StreamServer> server_;
};

}  // namespace bulwark::clamd

#pragma once
// One ICAP connection's dialogue (RFC 3507): OPTIONS, REQMOD and RESPMOD on a persistent
// connection, Preview and 100 Continue, 204 when nothing changes, the block page when the
// scan says block, and ICAP's own error replies for bad input. The site behind it (tenant
// lookup, the scan pipeline, ISTag) is the IcapBackend, so tests can run a session over a
// socketpair with a fake backend.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"
#include "icap/icap_codec.h"
#include "icap/icap_reply.h"
#include "net/connection.h"

namespace bulwark::icap {

// One object the session wants scanned.
struct IcapScanJob {
  std::string tenant_id;  // "" = verdict only
  std::string_view data;  // borrowed for the call
  std::string name;       // file name, or URL without query string
  std::string user;       // from X-Client-Username / X-Authenticated-User, "" when unknown
  IcapMethod method = IcapMethod::kRespmod;
};

struct IcapVerdict {
  bool blocked = false;
  BlockNotice notice;  // meaningful when blocked
};

// Thread safety: one backend serves every session at once.
class IcapBackend {
 public:
  virtual ~IcapBackend() = default;
  // The tenant id for `name` given in a request URI (icap://host/<name>/respmod).
  // kNotFound when the tenant does not exist or is not allowed on this listener; the
  // session answers 404 either way.
  // Isolation: this is the only way a request chooses a tenant other than the listener's.
  virtual Result<std::string> UriTenant(std::string_view name) = 0;
  // Scans and decides (and records an event for a tenant). Errors become ICAP 500.
  virtual Result<IcapVerdict> Scan(const IcapScanJob& job) = 0;
  // The current ISTag, quoted ("\"…\""); changes when signatures reload.
  virtual std::string ISTag() = 0;
  // An object over max_object_bytes passed unscanned (blocked = false) or was blocked.
  virtual void CountOversize(bool blocked) = 0;
};

struct IcapSessionOptions {
  std::string tenant_id;  // the listener's tenant for URIs that name none; "" = none
  std::size_t max_connections = 100;  // announced in OPTIONS
  std::uint64_t preview_bytes = 4096;
  std::uint64_t max_object_bytes = 64ull << 20;
  bool block_oversize = false;
  std::chrono::milliseconds idle_timeout{60000};  // waiting for the next request
  std::chrono::milliseconds read_timeout{60000};  // inside a request, and for each write
  std::function<bool()> stopping;  // true: end after the current request
};

// Runs requests until the client closes, stays idle past idle_timeout, sends
// "Connection: close" or something the session cannot frame (answered, then closed), or
// `stopping` turns true.
void RunIcapSession(net::Connection& connection, IcapBackend& backend,
                    const IcapSessionOptions& options);

// The ICAP service a request path names: "respmod", "reqmod" or an alias for both
// ("avscan", "srv_clamav", "squidclamav", as c-icap and squidclamav call theirs), with an
// optional tenant segment before it ("/<tenant>/respmod"). False for any other path.
struct ServicePath {
  std::string tenant;  // "" = the listener's tenant
  std::string service;
  bool reqmod = false;
  bool respmod = false;
};
bool ParseServicePath(std::string_view path, ServicePath& out);

}  // namespace bulwark::icap

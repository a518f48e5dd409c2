#pragma once
// IcapFrontEnd: the ICAP server of a site (docs/icap.md). Web proxies (Squid, …) send it
// downloads (RESPMOD) and uploads (REQMOD); it scans them through service::ScanContent under
// the listener's tenant or a tenant named in the ICAP URI, and answers 204, the unchanged
// message, or a 403 block page.

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "bulwark/common/result.h"
#include "net/stream_server.h"
#include "service/config.h"
#include "service/site.h"

namespace bulwark::icap {

class IcapFrontEnd {
 public:
  // Resolves the listener's tenant (kNotFound names it when it does not exist) and binds
  // config.listener (port 0: any free port). The site must outlive the front-end and have
  // been opened with an engine. `config.enabled` is the caller's to check.
  static Result<std::unique_ptr<IcapFrontEnd>> Start(service::Site& site,
                                                     const service::IcapConfig& config);
  ~IcapFrontEnd();  // Stop(0s)
  IcapFrontEnd(const IcapFrontEnd&) = delete;
  IcapFrontEnd& operator=(const IcapFrontEnd&) = delete;

  // The listener as bound (its port filled in when 0 was asked for).
  const std::vector<net::Endpoint>& bound() const;
  // Stops accepting; requests in progress get `grace` to finish, then their connections
  // are cut. Returns when every session has ended. Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  class Backend;
  IcapFrontEnd() = default;

  std::atomic<bool> stopping_{false};
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<net::StreamServer> server_;
};

}  // namespace bulwark::icap

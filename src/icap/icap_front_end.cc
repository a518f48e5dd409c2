#include "icap/icap_front_end.h"

#include <algorithm>
#include <mutex>

#include "crypto/sha256.h"
#include "icap/icap_session.h"
#include "service/administration.h"
#include "service/content_scan.h"

namespace bulwark::icap {

// IcapBackend over a Site: tenants from the store, scans through ScanContent.
class IcapFrontEnd::Backend : public IcapBackend {
 public:
  Backend(service::Site& site, const service::IcapConfig& config)
      : site_(site),
        config_(config),
        oversize_passed_(site.metrics().GetCounter(
            "bulwark_icap_oversize_total",
            "ICAP objects over max_object_bytes, by what was done with them",
            {{"action", "passed"}})),
        oversize_blocked_(site.metrics().GetCounter(
            "bulwark_icap_oversize_total",
            "ICAP objects over max_object_bytes, by what was done with them",
            {{"action", "blocked"}})),
        blocked_(site.metrics().GetCounter("bulwark_icap_blocked_total",
                                           "ICAP requests answered with the block page")) {}

  Result<std::string> UriTenant(std::string_view name) override {
    // Only tenants listed in [icap] tenants, by the id or name written there.
    Result<storage::Tenant> tenant = service::FindTenant(site_, std::string(name));
    if (!tenant.ok()) {
      if (tenant.status().code() == StatusCode::kNotFound) return NotFoundError("no such tenant");
      return tenant.status();
    }
    bool listed = std::any_of(config_.tenants.begin(), config_.tenants.end(),
                              [&](const std::string& entry) {
                                return entry == tenant->id || entry == tenant->name;
                              });
    if (!listed || tenant->disabled) return NotFoundError("tenant not served on this listener");
    return tenant->id;
  }

  Result<IcapVerdict> Scan(const IcapScanJob& job) override {
    service::ContentScanRequest request;
    request.tenant_id = job.tenant_id;
    request.data = job.data;
    request.name = job.name;
    request.subject.service = "icap";
    request.subject.user = job.user;
    BULWARK_ASSIGN_OR_RETURN(service::ContentScanOutcome outcome,
                             service::ScanContent(site_, request));
    IcapVerdict verdict;
    verdict.blocked = outcome.blocked();
    if (!verdict.blocked) return verdict;
    blocked_.Increment();
    BlockNotice& notice = verdict.notice;
    notice.verdict = std::string(policy::VerdictKindName(outcome.report.verdict.kind));
    notice.object = job.name;
    for (const engine::Finding& f : outcome.report.findings) {
      std::string line = f.detector + ": " + f.name;
      if (std::find(notice.findings.begin(), notice.findings.end(), line) ==
          notice.findings.end()) {
        notice.findings.push_back(std::move(line));
      }
      if (notice.findings.size() == 10) break;
    }
    if (outcome.event_seq) notice.reference = "event " + std::to_string(*outcome.event_seq);
    return verdict;
  }

  std::string ISTag() override {
    std::string version = site_.engine().signature_version();
    std::lock_guard lock(mu_);
    if (version != istag_version_) {
      istag_version_ = version;
      istag_ = "\"" + crypto::ToHex(crypto::Sha256(version)).substr(0, 30) + "\"";
    }
    return istag_;
  }

  void CountOversize(bool blocked) override {
    (blocked ? oversize_blocked_ : oversize_passed_).Increment();
  }

 private:
  service::Site& site_;
  const service::IcapConfig config_;
  http::Counter& oversize_passed_;
  http::Counter& oversize_blocked_;
  http::Counter& blocked_;
  std::mutex mu_;
  std::string istag_version_;  // Guarded by mu_.
  std::string istag_;          // Guarded by mu_.
};

Result<std::unique_ptr<IcapFrontEnd>> IcapFrontEnd::Start(service::Site& site,
                                                          const service::IcapConfig& config) {
  IcapSessionOptions options;
  if (!config.tenant.empty()) {
    Result<storage::Tenant> tenant = service::FindTenant(site, config.tenant);
    if (!tenant.ok()) {
      return Status(tenant.status().code(),
                    "[icap] tenant \"" + config.tenant + "\": " + tenant.status().message());
    }
    options.tenant_id = tenant->id;
  }
  options.max_connections = config.max_connections;
  options.preview_bytes = config.preview_bytes;
  options.max_object_bytes = config.max_object_bytes;
  options.block_oversize = config.block_oversize;
  options.idle_timeout = config.idle_timeout;
  options.read_timeout = config.read_timeout;

  std::unique_ptr<IcapFrontEnd> front(new IcapFrontEnd());
  front->backend_ = std::make_unique<Backend>(site, config);
  IcapFrontEnd* self = front.get();  // outlives the server it owns
  options.stopping = [self] { return self->stopping_.load(); };
  net::Endpoint endpoint;
  endpoint.address = config.listener.address;
  endpoint.port = config.listener.port;
  net::ServerOptions server_options;
  server_options.name = "ICAP";
  server_options.max_connections = config.max_connections;
  Backend* backend = front->backend_.get();
  BULWARK_ASSIGN_OR_RETURN(
      front->server_,
      net::StreamServer::Start(
          {endpoint}, server_options,
          [backend, options](net::Connection& connection) {
            RunIcapSession(connection, *backend, options);
          },
          [backend](net::Connection& connection) {
            (void)connection.Write(ErrorReply(503, backend->ISTag(), true),
                                   std::chrono::seconds(5));
          }));
  return front;
}

IcapFrontEnd::~IcapFrontEnd() { Stop(std::chrono::milliseconds(0)); }

const std::vector<net::Endpoint>& IcapFrontEnd::bound() const { return server_->bound(); }

void IcapFrontEnd::Stop(std::chrono::milliseconds grace) {
  stopping_ = true;  // sessions end after their current request
  if (server_) server_->Stop(grace);
}

}  // namespace bulwark::icap

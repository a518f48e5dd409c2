#include "service/content_scan.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>

#include "bulwark/common/text.h"
#include "bulwark/content/blob.h"
#include "bulwark/urls/url_match.h"
#include "crypto/sha256.h"

namespace bulwark::service {
namespace {

// Hands back to the system, when it goes, the memory a large scan left free. After freeing a
// block of a megabyte or more glibc raises its mmap threshold to that size, so later large
// buffers come from, and stay in, its per-thread arenas: without this a site that scanned a
// few 4 MB files kept ~30 MB more for good (docs/operations.md, "Memory"). malloc_trim walks
// the arenas' free blocks, a fraction of a millisecond, only after objects this large.
class ReleaseFreeMemoryAfterLargeScan {
 public:
  static constexpr std::size_t kLargeBytes = std::size_t{1} << 20;
  explicit ReleaseFreeMemoryAfterLargeScan(std::size_t bytes) : large_(bytes >= kLargeBytes) {}
  ~ReleaseFreeMemoryAfterLargeScan() {
    if (large_) malloc_trim(0);
  }
  ReleaseFreeMemoryAfterLargeScan(const ReleaseFreeMemoryAfterLargeScan&) = delete;
  ReleaseFreeMemoryAfterLargeScan& operator=(const ReleaseFreeMemoryAfterLargeScan&) = delete;

 private:
  bool large_;
};

// The protection of the most severe finding names the event's threat type.
std::string ThreatType(const std::vector<engine::Finding>& findings) {
  auto rank = [](engine::Category c) {
    switch (c) {
      case engine::Category::kMalware:
        return 3;
      case engine::Category::kSuspicious:
        return 2;
      case engine::Category::kPolicy:
        return 1;
      case engine::Category::kUnscannable:
        return 0;
    }
    return 0;
  };
  const engine::Finding* worst = nullptr;
  for (const auto& f : findings) {
    if (worst == nullptr || rank(f.category) > rank(worst->category)) worst = &f;
  }
  return worst == nullptr ? "" : std::string(ProtectionOf(*worst));
}

std::string Detectors(const std::vector<engine::Finding>& findings) {
  std::vector<std::string> names;
  for (const auto& f : findings) {
    if (std::find(names.begin(), names.end(), f.detector) == names.end()) {
      names.push_back(f.detector);
    }
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

std::string DomainOf(const std::string& address) {
  std::size_t at = address.rfind('@');
  return at == std::string::npos ? "" : address.substr(at + 1);
}

// What the tenant's lists say about this object and sender.
struct ListVerdict {
  bool allowed = false;
  std::vector<engine::Finding> blocked;  // one finding per matching block entry
};

ListVerdict CheckLists(const std::vector<storage::ListEntry>& entries, const std::string& sha256,
                       const std::string& sender) {
  ListVerdict verdict;
  std::string domain = DomainOf(sender);
  for (const auto& e : entries) {
    bool match = (e.kind == "sha256" && e.value == sha256) ||
                 (e.kind == "sender" && !sender.empty() && e.value == sender) ||
                 (e.kind == "domain" && IsDomainOrSubdomain(domain, e.value));
    if (!match) continue;
    if (e.disposition == "allow") {
      verdict.allowed = true;
    } else {
      engine::Finding f;
      f.detector = "lists";
      f.name = "BlockList." + e.kind;
      f.category = engine::Category::kMalware;
      f.severity = engine::Severity::kHigh;
      f.detail = "on the tenant's block list (" + e.kind + ")";
      verdict.blocked.push_back(std::move(f));
    }
  }
  return verdict;
}

// The tenant's URL entries against the links the scan found (never fetched):
//  - a block entry matching any link adds a BlockList.url finding;
//  - allow entries clear the URL heuristics (detector "urls") when every link of the object
//    is on them: a trusted newsletter's links. Unlike sender, domain and SHA-256 allow
//    entries they do not skip the scan, so malware is still found.
// Returns whether the findings changed.
bool ApplyUrlLists(const std::vector<storage::ListEntry>& entries, engine::ScanReport& report) {
  if (report.urls.empty()) return false;
  const std::size_t before = report.findings.size();
  bool removed = false;
  auto listed = [&](const std::string& url, std::string_view disposition) {
    return std::any_of(entries.begin(), entries.end(), [&](const storage::ListEntry& e) {
      return e.kind == "url" && e.disposition == disposition && urls::UrlMatches(e.value, url);
    });
  };
  for (const auto& e : entries) {
    if (e.kind != "url" || e.disposition == "allow") continue;
    if (std::none_of(report.urls.begin(), report.urls.end(),
                     [&](const std::string& url) { return urls::UrlMatches(e.value, url); })) {
      continue;
    }
    engine::Finding f;
    f.detector = "lists";
    f.name = "BlockList.url";
    f.category = engine::Category::kMalware;
    f.severity = engine::Severity::kHigh;
    f.detail = "links to an address on the tenant's block list";
    report.findings.push_back(std::move(f));
  }
  bool all_allowed = std::all_of(report.urls.begin(), report.urls.end(),
                                 [&](const std::string& url) { return listed(url, "allow"); });
  if (all_allowed) {
    removed = std::erase_if(report.findings,
                            [](const engine::Finding& f) { return f.detector == "urls"; }) > 0;
  }
  return removed || report.findings.size() != before;
}

bool IsMailService(std::string_view service) {
  return service == "smtp" || service == "milter" || service == "imap";
}

// A tenant's history needs this long before "never seen before" means something.
constexpr std::int64_t kSenderHistoryDays = 14;

// Records the sender in the tenant's history (a hash, never the address) and says whether
// it is an external sender seen for the first time while the history is old enough to tell.
// Senders on the tenant's own protected domains are not external.
Result<impersonation::SenderContext> SenderHistory(Site& site, const std::string& tenant_id,
                                                   const std::string& sender,
                                                   const TenantPolicy& policy) {
  impersonation::SenderContext context;
  std::size_t at = sender.rfind('@');
  if (sender.empty() || at == std::string::npos) return context;
  const std::string domain = AsciiLower(sender.substr(at + 1));
  for (const std::string& own : policy.protected_identities.domains) {
    if (IsDomainOrSubdomain(domain, AsciiLower(own))) return context;
  }
  const std::int64_t now = Site::Now();
  BULWARK_ASSIGN_OR_RETURN(storage::SenderSighting sighting,
                           site.store().RecordSenderSighting(
                               tenant_id, crypto::ToHex(crypto::Sha256(AsciiLower(sender))), now));
  context.first_seen =
      sighting.first_time && now - sighting.history_since >= kSenderHistoryDays * 86400;
  return context;
}

Result<TenantPolicy> LoadPolicy(Site& site, const std::string& tenant_id) {
  BULWARK_ASSIGN_OR_RETURN(std::optional<storage::PolicyVersion> current,
                           site.store().CurrentPolicy(tenant_id));
  if (!current) return DefaultTenantPolicy();
  return ParseTenantPolicy(current->body_json);
}

engine::ScanReport EngineScan(const Site& site, std::string_view data, const std::string& name) {
  content::Object object;
  object.info.name = name;
  object.data = content::Blob::Copy(data);
  return site.engine().Scan(std::move(object));
}

void CountScan(Site& site, const std::string& service, const engine::ScanReport& report,
               std::chrono::steady_clock::time_point started) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  site.metrics()
      .GetCounter("bulwark_scans_total", "Objects scanned, by front-end service and verdict",
                  {{"service", service},
                   {"verdict", std::string(policy::VerdictKindName(report.verdict.kind))}})
      .Increment();
  site.metrics()
      .GetHistogram("bulwark_scan_duration_seconds",
                    "Time per scanned object in seconds (lists, scan, policy, event)",
                    http::LatencyBuckets())
      .Observe(seconds);
}

}  // namespace

nlohmann::json FindingsToJson(const std::vector<engine::Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : findings) {
    nlohmann::json finding = {{"detector", f.detector},
                              {"name", f.name},
                              {"category", engine::CategoryName(f.category)},
                              {"severity", engine::SeverityName(f.severity)},
                              {"protection", ProtectionOf(f)},
                              {"path", f.path.ToString()}};
    if (!f.detail.empty()) finding["detail"] = f.detail;  // metadata and masked samples only
    if (f.reason != engine::UnscannableReason::kNone) {
      finding["reason"] = engine::UnscannableReasonName(f.reason);
    }
    out.push_back(std::move(finding));
  }
  return out;
}

bool ContentScanOutcome::blocked() const {
  if (!detection()) return false;
  Action a = decision.action;
  return a == Action::kQuarantine || a == Action::kDelete || a == Action::kReject;
}

Result<ContentScanOutcome> ScanContent(Site& site, const ContentScanRequest& request) {
  // Declared first, so it runs after every other local of the scan is gone.
  ReleaseFreeMemoryAfterLargeScan release(request.data.size());
  auto started = std::chrono::steady_clock::now();
  ContentScanOutcome outcome;
  if (request.tenant_id.empty()) {
    outcome.report = EngineScan(site, request.data, request.name);
    outcome.decision.action = outcome.detection() ? Action::kReject : Action::kLog;
    outcome.decision.intended = outcome.decision.action;
    CountScan(site, request.subject.service, outcome.report, started);
    return outcome;
  }

  const std::string& tenant_id = request.tenant_id;
  BULWARK_ASSIGN_OR_RETURN(std::vector<storage::ListEntry> entries,
                           site.store().ListEntries(tenant_id));
  BULWARK_ASSIGN_OR_RETURN(TenantPolicy policy, LoadPolicy(site, tenant_id));

  std::string sha256 = crypto::ToHex(crypto::Sha256(request.data));
  ListVerdict listed = CheckLists(entries, sha256, request.sender);
  outcome.allowed_by_list = listed.allowed && listed.blocked.empty();
  engine::ScanReport& report = outcome.report;
  if (outcome.allowed_by_list) {
    report.name = request.name;
    report.sha256 = sha256;
    report.size = request.data.size();
  } else {
    report = EngineScan(site, request.data, request.name);
    bool tenant_findings = !listed.blocked.empty();
    for (auto& f : listed.blocked) report.findings.push_back(std::move(f));
    if (report.type.kind == content::FileKind::kEmail && IsMailService(request.subject.service)) {
      BULWARK_ASSIGN_OR_RETURN(impersonation::SenderContext sender,
                               SenderHistory(site, tenant_id, request.sender, policy));
      if (!policy.protected_identities.empty()) {
        for (auto& f :
             impersonation::CheckImpersonation(request.data, policy.protected_identities, sender)) {
          tenant_findings = true;
          report.findings.push_back(std::move(f));
        }
      }
    }
    if (auto lookalike = impersonation::CheckLinks(report.urls, policy.protected_identities)) {
      tenant_findings = true;
      report.findings.push_back(std::move(*lookalike));
    }
    if (ApplyUrlLists(entries, report)) tenant_findings = true;
    if (tenant_findings) {
      // The tenant's own findings (lists, impersonation) count for the phishing score too.
      site.engine().Reassess(request.data, report);
    }
    report.verdict = policy::DecideVerdict(report.findings);
  }
  outcome.decision = Decide(policy, report, request.subject);
  CountScan(site, request.subject.service, report, started);
  if (!outcome.detection()) return outcome;

  const Decision& decision = outcome.decision;
  storage::Event event;
  event.tenant_id = tenant_id;
  event.time = Site::Now();
  event.service = request.subject.service;
  event.object_name = request.name;
  event.sender = request.sender;
  event.recipients = request.recipients;
  event.owner = request.subject.user;
  event.sha256 = report.sha256;
  event.verdict = std::string(policy::VerdictKindName(report.verdict.kind));
  event.threat_type = ThreatType(report.findings);
  event.detectors = Detectors(report.findings);
  event.action = decision.monitor
                     ? "logged (monitor: " + std::string(ActionName(decision.intended)) + ")"
                     : std::string(ActionName(decision.action));
  event.findings_json = FindingsToJson(report.findings).dump();
  BULWARK_ASSIGN_OR_RETURN(std::int64_t seq, site.store().AppendEvent(event));
  outcome.event_seq = seq;
  if (decision.action == Action::kQuarantine && request.hold_in_vault) {
    QuarantineVault::HoldRequest hold{tenant_id, seq, request.name, report.sha256,
                                      site.config().quarantine_retention_days};
    BULWARK_ASSIGN_OR_RETURN(storage::QuarantineItem item,
                             site.quarantine().Hold(hold, request.data, Site::Now()));
    outcome.quarantine_id = item.id;
  }
  return outcome;
}

}  // namespace bulwark::service

#include "clamd/clamd_reply.h"

#include <algorithm>

#include "bulwark/policy/verdict.h"

namespace bulwark::clamd {
namespace {

// The verdict order: a finding's category decides how bad it is before its severity.
int CategoryRank(engine::Category category) {
  switch (category) {
    case engine::Category::kMalware: return 3;
    case engine::Category::kSuspicious: return 2;
    case engine::Category::kPolicy: return 1;
    case engine::Category::kUnscannable: return 0;
  }
  return 0;
}

std::string WireSafe(std::string name) {
  for (char& c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) c = '_';
  }
  return name;
}

std::string NameOf(const engine::Finding& f) {
  if (f.category == engine::Category::kUnscannable && f.detector != "clamav") {
    return "Bulwark.Unscannable." + std::string(engine::UnscannableReasonName(f.reason));
  }
  if (f.name.empty()) return "Bulwark." + f.detector;
  if (f.detector == "yara") return WireSafe("YARA." + f.name);
  return WireSafe(f.name);
}

}  // namespace

std::vector<std::string> ThreatNames(const std::vector<engine::Finding>& findings) {
  std::vector<const engine::Finding*> order;
  for (const auto& f : findings) order.push_back(&f);
  // Worst category first; within it ClamAV's own finding, then the most severe.
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    int ra = CategoryRank(a->category), rb = CategoryRank(b->category);
    if (ra != rb) return ra > rb;
    bool ca = a->detector == "clamav", cb = b->detector == "clamav";
    if (ca != cb) return ca;
    return static_cast<int>(a->severity) > static_cast<int>(b->severity);
  });
  std::vector<std::string> names;
  for (const auto* f : order) {
    std::string name = NameOf(*f);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

ClamdScanResult ResultFor(const service::ContentScanOutcome& outcome, bool tenant_scan) {
  ClamdScanResult result;
  result.found = tenant_scan ? outcome.blocked() : outcome.detection();
  if (!result.found) return result;
  result.names = ThreatNames(outcome.report.findings);
  if (result.names.empty()) {  // a verdict without findings should not happen; never OK
    result.names.push_back("Bulwark." +
                           std::string(policy::VerdictKindName(outcome.report.verdict.kind)));
  }
  return result;
}

std::string FormatVersion(std::string_view engine_version, std::uint32_t database_version,
                          std::time_t database_time) {
  std::tm tm{};
  localtime_r(&database_time, &tm);
  char date[64];
  std::size_t n = std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
  return "ClamAV " + std::string(engine_version) + "/" + std::to_string(database_version) + "/" +
         std::string(date, n);
}

}  // namespace bulwark::clamd

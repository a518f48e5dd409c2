#include "bulwark/policy/verdict.h"

namespace bulwark::policy {
namespace {

VerdictKind KindFor(engine::Category category) {
  switch (category) {
    case engine::Category::kMalware: return VerdictKind::kMalicious;
    case engine::Category::kSuspicious: return VerdictKind::kSuspicious;
    case engine::Category::kPolicy: return VerdictKind::kPolicyViolation;
    case engine::Category::kUnscannable: return VerdictKind::kUnscannable;
  }
  return VerdictKind::kSuspicious;
}

bool IsEvidenceOnly(const engine::Finding& finding) {
  return finding.category == engine::Category::kSuspicious &&
         finding.severity == engine::Severity::kInfo;
}

}  // namespace

std::string_view VerdictKindName(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kClean: return "clean";
    case VerdictKind::kUnscannable: return "unscannable";
    case VerdictKind::kPolicyViolation: return "policy_violation";
    case VerdictKind::kSuspicious: return "suspicious";
    case VerdictKind::kMalicious: return "malicious";
  }
  return "unknown";
}

Verdict DecideVerdict(std::span<const engine::Finding> findings) {
  Verdict verdict;
  const engine::Finding* deciding = nullptr;
  for (const auto& finding : findings) {
    if (IsEvidenceOnly(finding)) continue;
    VerdictKind kind = KindFor(finding.category);
    if (deciding == nullptr || kind > verdict.kind) {
      verdict.kind = kind;
      deciding = &finding;
    }
  }
  if (deciding != nullptr) {
    verdict.reason = deciding->detector + ": " + deciding->name;
    if (!deciding->path.empty()) verdict.reason += " in " + deciding->path.ToString();
    if (!deciding->detail.empty()) verdict.reason += " (" + deciding->detail + ")";
  }
  return verdict;
}

}  // namespace bulwark::policy

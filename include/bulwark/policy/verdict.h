#pragma once
// Verdict: the overall judgement of a scan, derived from its findings. Detection is
// separate from decision: detectors report findings; this turns them into a verdict.
// (Per-tenant actions come with the site service; this is the engine's default.)

#include <span>
#include <string>
#include <string_view>

#include "bulwark/engine/finding.h"

namespace bulwark::policy {

// Ordered from least to most severe.
enum class VerdictKind { kClean, kUnscannable, kPolicyViolation, kSuspicious, kMalicious };

std::string_view VerdictKindName(VerdictKind kind);

struct Verdict {
  VerdictKind kind = VerdictKind::kClean;
  std::string reason;  // the deciding finding, e.g. "clamav: Eicar-Test-Signature in a.zip › b"

  bool IsDetection() const { return kind != VerdictKind::kClean; }
};

// The worst category among `findings` decides; its first finding gives the reason.
// Suspicious findings of severity info are evidence, not detections (a link shortener, a
// link whose text names another domain: common in legitimate mail too); they stay in the
// report for the phishing score and for analysts, but alone they leave the verdict clean.
Verdict DecideVerdict(std::span<const engine::Finding> findings);

}  // namespace bulwark::policy

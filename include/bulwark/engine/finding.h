#pragma once
// A Finding is one thing a detector or unpacker saw in one object. Findings carry
// metadata only (names, never content); policy turns them into a verdict.

#include <string>
#include <string_view>
#include <vector>

#include "bulwark/content/object.h"

namespace bulwark::engine {

enum class Category {
  kMalware,      // known-bad signature or hash
  kSuspicious,   // heuristic or generic rule
  kPolicy,       // allowed content that a policy may block (file types, macros, …)
  kUnscannable,  // could not be fully scanned: never a silent pass
};

enum class Severity { kInfo, kLow, kMedium, kHigh, kCritical };

// Why an object could not be fully scanned.
enum class UnscannableReason {
  kNone,
  kEncrypted,
  kMalformed,
  kUnsupported,  // a container format no unpacker can open
  kDepthLimit,
  kObjectCountLimit,
  kTotalSizeLimit,
  kObjectSizeLimit,
  kRatioLimit,
  kTimeLimit,
  kScanError,
};

std::string_view CategoryName(Category category);
std::string_view SeverityName(Severity severity);
std::string_view UnscannableReasonName(UnscannableReason reason);
// True for reasons that depend on where an object sits in a scan (depth, budgets, time)
// rather than on the object's own bytes: such results are never cached.
bool DependsOnScanContext(UnscannableReason reason);

struct Finding {
  std::string detector;  // "clamav", "yara", "hashes", "archive", "mime", "engine", …
  std::string name;      // signature or rule name, e.g. "Eicar-Test-Signature"
  Category category = Category::kSuspicious;
  Severity severity = Severity::kMedium;
  content::ObjectPath path;  // where, from the outermost object; empty for the object itself
  std::string detail;        // human-readable evidence (metadata only)
  UnscannableReason reason = UnscannableReason::kNone;

  static Finding Unscannable(std::string detector, UnscannableReason reason, std::string detail);
};

// Receives findings from a detector or unpacker.
class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void Add(Finding finding) = 0;
};

// A FindingSink that keeps what it receives.
class FindingList : public FindingSink {
 public:
  void Add(Finding finding) override { findings_.push_back(std::move(finding)); }
  const std::vector<Finding>& findings() const { return findings_; }
  std::vector<Finding>& findings() { return findings_; }

 private:
  std::vector<Finding> findings_;
};

}  // namespace bulwark::engine

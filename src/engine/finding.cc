#include "bulwark/engine/finding.h"

namespace bulwark::engine {

std::string_view CategoryName(Category category) {
  switch (category) {
    case Category::kMalware: return "malware";
    case Category::kSuspicious: return "suspicious";
    case Category::kPolicy: return "policy";
    case Category::kUnscannable: return "unscannable";
  }
  return "unknown";
}

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "unknown";
}

std::string_view UnscannableReasonName(UnscannableReason reason) {
  switch (reason) {
    case UnscannableReason::kNone: return "none";
    case UnscannableReason::kEncrypted: return "encrypted";
    case UnscannableReason::kMalformed: return "malformed";
    case UnscannableReason::kUnsupported: return "unsupported";
    case UnscannableReason::kDepthLimit: return "depth-limit";
    case UnscannableReason::kObjectCountLimit: return "object-count-limit";
    case UnscannableReason::kTotalSizeLimit: return "total-size-limit";
    case UnscannableReason::kObjectSizeLimit: return "object-size-limit";
    case UnscannableReason::kRatioLimit: return "ratio-limit";
    case UnscannableReason::kTimeLimit: return "time-limit";
    case UnscannableReason::kScanError: return "scan-error";
  }
  return "unknown";
}

bool DependsOnScanContext(UnscannableReason reason) {
  switch (reason) {
    case UnscannableReason::kDepthLimit:
    case UnscannableReason::kObjectCountLimit:
    case UnscannableReason::kTotalSizeLimit:
    case UnscannableReason::kTimeLimit:
    case UnscannableReason::kScanError:
      return true;
    default:
      return false;
  }
}

Finding Finding::Unscannable(std::string detector, UnscannableReason reason, std::string detail) {
  Finding finding;
  finding.detector = std::move(detector);
  finding.name = std::string("Unscannable.") + std::string(UnscannableReasonName(reason));
  finding.category = Category::kUnscannable;
  finding.severity = Severity::kMedium;
  finding.detail = std::move(detail);
  finding.reason = reason;
  return finding;
}

}  // namespace bulwark::engine

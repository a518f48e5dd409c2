#include "detectors/senderauth/senderauth_detector.h"

#include <string>

#include "bulwark/engine/scan_context.h"

namespace bulwark::detectors {
namespace {

using engine::Category;
using engine::Finding;
using engine::Severity;
using senderauth::AuthResult;
using senderauth::AuthResultName;
using senderauth::DmarcPolicy;

Finding Make(std::string name, Severity severity, std::string detail) {
  Finding f;
  f.detector = "senderauth";
  f.name = std::move(name);
  f.category = Category::kSuspicious;
  f.severity = severity;
  f.detail = std::move(detail);
  return f;
}

std::string SpfText(const senderauth::SpfCheck& spf) {
  if (spf.source.empty()) return "SPF not checked (connecting address unknown)";
  std::string text = "SPF " + std::string(AuthResultName(spf.result));
  if (!spf.domain.empty()) text += " for " + spf.domain + " (" + spf.scope + ")";
  if (spf.source != "envelope") text += " from " + spf.source;
  return text;
}

std::string DkimText(const std::vector<senderauth::DkimSignature>& dkim) {
  if (dkim.empty()) return "no DKIM signature";
  std::string text = "DKIM";
  for (std::size_t i = 0; i < dkim.size() && i < 3; ++i) {
    text += (i == 0 ? " " : ", ") + std::string(AuthResultName(dkim[i].result));
    if (!dkim[i].domain.empty()) text += " d=" + dkim[i].domain;
  }
  if (dkim.size() > 3) text += ", \xE2\x80\xA6";
  return text;
}

class SenderAuthDetector : public engine::Detector {
 public:
  explicit SenderAuthDetector(SenderAuthDetectorConfig config) : config_(std::move(config)) {}

  std::string_view Name() const override { return "senderauth"; }

  // Only the message itself: an attached message (depth > 0) has no connection to check.
  bool Accepts(const content::ObjectInfo& object) const override {
    return object.type.kind == content::FileKind::kEmail && object.depth == 0 && object.size > 0;
  }

  Status Inspect(const content::Object& object, engine::ScanContext& ctx,
                 engine::FindingSink& findings) const override {
    if (ctx.Expired()) return DeadlineExceededError("senderauth: scan deadline passed");
    const senderauth::SenderAuthResult result = senderauth::Authenticate(
        {object.bytes()}, senderauth::Envelope{}, *config_.resolver, config_.options);
    for (Finding& f : SenderAuthFindings(result)) findings.Add(std::move(f));
    return OkStatus();
  }

 private:
  const SenderAuthDetectorConfig config_;  // constant after construction
};

}  // namespace

std::vector<Finding> SenderAuthFindings(const senderauth::SenderAuthResult& r) {
  std::vector<Finding> out;
  // A failure a trusted ARC sealer overrides (a mailing list that rewrote the message,
  // having seen DMARC pass) is no finding; Authentication-Results still records it.
  const bool dmarc_fail = r.dmarc.result == AuthResult::kFail && r.dmarc.overridden_by_arc.empty();
  if (dmarc_fail) {
    Severity severity = Severity::kInfo;
    if (r.dmarc.policy == DmarcPolicy::kReject) severity = Severity::kHigh;
    if (r.dmarc.policy == DmarcPolicy::kQuarantine) severity = Severity::kMedium;
    std::string detail = "From " + r.dmarc.from_domain + ": DMARC fail, policy p=" +
                         std::string(senderauth::DmarcPolicyName(r.dmarc.policy));
    if (r.dmarc.record_domain != r.dmarc.from_domain) {
      detail += " (record of " + r.dmarc.record_domain + ")";
    }
    if (r.dmarc.pct < 100) detail += " pct=" + std::to_string(r.dmarc.pct);
    detail += "; no aligned identifier: " + SpfText(r.spf) + "; " + DkimText(r.dkim);
    out.push_back(Make("SenderAuth.DmarcFail", severity, std::move(detail)));
  }
  if (r.dmarc.result == AuthResult::kFail && !r.dmarc.overridden_by_arc.empty()) {
    out.push_back(Make("SenderAuth.ArcOverride", Severity::kInfo,
                       "From " + r.dmarc.from_domain +
                           ": DMARC fail overridden: the ARC chain validates and trusted sealer " +
                           r.dmarc.overridden_by_arc + " saw DMARC pass"));
  }
  if (r.spf.result == AuthResult::kFail) {
    out.push_back(
        Make("SenderAuth.SpfFail", dmarc_fail ? Severity::kLow : Severity::kInfo,
             r.client_ip.empty() ? SpfText(r.spf) : SpfText(r.spf) + ", client " + r.client_ip));
  }
  std::size_t invalid = 0;
  std::string invalid_detail;
  for (const senderauth::DkimSignature& sig : r.dkim) {
    if (sig.result != AuthResult::kFail && sig.result != AuthResult::kPermError) continue;
    if (invalid++ < 3) {
      if (!invalid_detail.empty()) invalid_detail += "; ";
      invalid_detail += std::string(AuthResultName(sig.result));
      if (!sig.domain.empty()) invalid_detail += " d=" + sig.domain + " s=" + sig.selector;
      if (!sig.error.empty()) invalid_detail += ": " + sig.error;
    }
  }
  if (invalid > 0) {
    out.push_back(Make("SenderAuth.DkimInvalid", Severity::kInfo,
                       std::to_string(invalid) + " DKIM signature" + (invalid == 1 ? "" : "s") +
                           " did not verify: " + invalid_detail));
  }
  std::vector<std::string> temp;
  if (r.spf.result == AuthResult::kTempError) temp.push_back("SPF");
  for (const auto& sig : r.dkim) {
    if (sig.result == AuthResult::kTempError) {
      temp.push_back("DKIM d=" + sig.domain);
      break;
    }
  }
  if (r.dmarc.result == AuthResult::kTempError) temp.push_back("DMARC of " + r.dmarc.from_domain);
  if (!temp.empty()) {
    std::string detail = "DNS did not answer for";
    for (std::size_t i = 0; i < temp.size(); ++i) detail += (i == 0 ? " " : ", ") + temp[i];
    out.push_back(Make("SenderAuth.TempError", Severity::kInfo, std::move(detail)));
  }
  return out;
}

engine::DetectorPtr CreateSenderAuthDetector(SenderAuthDetectorConfig config) {
  return std::make_unique<SenderAuthDetector>(std::move(config));
}

void RegisterSenderAuthDetector(engine::Registry& registry, SenderAuthDetectorConfig config) {
  if (config.resolver == nullptr) return;
  registry.AddDetector([config](const engine::SignatureSources&) -> Result<engine::DetectorPtr> {
    return CreateSenderAuthDetector(config);
  });
}

}  // namespace bulwark::detectors

#include "detectors/dlp/dlp_detector.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "detectors/common/markup_text.h"
#include "detectors/dlp/dlp_scanner.h"
#include "detectors/dlp/identifiers.h"

namespace bulwark::detectors {
namespace {

using dlp::Context;
using dlp::Identifier;

struct Template {
  const char* name;  // finding name
  engine::Severity severity;
  std::vector<Identifier> identifiers;
  Context raises;
  dlp::TemplateConfig config;
  // Identifiers that alone only make a weak case (e-mail, phone, IP in a signature).
  std::vector<Identifier> weak;
};

engine::Severity Lower(engine::Severity s) {
  return s == engine::Severity::kInfo ? s : static_cast<engine::Severity>(static_cast<int>(s) - 1);
}

std::string FormatBytes(std::uint64_t bytes) {
  if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0) {
    return std::to_string(bytes >> 20) + " MiB";
  }
  return std::to_string(bytes) + " bytes";
}

class DlpDetector : public engine::Detector {
 public:
  DlpDetector(dlp::DlpConfig config, std::unique_ptr<dlp::DlpScanner> scanner)
      : config_(std::move(config)), scanner_(std::move(scanner)) {
    using I = Identifier;
    templates_ = {
        {"DLP.PCI-DSS",
         engine::Severity::kHigh,
         {I::kPaymentCard},
         Context::kPayment,
         config_.pci_dss,
         {}},
        {"DLP.GDPR",
         engine::Severity::kMedium,
         {I::kIban, I::kUkNino, I::kDateOfBirth, I::kEmail, I::kPhone, I::kIpv4, I::kIpv6},
         Context::kPersonal,
         config_.gdpr,
         {I::kEmail, I::kPhone, I::kIpv4, I::kIpv6}},
        {"DLP.US-PII",
         engine::Severity::kHigh,
         {I::kUsSsn},
         Context::kUsPersonal,
         config_.us_pii,
         {}},
        {"DLP.Credentials",
         engine::Severity::kHigh,
         {I::kPrivateKey, I::kAwsAccessKey, I::kAwsSecretKey, I::kGithubToken, I::kGitlabToken,
          I::kSlackToken, I::kSlackWebhook, I::kStripeKey, I::kGoogleApiKey, I::kJwt,
          I::kConnectionPassword, I::kSecretAssignment},
         Context::kCredential,
         config_.credentials,
         {}},
        {"DLP.Custom",
         engine::Severity::kMedium,
         {I::kCustomKeyword, I::kCustomRegex},
         Context::kNotReal,
         {!config_.custom_keywords.empty() || !config_.custom_regexes.empty(),
          config_.custom_min_count},
         {}},
    };
  }

  std::string_view Name() const override { return "dlp"; }

  // Unknown bytes are checked for text in Inspect().
  bool Accepts(const content::ObjectInfo& object) const override {
    return content::MayHoldText(object.type.kind) && object.size > 0;
  }

  Status Inspect(const content::Object& object, engine::ScanContext& ctx,
                 engine::FindingSink& findings) const override {
    std::string_view bytes = object.bytes();
    content::FileKind kind = object.info.type.kind;
    if (kind == content::FileKind::kUnknown && !LooksLikeText(bytes)) return OkStatus();
    if (ctx.Expired()) return DeadlineExceededError("dlp: scan deadline passed");

    std::string note;
    if (bytes.size() > config_.max_scan_bytes) {
      note = "scanned the first " + FormatBytes(config_.max_scan_bytes) + " of " +
             FormatBytes(bytes.size());
      bytes = bytes.substr(0, config_.max_scan_bytes);
    }
    std::string visible;
    if (kind == content::FileKind::kHtml) {
      VisibleText(bytes, Markup::kHtml, visible);
      bytes = visible;
    } else if ((kind == content::FileKind::kText || kind == content::FileKind::kUnknown) &&
               LooksLikeXml(bytes)) {
      VisibleText(bytes, Markup::kXml, visible);
      bytes = visible;
    }

    dlp::DlpScanResult result;
    BULWARK_RETURN_IF_ERROR(scanner_->Scan(bytes, result));
    if (result.truncated) {
      if (!note.empty()) note += "; ";
      note += "too many candidates: examined only part of the text";
    }

    // Counts and masked samples per identifier (custom: per identifier kind only).
    std::array<int, dlp::kIdentifierCount> counts{};
    std::array<std::vector<std::string>, dlp::kIdentifierCount> samples;
    for (const dlp::DlpMatch& m : result.matches) {
      auto i = static_cast<std::size_t>(m.id);
      ++counts[i];
      if (samples[i].size() >= config_.max_samples) continue;
      std::string masked = dlp::Mask(m.id, bytes.substr(m.span.begin, m.span.end - m.span.begin));
      if (std::find(samples[i].begin(), samples[i].end(), masked) == samples[i].end()) {
        samples[i].push_back(std::move(masked));
      }
    }

    for (const Template& t : templates_) {
      if (!t.config.enabled) continue;
      int total = 0;
      bool strong = false;
      for (Identifier id : t.identifiers) {
        int n = counts[static_cast<std::size_t>(id)];
        total += n;
        if (n > 0 && std::find(t.weak.begin(), t.weak.end(), id) == t.weak.end()) strong = true;
      }
      if (total == 0 || total < t.config.min_count) continue;

      const char* confidence = "medium";
      engine::Severity severity = t.severity;
      bool raised =
          t.raises != Context::kNotReal && result.contexts.test(static_cast<std::size_t>(t.raises));
      bool lowered = result.contexts.test(static_cast<std::size_t>(Context::kNotReal));
      if (raised && !lowered) {
        confidence = "high";
      } else if (lowered && !raised) {
        confidence = "low";
        severity = Lower(severity);
      }
      if (!strong && !t.weak.empty()) severity = engine::Severity::kLow;

      std::string detail;
      for (Identifier id : t.identifiers) {
        auto i = static_cast<std::size_t>(id);
        if (counts[i] == 0) continue;
        if (!detail.empty()) detail += "; ";
        detail += std::string(dlp::IdentifierName(id)) + ": " + std::to_string(counts[i]);
        if (!samples[i].empty()) {
          detail += " (";
          for (std::size_t s = 0; s < samples[i].size(); ++s) {
            if (s > 0) detail += ", ";
            detail += samples[i][s];
          }
          detail += ")";
        }
      }
      detail += "; confidence: ";
      detail += confidence;
      if (!note.empty()) detail += "; " + note;

      engine::Finding finding;
      finding.detector = "dlp";
      finding.name = t.name;
      finding.category = engine::Category::kPolicy;
      finding.severity = severity;
      finding.detail = std::move(detail);
      findings.Add(std::move(finding));
    }
    return OkStatus();
  }

 private:
  // Constant after construction.
  dlp::DlpConfig config_;
  std::unique_ptr<dlp::DlpScanner> scanner_;
  std::vector<Template> templates_;
};

}  // namespace

Result<engine::DetectorPtr> CreateDlpDetector(const dlp::DlpConfig& config) {
  BULWARK_ASSIGN_OR_RETURN(std::unique_ptr<dlp::DlpScanner> scanner,
                           dlp::DlpScanner::Create(config));
  return engine::DetectorPtr(std::make_unique<DlpDetector>(config, std::move(scanner)));
}

void RegisterDlpDetector(engine::Registry& registry) {
  registry.AddDetector(
      [](const engine::SignatureSources&) { return CreateDlpDetector(dlp::DlpConfig()); });
}

}  // namespace bulwark::detectors

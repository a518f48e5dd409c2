#include "detectors/urls/urls_detector.h"

#include <array>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "detectors/common/markup_text.h"
#include "detectors/urls/url_extract.h"
#include "detectors/urls/url_heuristics.h"

namespace bulwark::detectors {
namespace {

using engine::Category;
using engine::Severity;

// Objects are read up to this size; URLs past it are not looked at (and a finding says so).
constexpr std::size_t kMaxScanBytes = 16u << 20;
// Evidence samples per finding.
constexpr std::size_t kMaxSamples = 3;

enum class Check : std::size_t {
  kBlockedMalware,
  kBlockedPhishing,
  kDisplayMismatch,
  kIpLiteral,
  kShortener,
  kPunycode,
  kMixedScript,
  kCount,
};

// How many URLs a check fired on in one object, and the first few pieces of evidence.
struct Tally {
  std::size_t count = 0;
  std::vector<std::string> samples;

  void Add(std::string evidence) {
    ++count;
    if (samples.size() < kMaxSamples) samples.push_back(std::move(evidence));
  }
  std::string Detail(std::string_view noun) const {
    std::string out = std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
    for (std::size_t i = 0; i < samples.size(); ++i) out += (i == 0 ? ": " : "; ") + samples[i];
    if (count > samples.size()) out += "; \xE2\x80\xA6";
    return out;
  }
};

// "xn--pypal-4ve.com (pаypal.com)" for hosts whose Unicode form differs.
std::string HostWithUnicode(const urls::Url& url) {
  if (url.display_host == url.host) return url.host;
  return url.host + " (" + url.display_host + ")";
}

class UrlsDetector : public engine::Detector {
 public:
  explicit UrlsDetector(urls::UrlReputation reputation) : reputation_(std::move(reputation)) {}

  std::string_view Name() const override { return "urls"; }

  bool Accepts(const content::ObjectInfo& object) const override {
    return content::MayHoldText(object.type.kind) && object.size > 0;
  }

  Status Inspect(const content::Object& object, engine::ScanContext& ctx,
                 engine::FindingSink& findings) const override {
    std::string_view bytes = object.bytes();
    const content::FileKind kind = object.info.type.kind;
    if (kind == content::FileKind::kUnknown && !LooksLikeText(bytes)) return OkStatus();
    if (ctx.Expired()) return DeadlineExceededError("urls: scan deadline passed");
    const bool cut = bytes.size() > kMaxScanBytes;
    if (cut) bytes = bytes.substr(0, kMaxScanBytes);

    urls::Extraction extraction;
    if (kind == content::FileKind::kHtml) {
      urls::ExtractFromHtml(bytes, extraction);
    } else {
      urls::ExtractFromText(bytes, extraction);
    }

    std::array<Tally, static_cast<std::size_t>(Check::kCount)> tallies;
    auto tally = [&](Check check) -> Tally& { return tallies[static_cast<std::size_t>(check)]; };
    std::unordered_set<std::string> seen;
    for (const urls::FoundUrl& found : extraction.urls) {
      auto url = urls::ParseUrl(found.raw);
      if (!url) continue;
      std::string normalised = url->Normalised();
      const bool first = seen.insert(normalised).second;
      if (first) ctx.NoteUrl(std::move(normalised));
      if (!first && found.link_text.empty()) continue;

      if (first) {
        if (auto hit = reputation_.Blocked(*url)) {
          tally(hit->threat == urls::FeedThreat::kMalware ? Check::kBlockedMalware
                                                          : Check::kBlockedPhishing)
              .Add(url->Evidence() + " (" + std::string(hit->by_domain ? "domain" : "URL") +
                   " listed in " + std::string(hit->feed) + ")");
        }
      }
      if (reputation_.Allowed(*url)) continue;

      if (!found.link_text.empty()) CheckLinkText(found.link_text, *url, tally(Check::kDisplayMismatch));
      if (!first) continue;
      if (url->host_kind != urls::HostKind::kDomain) {
        tally(Check::kIpLiteral)
            .Add(url->Evidence() + (url->ip_obfuscated ? " (address written as a number)" : ""));
        continue;
      }
      if (rules_.IsShortener(url->host)) tally(Check::kShortener).Add(url->Evidence());
      if (url->HasPunycodeLabel()) tally(Check::kPunycode).Add(HostWithUnicode(*url));
      if (std::string mixed = urls::MixedScripts(url->display_host); !mixed.empty()) {
        tally(Check::kMixedScript).Add(HostWithUnicode(*url) + ": " + mixed);
      }
    }

    const bool any_malware = tally(Check::kBlockedMalware).count > 0;
    Tally blocked = tally(Check::kBlockedMalware);
    for (const std::string& s : tally(Check::kBlockedPhishing).samples) blocked.Add(s);
    blocked.count = tally(Check::kBlockedMalware).count + tally(Check::kBlockedPhishing).count;
    if (blocked.count > 0) {
      Report(findings, "Url.Blocklisted", any_malware ? Category::kMalware : Category::kSuspicious,
             Severity::kHigh, blocked.Detail("URL"));
    }
    struct Heuristic {
      Check check;
      const char* name;
      Severity severity;
      const char* noun;
    };
    static constexpr Heuristic kHeuristics[] = {
        {Check::kDisplayMismatch, "Url.DisplayMismatch", Severity::kInfo, "link"},
        {Check::kIpLiteral, "Url.IpLiteralHost", Severity::kMedium, "URL"},
        {Check::kMixedScript, "Url.MixedScriptHost", Severity::kMedium, "host"},
        {Check::kPunycode, "Url.PunycodeHost", Severity::kInfo, "host"},
        {Check::kShortener, "Url.Shortener", Severity::kInfo, "URL"},
    };
    for (const Heuristic& h : kHeuristics) {
      if (tally(h.check).count == 0) continue;
      Report(findings, h.name, Category::kSuspicious, h.severity, tally(h.check).Detail(h.noun));
    }
    if (extraction.password_forms > 0) {
      std::string detail = std::to_string(extraction.password_forms) + " form" +
                           (extraction.password_forms == 1 ? "" : "s") +
                           " with a password field";
      if (auto action = urls::ParseUrl(extraction.password_form_action)) {
        detail += ", posting to " + action->Evidence();
      }
      Report(findings, "Url.CredentialForm", Category::kSuspicious, Severity::kMedium, detail);
    }
    if (extraction.truncated || cut) {
      findings.Add(engine::Finding::Unscannable(
          "urls", engine::UnscannableReason::kObjectCountLimit,
          extraction.truncated ? "more than " + std::to_string(urls::kMaxUrlsPerObject) +
                                     " URLs: the first " +
                                     std::to_string(urls::kMaxUrlsPerObject) + " were checked"
                               : "URLs looked for in the first " +
                                     std::to_string(kMaxScanBytes >> 20) + " MiB only"));
    }
    return OkStatus();
  }

 private:
  // Url.DisplayMismatch: the link's text shows a domain whose registrable domain differs
  // from the one the link goes to ("https://paypal.com" over an href to evil.example).
  void CheckLinkText(std::string_view link_text, const urls::Url& url, Tally& mismatch) const {
    auto shown = rules_.DomainShownIn(link_text);
    if (!shown) return;
    const std::string shown_domain = rules_.RegistrableDomain(*shown);
    const std::string target_domain = rules_.RegistrableDomain(url.host);
    if (shown_domain == target_domain) return;
    mismatch.Add("text shows " + urls::UnicodeHost(*shown) + ", link goes to " + url.Evidence());
  }

  static void Report(engine::FindingSink& findings, const char* name, Category category,
                     Severity severity, std::string detail) {
    engine::Finding finding;
    finding.detector = "urls";
    finding.name = name;
    finding.category = category;
    finding.severity = severity;
    finding.detail = std::move(detail);
    findings.Add(std::move(finding));
  }

  // Constant after construction.
  urls::UrlReputation reputation_;
  urls::DomainRules rules_;
};

}  // namespace

engine::DetectorPtr CreateUrlsDetector(urls::UrlReputation reputation) {
  return std::make_unique<UrlsDetector>(std::move(reputation));
}

void RegisterUrlsDetector(engine::Registry& registry) {
  registry.AddDetector([](const engine::SignatureSources& sources) -> Result<engine::DetectorPtr> {
    BULWARK_ASSIGN_OR_RETURN(urls::UrlReputation reputation,
                             urls::UrlReputation::Load(sources.directories));
    return CreateUrlsDetector(std::move(reputation));
  });
}

}  // namespace bulwark::detectors

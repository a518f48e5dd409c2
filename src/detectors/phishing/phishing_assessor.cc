#include "detectors/phishing/phishing_assessor.h"

namespace bulwark::detectors {
namespace {

class PhishingAssessor : public engine::Assessor {
 public:
  explicit PhishingAssessor(phishing::ScoreOptions options) : scorer_(options) {}

  std::string_view Name() const override { return "phishing"; }

  bool Accepts(const content::ObjectInfo& root) const override {
    return root.depth == 0 && root.type.kind == content::FileKind::kEmail;
  }

  Status Assess(const content::ObjectInfo&, std::string_view bytes, const engine::RootForms& forms,
                const std::vector<engine::Finding>& findings, const std::vector<std::string>& urls,
                engine::FindingSink& sink) const override {
    // The MIME unpacker's parse of the whole mail, when the scan kept one: the score reads
    // its headers and text parts, which `bytes` (the mail without its binary members) holds
    // the same, without parsing the message a second time.
    auto parsed = forms.Find<mime::ParsedMessage>();
    phishing::Assessment assessment = parsed != nullptr ? scorer_.Score(*parsed, findings, urls)
                                                        : scorer_.Score(bytes, findings, urls);
    if (assessment.phishing()) sink.Add(phishing::ToFinding(assessment));
    return OkStatus();
  }

 private:
  phishing::PhishingScorer scorer_;
};

}  // namespace

engine::AssessorPtr CreatePhishingAssessor(phishing::ScoreOptions options) {
  return std::make_unique<PhishingAssessor>(options);
}

void RegisterPhishingAssessor(engine::Registry& registry, phishing::ScoreOptions options) {
  registry.AddAssessor(CreatePhishingAssessor(options));
}

}  // namespace bulwark::detectors

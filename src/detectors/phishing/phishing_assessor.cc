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

  Status Assess(const content::ObjectInfo&, std::string_view bytes,
                const std::vector<engine::Finding>& findings, const std::vector<std::string>& urls,
                engine::FindingSink& sink) const override {
    phishing::Assessment assessment = scorer_.Score(bytes, findings, urls);
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

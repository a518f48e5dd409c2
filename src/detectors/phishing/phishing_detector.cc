#include "detectors/phishing/phishing_detector.h"

namespace bulwark::detectors {
namespace {

class PhishingDetector : public engine::Detector {
 public:
  explicit PhishingDetector(phishing::ScoreOptions options) : scorer_(options) {}

  std::string_view Name() const override { return "phishing"; }

  bool Accepts(const content::ObjectInfo& object) const override {
    return object.depth == 0 && object.type.kind == content::FileKind::kEmail;
  }

  Status Inspect(const content::Object& object, engine::ScanContext& ctx,
                 engine::FindingSink& findings) const override {
    if (ctx.Expired()) return DeadlineExceededError("scan time limit reached");
    phishing::Assessment assessment = scorer_.Score(object.bytes(), {}, {});
    if (assessment.phishing()) findings.Add(phishing::ToFinding(assessment));
    return OkStatus();
  }

 private:
  phishing::PhishingScorer scorer_;
};

}  // namespace

engine::DetectorPtr CreatePhishingDetector(phishing::ScoreOptions options) {
  return std::make_unique<PhishingDetector>(options);
}

void RegisterPhishingDetector(engine::Registry& registry, phishing::ScoreOptions options) {
  registry.AddDetector([options](const engine::SignatureSources&) -> Result<engine::DetectorPtr> {
    return CreatePhishingDetector(options);
  });
}

}  // namespace bulwark::detectors

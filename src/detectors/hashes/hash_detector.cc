#include "detectors/hashes/hash_detector.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "detectors/common/signature_files.h"
#include "detectors/hashes/hash_list.h"
#include "rules/builtin_rules.h"

namespace bulwark::detectors {
namespace {

class HashDetector : public engine::Detector {
 public:
  explicit HashDetector(HashList list) : list_(std::move(list)) {}

  std::string_view Name() const override { return "hashes"; }
  bool Accepts(const content::ObjectInfo&) const override { return list_.size() > 0; }

  Status Inspect(const content::Object& object, engine::ScanContext&,
                 engine::FindingSink& findings) const override {
    const std::string* name = list_.Find(crypto::Sha256(object.bytes()));
    if (name == nullptr) return OkStatus();
    engine::Finding finding;
    finding.detector = "hashes";
    finding.name = *name;
    finding.category = engine::Category::kMalware;
    finding.severity = engine::Severity::kHigh;
    finding.detail = "SHA-256 on a reputation list";
    findings.Add(std::move(finding));
    return OkStatus();
  }

 private:
  HashList list_;  // constant after construction
};

}  // namespace

Result<engine::DetectorPtr> CreateHashDetector(const engine::SignatureSources& sources) {
  HashList list;
  if (sources.builtin_rules) {
    BULWARK_RETURN_IF_ERROR(list.Parse(rules::BuiltinHashList(), "builtin.sha256"));
  }
  for (const auto& file : ListSignatureFiles(sources.directories, {".sha256"})) {
    BULWARK_ASSIGN_OR_RETURN(std::string text, ReadSignatureFile(file));
    BULWARK_RETURN_IF_ERROR(list.Parse(text, file.string()));
  }
  return engine::DetectorPtr(std::make_unique<HashDetector>(std::move(list)));
}

void RegisterHashDetector(engine::Registry& registry) {
  registry.AddDetector(CreateHashDetector);
}

}  // namespace bulwark::detectors

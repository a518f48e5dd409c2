#pragma once
// The "activecontent" detector: content that runs code when opened (Office macros, DDE,
// PDF actions, scripts in HTML/SVG), executables and scripts inside containers, file-name
// tricks, and operator-defined file blocking. Finding names and the exact lists are in
// docs/active-content.md; every finding names the evidence (keywords from our own tables,
// object names), never content.

#include <string>
#include <vector>

#include "bulwark/content/file_type.h"
#include "bulwark/engine/registry.h"

namespace bulwark::detectors {

// One operator rule: an object matching any of its criteria yields the finding
// "FileBlocking.<label>" (kPolicy, medium). Criteria are metadata only (true kind, name).
struct FileBlockingRule {
  std::string label;                       // [A-Za-z0-9_-]{1,64}, unique among the rules
  std::vector<content::FileKind> kinds;    // true types, e.g. kPe
  std::vector<std::string> extensions;     // "exe" or ".exe", ASCII case ignored
  std::vector<std::string> name_patterns;  // globs on the base name: '*', '?'; case ignored
};

struct FileBlockingRules {
  std::vector<FileBlockingRule> rules;
};

// OK, or kInvalidArgument naming the first problem by index, e.g.
// "rules[1].name_patterns[0]: empty pattern". Problems: an empty or badly formed or
// duplicate label, a rule with no criteria, an empty extension or one with characters
// other than [A-Za-z0-9_+-] after an optional leading dot, an empty pattern or one with
// control characters or path separators.
Status ValidateFileBlockingRules(const FileBlockingRules& rules);

// Builds the detector; kInvalidArgument as ValidateFileBlockingRules.
// Thread safety: the detector is immutable; one instance serves every scan.
Result<engine::DetectorPtr> CreateActiveContentDetector(FileBlockingRules rules = {});

// Registers the detector with the default configuration: active-content and file-name
// findings, no file blocking rules.
void RegisterActiveContentDetector(engine::Registry& registry);
// Registers the detector with `rules` (validated when the registry builds detectors).
void RegisterActiveContentDetector(engine::Registry& registry, FileBlockingRules rules);

}  // namespace bulwark::detectors

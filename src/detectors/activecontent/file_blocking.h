#pragma once
// Matching of FileBlockingRules (declared in activecontent_detector.h) against an object's
// metadata. Rules are validated before use (ValidateFileBlockingRules).

#include "bulwark/content/object.h"
#include "bulwark/engine/finding.h"
#include "detectors/activecontent/activecontent_detector.h"

namespace bulwark::detectors::activecontent {

// A validated rule set with extensions normalised (no leading dot).
// Constant after construction; safe to share between threads.
class FileBlocking {
 public:
  // Precondition: ValidateFileBlockingRules(rules).ok().
  explicit FileBlocking(FileBlockingRules rules);
  bool empty() const { return rules_.rules.empty(); }
  // Adds one "FileBlocking.<label>" finding per rule that `info` matches.
  void Check(const content::ObjectInfo& info, engine::FindingSink& findings) const;

 private:
  FileBlockingRules rules_;
};

}  // namespace bulwark::detectors::activecontent

#pragma once
#include <memory>
#include <string_view>

#include "bulwark/common/status.h"
#include "bulwark/content/object.h"
#include "bulwark/engine/finding.h"
#include "bulwark/engine/scan_context.h"

namespace bulwark::engine {

// A Detector looks at one object and reports what it sees as Findings.
// It never decides the verdict; policy does (bulwark/policy/verdict.h).
//
// Thread safety: one instance serves every scan on every worker thread at once.
// Inspect() is const; per-scan state belongs in ScanContext.
class Detector {
 public:
  virtual ~Detector() = default;

  // Stable identifier, e.g. "yara". Appears in config, findings and metrics.
  virtual std::string_view Name() const = 0;

  // Cheap check on type and size; when false the engine skips Inspect().
  virtual bool Accepts(const content::ObjectInfo& object) const = 0;

  // Appends findings for `object`. Content that is malformed, encrypted or over a
  // limit is a Finding (kUnscannable), not an error. Returns non-OK only when the
  // detector could not do its job: deadline passed, resource exhausted, a fault.
  virtual Status Inspect(const content::Object& object, ScanContext& ctx,
                         FindingSink& findings) const = 0;
  // When true, the engine runs this detector after the object's unpacker, on the object's
  // own bytes: the object without the stored forms of the members the unpacker handed on
  // and the engine scanned (ChildSink::AddStored). For a mail, the headers and the MIME
  // structure without its base64 attachments, which are scanned decoded as members.
  // Detectors that match raw bytes everywhere (signatures) use it so that a repeated
  // attachment costs its hash and a cache lookup, not a scan of its encoded text.
  virtual bool ReadsOwnBytes() const { return false; }
};

using DetectorPtr = std::unique_ptr<const Detector>;

}  // namespace bulwark::engine

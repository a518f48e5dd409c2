#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "bulwark/common/status.h"
#include "bulwark/content/object.h"
#include "bulwark/engine/finding.h"
#include "bulwark/engine/scan_context.h"

namespace bulwark::engine {

// Where a member stands in its container's bytes, as stored there: [begin, end).
struct ByteRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Receives the objects an unpacker finds inside a container. The engine scans each
// child as soon as it arrives (depth first), so memory holds one branch at a time.
class ChildSink {
 public:
  virtual ~ChildSink() = default;
  // Takes ownership of a child's bytes. Returns kResourceExhausted when a scan budget
  // (object count, total bytes) is spent or kDeadlineExceeded when time is up: the
  // unpacker stops and returns OK (the engine has already recorded the finding).
  virtual Status Add(std::string name, content::Blob data) = 0;
  // The same, for a member whose stored (encoded) form is `stored` of the container's
  // bytes — a base64 attachment in a mail. Once the member has been scanned, detectors
  // that read the container's own bytes (Detector::ReadsOwnBytes) no longer see that
  // range: they would only scan the member again, encoded.
  virtual Status AddStored(std::string name, content::Blob data, ByteRange stored) {
    (void)stored;
    return Add(std::move(name), std::move(data));
  }
};

// An Unpacker opens one kind of container (MIME, archives, PDF) and hands its members
// to a ChildSink. It enforces per-object limits while reading (object size, ratio),
// and reports encrypted, malformed or truncated containers as kUnscannable findings.
//
// Thread safety: one instance serves every scan at once; Unpack() is const.
class Unpacker {
 public:
  virtual ~Unpacker() = default;
  virtual std::string_view Name() const = 0;
  virtual bool Accepts(const content::ObjectInfo& object) const = 0;
  // Returns non-OK only when the unpacker could not do its job for reasons other than
  // the content (a fault); content problems are findings.
  virtual Status Unpack(const content::Object& object, ScanContext& ctx, ChildSink& children,
                        FindingSink& findings) const = 0;
};

using UnpackerPtr = std::unique_ptr<const Unpacker>;

}  // namespace bulwark::engine

#pragma once
// Shared pieces of the unpacker fuzz targets: sinks that discard, and one call that runs
// an unpacker on fuzz input the way the engine would.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include "bulwark/engine/finding.h"
#include "bulwark/engine/limits.h"
#include "bulwark/engine/scan_context.h"
#include "bulwark/engine/unpacker.h"

namespace bulwark::fuzzing {

// Counts and discards children; refuses past a budget as the engine does. A stored range
// outside the container (`container_size` bytes) is a bug in the unpacker: it aborts.
class CountingChildSink : public engine::ChildSink {
 public:
  CountingChildSink(std::size_t budget, std::size_t container_size)
      : budget_(budget), container_size_(container_size) {}
  Status Add(std::string, content::Blob) override {
    if (count_ >= budget_) return ResourceExhaustedError("object budget spent");
    ++count_;
    return OkStatus();
  }
  Status AddStored(std::string name, content::Blob data, engine::ByteRange stored) override {
    if (stored.begin > stored.end || stored.end > container_size_) std::abort();
    return Add(std::move(name), std::move(data));
  }

 private:
  std::size_t budget_;
  std::size_t container_size_;
  std::size_t count_ = 0;
};

class DiscardingFindingSink : public engine::FindingSink {
 public:
  void Add(engine::Finding) override {}
};

// Runs `unpacker` over the input presented as an object of `kind`, with limits small
// enough that a fuzz iteration stays fast.
inline void RunUnpacker(const engine::Unpacker& unpacker, content::FileKind kind,
                        const uint8_t* data, size_t size) {
  content::Object object;
  object.info.name = "fuzz";
  object.info.type.kind = kind;
  object.data = content::Blob::Copy(std::string_view(reinterpret_cast<const char*>(data), size));
  object.info.size = size;
  engine::Limits limits;
  limits.max_object_bytes = 4u << 20;
  limits.max_total_bytes = 16u << 20;
  limits.max_scan_time = std::chrono::milliseconds(2000);
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  CountingChildSink children(256, size);
  DiscardingFindingSink findings;
  (void)unpacker.Unpack(object, ctx, children, findings);
}

}  // namespace bulwark::fuzzing

// libFuzzer target for the "encoded" unpacker: any bytes, presented as unidentified content
// (so both the byte and the UTF-16LE searches run), must unpack without crashing, leaking or
// running away. Seeds: fuzz/corpus/encoded/.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bulwark/engine/finding.h"
#include "bulwark/engine/limits.h"
#include "bulwark/engine/scan_context.h"
#include "bulwark/engine/unpacker.h"
#include "unpackers/encoded/encoded_payload_finder.h"
#include "unpackers/encoded/encoded_unpacker.h"

namespace {

using bulwark::OkStatus;
using bulwark::Status;

// Counts and discards children; refuses past the object budget like the engine does.
class CountingChildSink : public bulwark::engine::ChildSink {
 public:
  explicit CountingChildSink(std::size_t budget) : budget_(budget) {}
  Status Add(std::string name, bulwark::content::Blob data) override {
    if (count_ >= budget_) return bulwark::ResourceExhaustedError("object budget spent");
    ++count_;
    bytes_ += name.size() + data.size();
    return OkStatus();
  }

 private:
  std::size_t budget_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

class DiscardingFindingSink : public bulwark::engine::FindingSink {
 public:
  void Add(bulwark::engine::Finding) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Built once and shared, as in the engine: Unpack() is const.
  static const bulwark::engine::UnpackerPtr unpacker = bulwark::unpackers::CreateEncodedUnpacker();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  bulwark::content::Object object;
  object.info.name = "fuzz.bin";
  object.info.type.kind = bulwark::content::FileKind::kUnknown;
  object.info.size = size;
  object.data = bulwark::content::Blob::Copy(bytes);

  bulwark::engine::Limits limits;
  limits.max_objects = 1000;
  bulwark::engine::ScanContext ctx(limits, bulwark::engine::ScanContext::Clock::now());
  CountingChildSink children(limits.max_objects);
  DiscardingFindingSink findings;
  (void)unpacker->Unpack(object, ctx, children, findings);

  // The building blocks directly, on the raw input.
  if (auto decoded = bulwark::unpackers::DecodeBase64(bytes)) {
    (void)bulwark::unpackers::Utf16LeTextToUtf8(*decoded);
  }
  (void)bulwark::unpackers::Utf16LeTextToUtf8(bytes);
  return 0;
}

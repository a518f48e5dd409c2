// libFuzzer target for the "ole2" unpacker: any bytes, presented as an OLE2 file, must unpack
// without crashing, leaking or running away. Seeds: fuzz/corpus/ole2/ (written by
// ole2_unpacker_test when BULWARK_WRITE_FUZZ_SEEDS names that folder).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bulwark/engine/finding.h"
#include "bulwark/engine/limits.h"
#include "bulwark/engine/scan_context.h"
#include "bulwark/engine/unpacker.h"
#include "unpackers/ole2/ole2_unpacker.h"

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
  static const bulwark::engine::UnpackerPtr unpacker = bulwark::unpackers::CreateOle2Unpacker();

  bulwark::content::Object object;
  object.info.name = "fuzz.doc";
  object.info.type.kind = bulwark::content::FileKind::kOle2;
  object.info.size = size;
  object.data =
      bulwark::content::Blob::Copy(std::string_view(reinterpret_cast<const char*>(data), size));

  bulwark::engine::Limits limits;
  limits.max_objects = 1000;
  bulwark::engine::ScanContext ctx(limits, bulwark::engine::ScanContext::Clock::now());
  CountingChildSink children(limits.max_objects);
  DiscardingFindingSink findings;
  (void)unpacker->Unpack(object, ctx, children, findings);
  return 0;
}

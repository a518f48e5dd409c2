// libFuzzer target for the "dlp" detector: arbitrary bytes as a text object, as HTML and
// as an unknown object (XML detection), through the shared Hyperscan database.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bulwark/engine/limits.h"
#include "bulwark/engine/scan_context.h"
#include "detectors/dlp/dlp_detector.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulwark;
  static const engine::Detector* detector = [] {
    auto created = detectors::CreateDlpDetector(detectors::dlp::DlpConfig());
    return created.ok() ? std::move(created).value().release() : nullptr;
  }();
  if (detector == nullptr) __builtin_trap();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (content::FileKind kind :
       {content::FileKind::kText, content::FileKind::kHtml, content::FileKind::kUnknown}) {
    content::Object object;
    object.info.name = "fuzz";
    object.info.type.kind = kind;
    object.data = content::Blob::Copy(bytes);
    object.info.size = size;
    engine::Limits limits;
    limits.max_scan_time = std::chrono::milliseconds(2000);
    engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
    fuzzing::DiscardingFindingSink findings;
    if (detector->Accepts(object.info)) (void)detector->Inspect(object, ctx, findings);
  }
  return 0;
}

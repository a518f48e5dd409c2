// libFuzzer target for YARA rule loading (operator-supplied .yar files), through the same
// compiler set-up the detector uses (includes refused, externals defined).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detectors/yara/yara_detector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)bulwark::detectors::CompileYaraSource(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

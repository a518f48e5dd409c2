// libFuzzer target for true-type identification (our own checks and libmagic).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "identify/type_identifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto identifier = bulwark::identify::TypeIdentifier::Create();
  if (!identifier.ok()) return 0;
  (void)(*identifier)->Identify(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

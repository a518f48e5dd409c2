// libFuzzer target for SHA-256 reputation list parsing (operator-supplied files).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detectors/hashes/hash_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bulwark::detectors::HashList list;
  (void)list.Parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.sha256");
  return 0;
}

// libFuzzer target for the scan API's multipart/form-data reader: the first line of the input
// is the Content-Type header, the rest the body.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "service/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  std::string_view header = input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  auto boundary = bulwark::service::MultipartBoundary(header);
  if (!boundary.ok()) return 0;
  auto file = bulwark::service::FirstFormFile(body, *boundary);
  if (file.ok()) {
    // The part must lie inside the body.
    if (file->data.data() < body.data() ||
        file->data.data() + file->data.size() > body.data() + body.size()) {
      __builtin_trap();
    }
  }
  return 0;
}

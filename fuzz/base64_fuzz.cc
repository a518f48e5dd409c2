// libFuzzer target for the base64 decoder of MIME bodies (src/mime/base64.h): arbitrary
// bytes decoded by it and by GMime's own decoder in one step; any difference traps. The
// scanner must read a body exactly as GMime (and so the mail client's library) reads it.

#include <gmime/gmime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mime/base64.h"
#include "mime/gmime_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bulwark::mime::InitGMimeOnce();
  const std::string_view encoded(reinterpret_cast<const char*>(data), size);
  std::string expected(size / 4 * 3 + 3, '\0');
  int state = 0;
  guint32 save = 0;
  expected.resize(g_mime_encoding_base64_decode_step(
      data, size, reinterpret_cast<unsigned char*>(expected.data()), &state, &save));
  if (bulwark::mime::DecodeBase64(encoded) != expected) __builtin_trap();
  return 0;
}

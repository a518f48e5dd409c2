// libFuzzer target for the "encoded" unpacker: any bytes, presented as unidentified content
// (so both the byte and the UTF-16LE searches run), and its decoders directly.
// Seeds: fuzz/corpus/encoded_unpacker/.
#include "fuzz/fuzz_support.h"
#include "unpackers/encoded/encoded_payload_finder.h"
#include "unpackers/encoded/encoded_unpacker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bulwark::engine::UnpackerPtr unpacker = bulwark::unpackers::CreateEncodedUnpacker();
  bulwark::fuzzing::RunUnpacker(*unpacker, bulwark::content::FileKind::kUnknown, data, size);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto decoded = bulwark::unpackers::DecodeBase64(bytes)) {
    (void)bulwark::unpackers::Utf16LeTextToUtf8(*decoded);
  }
  (void)bulwark::unpackers::Utf16LeTextToUtf8(bytes);
  return 0;
}

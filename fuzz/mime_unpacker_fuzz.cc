// libFuzzer target for the "mime" unpacker: any bytes, presented as an email, must unpack
// without crashing, leaking or running away. Seeds: fuzz/corpus/mime_unpacker/.
#include "fuzz/fuzz_support.h"
#include "unpackers/mime/mime_unpacker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Built once and shared, as in the engine: Unpack() is const.
  static const bulwark::engine::UnpackerPtr unpacker = bulwark::unpackers::CreateMimeUnpacker();
  bulwark::fuzzing::RunUnpacker(*unpacker, bulwark::content::FileKind::kEmail, data, size);
  return 0;
}

// libFuzzer target for the "ole2" unpacker (compound files, VBA decompression): any bytes,
// presented as OLE2. Seeds: fuzz/corpus/ole2_unpacker/.
#include "fuzz/fuzz_support.h"
#include "unpackers/ole2/ole2_unpacker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bulwark::engine::UnpackerPtr unpacker = bulwark::unpackers::CreateOle2Unpacker();
  bulwark::fuzzing::RunUnpacker(*unpacker, bulwark::content::FileKind::kOle2, data, size);
  return 0;
}

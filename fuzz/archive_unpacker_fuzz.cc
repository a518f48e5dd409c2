// libFuzzer target for the "archive" unpacker (libarchive): any bytes, typed by our own
// sniffing as the engine would (zip when unknown), must unpack within the limits.
#include "fuzz/fuzz_support.h"
#include "identify/type_identifier.h"
#include "unpackers/archive/archive_unpacker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bulwark::engine::UnpackerPtr unpacker = bulwark::unpackers::CreateArchiveUnpacker();
  auto kind = bulwark::identify::SniffKind(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!bulwark::content::IsArchiveKind(kind)) kind = bulwark::content::FileKind::kZip;
  bulwark::fuzzing::RunUnpacker(*unpacker, kind, data, size);
  return 0;
}

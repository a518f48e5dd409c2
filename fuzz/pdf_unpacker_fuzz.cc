// libFuzzer target for the "pdf" unpacker (qpdf): any bytes presented as a PDF.
#include "fuzz/fuzz_support.h"
#include "unpackers/pdf/pdf_unpacker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bulwark::engine::UnpackerPtr unpacker = bulwark::unpackers::CreatePdfUnpacker();
  bulwark::fuzzing::RunUnpacker(*unpacker, bulwark::content::FileKind::kPdf, data, size);
  return 0;
}

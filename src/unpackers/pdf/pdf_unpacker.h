#pragma once
// The "pdf" unpacker, through qpdf: a PDF's embedded files (the EmbeddedFiles name tree
// and file attachment annotations) and its JavaScript (every /JS action) become children.
// Streams are decoded within the object size limit (flate bombs stop there); a PDF that
// needs a password is kEncrypted, one qpdf cannot repair kMalformed.

#include "bulwark/engine/registry.h"

namespace bulwark::unpackers {

void RegisterPdfUnpacker(engine::Registry& registry);
engine::UnpackerPtr CreatePdfUnpacker();

}  // namespace bulwark::unpackers

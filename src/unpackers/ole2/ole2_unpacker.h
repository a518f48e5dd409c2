#pragma once
// The "ole2" unpacker: OLE2 / Compound File Binary containers (legacy Office documents,
// vbaProject.bin, MSI). Emits the decompressed source of each VBA module as
// "VBA/<Module>.vba", then every other non-empty stream under its storage path
// ("WordDocument", "Macros/VBA/dir", "ObjectPool/_1234/\x01Ole10Native").
//
// Findings: kMalformed for a broken header, FAT, chain or VBA project (what could be read
// safely is still emitted); kEncrypted for encrypted Office documents; kObjectSizeLimit
// for a stream or module source over the object size limit (skipped); kTimeLimit when the
// scan deadline passes between streams.

#include "bulwark/engine/registry.h"

namespace bulwark::unpackers {

void RegisterOle2Unpacker(engine::Registry& registry);
engine::UnpackerPtr CreateOle2Unpacker();

}  // namespace bulwark::unpackers

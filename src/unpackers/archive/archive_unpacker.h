#pragma once
// The "archive" unpacker: zip, 7z, rar (v4 and v5), tar, gzip, bzip2, xz, cab and
// ISO 9660 through libarchive, read from memory. Office OOXML and ODF documents are zip
// packages and are opened the same way, so macros (vbaProject.bin), embedded objects and
// media inside them are scanned as objects of their own.
//
// Limits while reading: a member larger than max_object_bytes is not read past the limit
// (kObjectSizeLimit); a container that unpacks to more than max_ratio times its size is
// stopped (kRatioLimit). Encrypted members and archives are kEncrypted; corrupt or
// truncated ones kMalformed. Member names are only ever used as labels: nothing is
// written to disk, so "../" names (zip slip) cannot escape anywhere.

#include "bulwark/engine/registry.h"

namespace bulwark::unpackers {

void RegisterArchiveUnpacker(engine::Registry& registry);
engine::UnpackerPtr CreateArchiveUnpacker();

}  // namespace bulwark::unpackers

#pragma once
// The "encoded" unpacker: PowerShell encoded commands (`powershell -EncodedCommand <base64>`)
// hidden in text, markup, scripts and binary streams. Each decoded command becomes a child
// object "powershell-encoded-N.ps1" (UTF-8 text), so detectors see the real payload; commands
// nested inside a decoded command are found when the engine hands the child back to it.
//
// Accepts the kinds no earlier unpacker opens and that can carry such text: text, HTML/XML,
// scripts, RTF and unidentified bytes (e.g. OLE2 streams). Finds nothing in most objects and
// then emits nothing. Findings: kObjectCountLimit past 64 payloads in one object,
// kObjectSizeLimit for a payload larger than the object size limit, kTimeLimit when the
// deadline passes mid-search. See encoded_payload_finder.h for what counts as a payload.

#include "bulwark/engine/registry.h"

namespace bulwark::unpackers {

void RegisterEncodedUnpacker(engine::Registry& registry);
engine::UnpackerPtr CreateEncodedUnpacker();

}  // namespace bulwark::unpackers

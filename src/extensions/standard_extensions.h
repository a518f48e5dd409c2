#pragma once
// The one place that lists every detector and unpacker Bulwark ships.

#include "bulwark/engine/registry.h"

namespace bulwark::extensions {

// Adds the standard unpackers (MIME, archives and Office packages, PDF, OLE2,
// encoded command payloads) and detectors
// (hash lists, ClamAV, YARA) to `registry`.
void RegisterStandardExtensions(engine::Registry& registry);

}  // namespace bulwark::extensions

#pragma once
// The one place that lists every detector and unpacker Bulwark ships.

#include "bulwark/engine/registry.h"

namespace bulwark::extensions {

// Detectors that are off unless asked for.
struct ExtensionOptions {
  // Data loss prevention with the built-in templates (PCI-DSS, GDPR, US PII, credentials).
  // Off by default: whether finding personal data is a violation is the tenant's policy.
  bool dlp = false;
};

// Adds the standard unpackers (MIME, archives and Office packages, PDF, OLE2,
// encoded command payloads) and detectors (hash lists, ClamAV, YARA, active content and
// file names, URLs; DLP when `options.dlp`) to `registry`.
void RegisterStandardExtensions(engine::Registry& registry, const ExtensionOptions& options = {});

}  // namespace bulwark::extensions

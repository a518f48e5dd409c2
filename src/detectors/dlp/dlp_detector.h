#pragma once
// The "dlp" detector: data loss prevention. Finds validated identifiers (payment cards,
// IBANs, national identifiers, contact data, dates of birth, keys and tokens) in text,
// HTML and XML, and reports one kPolicy finding per compliance template that fires
// ("DLP.PCI-DSS", "DLP.GDPR", "DLP.US-PII", "DLP.Credentials", "DLP.Custom").
// Findings carry counts and masked samples only, never a matched value. See docs/dlp.md.

#include "bulwark/engine/registry.h"
#include "detectors/dlp/dlp_config.h"

namespace bulwark::detectors {

// Registers the DLP detector with the default configuration (every built-in template
// on, default thresholds, no custom patterns).
void RegisterDlpDetector(engine::Registry& registry);

// Builds the detector for `config`. kInvalidArgument names a custom keyword or regex that
// cannot be compiled (by index, with Hyperscan's message).
Result<engine::DetectorPtr> CreateDlpDetector(const dlp::DlpConfig& config);

}  // namespace bulwark::detectors

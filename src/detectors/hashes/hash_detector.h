#pragma once
// The "hashes" detector: SHA-256 reputation lists (*.sha256 in the signature
// directories, plus Bulwark's built-in list). A listed object is malware.

#include "bulwark/engine/registry.h"

namespace bulwark::detectors {

// Registers the hash reputation detector.
void RegisterHashDetector(engine::Registry& registry);

// Builds the detector from `sources`; kInvalidArgument names the bad file and line.
Result<engine::DetectorPtr> CreateHashDetector(const engine::SignatureSources& sources);

}  // namespace bulwark::detectors

#pragma once
// The "clamav" detector: ClamAV signatures through libclamav.
//
// Loads .hdb .hsb .ndb .ldb .cvd .cld (and the other ClamAV database kinds that sit
// beside them) from the configured directories, and the whole system database directory
// (freshclam's) when it holds databases. libclamav applies its own unpackers (PE packers,
// OLE2/VBA, HTML normalisation, …) to what it receives; for containers that Bulwark
// unpacks itself (archives, mail, PDF) its parsers are switched off, so each member is
// scanned once, as its own object. ClamAV's limit alerts (Heuristics.Limits.Exceeded)
// and encrypted-document alerts become kUnscannable findings.
//
// Privacy: some libclamav unpackers need named temporary files. They go into a private
// directory (mode 0700) on tmpfs (/dev/shm when available), removed with the detector.

#include "bulwark/engine/registry.h"

namespace bulwark::detectors {

void RegisterClamavDetector(engine::Registry& registry);

// kInvalidArgument names a database libclamav refused.
Result<engine::DetectorPtr> CreateClamavDetector(const engine::SignatureSources& sources);

}  // namespace bulwark::detectors

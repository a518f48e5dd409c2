#pragma once
// Verdict → clamd reply: which outcome answers FOUND, and the name a FOUND line carries.
//
// The name is the one ClamAV would give where ClamAV found something: among the findings
// of the worst category, the clamav detector's signature name comes first. Otherwise it is
// a clear name of the worst finding: YARA rules as ClamAV names them ("YARA.<rule>"), hash
// and list entries by their own name, an object that could not be fully scanned as
// "Bulwark.Unscannable.<reason>". Names are made safe for the wire (no spaces, no control
// characters).

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/engine/finding.h"
#include "clamd/clamd_session.h"
#include "service/content_scan.h"

namespace bulwark::clamd {

// Distinct names for `findings`, the one a FOUND reply gives first; empty when none.
std::vector<std::string> ThreatNames(const std::vector<engine::Finding>& findings);

// FOUND when the content is refused: for a tenant, when its policy blocks it (quarantine,
// delete, reject — a log, tag or monitor decision answers OK); without a tenant, on any
// detection.
ClamdScanResult ResultFor(const service::ContentScanOutcome& outcome, bool tenant_scan);

// clamd's VERSION text: "ClamAV <engine>/<database>/<date as ctime(3), local time>".
std::string FormatVersion(std::string_view engine_version, std::uint32_t database_version,
                          std::time_t database_time);

}  // namespace bulwark::clamd

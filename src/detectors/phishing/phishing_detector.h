#pragma once
// The "phishing" detector: the phishing score (phishing_score.h) of every message scanned
// as a whole (an `email` object at depth 0), reported as one Phishing.Score finding
// (suspicious) with every contributing reason when it reaches the threshold. It reads the
// message and its links itself; it fetches and resolves nothing. See docs/urls.md.

#include "bulwark/common/result.h"
#include "bulwark/engine/registry.h"
#include "detectors/phishing/phishing_score.h"

namespace bulwark::detectors {

engine::DetectorPtr CreatePhishingDetector(phishing::ScoreOptions options = {});
void RegisterPhishingDetector(engine::Registry& registry, phishing::ScoreOptions options = {});

}  // namespace bulwark::detectors

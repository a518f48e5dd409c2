#pragma once
// The "phishing" assessor: the phishing score (phishing_score.h) of every message scanned
// as a whole (an `email` object at depth 0), weighed once the scan has found everything
// else — sender authentication, URL findings (block lists, link heuristics, password forms,
// also in attachments), impersonation when the caller reassesses with a tenant's findings —
// and reported as one Phishing.Score finding (suspicious) with every contributing reason
// when it reaches the threshold. It fetches and resolves nothing. See docs/phishing.md.

#include "bulwark/engine/assessor.h"
#include "bulwark/engine/registry.h"
#include "detectors/phishing/phishing_score.h"

namespace bulwark::detectors {

engine::AssessorPtr CreatePhishingAssessor(phishing::ScoreOptions options = {});
void RegisterPhishingAssessor(engine::Registry& registry, phishing::ScoreOptions options = {});

}  // namespace bulwark::detectors

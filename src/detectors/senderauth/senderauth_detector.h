#pragma once
// The "senderauth" detector: SPF, DKIM and DMARC of a top-level RFC 5322 message (a
// `email` object at depth 0), reported as findings — SenderAuth.DmarcFail (severity from
// the domain's policy), SenderAuth.SpfFail, SenderAuth.DkimInvalid, SenderAuth.TempError.
// See docs/sender-auth.md.
//
// It asks DNS, so it exists only when configured with a Resolver: `bulwark scan` without
// options registers no such detector and stays offline.

#include <memory>
#include <string>
#include <vector>

#include "bulwark/engine/registry.h"
#include "detectors/senderauth/sender_auth.h"

namespace bulwark::detectors {

struct SenderAuthDetectorConfig {
  // Required; shared by every scan (implementations are thread-safe).
  std::shared_ptr<const senderauth::Resolver> resolver;
  senderauth::SenderAuthOptions options;
};

// Registers the detector with `config`; with no resolver, registers nothing.
void RegisterSenderAuthDetector(engine::Registry& registry, SenderAuthDetectorConfig config);

// Builds the detector (tests). Precondition: config.resolver is set.
engine::DetectorPtr CreateSenderAuthDetector(SenderAuthDetectorConfig config);

// The findings for one result (exposed for tests and the fuzz target).
std::vector<engine::Finding> SenderAuthFindings(const senderauth::SenderAuthResult& result);

}  // namespace bulwark::detectors

#pragma once
// The phishing score of one message: generalisable signals from its header (sender and
// recipient anomalies, impersonated brands, fake replies), its links (foreign, free
// hosting, abused top-level domains), its words (account, urgency, reward, money,
// delivery and call-to-action vocabulary in several languages) and what the other
// detectors found in it (URL heuristics, sender authentication), each with a weight;
// their sum against a threshold. Every contributing reason is listed with its evidence
// (names and domains, never body text). Nothing is fetched or resolved. See docs/urls.md
// ("Phishing score").

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/engine/finding.h"
#include "mime/parsed_message.h"

namespace bulwark::phishing {

struct Reason {
  std::string signal;  // "brand_impersonation", "reply_to_other_domain", …
  double weight = 0;
  std::string evidence;  // e.g. "display name names PayPal; sender domain example.net"
};

struct Assessment {
  double score = 0;
  double threshold = 0;
  std::vector<Reason> reasons;  // in the order checked
  bool phishing() const { return score >= threshold; }
};

struct ScoreOptions {
  // The score from which a message is reported (Phishing.Score, suspicious): the lowest
  // that keeps the ham of the development corpora under 2 % (docs/BENCHMARKS.md,
  // "Phishing score").
  double threshold = 3.0;
};

class PhishingScorer {
 public:
  explicit PhishingScorer(ScoreOptions options = {});
  ~PhishingScorer();
  PhishingScorer(const PhishingScorer&) = delete;
  PhishingScorer& operator=(const PhishingScorer&) = delete;

  // Scores `message` (RFC 5322 bytes). `findings` are the scan's findings for it (paths
  // below the message), `urls` the normalised URLs the scan found in it.
  // Thread safety: const; may run on many threads at once.
  Assessment Score(std::string_view message, std::span<const engine::Finding> findings,
                   std::span<const std::string> urls) const;
  // The same for a message already parsed (the MIME unpacker's parse, kept for reuse).
  Assessment Score(const mime::ParsedMessage& message, std::span<const engine::Finding> findings,
                   std::span<const std::string> urls) const;

 private:
  struct Tables;
  ScoreOptions options_;
  std::unique_ptr<const Tables> tables_;
};

// The finding for a phishing assessment: "Phishing.Score", category suspicious, severity
// medium (high from twice the threshold), detail "score 7.5 (threshold 5): reason +w
// (evidence); …".
engine::Finding ToFinding(const Assessment& assessment);

}  // namespace bulwark::phishing

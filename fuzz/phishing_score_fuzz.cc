// libFuzzer target for the phishing scorer: any bytes, read as a message (GMime header and
// address parsing, HTML link and form extraction, word lists), must score without
// crashing, leaking or running away. Seeds: fuzz/corpus/phishing_score/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detectors/phishing/phishing_score.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bulwark::phishing::PhishingScorer scorer;
  std::string_view message(reinterpret_cast<const char*>(data), size);
  bulwark::phishing::Assessment assessment = scorer.Score(message, {}, {});
  if (assessment.score < 0) __builtin_trap();
  (void)bulwark::phishing::ToFinding(assessment);
  return 0;
}

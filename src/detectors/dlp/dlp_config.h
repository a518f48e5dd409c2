#pragma once
// Configuration of the "dlp" detector: which compliance templates are on, their
// thresholds, and an organisation's own keywords and regular expressions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bulwark::detectors::dlp {

// A compliance template fires when at least `min_count` validated identifiers of its
// kinds occur in one object.
struct TemplateConfig {
  bool enabled = true;
  int min_count = 1;
};

struct DlpConfig {
  TemplateConfig pci_dss{true, 1};      // payment card numbers
  TemplateConfig gdpr{true, 3};         // IBAN, e-mail, phone, date of birth, NINO, IP
  TemplateConfig us_pii{true, 1};       // US SSN
  TemplateConfig credentials{true, 1};  // keys, tokens, passwords

  // Words or phrases (matched case-insensitively at word boundaries) and Hyperscan
  // regular expressions (PCRE subset, no look-around or back-references), reported
  // together as the "DLP.Custom" template when at least `custom_min_count` occur.
  std::vector<std::string> custom_keywords;
  std::vector<std::string> custom_regexes;
  int custom_min_count = 1;

  // Only this many bytes of an object (after markup is stripped: of its source) are scanned;
  // the finding then says so.
  std::uint64_t max_scan_bytes = 64ull << 20;
  // Masked samples per identifier in a finding's detail.
  std::size_t max_samples = 3;
};

}  // namespace bulwark::detectors::dlp

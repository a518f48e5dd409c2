#pragma once
// Where the digit- and colon-shaped identifiers can be. One SIMD pass over the text finds
// digits and colons; around them, a few byte comparisons decide whether an identifier of
// each shape could be there, and yield the windows the scanner then matches those
// identifiers' expressions in (docs/dlp.md, "Trigger windows"). Each kind of window holds
// every match of its expressions that a validator could accept, with one byte of real text
// on either side, so matching inside the windows finds exactly what matching the whole
// text would.

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include "detectors/dlp/identifiers.h"

namespace bulwark::detectors::dlp {

enum class TriggerKind {
  // Digit groups joined by the separators of cards, SSNs, phones and IPv4 addresses
  // (`\)?[ .-]?\(?`): a *digit chain*. Kept when it has at least kChainMinDigits digits or
  // kChainMinDots "." separators. Window: the chain and 2 bytes either side ("+", "(", ")"
  // and one byte of context).
  kDigitChain,
  // Two letters at a word start, an optional space (upper-case letters only), then two
  // digits: IBAN and UK NINO starts. Window: 1 byte before the letters to `letter_width`
  // + 1 bytes after them.
  kLetterDigits,
  // A run of hex digits and colons holding at least two colons: IPv6. Window: the run and 1
  // byte either side.
  kHexColons,
};
inline constexpr int kTriggerKindCount = static_cast<int>(TriggerKind::kHexColons) + 1;

// The smallest digit chain a validator can accept: 9 digits (SSN, phone; cards need 12),
// or 3 dots (IPv4).
inline constexpr std::size_t kChainMinDigits = 9;
inline constexpr std::size_t kChainMinDots = 3;

// Per kind, windows in `text` (sorted, disjoint, clamped to the text).
struct TriggerWindows {
  std::array<std::vector<Span>, kTriggerKindCount> windows;
  std::vector<Span>& of(TriggerKind kind) { return windows[static_cast<std::size_t>(kind)]; }
  const std::vector<Span>& of(TriggerKind kind) const {
    return windows[static_cast<std::size_t>(kind)];
  }
};

// Fills `out` (cleared first) with the windows of `text`. `letter_width` is the longest
// match a kLetterDigits expression can make. Linear in the text: each byte is looked at a
// bounded number of times.
void FindTriggerWindows(std::string_view text, std::size_t letter_width, TriggerWindows& out);

}  // namespace bulwark::detectors::dlp

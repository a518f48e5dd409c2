#include "detectors/dlp/trigger_windows.h"

#include <algorithm>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace bulwark::detectors::dlp {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAlpha(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }
bool IsWord(char c) { return IsDigit(c) || IsAlpha(c) || c == '_'; }
bool IsHexOrColon(char c) {
  return IsDigit(c) || c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Appends [begin, end) clamped to [0, size) to `out`, merging it with the last window when
// they overlap or touch. Windows arrive in order of their begin.
void Add(std::vector<Span>& out, std::size_t begin, std::size_t end, std::size_t size) {
  end = std::min(end, size);
  if (!out.empty() && begin <= out.back().end) {
    out.back().end = std::max(out.back().end, end);
    return;
  }
  out.push_back({begin, end});
}

class Finder {
 public:
  Finder(std::string_view text, std::size_t letter_width, TriggerWindows& out)
      : t_(text), n_(text.size()), letter_width_(letter_width), out_(out) {}

  std::size_t chain_done() const { return chain_done_; }

  // `pos` holds a digit or a colon.
  void At(std::size_t pos) {
    if (t_[pos] == ':') {
      if (pos >= colon_done_) HexColons(pos);
    } else if (pos >= chain_done_) {
      Chain(pos);
    }
  }

 private:
  // The separator `\)?[ .-]?\(?` at `i` when a digit follows it: its length, else 0.
  std::size_t GapBeforeDigit(std::size_t i) const {
    std::size_t j = i;
    if (j < n_ && t_[j] == ')') ++j;
    if (j < n_ && (t_[j] == ' ' || t_[j] == '.' || t_[j] == '-')) ++j;
    if (j < n_ && t_[j] == '(') ++j;
    if (j == i || j >= n_ || !IsDigit(t_[j])) return 0;
    return j - i;
  }

  // `start` is the first digit of a chain: no digit, and no separator after a digit,
  // precedes it (the scan goes left to right and skips chains it has walked).
  void Chain(std::size_t start) {
    std::size_t i = start, digits = 0, dots = 0;
    for (;;) {
      while (i < n_ && IsDigit(t_[i])) {
        ++i;
        ++digits;
      }
      std::size_t gap = GapBeforeDigit(i);
      if (gap == 0) break;
      if (gap == 1 && t_[i] == '.') ++dots;
      i += gap;
    }
    chain_done_ = i;
    if (digits >= kChainMinDigits || dots >= kChainMinDots) {
      Add(out_.of(TriggerKind::kDigitChain), start >= 2 ? start - 2 : 0, i + 2, n_);
    }
    // IBAN / NINO: two letters at a word start, then two digits (the chain's first group,
    // since separators inside a chain are never letters).
    if (start + 1 >= n_ || !IsDigit(t_[start + 1])) return;
    std::size_t letters;
    if (start >= 2 && IsAlpha(t_[start - 1]) && IsAlpha(t_[start - 2]) &&
        (start == 2 || !IsWord(t_[start - 3]))) {
      letters = start - 2;
    } else if (start >= 3 && t_[start - 1] == ' ' && IsUpper(t_[start - 2]) &&
               IsUpper(t_[start - 3]) && (start == 3 || !IsWord(t_[start - 4]))) {
      letters = start - 3;
    } else {
      return;
    }
    Add(out_.of(TriggerKind::kLetterDigits), letters > 0 ? letters - 1 : 0,
        letters + letter_width_ + 1, n_);
  }

  void HexColons(std::size_t colon) {
    std::size_t begin = colon, end = colon + 1;
    while (begin > 0 && IsHexOrColon(t_[begin - 1])) --begin;
    while (end < n_ && IsHexOrColon(t_[end])) ++end;
    colon_done_ = end;
    if (std::count(t_.begin() + static_cast<std::ptrdiff_t>(begin),
                   t_.begin() + static_cast<std::ptrdiff_t>(end), ':') < 2) {
      return;
    }
    Add(out_.of(TriggerKind::kHexColons), begin > 0 ? begin - 1 : 0, end + 1, n_);
  }

  std::string_view t_;
  std::size_t n_;
  std::size_t letter_width_;
  TriggerWindows& out_;
  std::size_t chain_done_ = 0;  // chains are walked up to here
  std::size_t colon_done_ = 0;  // hex-colon runs are walked up to here
};

}  // namespace

void FindTriggerWindows(std::string_view text, std::size_t letter_width, TriggerWindows& out) {
  for (auto& w : out.windows) w.clear();
  Finder finder(text, letter_width, out);
  const char* data = text.data();
  std::size_t n = text.size(), i = 0;
#if defined(__SSE2__)
  // Blocks of 64 bytes. A byte is a digit or ':' when byte - '0' <= 10 (unsigned; ':' is
  // '0' + 10): one test skips a block without either. Otherwise digits and colons get a
  // mask each; a chain is walked from its first digit and the digits it covered are
  // dropped from the mask.
  const __m128i zero = _mm_set1_epi8('0');
  const __m128i nine = _mm_set1_epi8(9);
  const __m128i ten = _mm_set1_epi8(10);
  const __m128i colon = _mm_set1_epi8(':');
  for (; i + 64 <= n; i += 64) {
    __m128i v[4], d[4];
    __m128i any = _mm_setzero_si128();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i + 16 * k));
      d[k] = _mm_sub_epi8(v[k], zero);
      any = _mm_or_si128(any, _mm_cmpeq_epi8(_mm_min_epu8(d[k], ten), d[k]));
    }
    if (_mm_movemask_epi8(any) == 0) continue;
    std::uint64_t digits = 0, colons = 0;
    for (int k = 0; k < 4; ++k) {
      auto dm = static_cast<std::uint32_t>(
          _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d[k], nine), d[k])));
      auto cm = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[k], colon)));
      digits |= static_cast<std::uint64_t>(dm) << (16 * k);
      colons |= static_cast<std::uint64_t>(cm) << (16 * k);
    }
    while (colons != 0) {
      finder.At(i + static_cast<std::size_t>(__builtin_ctzll(colons)));
      colons &= colons - 1;
    }
    for (;;) {
      std::size_t done = finder.chain_done();
      if (done >= i + 64) break;
      if (done > i) digits &= ~std::uint64_t{0} << (done - i);
      if (digits == 0) break;
      auto b = static_cast<unsigned>(__builtin_ctzll(digits));
      // The common case in prose: a short number ("12", "2024") inside the block with no
      // digit in the 3 bytes after it (no separator can join another group) and no letter
      // just before it: no chain, no IBAN/NINO start; drop it from the mask.
      // The digit run from b: up to the first non-digit, or to the block's end when the
      // block is all digits from b on (then ~(digits >> b) is 0, which ctz must not see).
      const std::uint64_t run = ~(digits >> b);
      const unsigned len = run == 0 ? 64 - b : static_cast<unsigned>(__builtin_ctzll(run));
      std::size_t pos = i + b;
      if (b + len + 4 <= 64 && len < kChainMinDigits && ((digits >> (b + len)) & 0xF) == 0 &&
          (pos < 2 || !IsAlpha(data[pos - 1])) &&
          (pos < 3 || data[pos - 1] != ' ' || !IsUpper(data[pos - 2]))) {
        digits &= ~std::uint64_t{0} << (b + len);
        continue;
      }
      finder.At(pos);
    }
  }
#endif
  for (; i < n; ++i) {
    if (IsDigit(data[i]) || data[i] == ':') finder.At(i);
  }
}

}  // namespace bulwark::detectors::dlp

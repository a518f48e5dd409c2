#include "unpackers/encoded/encoded_payload_finder.h"

#include "bulwark/common/text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>

namespace bulwark::unpackers {
namespace {

constexpr std::string_view kSwitchName = "encodedcommand";
constexpr std::string_view kSwitchAlias = "ec";
constexpr std::size_t kMinBase64Chars = 16;
constexpr std::size_t kMinUtf16RunUnits = 32;
// Longest character reference we decode, '&' and ';' included: "&#x0010FFFF;".
constexpr std::size_t kMaxReferenceBytes = 12;

constexpr std::array<signed char, 256> MakeBase64Table() {
  std::array<signed char, 256> table{};
  for (auto& value : table) value = -1;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
  }
  return table;
}
constexpr std::array<signed char, 256> kBase64Table = MakeBase64Table();

// -1 for anything that is not a base64 alphabet character (including '=' and values > 0xFF).
int Base64Value(int ch) { return ch >= 0 && ch < 256 ? kBase64Table[ch] : -1; }

bool IsAsciiSpace(int ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}
bool IsAsciiLetter(unsigned char ch) { return (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'; }


// One logical character: its code point (-1 past the end) and the bytes it spans.
struct LogicalChar {
  int value;
  std::size_t width;
};

// An XML/HTML character reference at `pos` (which holds '&'): &#DDD; &#xHH; and the five
// XML entities. nullopt when it is not one; the '&' is then an ordinary character.
std::optional<LogicalChar> DecodeReference(std::string_view s, std::size_t pos) {
  std::string_view window = s.substr(pos, kMaxReferenceBytes);
  std::size_t semicolon = window.find(';');
  if (semicolon == std::string_view::npos || semicolon < 2) return std::nullopt;
  std::string_view name = window.substr(1, semicolon - 1);
  std::size_t width = semicolon + 1;
  if (name[0] != '#') {
    if (name == "quot") return LogicalChar{'"', width};
    if (name == "apos") return LogicalChar{'\'', width};
    if (name == "amp") return LogicalChar{'&', width};
    if (name == "lt") return LogicalChar{'<', width};
    if (name == "gt") return LogicalChar{'>', width};
    return std::nullopt;
  }
  bool hex = name.size() > 1 && (name[1] | 0x20) == 'x';
  std::string_view digits = name.substr(hex ? 2 : 1);
  if (digits.empty()) return std::nullopt;
  std::uint32_t value = 0;
  for (char digit : digits) {
    int d = hex ? HexDigitValue(static_cast<unsigned char>(digit))
                : (digit >= '0' && digit <= '9' ? digit - '0' : -1);
    if (d < 0) return std::nullopt;
    value = value * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
    if (value > 0x10FFFF) return std::nullopt;
  }
  return LogicalChar{static_cast<int>(value), width};
}

// The character at `pos` after percent-decoding (%XX) and character-reference decoding.
LogicalChar DecodeAt(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return {-1, 0};
  unsigned char ch = static_cast<unsigned char>(s[pos]);
  if (ch == '%' && pos + 2 < s.size()) {
    int high = HexDigitValue(static_cast<unsigned char>(s[pos + 1]));
    int low = HexDigitValue(static_cast<unsigned char>(s[pos + 2]));
    if (high >= 0 && low >= 0) return {high * 16 + low, 3};
  }
  if (ch == '&') {
    if (std::optional<LogicalChar> reference = DecodeReference(s, pos)) return *reference;
  }
  return {ch, 1};
}

enum class ByteClass : unsigned char { kOther, kDash, kNul };

// kDash for the bytes that may start a switch: '-', '/', the lead byte of UTF-8 U+2013..2015
// and the Windows-1252 en and em dashes.
constexpr std::array<ByteClass, 256> MakeByteClasses() {
  std::array<ByteClass, 256> classes{};
  for (int dash : {0x2D, 0x2F, 0xE2, 0x96, 0x97}) classes[dash] = ByteClass::kDash;
  classes[0] = ByteClass::kNul;
  return classes;
}
constexpr std::array<ByteClass, 256> kByteClasses = MakeByteClasses();

// Bytes of the dash that starts a switch at `pos`, or 0 when there is none. `pos` holds a
// kDash byte.
std::size_t DashWidth(std::string_view s, std::size_t pos) {
  unsigned char ch = static_cast<unsigned char>(s[pos]);
  if (ch != 0xE2) return 1;  // '-', '/', Windows-1252 en and em dash (0x96, 0x97)
  // UTF-8 U+2013 en dash, U+2014 em dash, U+2015 horizontal bar.
  if (pos + 2 < s.size() && static_cast<unsigned char>(s[pos + 1]) == 0x80) {
    unsigned char last = static_cast<unsigned char>(s[pos + 2]);
    if (last >= 0x93 && last <= 0x95) return 3;
  }
  return 0;
}

// A printable UTF-16 code unit as one ASCII character (dashes as '-'), or 0.
char NarrowUtf16(std::uint16_t unit) {
  if ((unit >= 0x20 && unit < 0x7F) || unit == '\t' || unit == '\n' || unit == '\r') {
    return static_cast<char>(unit);
  }
  if (unit >= 0x2013 && unit <= 0x2015) return '-';
  return 0;
}


// The state of one FindEncodedPayloads call. Every method that returns bool returns false
// when the search must end; summary_.end then says why.
class Search {
 public:
  Search(const PayloadFinderLimits& limits, const PayloadVisitor& visitor,
         const ExpiryCheck& expired)
      : limits_(limits), visitor_(visitor), expired_(expired) {}

  // Searches `s` as 8-bit text. One pass with a byte table: faster than memchr streams for
  // the dash bytes, which prose is full of; the work per dash is a look at the next byte.
  bool SearchBytes(std::string_view s) {
    const auto* data = reinterpret_cast<const unsigned char*>(s.data());
    for (std::size_t chunk = 0; chunk < s.size(); chunk += limits_.expiry_check_bytes) {
      if (chunk != 0 && !Advance(limits_.expiry_check_bytes)) return false;
      std::size_t chunk_end = std::min(s.size(), chunk + limits_.expiry_check_bytes);
      for (std::size_t pos = chunk; pos < chunk_end; ++pos) {
        ByteClass byte_class = kByteClasses[data[pos]];
        if (byte_class == ByteClass::kOther) [[likely]]
          continue;
        if (byte_class == ByteClass::kNul) {
          saw_nul_ = true;
          continue;
        }
        std::size_t width = DashWidth(s, pos);
        // Every spelling of the switch starts with 'e': most dashes end here.
        if (width == 0 || pos + width >= s.size() || (data[pos + width] | 0x20) != 'e') continue;
        if (!TryCandidate(s, pos + width)) return false;
      }
    }
    return true;
  }

  bool SearchUtf16(std::string_view bytes) {
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    for (std::size_t align = 0; align < 2 && align < bytes.size(); ++align) {
      const std::size_t units = (bytes.size() - align) / 2;
      auto narrow = [&](std::size_t k) {
        std::size_t i = align + 2 * k;
        return NarrowUtf16(static_cast<std::uint16_t>(data[i] | (data[i + 1] << 8)));
      };
      // Units before `k` are settled. A run of kMinUtf16RunUnits that starts at or after `k`
      // holds unit k + kMinUtf16RunUnits - 1: probe it, and skip a whole window when it is not
      // printable. Each unit is read a bounded number of times; in binary data about one in 32.
      std::size_t k = 0;
      while (k + kMinUtf16RunUnits <= units) {
        std::size_t probe = k + kMinUtf16RunUnits - 1;
        std::size_t end = probe + 1;
        if (narrow(probe) != 0) {
          std::size_t start = probe;
          while (start > k && narrow(start - 1) != 0) --start;
          while (end < units && narrow(end) != 0) ++end;
          if (end - start >= kMinUtf16RunUnits) {
            run_.clear();
            for (std::size_t u = start; u < end; ++u) run_.push_back(narrow(u));
            if (!SearchBytes(run_)) return false;
          }
        }
        if (!Advance(2 * (end - k))) return false;
        k = end;  // unit `end` (if any) is not printable or was not needed by this window
      }
    }
    return true;
  }

  const PayloadSearchSummary& summary() const { return summary_; }
  // True when a SearchBytes() call met a NUL byte (the input is binary or UTF-16).
  bool saw_nul() const { return saw_nul_; }

 private:
  // Counts `bytes` of progress and consults the expiry callback every expiry_check_bytes.
  bool Advance(std::size_t bytes) {
    since_check_ += bytes;
    if (since_check_ < limits_.expiry_check_bytes) return true;
    since_check_ = 0;
    if (expired_ && expired_()) {
      summary_.end = PayloadSearchEnd::kExpired;
      return false;
    }
    return true;
  }

  // Checks for a switch, separator and base64 run from `pos` (just after the dash). Looks
  // ahead at most to the end of the base64 run; a run overlaps another candidate's only by
  // that candidate's switch letters, so the total look-ahead stays linear.
  bool TryCandidate(std::string_view s, std::size_t pos) {
    std::array<char, kSwitchName.size()> letters{};
    std::size_t count = 0;
    while (pos < s.size() && IsAsciiLetter(static_cast<unsigned char>(s[pos]))) {
      if (count == letters.size()) return true;  // longer than any spelling of the switch
      letters[count++] = static_cast<char>(s[pos] | 0x20);
      ++pos;
    }
    std::string_view word(letters.data(), count);
    if (count == 0 || !(kSwitchName.starts_with(word) || word == kSwitchAlias)) return true;

    std::size_t spaces = 0;
    for (LogicalChar ch = DecodeAt(s, pos); ch.width != 0; ch = DecodeAt(s, pos)) {
      if (IsAsciiSpace(ch.value)) {
        ++spaces;
      } else if (ch.value != '"' && ch.value != '\'' && ch.value != '\\') {
        break;
      }
      pos += ch.width;
    }
    if (spaces == 0) return true;

    base64_.clear();
    for (LogicalChar ch = DecodeAt(s, pos); Base64Value(ch.value) >= 0; ch = DecodeAt(s, pos)) {
      base64_.push_back(static_cast<char>(ch.value));
      pos += ch.width;
    }
    if (base64_.size() < kMinBase64Chars) return true;
    for (int padding = 0; padding < 2; ++padding) {
      LogicalChar ch = DecodeAt(s, pos);
      if (ch.value != '=') break;
      base64_.push_back('=');
      pos += ch.width;
    }
    return Decode();
  }

  // Decodes base64_ and reports it when it is new UTF-16LE text.
  bool Decode() {
    if (seen_.contains(base64_)) return true;
    std::optional<std::string> raw = DecodeBase64(base64_);
    if (!raw) return true;
    std::optional<std::string> text = Utf16LeTextToUtf8(*raw);
    if (!text) return true;
    seen_.insert(base64_);
    if (summary_.payloads + summary_.oversized >= limits_.max_payloads) {
      summary_.end = PayloadSearchEnd::kPayloadLimit;
      return false;
    }
    if (text->size() > limits_.max_payload_bytes) {
      ++summary_.oversized;
      return true;
    }
    ++summary_.payloads;
    if (!visitor_(std::move(*text))) {
      summary_.end = PayloadSearchEnd::kStopped;
      return false;
    }
    return true;
  }

  // Constant for the search.
  const PayloadFinderLimits& limits_;
  const PayloadVisitor& visitor_;
  const ExpiryCheck& expired_;
  // Progress of the search.
  PayloadSearchSummary summary_;
  std::size_t since_check_ = 0;
  bool saw_nul_ = false;
  std::set<std::string> seen_;  // base64 of the payloads found (full text: no hash collisions)
  // Scratch buffers, reused.
  std::string base64_;
  std::string run_;
};

}  // namespace

PayloadSearchSummary FindEncodedPayloads(std::string_view bytes, const PayloadFinderLimits& limits,
                                         const PayloadVisitor& visitor,
                                         const ExpiryCheck& expired) {
  PayloadFinderLimits checked = limits;
  if (checked.expiry_check_bytes == 0) checked.expiry_check_bytes = 1;
  Search search(checked, visitor, expired);
  if (search.SearchBytes(bytes) && search.saw_nul()) (void)search.SearchUtf16(bytes);
  return search.summary();
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  std::size_t padding = 0;
  while (padding < 2 && !text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1) return std::nullopt;
  if (padding > 0 && (text.size() + padding) % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (char ch : text) {
    int value = Base64Value(static_cast<unsigned char>(ch));
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xFF));
      bits &= (1u << bit_count) - 1;
    }
  }
  return out;
}

std::optional<std::string> Utf16LeTextToUtf8(std::string_view bytes) {
  if (bytes.size() % 2 != 0) return std::nullopt;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  auto unit = [data](std::size_t i) -> std::uint32_t {
    return data[2 * i] | (data[2 * i + 1] << 8);
  };
  std::size_t begin = 0;
  std::size_t end = bytes.size() / 2;
  if (end > 0 && unit(0) == 0xFEFF) begin = 1;
  while (end > begin && unit(end - 1) == 0) --end;
  if (begin == end) return std::nullopt;

  std::string out;
  out.reserve(end - begin);
  std::size_t chars = 0;
  std::size_t ascii = 0;
  for (std::size_t i = begin; i < end; ++i) {
    std::uint32_t cp = unit(i);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 1 == end) return std::nullopt;
      std::uint32_t low = unit(i + 1);
      if (low < 0xDC00 || low > 0xDFFF) return std::nullopt;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      ++i;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return std::nullopt;
    } else if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' && cp != '\f') {
      return std::nullopt;
    } else if ((cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF) {
      return std::nullopt;
    }
    ++chars;
    if (cp < 0x80) ++ascii;
    AppendUtf8(out, cp);
  }
  if (ascii * 2 < chars) return std::nullopt;
  return out;
}

}  // namespace bulwark::unpackers

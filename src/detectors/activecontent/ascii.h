#pragma once
// ASCII helpers for the activecontent scanners: case-insensitive comparison and search
// over bytes of any encoding (non-ASCII bytes compare as themselves). Every function is
// linear in its input; none allocates except ToLowerAscii.

#include <algorithm>
#include <cstring>
#include <cstddef>
#include <string>
#include <string_view>

namespace bulwark::detectors::activecontent {

constexpr char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
constexpr bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

inline std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

// `a` equals `b` ignoring ASCII case.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

inline bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

inline bool EndsWithIgnoreCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         EqualsIgnoreCase(text.substr(text.size() - suffix.size()), suffix);
}

constexpr char UpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// Position of the first occurrence of `needle` (lowercase ASCII) in `haystack` at or after
// `from`, ignoring case; npos when absent. Candidates are found with memchr on the
// needle's least common-looking byte (both cases), then compared: close to memchr speed
// on text that does not contain the needle, which is nearly all text these scanners see.
inline std::size_t FindIgnoreCase(std::string_view haystack, std::string_view needle,
                                  std::size_t from = 0) {
  constexpr std::size_t npos = std::string_view::npos;
  if (needle.empty() || from > haystack.size() || needle.size() > haystack.size() - from) {
    return npos;
  }
  // Anchor on the first byte that is not one of the commonest letters of English text.
  constexpr std::string_view kCommon = "etaoinshrdlcu ";
  std::size_t anchor = 0;
  while (anchor + 1 < needle.size() && kCommon.find(needle[anchor]) != npos) ++anchor;
  const char lower = needle[anchor];
  const char upper = UpperAscii(lower);
  const std::size_t first = from + anchor;                          // first anchor position
  const std::size_t last = haystack.size() - needle.size() + anchor;  // last anchor position
  auto next = [&](char c, std::size_t at) -> std::size_t {
    if (at > last) return npos;
    const void* hit = std::memchr(haystack.data() + at, c, last - at + 1);
    return hit == nullptr ? npos : static_cast<std::size_t>(static_cast<const char*>(hit) - haystack.data());
  };
  std::size_t next_lower = next(lower, first);
  std::size_t next_upper = upper == lower ? npos : next(upper, first);
  while (next_lower != npos || next_upper != npos) {
    const std::size_t at = std::min(next_lower, next_upper);
    if (EqualsIgnoreCase(haystack.substr(at - anchor, needle.size()), needle)) return at - anchor;
    if (at == next_lower) {
      next_lower = next(lower, at + 1);
    } else {
      next_upper = next(upper, at + 1);
    }
  }
  return npos;
}

inline bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return FindIgnoreCase(haystack, needle) != std::string_view::npos;
}

}  // namespace bulwark::detectors::activecontent

#pragma once
// ASCII helpers for the activecontent scanners: case-insensitive comparison and search
// over bytes of any encoding (non-ASCII bytes compare as themselves). Every function is
// linear in its input; none allocates except ToLowerAscii.

#include <algorithm>
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

// Position of the first occurrence of `needle` (lowercase ASCII) in `haystack` at or after
// `from`, ignoring case; npos when absent. O(|haystack| * |needle|), with short fixed needles.
inline std::size_t FindIgnoreCase(std::string_view haystack, std::string_view needle,
                                  std::size_t from = 0) {
  if (needle.empty() || from > haystack.size()) return std::string_view::npos;
  auto it =
      std::search(haystack.begin() + static_cast<std::ptrdiff_t>(from), haystack.end(),
                  needle.begin(), needle.end(), [](char h, char n) { return LowerAscii(h) == n; });
  if (it == haystack.end()) return std::string_view::npos;
  return static_cast<std::size_t>(it - haystack.begin());
}

inline bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return FindIgnoreCase(haystack, needle) != std::string_view::npos;
}

}  // namespace bulwark::detectors::activecontent

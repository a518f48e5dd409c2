#pragma once
// ASCII helpers shared by the files of src/detectors/urls (bytes of any encoding; non-ASCII
// bytes compare as themselves).

#include <cstddef>
#include <string_view>

namespace bulwark::urls {

constexpr char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// `s` starts with `lower_prefix` (lower-case ASCII), ignoring ASCII case.
constexpr bool StartsWithCaseless(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    if (LowerAscii(s[i]) != lower_prefix[i]) return false;
  }
  return true;
}

// `s` without leading and trailing spaces and control bytes (<= 0x20).
constexpr std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= 0x20) s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= 0x20) s.remove_suffix(1);
  return s;
}

}  // namespace bulwark::urls

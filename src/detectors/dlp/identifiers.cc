#include "detectors/dlp/identifiers.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <iterator>

namespace bulwark::detectors::dlp {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string DigitsOf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (IsDigit(c)) out.push_back(c);
  }
  return out;
}

int ToInt(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// Case-insensitive search for `needle` (lower-case ASCII) in `hay`.
bool ContainsCaseless(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    std::size_t j = 0;
    while (j < needle.size() && Lower(hay[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

std::string_view Before(std::string_view text, Span span, std::size_t n) {
  std::size_t from = span.begin > n ? span.begin - n : 0;
  return text.substr(from, span.begin - from);
}
std::string_view Around(std::string_view text, Span span, std::size_t n) {
  std::size_t from = span.begin > n ? span.begin - n : 0;
  std::size_t to = std::min(text.size(), span.end + n);
  return text.substr(from, to - from);
}

// True when a digit group continues the span on either side ("1234 5678" followed by
// " 9012"): the candidate is then only a piece of a longer number.
bool ContinuesDigitGroup(std::string_view text, Span span) {
  if (span.begin > 0 && IsDigit(text[span.begin - 1])) return true;
  if (span.end < text.size() && IsDigit(text[span.end])) return true;
  if (span.begin >= 2) {
    char sep = text[span.begin - 1];
    if ((sep == ' ' || sep == '-' || sep == '.') && IsDigit(text[span.begin - 2])) return true;
  }
  if (span.end + 1 < text.size()) {
    char sep = text[span.end];
    if ((sep == ' ' || sep == '-' || sep == '.') && IsDigit(text[span.end + 1])) return true;
  }
  return false;
}

// The separators between digit groups are all the same single character (or absent).
bool ConsistentSeparators(std::string_view s) {
  char sep = 0;
  for (char c : s) {
    if (IsDigit(c)) continue;
    if (sep == 0) sep = c;
    if (c != sep) return false;
  }
  return true;
}

bool InRange(std::string_view digits, std::size_t n, int lo, int hi) {
  if (digits.size() < n) return false;
  int v = ToInt(digits.substr(0, n));
  return v >= lo && v <= hi;
}

// --- payment cards ---------------------------------------------------------------------

std::optional<Span> ValidateCard(std::string_view text, Span span) {
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  if (ContinuesDigitGroup(text, span) || !ConsistentSeparators(s)) return std::nullopt;
  std::string digits = DigitsOf(s);
  if (CardBrand(digits).empty() || !LuhnValid(digits)) return std::nullopt;
  // All one digit (4444…) passes Luhn for some lengths and is never a real number.
  if (std::all_of(digits.begin(), digits.end(), [&](char c) { return c == digits[0]; })) {
    return std::nullopt;
  }
  return span;
}

// --- IBAN --------------------------------------------------------------------------------

struct IbanCountry {
  char code[3];
  int length;
};

// From the SWIFT IBAN registry (release 98) plus the French overseas territories that use
// FR's format and IBANs in national use that the SWIFT registry does not list yet (AO, BF,
// BJ, CI, CM, CV, DZ, IR, MG, ML, MZ, SN). Sorted by code.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AO", 25}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
    {"BF", 28}, {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BJ", 28}, {"BL", 27}, {"BR", 29}, {"BY", 28},
    {"CH", 21}, {"CI", 28}, {"CM", 27}, {"CR", 22}, {"CV", 25}, {"CY", 28}, {"CZ", 24}, {"DE", 22},
    {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"DZ", 26}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GF", 27}, {"GI", 23}, {"GL", 18},
    {"GP", 27}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23},
    {"IR", 26}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
    {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22},
    {"MF", 27}, {"MG", 27}, {"MK", 19}, {"ML", 28}, {"MN", 20}, {"MQ", 27}, {"MR", 27}, {"MT", 31},
    {"MU", 30}, {"MZ", 25}, {"NC", 27}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PF", 27},
    {"PK", 24}, {"PL", 28}, {"PM", 27}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RE", 27}, {"RO", 24},
    {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24},
    {"SM", 27}, {"SN", 28}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TF", 27}, {"TL", 23}, {"TN", 24},
    {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"WF", 27}, {"XK", 20}, {"YE", 30}, {"YT", 27},
};

std::optional<Span> ValidateIban(std::string_view text, Span span) {
  if (span.begin > 0 && IsAlnum(text[span.begin - 1])) return std::nullopt;
  if (span.end < text.size() && IsAlnum(text[span.end])) return std::nullopt;
  std::string compact;
  for (char c : text.substr(span.begin, span.end - span.begin)) {
    if (c != ' ') compact.push_back(Upper(c));
  }
  // Lower-case IBANs are accepted only entirely lower-case (as typed), not mixed.
  if (!IbanValid(compact)) return std::nullopt;
  return span;
}

// --- national identifiers ------------------------------------------------------------------

std::optional<Span> ValidateSsn(std::string_view text, Span span) {
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  if (ContinuesDigitGroup(text, span) || !ConsistentSeparators(s)) return std::nullopt;
  std::string d = DigitsOf(s);
  if (d.size() != 9) return std::nullopt;
  if (!SsnValid(std::string_view(d).substr(0, 3), std::string_view(d).substr(3, 2),
                std::string_view(d).substr(5, 4))) {
    return std::nullopt;
  }
  // A bare nine-digit number is an SSN only next to words that say so.
  if (s.size() == 9) {
    std::string_view ctx = Before(text, span, 48);
    if (!ContainsCaseless(ctx, "ssn") && !ContainsCaseless(ctx, "social security") &&
        !ContainsCaseless(ctx, "taxpayer")) {
      return std::nullopt;
    }
  }
  return span;
}

std::optional<Span> ValidateNino(std::string_view text, Span span) {
  if (span.begin > 0 && IsAlnum(text[span.begin - 1])) return std::nullopt;
  std::string compact;
  for (char c : text.substr(span.begin, span.end - span.begin)) {
    if (c != ' ') compact.push_back(Upper(c));
  }
  if (compact.size() != 9) return std::nullopt;
  std::string_view prefix = std::string_view(compact).substr(0, 2);
  for (std::string_view bad : {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}) {
    if (prefix == bad) return std::nullopt;
  }
  // Spaced form must be the usual "AB 12 34 56 C" (or no spaces at all).
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  if (s.size() != 9 && s.size() != 13) return std::nullopt;
  return span;
}

// --- contact and network ---------------------------------------------------------------------

std::optional<Span> ValidateEmail(std::string_view text, Span span) {
  while (span.begin < span.end && (text[span.begin] == '.' || text[span.begin] == '-')) {
    ++span.begin;
  }
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  std::size_t at = s.find('@');
  if (at == 0 || at == std::string_view::npos || at > 64) return std::nullopt;
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (local.back() == '.' || local.find("..") != std::string_view::npos) return std::nullopt;
  if (domain.size() > 253 || domain.find("..") != std::string_view::npos) return std::nullopt;
  if (domain.front() == '-' || domain.front() == '.') return std::nullopt;
  // A trailing label that is all letters (the TLD) was enforced by the pattern.
  return span;
}

std::optional<Span> ValidatePhone(std::string_view text, Span span) {
  // The national pattern may have started at "(": keep it; trim trailing separators.
  while (span.end > span.begin && !IsDigit(text[span.end - 1])) --span.end;
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  if (ContinuesDigitGroup(text, span)) return std::nullopt;
  if (span.begin > 0 && (IsAlnum(text[span.begin - 1]) || text[span.begin - 1] == '+' ||
                         text[span.begin - 1] == '/' || text[span.begin - 1] == '.')) {
    return std::nullopt;
  }
  if (span.end < text.size() && (IsAlpha(text[span.end]) || text[span.end] == '/')) {
    return std::nullopt;
  }
  std::string d = DigitsOf(s);
  if (d.size() < 9 || d.size() > 15) return std::nullopt;
  if (std::all_of(d.begin(), d.end(), [&](char c) { return c == d[0]; })) return std::nullopt;
  bool international = s.front() == '+';
  if (!international) {
    // Shapes that belong to other identifiers or to numbers that are not phones: SSN
    // (3-2-4), dates (yyyy-mm-dd…), dotted versions.
    std::size_t groups = 1;
    std::array<std::size_t, 8> len{};
    for (char c : s) {
      if (IsDigit(c)) {
        if (groups <= len.size()) ++len[groups - 1];
      } else if (c == ' ' || c == '-' || c == '.') {
        ++groups;
      }
    }
    if (groups == 3 && len[0] == 3 && len[1] == 2 && len[2] == 4) return std::nullopt;
    if (s.find('.') != std::string_view::npos && s.find('(') == std::string_view::npos &&
        groups >= 4) {
      return std::nullopt;  // 1.2.3.4-like dotted numbers
    }
    if (!ConsistentSeparators(s) && s.find('(') == std::string_view::npos) return std::nullopt;
  }
  return span;
}

bool VersionContext(std::string_view before) {
  // "version 1.2.3.4", "v1.2.3.4", "ver. 1.2.3.4": a version number, not an address.
  if (!before.empty() && (before.back() == 'v' || before.back() == 'V')) return true;
  std::string_view tail = before.substr(before.size() > 12 ? before.size() - 12 : 0);
  return ContainsCaseless(tail, "version") || ContainsCaseless(tail, "ver.") ||
         ContainsCaseless(tail, "build") || ContainsCaseless(tail, "release");
}

std::optional<Span> ValidateIpv4(std::string_view text, Span span) {
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  // Part of a longer dotted number (1.2.3.4.5) or a decimal (…1.2.3.4.):
  if (span.begin > 0 && (text[span.begin - 1] == '.' || IsDigit(text[span.begin - 1]))) {
    return std::nullopt;
  }
  if (span.end + 1 < text.size() && text[span.end] == '.' && IsDigit(text[span.end + 1])) {
    return std::nullopt;
  }
  std::size_t pos = 0;
  for (int octet = 0; octet < 4; ++octet) {
    std::size_t dot = s.find('.', pos);
    std::string_view part = s.substr(pos, dot == std::string_view::npos ? s.npos : dot - pos);
    if (part.empty() || part.size() > 3) return std::nullopt;
    if (part.size() > 1 && part[0] == '0') return std::nullopt;
    if (ToInt(part) > 255) return std::nullopt;
    pos = dot + 1;
  }
  if (VersionContext(Before(text, span, 16))) return std::nullopt;
  return span;
}

bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::optional<Span> ValidateIpv6(std::string_view text, Span span) {
  if (span.begin > 0 && (IsAlnum(text[span.begin - 1]) || text[span.begin - 1] == ':')) {
    return std::nullopt;
  }
  if (span.end < text.size() && (IsAlnum(text[span.end]) || text[span.end] == ':')) {
    return std::nullopt;
  }
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  if (s.size() < 3 || s.size() > 39) return std::nullopt;
  char buf[40];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char addr[16];
  if (inet_pton(AF_INET6, buf, addr) != 1) return std::nullopt;
  // "::" alone and clock-like "1::2" are too weak: require 3 groups or a full address.
  int colons = static_cast<int>(std::count(s.begin(), s.end(), ':'));
  if (colons < 2 || s == "::") return std::nullopt;
  int hex_groups = 0;
  bool in_group = false;
  for (char c : s) {
    if (IsHex(c) && !in_group) ++hex_groups;
    in_group = IsHex(c);
  }
  if (hex_groups < 3) return std::nullopt;
  return span;
}

// --- dates of birth -----------------------------------------------------------------------------

int MonthFromName(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string lower;
  for (char c : s.substr(0, 3)) lower.push_back(Lower(c));
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (lower == kMonths[i]) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool DobContext(std::string_view before) {
  for (std::string_view word :
       {"dob", "d.o.b", "date of birth", "birth date", "birthdate", "birthday", "born", "geboren",
        "geburtsdatum", "geb.", "date de naissance", "fecha de nacimiento", "data di nascita",
        "data de nascimento", "geboortedatum",
        "f\xc3\xb8"
        "dt"}) {
    if (ContainsCaseless(before, word)) return true;
  }
  return false;
}

std::optional<Span> ValidateDob(std::string_view text, Span span) {
  if (span.begin > 0 && IsAlnum(text[span.begin - 1])) return std::nullopt;
  if (span.end < text.size() && IsDigit(text[span.end])) return std::nullopt;
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  // Pull out numbers and a month name.
  std::array<int, 3> nums{};
  std::array<std::size_t, 3> widths{};
  int n = 0;
  int month_name = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (IsDigit(s[i])) {
      std::size_t j = i;
      while (j < s.size() && IsDigit(s[j])) ++j;
      if (n < 3) {
        nums[n] = ToInt(s.substr(i, j - i));
        widths[n] = j - i;
        ++n;
      }
      i = j;
    } else if (IsAlpha(s[i])) {
      std::size_t j = i;
      while (j < s.size() && IsAlpha(s[j])) ++j;
      if (month_name == 0) month_name = MonthFromName(s.substr(i, j - i));
      i = j;
    } else {
      ++i;
    }
  }
  int year = 0, month = 0, day = 0;
  if (month_name != 0 && n == 2) {
    month = month_name;
    day = widths[0] == 4 ? nums[1] : nums[0];
    year = widths[0] == 4 ? nums[0] : nums[1];
  } else if (n == 3 && widths[0] == 4) {
    year = nums[0];
    month = nums[1];
    day = nums[2];
  } else if (n == 3 && widths[2] == 4) {
    year = nums[2];
    // d/m/y or m/d/y: accept when either reading is a date.
    day = nums[0];
    month = nums[1];
    if (month > 12) std::swap(day, month);
  } else {
    return std::nullopt;
  }
  if (year < 1900 || year > 2099 || month < 1 || month > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  if (!DobContext(Before(text, span, 40))) return std::nullopt;
  return span;
}

// --- secrets
// --------------------------------------------------------------------------------------

bool IsTokenChar(char c) { return IsAlnum(c) || c == '_' || c == '-'; }

std::optional<Span> RequireTokenEnd(std::string_view text, Span span) {
  if (span.end < text.size() && IsTokenChar(text[span.end])) return std::nullopt;
  if (span.begin > 0 && IsAlnum(text[span.begin - 1])) return std::nullopt;
  return span;
}

std::optional<Span> ValidateAwsSecret(std::string_view text, Span span) {
  // The pattern matched one delimiter on each side (or the text edge): trim them.
  auto is_b64 = [](char c) { return IsAlnum(c) || c == '/' || c == '+'; };
  while (span.begin < span.end && !is_b64(text[span.begin])) ++span.begin;
  while (span.end > span.begin && !is_b64(text[span.end - 1])) --span.end;
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  if (s.size() != 40) return std::nullopt;
  bool upper = false, lower = false, digit = false;
  for (char c : s) {
    upper |= c >= 'A' && c <= 'Z';
    lower |= c >= 'a' && c <= 'z';
    digit |= IsDigit(c);
  }
  if (!upper || !lower || !digit) return std::nullopt;
  std::string_view ctx = Around(text, span, 160);
  if (!ContainsCaseless(ctx, "aws") || !ContainsCaseless(ctx, "secret")) return std::nullopt;
  return span;
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (IsDigit(c)) return c - '0' + 52;
  if (c == '-' || c == '+') return 62;
  if (c == '_' || c == '/') return 63;
  return -1;
}

std::optional<Span> ValidateJwt(std::string_view text, Span span) {
  auto r = RequireTokenEnd(text, span);
  if (!r) return std::nullopt;
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  std::string_view header = s.substr(0, s.find('.'));
  if (header.size() > 4096) return std::nullopt;
  std::string decoded;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : header) {
    int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  std::size_t first = decoded.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || decoded[first] != '{') return std::nullopt;
  if (decoded.find("\"alg\"") == std::string::npos) return std::nullopt;
  return span;
}

bool PlaceholderPassword(std::string_view pw) {
  if (pw.empty()) return true;
  char c = pw.front();
  if (c == '$' || c == '{' || c == '<' || c == '%' || c == '[' || c == '(') return true;
  if (std::all_of(pw.begin(), pw.end(), [&](char x) { return x == '*' || x == 'x' || x == 'X'; })) {
    return true;
  }
  std::string lower;
  for (char x : pw) lower.push_back(Lower(x));
  for (std::string_view p : {"password", "passwd", "pass", "secret", "changeme", "example",
                             "yourpassword", "mypassword", "pwd"}) {
    if (lower == p) return true;
  }
  return false;
}

std::optional<Span> ValidateConnectionPassword(std::string_view text, Span span) {
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  std::size_t scheme = s.find("://");
  if (scheme != std::string_view::npos) {
    std::string_view rest = s.substr(scheme + 3);
    std::size_t at = rest.rfind('@');
    std::size_t colon = rest.find(':');
    if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) {
      return std::nullopt;
    }
    std::string_view pw = rest.substr(colon + 1, at - colon - 1);
    if (colon > 64 || pw.size() > 128 || PlaceholderPassword(pw)) return std::nullopt;
    return span;
  }
  // ADO style: Password=…; next to other connection-string keys.
  std::size_t eq = s.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::string_view pw = s.substr(eq + 1);
  while (!pw.empty() && (pw.front() == ' ' || pw.front() == '\t')) pw.remove_prefix(1);
  if (pw.size() > 128 || PlaceholderPassword(pw)) return std::nullopt;
  std::string_view ctx = Around(text, span, 200);
  for (std::string_view key : {"user id=", "uid=", "server=", "data source=", "host=", "database=",
                               "initial catalog=", "user=", "username="}) {
    if (ContainsCaseless(ctx, key)) return span;
  }
  return std::nullopt;
}

// --- secret assignments --------------------------------------------------------------------
// DB_PASSWORD=…, `password: …` (YAML), `"api_key": "…"` (JSON), `token = "…"`
// (TOML/INI/properties), `export SECRET=…`. The candidate is the last byte of a keyword
// somewhere in the key name; the key name is found around it.

// `c` is one of the characters of `set` (never NUL).
bool OneOf(const char* set, char c) { return c != '\0' && std::strchr(set, c) != nullptr; }

bool IsKeyChar(char c) { return IsAlnum(c) || c == '_' || c == '-' || c == '.'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpperCase(char c) { return c >= 'A' && c <= 'Z'; }

// Longest key name and value looked at.
constexpr std::size_t kMaxKeyName = 64;
constexpr std::size_t kMaxSecretValue = 256;
constexpr std::size_t kMinSecretValue = 6;

std::optional<Span> ValidateSecretAssignment(std::string_view text, Span span) {
  std::size_t n = text.size();
  std::size_t ks = span.end - 1, ke = span.end;
  while (ks > 0 && IsKeyChar(text[ks - 1]) && span.end - ks < kMaxKeyName) --ks;
  while (ke < n && IsKeyChar(text[ke]) && ke - ks < kMaxKeyName) ++ke;
  if ((ks > 0 && IsKeyChar(text[ks - 1])) || (ke < n && IsKeyChar(text[ke]))) {
    return std::nullopt;  // longer than any key name
  }
  if (!SecretKeyName(text.substr(ks, ke - ks))) return std::nullopt;
  // A parameter of a URL (?token=…&, &amp;apiKey=…) is a link's, not a configured secret:
  // reset and unsubscribe links in every newsletter carry one.
  if (ks > 0 && OneOf("?&;/#%", text[ks - 1])) return std::nullopt;
  std::size_t i = ke;
  // A quoted key ("password": …) closes with the quote it opened with.
  if (ks > 0 && (text[ks - 1] == '"' || text[ks - 1] == '\'') && i < n && text[i] == text[ks - 1]) {
    ++i;
  }
  auto skip_blanks = [&] {
    std::size_t limit = i + 16;
    while (i < n && i < limit && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  skip_blanks();
  // Separators: = : := => ; not == =~ :: (comparisons, scopes).
  if (i >= n) return std::nullopt;
  if (text[i] == '=') {
    ++i;
    if (i < n && text[i] == '>') {
      ++i;
    } else if (i < n && (text[i] == '=' || text[i] == '~')) {
      return std::nullopt;
    }
  } else if (text[i] == ':') {
    ++i;
    if (i < n && text[i] == '=') {
      ++i;
    } else if (i < n && text[i] == ':') {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  skip_blanks();
  if (i >= n) return std::nullopt;
  char q = text[i];
  if (q == '"' || q == '\'' || q == '`') {
    std::size_t begin = ++i;
    while (i < n && text[i] != q && text[i] != '\n' && i - begin <= kMaxSecretValue) {
      if (text[i] == '\\') ++i;  // an escaped character, whatever it is
      ++i;
    }
    if (i >= n || text[i] != q) return std::nullopt;
    if (!SecretValueLike(text.substr(begin, i - begin), true)) return std::nullopt;
    return Span{begin, i};
  }
  // Unquoted: a token of printable characters that ends the line (or meets a separator of
  // the syntax around it: ; , & } ]), or a comment follows it. More words after it are
  // prose ("password: please reset it").
  auto in_token = [](char c) { return IsAlnum(c) || OneOf("!#$%*+-./:=?@^_~", c); };
  std::size_t begin = i;
  while (i < n && in_token(text[i]) && i - begin <= kMaxSecretValue) ++i;
  std::size_t end = i;
  if (i < n && !OneOf(";,&}]", text[i])) {
    while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
    bool ends = i >= n || text[i] == '\n' || text[i] == '\r' || text[i] == '#' ||
                (text[i] == '/' && i + 1 < n && text[i + 1] == '/');
    if (!ends) return std::nullopt;
  }
  if (!SecretValueLike(text.substr(begin, end - begin), false)) return std::nullopt;
  return Span{begin, end};
}

}  // namespace

std::string_view IdentifierName(Identifier id) {
  switch (id) {
    case Identifier::kPaymentCard:
      return "payment-card";
    case Identifier::kIban:
      return "iban";
    case Identifier::kUsSsn:
      return "us-ssn";
    case Identifier::kUkNino:
      return "uk-nino";
    case Identifier::kEmail:
      return "email";
    case Identifier::kPhone:
      return "phone";
    case Identifier::kIpv4:
      return "ipv4";
    case Identifier::kIpv6:
      return "ipv6";
    case Identifier::kDateOfBirth:
      return "date-of-birth";
    case Identifier::kAwsAccessKey:
      return "aws-access-key";
    case Identifier::kAwsSecretKey:
      return "aws-secret-key";
    case Identifier::kGithubToken:
      return "github-token";
    case Identifier::kGitlabToken:
      return "gitlab-token";
    case Identifier::kSlackToken:
      return "slack-token";
    case Identifier::kSlackWebhook:
      return "slack-webhook";
    case Identifier::kStripeKey:
      return "stripe-key";
    case Identifier::kGoogleApiKey:
      return "google-api-key";
    case Identifier::kPrivateKey:
      return "private-key";
    case Identifier::kJwt:
      return "jwt";
    case Identifier::kConnectionPassword:
      return "connection-password";
    case Identifier::kSecretAssignment:
      return "secret-assignment";
    case Identifier::kCustomKeyword:
      return "custom-keyword";
    case Identifier::kCustomRegex:
      return "custom-regex";
  }
  return "unknown";
}

bool IsSecret(Identifier id) {
  switch (id) {
    case Identifier::kAwsAccessKey:
    case Identifier::kAwsSecretKey:
    case Identifier::kGithubToken:
    case Identifier::kGitlabToken:
    case Identifier::kSlackToken:
    case Identifier::kSlackWebhook:
    case Identifier::kStripeKey:
    case Identifier::kGoogleApiKey:
    case Identifier::kPrivateKey:
    case Identifier::kJwt:
    case Identifier::kConnectionPassword:
    case Identifier::kSecretAssignment:
      return true;
    default:
      return false;
  }
}

bool SecretKeyName(std::string_view key) {
  struct Word {
    std::string_view word;
    bool whole;  // must start the name or follow "_", "-", "." or a lower-case letter (camel)
  };
  static constexpr Word kWords[] = {
      {"password", false},   {"passwd", false},    {"passphrase", false}, {"pass", true},
      {"pwd", true},         {"secret", false},    {"secretkey", false},  {"secret_key", false},
      {"secret-key", false}, {"token", false},     {"apikey", false},     {"api_key", false},
      {"api-key", false},    {"accesskey", false}, {"access_key", false}, {"access-key", false},
  };
  if (key.empty() || key.size() > kMaxKeyName) return false;
  // hashed_secret: a digest of a secret; publicKeyToken: public by name.
  if (ContainsCaseless(key, "hash") || ContainsCaseless(key, "public")) return false;
  for (const Word& w : kWords) {
    if (key.size() < w.word.size()) continue;
    std::size_t at = key.size() - w.word.size();
    bool same = true;
    for (std::size_t j = 0; j < w.word.size() && same; ++j) same = Lower(key[at + j]) == w.word[j];
    if (!same) continue;
    if (!w.whole || at == 0) return true;
    char before = key[at - 1];
    if (before == '_' || before == '-' || before == '.') return true;
    if ((IsLower(before) || IsDigit(before)) && IsUpperCase(key[at])) return true;
  }
  return false;
}

bool SecretValueLike(std::string_view v, bool quoted) {
  if (v.size() < kMinSecretValue || v.size() > kMaxSecretValue) return false;
  // References and templates: ${VAR} $VAR %VAR% <password> {{ x }} [x] (x); paths.
  char first = v.front();
  if (OneOf("$%<{[(/~", first) || v.back() == '>') return false;
  if (v.find("${") != v.npos || v.find("{{") != v.npos || v.find("://") != v.npos ||
      v.substr(0, 2) == "./" || v.substr(0, 3) == "../") {
    return false;
  }
  bool lower = false, upper_inside = false, digit = false, symbol = false;
  std::size_t spaces = 0;
  std::array<bool, 256> seen{};
  std::size_t distinct = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (!seen[c]) {
      seen[c] = true;
      ++distinct;
    }
    if (c == ' ') {
      ++spaces;
    } else if (IsLower(v[i])) {
      lower = true;
    } else if (IsUpperCase(v[i])) {
      upper_inside |= i > 0;
    } else if (IsDigit(v[i])) {
      digit = true;
    } else if (c < 0x80 && c != '_' && c != '-' && c != '.') {
      symbol = true;  // "_-." join words of identifiers; they say nothing about entropy
    }
  }
  if (spaces > (quoted ? 2u : 0u)) return false;  // prose, a label, a sentence
  // Placeholders: xxx, ***, ..., ---, and values fewer than 4 distinct characters.
  if (distinct < 4) return false;
  if (std::all_of(v.begin(), v.end(), [](char c) { return OneOf("xX*.-_#?", c); })) {
    return false;
  }
  std::string lowered;
  for (char c : v) lowered.push_back(Lower(c));
  for (std::string_view p : {"changeme", "change_me", "change-me", "changeit", "password",
                             "passw0rd", "secret", "null", "none", "undefined", "redacted",
                             "example", "placeholder", "dummy", "********", "replaceme"}) {
    if (lowered == p) return false;
  }
  for (std::string_view p :
       {"your", "xxxx", "****", "_here", "-here", " here", "redacted", "placeholder", "example",
        "changeme", "process.env", "environ", "getenv", "secrets."}) {
    if (lowered.find(p) != std::string::npos) return false;
  }
  bool letter = lower || upper_inside || std::any_of(v.begin(), v.end(), IsAlpha);
  // A letter and a digit or symbol ("s3cr3t-Value", "8ae31c…"); or, between quotes, upper
  // and lower case beyond the first letter ("HunterTwo"). Unquoted, that is an identifier
  // in code (userInput), and so are dotted or underscored words.
  if (letter && (digit || symbol)) return true;
  return quoted && spaces == 0 && lower && upper_inside;
}

bool LuhnValid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!IsDigit(*it)) return false;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::string_view CardBrand(std::string_view d) {
  std::size_t n = d.size();
  if (n < 12 || n > 19) return "";
  if (d[0] == '4' && (n == 13 || n == 16 || n == 19)) return "visa";
  if (n == 16 && (InRange(d, 2, 51, 55) || InRange(d, 4, 2221, 2720))) return "mastercard";
  if (n == 15 && (InRange(d, 2, 34, 34) || InRange(d, 2, 37, 37))) return "amex";
  if (n >= 16 && (InRange(d, 4, 6011, 6011) || InRange(d, 3, 644, 649) || InRange(d, 2, 65, 65) ||
                  InRange(d, 6, 622126, 622925))) {
    return "discover";
  }
  if (n >= 16 && InRange(d, 4, 3528, 3589)) return "jcb";
  if (n >= 14 && (InRange(d, 3, 300, 305) || InRange(d, 2, 36, 36) || InRange(d, 2, 38, 39))) {
    return "diners";
  }
  if (n >= 16 && InRange(d, 2, 62, 62)) return "unionpay";
  return "";
}

int IbanLength(std::string_view country) {
  auto it = std::lower_bound(
      std::begin(kIbanCountries), std::end(kIbanCountries), country,
      [](const IbanCountry& c, std::string_view code) { return std::string_view(c.code) < code; });
  if (it == std::end(kIbanCountries) || std::string_view(it->code) != country) return 0;
  return it->length;
}

bool IbanValid(std::string_view compact) {
  if (compact.size() < 15 || compact.size() > 34) return false;
  if (static_cast<int>(compact.size()) != IbanLength(compact.substr(0, 2))) return false;
  if (!IsDigit(compact[2]) || !IsDigit(compact[3])) return false;
  int remainder = 0;
  auto feed = [&](char c) {
    if (IsDigit(c)) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      int v = c - 'A' + 10;
      remainder = (remainder * 100 + v) % 97;
    } else {
      remainder = -1000000;
    }
  };
  for (char c : compact.substr(4)) feed(c);
  for (char c : compact.substr(0, 4)) feed(c);
  return remainder == 1;
}

bool SsnValid(std::string_view area, std::string_view group, std::string_view serial) {
  int a = ToInt(area), g = ToInt(group), s = ToInt(serial);
  if (a == 0 || a == 666 || a >= 900 || g == 0 || s == 0) return false;
  // Published in advertising (Woolworth wallet card) and in SSA examples: never real.
  if ((a == 78 && g == 5 && s == 1120) || (a == 219 && g == 9 && s == 9999)) return false;
  if (a == 123 && g == 45 && s == 6789) return false;
  return true;
}

std::optional<Span> Validate(Identifier id, std::string_view text, Span span) {
  if (span.end > text.size() || span.begin >= span.end) return std::nullopt;
  switch (id) {
    case Identifier::kPaymentCard:
      return ValidateCard(text, span);
    case Identifier::kIban:
      return ValidateIban(text, span);
    case Identifier::kUsSsn:
      return ValidateSsn(text, span);
    case Identifier::kUkNino:
      return ValidateNino(text, span);
    case Identifier::kEmail:
      return ValidateEmail(text, span);
    case Identifier::kPhone:
      return ValidatePhone(text, span);
    case Identifier::kIpv4:
      return ValidateIpv4(text, span);
    case Identifier::kIpv6:
      return ValidateIpv6(text, span);
    case Identifier::kDateOfBirth:
      return ValidateDob(text, span);
    case Identifier::kAwsSecretKey:
      return ValidateAwsSecret(text, span);
    case Identifier::kJwt:
      return ValidateJwt(text, span);
    case Identifier::kConnectionPassword:
      return ValidateConnectionPassword(text, span);
    case Identifier::kSecretAssignment:
      return ValidateSecretAssignment(text, span);
    case Identifier::kPrivateKey:
    case Identifier::kSlackWebhook:
    case Identifier::kCustomKeyword:
    case Identifier::kCustomRegex:
      return span;
    case Identifier::kAwsAccessKey:
    case Identifier::kGithubToken:
    case Identifier::kGitlabToken:
    case Identifier::kSlackToken:
    case Identifier::kStripeKey:
    case Identifier::kGoogleApiKey:
      return RequireTokenEnd(text, span);
  }
  return std::nullopt;
}

std::string Mask(Identifier id, std::string_view value) {
  auto last = [&](std::size_t n) {
    return std::string(value.substr(value.size() > n ? value.size() - n : 0));
  };
  switch (id) {
    case Identifier::kPaymentCard: {
      std::string d = DigitsOf(value);
      return std::string(d.size() - 4, '*') + d.substr(d.size() - 4);
    }
    case Identifier::kIban: {
      std::string compact;
      for (char c : value) {
        if (c != ' ') compact.push_back(Upper(c));
      }
      return compact.substr(0, 4) + std::string(compact.size() - 8, '*') +
             compact.substr(compact.size() - 4);
    }
    case Identifier::kUsSsn: {
      std::string d = DigitsOf(value);
      return "***-**-" + d.substr(5);
    }
    case Identifier::kUkNino: {
      std::string compact;
      for (char c : value) {
        if (c != ' ') compact.push_back(Upper(c));
      }
      return compact.substr(0, 2) + "******" + compact.substr(8);
    }
    case Identifier::kEmail: {
      std::size_t at = value.find('@');
      if (at == std::string_view::npos) return "***";
      return std::string(1, value[0]) + "***" + std::string(value.substr(at));
    }
    case Identifier::kPhone: {
      std::string d = DigitsOf(value);
      return std::string(value.front() == '+' ? "+" : "") + std::string(d.size() - 2, '*') +
             d.substr(d.size() - 2);
    }
    case Identifier::kIpv4:
      return std::string(value.substr(0, value.find('.'))) + ".*.*.*";
    case Identifier::kIpv6:
      return std::string(value.substr(0, value.find(':'))) + ":*";
    case Identifier::kDateOfBirth:
      return "**/**/****";
    case Identifier::kPrivateKey: {
      std::string_view kind = value.size() > 11 ? value.substr(11) : std::string_view();
      std::size_t end = kind.find("PRIVATE");
      kind = end == std::string_view::npos ? std::string_view() : kind.substr(0, end);
      while (!kind.empty() && kind.back() == ' ') kind.remove_suffix(1);
      return "private-key:" + (kind.empty() ? std::string("generic") : std::string(kind));
    }
    case Identifier::kCustomKeyword:
    case Identifier::kCustomRegex:
      return std::string(value.size() < 8 ? value.size() : value.size() - 2, '*') +
             (value.size() < 8 ? std::string() : last(2));
    default:
      break;
  }
  // Secrets: the type and, when the secret is long enough that it cannot be guessed from
  // it, its last 4 characters.
  std::string out(IdentifierName(id));
  out += ":****";
  if (value.size() >= 16) out += last(4);
  return out;
}

}  // namespace bulwark::detectors::dlp

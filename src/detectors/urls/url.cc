#include "detectors/urls/url.h"

#include <arpa/inet.h>
#include <idn2.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "bulwark/common/text.h"
#include "detectors/urls/ascii.h"

namespace bulwark::urls {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUnreserved(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
// Bytes that may stay raw in a normalised path or query besides unreserved ones.
bool IsAllowedRaw(char c) {
  switch (c) {
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
    case ',': case ';': case '=': case ':': case '@': case '/': case '?': case '%':
      return true;
    default:
      return false;
  }
}

void AppendEscaped(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xF]);
}

// RFC 3986 section 6.2.2: unreserved characters decoded, other escapes upper-case, and
// bytes that may not appear raw escaped (a '%' not starting an escape becomes "%25").
std::string NormalisePercent(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '%') {
      const int hi = i + 2 < in.size() ? HexDigitValue(static_cast<unsigned char>(in[i + 1])) : -1;
      const int lo = hi >= 0 ? HexDigitValue(static_cast<unsigned char>(in[i + 2])) : -1;
      if (lo < 0) {
        out += "%25";
        continue;
      }
      const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (IsUnreserved(static_cast<char>(decoded))) {
        out.push_back(static_cast<char>(decoded));
      } else {
        AppendEscaped(out, decoded);
      }
      i += 2;
    } else if (IsUnreserved(static_cast<char>(c)) || IsAllowedRaw(static_cast<char>(c))) {
      out.push_back(static_cast<char>(c));
    } else {
      AppendEscaped(out, c);
    }
  }
  return out;
}

// RFC 3986 section 5.2.4 on a path that starts with '/'.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> kept;
  std::size_t start = 1;
  while (true) {
    std::size_t slash = path.find('/', start);
    const bool last = slash == std::string_view::npos;
    std::string_view segment = path.substr(start, last ? std::string_view::npos : slash - start);
    if (segment == "." || segment == "..") {
      if (segment == ".." && !kept.empty()) kept.pop_back();
      if (last) kept.emplace_back();  // "/a/.." reads "/", "/a/b/." reads "/a/b/"
    } else {
      kept.push_back(segment);
    }
    if (last) break;
    start = slash + 1;
  }
  std::string out;
  out.reserve(path.size());
  for (std::string_view segment : kept) {
    out.push_back('/');
    out.append(segment);
  }
  if (out.empty()) out = "/";
  return out;
}

// One part of an IPv4 address as browsers read it: 0x-prefixed hex, 0-prefixed octal or
// decimal. nullopt when it is not a number or is over 2^32.
std::optional<std::uint64_t> ParseIpv4Number(std::string_view part, bool& unusual) {
  int base = 10;
  if (part.size() >= 2 && part[0] == '0' && LowerAscii(part[1]) == 'x') {
    base = 16;
    part.remove_prefix(2);
    unusual = true;
  } else if (part.size() >= 2 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
    unusual = true;
  }
  std::uint64_t value = 0;
  for (char c : part) {
    int digit = HexDigitValue(static_cast<unsigned char>(c));
    if (digit < 0 || digit >= base) return std::nullopt;
    value = value * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(digit);
    if (value > 0xFFFFFFFFull) return std::nullopt;
  }
  return value;
}

bool LooksNumeric(std::string_view label) {
  if (label.empty()) return false;
  if (label.size() >= 2 && label[0] == '0' && LowerAscii(label[1]) == 'x') {
    for (char c : label.substr(2)) {
      if (HexDigitValue(static_cast<unsigned char>(c)) < 0) return false;
    }
    return true;
  }
  for (char c : label) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// WHATWG URL "IPv4 parser": nullopt with `is_ip` false when the host is a domain, nullopt
// with `is_ip` true when it ends in a number but is not a valid address.
std::optional<std::string> ParseIpv4(std::string_view host, bool& is_ip, bool& unusual) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = host.find('.', start);
    parts.push_back(host.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  is_ip = LooksNumeric(parts.back());
  if (!is_ip) return std::nullopt;
  if (parts.size() > 4) return std::nullopt;
  unusual = parts.size() != 4;
  std::uint64_t address = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto value = ParseIpv4Number(parts[i], unusual);
    if (!value) return std::nullopt;
    const bool last = i + 1 == parts.size();
    if (!last) {
      if (*value > 255) return std::nullopt;
      address = (address << 8) | *value;
    } else {
      const std::size_t shift = 8 * (5 - parts.size());
      if (shift < 64 && *value >= (1ull << shift)) return std::nullopt;
      address = (address << shift) | *value;
    }
  }
  std::string out;
  for (int octet = 3; octet >= 0; --octet) {
    out += std::to_string((address >> (8 * octet)) & 0xFF);
    if (octet > 0) out.push_back('.');
  }
  return out;
}

std::optional<std::string> ParseIpv6(std::string_view bracketed) {
  if (bracketed.size() < 3 || bracketed.size() > 64 || bracketed.back() != ']') {
    return std::nullopt;
  }
  std::string inner(bracketed.substr(1, bracketed.size() - 2));
  in6_addr address{};
  if (inet_pton(AF_INET6, inner.c_str(), &address) != 1) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, &address, text, sizeof(text)) == nullptr) return std::nullopt;
  return "[" + std::string(text) + "]";
}

// libidn2 with UTS 46 non-transitional processing (as browsers), then transitional.
std::optional<std::string> ToAscii(const std::string& host) {
  for (int flags : {IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL, IDN2_NFC_INPUT | IDN2_TRANSITIONAL}) {
    char* out = nullptr;
    if (idn2_to_ascii_8z(host.c_str(), &out, flags) == IDN2_OK && out != nullptr) {
      std::string ascii(out);
      idn2_free(out);
      return ascii;
    }
    idn2_free(out);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> NormaliseHost(std::string_view raw, HostKind* kind,
                                         bool* ip_obfuscated) {
  if (raw.empty() || raw.size() > 1024) return std::nullopt;
  if (raw.front() == '[') {
    auto ipv6 = ParseIpv6(raw);
    if (ipv6 && kind != nullptr) *kind = HostKind::kIpv6;
    return ipv6;
  }
  // Percent-decoded first, as browsers do ("%65xample.com").
  std::string host;
  bool ascii = true;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%' && i + 2 < raw.size()) {
      int hi = HexDigitValue(static_cast<unsigned char>(raw[i + 1]));
      int lo = HexDigitValue(static_cast<unsigned char>(raw[i + 2]));
      if (hi >= 0 && lo >= 0) {
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      }
    }
    if (c == '\0') return std::nullopt;
    if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    host.push_back(LowerAscii(c));
  }
  if (!ascii) {
    auto converted = ToAscii(host);
    if (!converted) return std::nullopt;
    host = std::move(*converted);
  }
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return std::nullopt;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = LowerAscii(host[i]);
    host[i] = c;
    const bool ok = IsAlpha(c) || IsDigit(c) || c == '-' || c == '_' || c == '.';
    if (!ok) return std::nullopt;
    if (c == '.' && (i == 0 || host[i - 1] == '.')) return std::nullopt;  // empty label
  }
  bool is_ip = false;
  bool unusual = false;
  auto ipv4 = ParseIpv4(host, is_ip, unusual);
  if (is_ip) {
    if (!ipv4) return std::nullopt;
    if (kind != nullptr) *kind = HostKind::kIpv4;
    if (ip_obfuscated != nullptr) *ip_obfuscated = unusual;
    return ipv4;
  }
  if (kind != nullptr) *kind = HostKind::kDomain;
  return host;
}

std::string UnicodeHost(std::string_view ascii_host) {
  if (ascii_host.find("xn--") == std::string_view::npos) return std::string(ascii_host);
  std::string input(ascii_host);
  char* out = nullptr;
  if (idn2_to_unicode_8z8z(input.c_str(), &out, 0) != IDN2_OK || out == nullptr) {
    idn2_free(out);
    return input;
  }
  std::string unicode(out);
  idn2_free(out);
  return unicode;
}

std::optional<Url> ParseUrl(std::string_view text) {
  text = TrimSpace(text);
  if (text.empty() || text.size() > kMaxUrlBytes) return std::nullopt;
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    if (c != '\t' && c != '\r' && c != '\n') s.push_back(c);
  }

  Url url;
  std::string_view rest = s;
  if (rest.substr(0, 2) == "//") {
    url.scheme = "https";
  } else if (StartsWithCaseless(rest, "www.")) {
    url.scheme = "http";
  } else {
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 5) return std::nullopt;
    for (char c : rest.substr(0, colon)) url.scheme.push_back(LowerAscii(c));
    if (url.scheme != "http" && url.scheme != "https" && url.scheme != "ftp") return std::nullopt;
    rest.remove_prefix(colon + 1);
  }
  while (!rest.empty() && (rest.front() == '/' || rest.front() == '\\')) rest.remove_prefix(1);

  std::size_t authority_end = rest.find_first_of("/\\?#");
  if (authority_end == std::string_view::npos) authority_end = rest.size();
  std::string_view authority = rest.substr(0, authority_end);
  rest.remove_prefix(authority_end);
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    url.had_userinfo = true;
    authority.remove_prefix(at + 1);
  }

  std::string_view host = authority;
  std::string_view port;
  std::size_t port_colon = std::string_view::npos;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port_colon = close + 1;
    }
  } else {
    port_colon = authority.rfind(':');
  }
  if (port_colon != std::string_view::npos) {
    host = authority.substr(0, port_colon);
    port = authority.substr(port_colon + 1);
  }
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  if (port.size() > 5) return std::nullopt;
  for (char c : port) {
    if (!IsDigit(c)) return std::nullopt;
  }
  if (!port.empty() && std::atoi(std::string(port).c_str()) > 65535) return std::nullopt;
  const std::string_view default_port =
      url.scheme == "http" ? "80" : url.scheme == "https" ? "443" : "21";
  if (port != default_port) url.port = std::string(port);

  auto normalised_host = NormaliseHost(host, &url.host_kind, &url.ip_obfuscated);
  if (!normalised_host) return std::nullopt;
  url.host = std::move(*normalised_host);
  url.display_host = UnicodeHost(url.host);

  if (std::size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  std::string_view query;
  if (std::size_t question = rest.find('?'); question != std::string_view::npos) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  std::string path(rest);
  for (char& c : path) {
    if (c == '\\') c = '/';
  }
  if (path.empty()) path = "/";
  url.path = RemoveDotSegments(NormalisePercent(path));
  url.query = NormalisePercent(query);
  return url;
}

std::string Url::Normalised() const {
  std::string out = scheme + "://" + host;
  if (!port.empty()) out += ":" + port;
  out += path;
  if (!query.empty()) out += "?" + query;
  return out;
}

std::string Url::Evidence() const {
  std::string out = scheme + "://" + host;
  if (!port.empty()) out += ":" + port;
  if (path.size() <= kEvidencePathBytes) {
    out += path;
  } else {
    out += path.substr(0, kEvidencePathBytes);
    out += "\xE2\x80\xA6";  // …
  }
  return out;
}

bool Url::HasPunycodeLabel() const {
  return host.substr(0, 4) == "xn--" || host.find(".xn--") != std::string::npos;
}

}  // namespace bulwark::urls

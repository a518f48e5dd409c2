#pragma once
// Parsing and normalising the URLs found in content. A URL is only ever parsed here, never
// fetched or resolved: nothing in src/detectors/urls does network or DNS I/O.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::urls {

enum class HostKind { kDomain, kIpv4, kIpv6 };

// An absolute http, https or ftp URL, normalised:
//  - scheme and host lower-case; a default port (80, 443, 21) removed;
//  - an internationalised host converted to ASCII (IDNA 2008 / UTS 46 with libidn2), with
//    its Unicode form kept for display and script checks;
//  - an IPv4 host written as a number in decimal, octal or hexadecimal, or with fewer than
//    four parts ("3232235777", "0xC0A80101", "0300.0250.1.1", "127.1"), read as browsers do
//    (WHATWG URL) and written as a dotted quad;
//  - dot segments resolved; percent-encoding normalised (unreserved characters decoded,
//    hex digits upper-case, bytes that may not appear raw encoded);
//  - user name and password dropped (and remembered as `had_userinfo`); fragment dropped.
struct Url {
  std::string scheme;        // "http", "https", "ftp"
  std::string host;          // ASCII: "xn--bcher-kva.de", "192.0.2.1", "[2001:db8::1]"
  std::string display_host;  // Unicode (UTF-8) form of `host`; equal to it when ASCII
  std::string port;          // "" for the scheme's default
  std::string path;          // starts with '/'
  std::string query;         // without the '?'; "" when none
  HostKind host_kind = HostKind::kDomain;
  bool ip_obfuscated = false;  // IPv4 not written as four decimal parts
  bool had_userinfo = false;   // "user:password@" before the host

  // scheme://host[:port]path[?query]: the form kept in ScanReport::urls and matched.
  std::string Normalised() const;
  // scheme://host/path-prefix: what findings show. Never the query (it may hold one-time
  // tokens) and at most the first kEvidencePathBytes of the path, "…" marking a cut.
  std::string Evidence() const;
  // True when a label of `host` is punycode ("xn--").
  bool HasPunycodeLabel() const;
};

inline constexpr std::size_t kMaxUrlBytes = 2048;
inline constexpr std::size_t kEvidencePathBytes = 24;

// Parses `text` as an absolute http, https or ftp URL. Also taken: "www." forms (as http)
// and protocol-relative "//host/…" (as https); any number of '/' or '\' after the scheme, as
// browsers do. Surrounding white space is trimmed; tab, CR and LF inside are removed.
// nullopt for anything else (other schemes, relative URLs, no host, a bad port, a host
// libidn2 rejects, text longer than kMaxUrlBytes). Never reads past `text`.
std::optional<Url> ParseUrl(std::string_view text);

// Normalises a host as ParseUrl does ("Bücher.DE." → "xn--bcher-kva.de"); nullopt when it
// is not a valid host. `kind`, when given, receives what it is.
std::optional<std::string> NormaliseHost(std::string_view host, HostKind* kind = nullptr,
                                         bool* ip_obfuscated = nullptr);

// The Unicode (UTF-8) form of an ASCII host with punycode labels; the host itself when it
// has none or libidn2 cannot decode it.
std::string UnicodeHost(std::string_view ascii_host);

}  // namespace bulwark::urls

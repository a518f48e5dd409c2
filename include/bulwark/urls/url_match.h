#pragma once
// Matching a URL list entry (a tenant's block or allow list) against the normalised URLs of
// a scan (engine::ScanReport::urls). Implemented in src/detectors/urls (target bulwark_urls).

#include <string_view>

namespace bulwark::urls {

// True when `list_entry` matches `normalised_url`, a URL as the engine reports it
// (ScanReport::urls: lower-case scheme and host, IDN hosts in punycode, no default port,
// dot segments resolved, percent-encoding normalised, no fragment, no user name).
// `list_entry` is normalised the same way first, then:
//  - "https://host/path"          the same URL (query included), exactly;
//  - "https://host/path/" or
//    "https://host/pa*"           every URL that starts with it (the '*' removed);
//  - "example.com", "*.example.com", ".example.com", "bücher.de"
//                                 every URL whose host is that domain or a subdomain of it;
//  - "example.com/path…"          as a URL entry under any scheme (http, https, ftp).
// An IP address entry ("192.0.2.1") matches that host only. Empty, blank or unparsable
// entries match nothing; "#" starts no comment here (callers strip comments).
// Thread safety: a pure function.
bool UrlMatches(std::string_view list_entry, std::string_view normalised_url);

}  // namespace bulwark::urls

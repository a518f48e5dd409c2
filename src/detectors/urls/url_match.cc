#include "bulwark/urls/url_match.h"

#include <string>

#include "detectors/urls/ascii.h"
#include "detectors/urls/url.h"

namespace bulwark::urls {
namespace {

// The host of a normalised URL ("https://a.example:8443/x" → "a.example").
std::string_view HostOf(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find_first_of(":/?"));
}

// A normalised URL without its "scheme://".
std::string_view WithoutScheme(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  return scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
}

bool HostInDomain(std::string_view host, std::string_view domain) {
  if (host.size() == domain.size()) return host == domain;
  return host.size() > domain.size() && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

}  // namespace

bool UrlMatches(std::string_view entry, std::string_view normalised_url) {
  entry = TrimSpace(entry);
  if (entry.empty() || normalised_url.empty()) return false;

  const bool has_scheme = entry.find("://") != std::string_view::npos;
  const bool has_path = WithoutScheme(entry).find_first_of("/?") != std::string_view::npos;
  if (!has_scheme && !has_path) {
    // A domain: "example.com", "*.example.com", ".example.com".
    if (entry.starts_with("*.")) entry.remove_prefix(2);
    if (entry.starts_with(".")) entry.remove_prefix(1);
    if (entry.ends_with("*")) return false;  // "example.*" is no domain
    auto domain = NormaliseHost(entry);
    if (!domain) return false;
    const std::string_view host = HostOf(normalised_url);
    if (!host.empty() && host.front() == '[') return host == *domain;
    return HostInDomain(host, *domain);
  }

  const bool prefix = entry.ends_with("*") || entry.ends_with("/");
  if (entry.ends_with("*")) entry.remove_suffix(1);
  std::string text(entry);
  if (!has_scheme) text = "http://" + text;
  auto url = ParseUrl(text);
  if (!url) return false;
  std::string normalised = url->Normalised();
  // A prefix entry without a path ("https://example.com*") matches that host's URLs only,
  // never "https://example.com.evil.net/": its normalised form ends in '/'.
  std::string_view want = normalised;
  std::string_view have = normalised_url;
  if (!has_scheme) {
    want = WithoutScheme(want);
    have = WithoutScheme(have);
  }
  return prefix ? have.starts_with(want) : have == want;
}

}  // namespace bulwark::urls

#pragma once
// The checks behind the urls detector's heuristic findings, each a pure function of one
// URL (and, for links, the text shown for it). Registrable domains come from libpsl's
// Public Suffix List (the newer of its built-in list and Debian's publicsuffix package).

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "detectors/urls/url.h"

struct psl_ctx_st;

namespace bulwark::urls {

// Thread safety: const methods may be called from any number of threads at once.
class DomainRules {
 public:
  DomainRules();
  ~DomainRules();
  DomainRules(const DomainRules&) = delete;
  DomainRules& operator=(const DomainRules&) = delete;

  // "login.example.co.uk" → "example.co.uk". A host that is itself a public suffix, an
  // IP address or a single label is its own registrable domain.
  std::string RegistrableDomain(std::string_view ascii_host) const;

  // True when the last label of `ascii_host` is a known top-level domain (no wildcard
  // rule), so that "paypal.com" in a link's text reads as a domain and "report.txt" not.
  bool HasKnownSuffix(std::string_view ascii_host) const;

  // The domain a link's visible text shows, as a normalised ASCII host: the host of a URL
  // written in it ("https://paypal.com/…", "www.paypal.com"), or the text itself when it is
  // one domain-like word with a known suffix ("PayPal.com", "paypal.com/signin"). nullopt
  // for anything else ("Click here", "Sign in to PayPal").
  std::optional<std::string> DomainShownIn(std::string_view link_text) const;

  // True when the host, or its registrable domain, is a URL shortener on the built-in list
  // (bit.ly, tinyurl.com, t.co, …).
  bool IsShortener(std::string_view ascii_host) const;

 private:
  const psl_ctx_st* psl_;  // owned when owns_psl_; constant after construction
  bool owns_psl_ = false;
};

// The scripts a host label mixes, e.g. "Latin+Cyrillic" for "pаypal" (Cyrillic 'а'), or ""
// when every label keeps to one script. Digits, '-' and '_' belong to every script; Han
// mixed with Hiragana, Katakana, Hangul or Bopomofo (and with Latin) is ordinary in CJK
// names and not reported (after Unicode TS #39 "highly restrictive"). `unicode_host` is
// UTF-8; invalid sequences count as an unknown script.
std::string MixedScripts(std::string_view unicode_host);

}  // namespace bulwark::urls

// libFuzzer target for URL extraction and normalisation: arbitrary bytes as plain text and
// as HTML through the extractors, every URL found through ParseUrl (libidn2 included),
// the script check and UrlMatches, and the input itself parsed as a URL and a list entry.
// Invariants checked: normalisation is idempotent and bounded, evidence never holds the
// query. Nothing here touches the network.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bulwark/urls/url_match.h"
#include "detectors/urls/url.h"
#include "detectors/urls/url_extract.h"
#include "detectors/urls/url_heuristics.h"

namespace {

void CheckUrl(std::string_view text) {
  using namespace bulwark::urls;
  auto url = ParseUrl(text);
  if (!url) return;
  const std::string normalised = url->Normalised();
  auto again = ParseUrl(normalised);
  // Normalising twice changes nothing (a normalised URL may grow past kMaxUrlBytes through
  // percent-encoding, and then it is simply not re-parsed).
  if (normalised.size() <= kMaxUrlBytes && (!again || again->Normalised() != normalised)) {
    __builtin_trap();
  }
  if (!url->query.empty() && url->Evidence().find('?') != std::string::npos) __builtin_trap();
  (void)MixedScripts(url->display_host);
  if (!UrlMatches(normalised, normalised) && normalised.size() <= kMaxUrlBytes) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulwark::urls;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool html : {false, true}) {
    Extraction extraction;
    if (html) {
      ExtractFromHtml(bytes, extraction);
    } else {
      ExtractFromText(bytes, extraction);
    }
    if (extraction.urls.size() > kMaxUrlsPerObject) __builtin_trap();
    for (const FoundUrl& found : extraction.urls) {
      if (found.raw.size() > kMaxUrlBytes || found.link_text.size() > kMaxLinkTextBytes) {
        __builtin_trap();
      }
      CheckUrl(found.raw);
    }
  }
  CheckUrl(bytes);
  (void)UrlMatches(bytes, "https://www.example.com/a/b?c=d");
  return 0;
}

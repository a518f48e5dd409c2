#pragma once
// Finding URLs in text and HTML. One linear pass over the input (HTML: the shared
// detectors/common/markup_text tokenizer, then one pass over its visible text); every
// output is bounded: at most kMaxUrlsPerObject URLs, each at most kMaxUrlBytes, link texts
// at most kMaxLinkTextBytes. Only finds; parsing is url.h's job.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "detectors/urls/url.h"  // kMaxUrlBytes

namespace bulwark::urls {

inline constexpr std::size_t kMaxUrlsPerObject = 1000;
inline constexpr std::size_t kMaxLinkTextBytes = 256;

enum class UrlSource {
  kText,         // written in plain text or in the visible text of HTML
  kHref,         // <a href>, <area href>, <link href>
  kSrc,          // <img src>, <iframe src>, <script src>, …
  kFormAction,   // <form action>, <button formaction>, <input formaction>
  kMetaRefresh,  // <meta http-equiv="refresh" content="0; url=…">
};

struct FoundUrl {
  std::string raw;        // as written (entities decoded), at most kMaxUrlBytes
  UrlSource source = UrlSource::kText;
  std::string link_text;  // <a href> only: the visible text of the link, trimmed, bounded
};

struct Extraction {
  std::vector<FoundUrl> urls;  // in document order, exact duplicates dropped
  bool truncated = false;      // kMaxUrlsPerObject reached; the rest was not looked at
  // HTML: forms with an <input type="password">, and the action of the first one.
  int password_forms = 0;
  std::string password_form_action;  // raw, possibly relative or empty
};

// URLs written out in plain text: "http://", "https://", "ftp://" and "www." forms that
// start at a word boundary. A URL ends at white space, a control byte, or one of <>"'`{}|^
// and loses trailing punctuation (".,;:!?" and a ')' or ']' it did not open).
void ExtractFromText(std::string_view text, Extraction& out);

// URLs of HTML: href, src, form actions, meta refresh and, for each <a href>, its visible
// text; then the URLs written in the visible text. Attribute values that are not absolute
// URLs (relative links, mailto:, javascript:) are not reported.
void ExtractFromHtml(std::string_view html, Extraction& out);

}  // namespace bulwark::urls

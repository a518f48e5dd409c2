#pragma once
// The visible text of HTML and XML, for matching: tags removed, basic entities decoded,
// HTML <script>/<style> contents and comments dropped. A single linear pass with a small
// state machine (no DOM); output is never longer than the input.

#include <string>
#include <string_view>

namespace bulwark::detectors::dlp {

enum class Markup { kHtml, kXml };

// Appends the visible text of `markup` to `out` (cleared first). Block-level tags and XML
// element boundaries become one space so that words of adjacent cells stay apart; inline
// HTML tags (b, i, span, a, …) vanish so "41<b>11</b>" reads "4111". Malformed markup
// (an unterminated tag or comment) ends the text at that point.
void VisibleText(std::string_view markup, Markup kind, std::string& out);

// True when `bytes` starts (after a BOM and white space) like an XML document or an
// element: "<?xml", "<!DOCTYPE" or "<name".
bool LooksLikeXml(std::string_view bytes);
// True when the first 4 KiB of `bytes` read as text: no NUL and at most 5% control bytes.
bool LooksLikeText(std::string_view bytes);

}  // namespace bulwark::detectors::dlp

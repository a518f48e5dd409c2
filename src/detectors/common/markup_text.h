#pragma once
// The visible text of HTML and XML, for matching: tags removed, basic entities decoded,
// HTML <script>/<style> contents and comments dropped. A single linear pass with a small
// state machine (no DOM); output is never longer than the input. Shared by the detectors
// that read markup (dlp: visible text; urls: link targets and the text shown for them).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace bulwark::detectors {

enum class Markup { kHtml, kXml };

// One tag met by VisibleText.
struct MarkupTag {
  std::string_view name;        // lower-cased, at most 16 bytes ("a", "meta", "w:t")
  bool closing = false;         // "</a>"
  std::string_view attributes;  // the raw bytes between the name and the closing '>'
  std::size_t text_offset = 0;  // size of the visible text written before this tag
};
// Called for every tag in document order. The views are valid during the call only.
using MarkupTagVisitor = std::function<void(const MarkupTag&)>;

// Appends the visible text of `markup` to `out` (cleared first). Block-level tags and XML
// element boundaries become one space so that words of adjacent cells stay apart; inline
// HTML tags (b, i, span, a, …) vanish so "41<b>11</b>" reads "4111". Malformed markup
// (an unterminated tag or comment) ends the text at that point. When `on_tag` is given it
// sees each tag (also <script> and <style>, whose contents are skipped).
void VisibleText(std::string_view markup, Markup kind, std::string& out,
                 const MarkupTagVisitor& on_tag = nullptr);

// The value of attribute `name` (lower-case) in a MarkupTag's `attributes`, entities
// decoded, into `value`. False when the attribute is absent. Linear in `attributes`.
bool FindMarkupAttribute(std::string_view attributes, std::string_view name, std::string& value);

// True when `bytes` starts (after a BOM and white space) like an XML document or an
// element: "<?xml", "<!DOCTYPE" or "<name".
bool LooksLikeXml(std::string_view bytes);
// True when the first 4 KiB of `bytes` read as text: no NUL and at most 5% control bytes.
bool LooksLikeText(std::string_view bytes);

}  // namespace bulwark::detectors

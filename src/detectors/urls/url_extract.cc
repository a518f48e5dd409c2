#include "detectors/urls/url_extract.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "detectors/common/markup_text.h"
#include "detectors/urls/ascii.h"
#include "detectors/urls/url.h"

namespace bulwark::urls {
namespace {

using detectors::FindMarkupAttribute;
using detectors::Markup;
using detectors::MarkupTag;
using detectors::VisibleText;

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

// Bytes at text[i] that end a URL written in text; `length` receives how many bytes the
// terminator spans (multi-byte: typographic quotes, no-break and ideographic spaces, « »).
bool EndsUrl(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c <= 0x20 || c == 0x7F) return true;
  switch (c) {
    case '<': case '>': case '"': case '\'': case '`': case '{': case '}': case '|': case '^':
    case '\\':
      return true;
    default:
      break;
  }
  auto at = [&](std::size_t k) {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
  };
  if (c == 0xC2 && (at(1) == 0xA0 || at(1) == 0xAB || at(1) == 0xBB)) return true;
  if (c == 0xE2 && at(1) == 0x80 && at(2) >= 0x98 && at(2) <= 0x9D) return true;  // ‘’‚‛“”
  if (c == 0xE3 && at(1) == 0x80 && (at(2) == 0x80 || at(2) == 0x82)) return true;  // 　 。
  return false;
}

// Keeps what was found, without exact duplicates, up to kMaxUrlsPerObject.
class Collector {
 public:
  explicit Collector(Extraction& out) : out_(out) {
    for (const FoundUrl& url : out_.urls) seen_.insert(Key(url));
  }
  bool full() const { return out_.truncated; }
  void Add(UrlSource source, std::string_view raw, std::string_view link_text = {}) {
    if (out_.truncated) return;
    raw = TrimSpace(raw);
    if (raw.empty()) return;
    if (raw.size() > kMaxUrlBytes) raw = raw.substr(0, kMaxUrlBytes);
    FoundUrl url{std::string(raw), source, std::string(BoundedLinkText(link_text))};
    std::string key = Key(url);
    if (!seen_.insert(std::move(key)).second) return;
    if (out_.urls.size() >= kMaxUrlsPerObject) {
      out_.truncated = true;
      return;
    }
    out_.urls.push_back(std::move(url));
  }

 private:
  static std::string Key(const FoundUrl& url) {
    std::string key(1, static_cast<char>('0' + static_cast<int>(url.source)));
    key += url.raw;
    key.push_back('\0');
    key += url.link_text;
    return key;
  }
  // White space collapsed, trimmed, cut at kMaxLinkTextBytes on a UTF-8 boundary.
  static std::string BoundedLinkText(std::string_view text) {
    std::string out;
    for (char c : TrimSpace(text)) {
      if (out.size() >= kMaxLinkTextBytes) break;
      if (IsSpace(c)) {
        if (!out.empty() && out.back() != ' ') out.push_back(' ');
      } else {
        out.push_back(c);
      }
    }
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    return out;
  }

  Extraction& out_;
  std::unordered_set<std::string> seen_;
};

// The length of the scheme ("http://", "https://", "ftp://") or "www." that starts a URL
// written at text[i], or 0. A URL starts a word: "xhttp://" and "a.www.b" hold none.
std::size_t UrlPrefixAt(std::string_view text, std::size_t i) {
  if (i > 0) {
    const char before = text[i - 1];
    if (IsAlnum(before) || before == '.' || before == '-' || before == '_' || before == '/' ||
        before == '@' || before == '%') {
      return 0;
    }
  }
  const std::string_view rest = text.substr(i);
  if (StartsWithCaseless(rest, "http://")) return 7;
  if (StartsWithCaseless(rest, "https://")) return 8;
  if (StartsWithCaseless(rest, "ftp://")) return 6;
  if (StartsWithCaseless(rest, "www.")) return 4;
  return 0;
}

// Adds the URL whose prefix of `prefix` bytes starts at text[i]; returns where it ends.
std::size_t TakeUrl(std::string_view text, std::size_t i, std::size_t prefix,
                    Collector& collector) {
  std::size_t end = i + prefix;
  while (end < text.size() && end - i < kMaxUrlBytes && !EndsUrl(text, end)) ++end;
  std::string_view url = text.substr(i, end - i);
  // Trailing punctuation belongs to the sentence, and a closing bracket to the text
  // around the URL unless the URL opened it.
  int open_round = 0;
  int open_square = 0;
  for (char x : url) {
    open_round += x == '(' ? 1 : x == ')' ? -1 : 0;
    open_square += x == '[' ? 1 : x == ']' ? -1 : 0;
  }
  while (url.size() > prefix) {
    const char last = url.back();
    if (last == '.' || last == ',' || last == ';' || last == ':' || last == '!' || last == '?' ||
        last == '*') {
      url.remove_suffix(1);
    } else if (last == ')' && open_round < 0) {
      ++open_round;
      url.remove_suffix(1);
    } else if (last == ']' && open_square < 0) {
      ++open_square;
      url.remove_suffix(1);
    } else {
      break;
    }
  }
  if (url.size() > prefix) collector.Add(UrlSource::kText, url);
  return end;
}

// The next ':' or '.' of a text at or after a position, each found with memchr and kept
// until the scan passes it.
class MarkerFinder {
 public:
  explicit MarkerFinder(std::string_view text)
      : text_(text), colon_(Find(':', 0)), dot_(Find('.', 0)) {}
  std::size_t NextAtOrAfter(std::size_t from) {
    if (colon_ < from) colon_ = Find(':', from);
    if (dot_ < from) dot_ = Find('.', from);
    return std::min(colon_, dot_);
  }

 private:
  std::size_t Find(char c, std::size_t from) const {
    return from < text_.size() ? text_.find(c, from) : std::string_view::npos;
  }
  std::string_view text_;
  std::size_t colon_, dot_;
};

// Every URL prefix has its ':' or '.' three to five bytes in ("ftp:", "www.", "http:",
// "https:"), so the scan jumps from one such byte to the next and tries only the three
// places before each: most text is passed over at memchr's speed.
void ScanText(std::string_view text, Collector& collector) {
  MarkerFinder markers(text);
  std::size_t i = 0;
  while (i < text.size() && !collector.full()) {
    const std::size_t marker = markers.NextAtOrAfter(i + 3);
    if (marker == std::string_view::npos) return;
    std::size_t next = marker - 2;  // no URL starts before this one if none starts below
    for (std::size_t j = marker >= i + 5 ? marker - 5 : i; j + 3 <= marker; ++j) {
      if (const std::size_t prefix = UrlPrefixAt(text, j)) {
        next = TakeUrl(text, j, prefix, collector);
        break;
      }
    }
    i = next;
  }
}

// An attribute value that is an absolute http(s)/ftp URL or protocol-relative.
bool IsAbsolute(std::string_view value) {
  value = TrimSpace(value);
  return StartsWithCaseless(value, "http:") || StartsWithCaseless(value, "https:") ||
         StartsWithCaseless(value, "ftp:") || value.substr(0, 2) == "//";
}

// The URL of a meta refresh's content: "5; url=http://…" (quotes optional).
std::optional<std::string_view> RefreshTarget(std::string_view content) {
  std::size_t semi = content.find_first_of(";,");
  if (semi == std::string_view::npos) return std::nullopt;
  std::string_view rest = TrimSpace(content.substr(semi + 1));
  if (!StartsWithCaseless(rest, "url")) return std::nullopt;
  rest = TrimSpace(rest.substr(3));
  if (rest.empty() || rest.front() != '=') return std::nullopt;
  rest = TrimSpace(rest.substr(1));
  if (!rest.empty() && (rest.front() == '\'' || rest.front() == '"')) {
    const char quote = rest.front();
    rest.remove_prefix(1);
    rest = rest.substr(0, rest.find(quote));
  }
  return rest;
}

}  // namespace

void ExtractFromText(std::string_view text, Extraction& out) {
  Collector collector(out);
  ScanText(text, collector);
}

void ExtractFromHtml(std::string_view html, Extraction& out) {
  Collector collector(out);
  std::string visible;
  std::string value;
  // The <a href> whose text is being read.
  std::optional<std::string> open_href;
  std::size_t open_text_offset = 0;
  bool in_form = false;
  bool form_counted = false;
  bool loose_counted = false;  // a password input outside any form
  std::string form_action;

  auto close_anchor = [&](std::size_t text_offset) {
    if (!open_href) return;
    const std::size_t begin = std::min(open_text_offset, visible.size());
    const std::size_t end = std::min(text_offset, visible.size());
    std::string_view text(visible.data() + begin, end > begin ? end - begin : 0);
    collector.Add(UrlSource::kHref, *open_href, text.substr(0, 4 * kMaxLinkTextBytes));
    open_href.reset();
  };

  VisibleText(html, Markup::kHtml, visible, [&](const MarkupTag& tag) {
    const std::string_view name = tag.name;
    if (name == "a") {
      close_anchor(tag.text_offset);  // "<a …>x<a …>": the first ends where the second starts
      if (!tag.closing && FindMarkupAttribute(tag.attributes, "href", value) && IsAbsolute(value)) {
        open_href = value.substr(0, kMaxUrlBytes);
        open_text_offset = tag.text_offset;
      }
      return;
    }
    if (tag.closing) {
      if (name == "form") in_form = false;
      return;
    }
    if ((name == "area" || name == "link") && FindMarkupAttribute(tag.attributes, "href", value) &&
        IsAbsolute(value)) {
      collector.Add(UrlSource::kHref, value);
    }
    if (FindMarkupAttribute(tag.attributes, "src", value) && IsAbsolute(value)) {
      collector.Add(UrlSource::kSrc, value);
    }
    if (name == "form") {
      in_form = true;
      form_counted = false;
      form_action.clear();
      if (FindMarkupAttribute(tag.attributes, "action", value)) {
        form_action = TrimSpace(value).substr(0, kMaxUrlBytes);
        if (IsAbsolute(value)) collector.Add(UrlSource::kFormAction, value);
      }
    } else if ((name == "button" || name == "input") &&
               FindMarkupAttribute(tag.attributes, "formaction", value) && IsAbsolute(value)) {
      collector.Add(UrlSource::kFormAction, value);
    }
    if (name == "input" && FindMarkupAttribute(tag.attributes, "type", value) &&
        StartsWithCaseless(TrimSpace(value), "password") && TrimSpace(value).size() == 8) {
      bool& counted = in_form ? form_counted : loose_counted;
      if (!counted) {
        counted = true;
        if (out.password_forms++ == 0) out.password_form_action = in_form ? form_action : "";
      }
    }
    if (name == "meta" && FindMarkupAttribute(tag.attributes, "http-equiv", value) &&
        StartsWithCaseless(TrimSpace(value), "refresh") &&
        FindMarkupAttribute(tag.attributes, "content", value)) {
      if (auto target = RefreshTarget(value); target && IsAbsolute(*target)) {
        collector.Add(UrlSource::kMetaRefresh, *target);
      }
    }
  });
  close_anchor(visible.size());
  ScanText(visible, collector);
}

}  // namespace bulwark::urls

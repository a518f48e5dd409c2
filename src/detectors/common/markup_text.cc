#include "detectors/common/markup_text.h"

#include "bulwark/common/text.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace bulwark::detectors {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '-' || c == '_';
}

bool StartsWithCaseless(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

// Case-insensitive find of a lower-case `needle`, from `from`.
std::size_t FindCaseless(std::string_view hay, std::string_view needle, std::size_t from) {
  if (needle.empty()) return from;
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (Lower(hay[i]) != needle[0]) continue;
    if (StartsWithCaseless(hay.substr(i), needle)) return i;
  }
  return std::string_view::npos;
}


// Decodes the entity at markup[i] == '&'. Returns the bytes consumed (0: not an entity,
// the '&' is literal). Decoded output is never longer than what it consumed.
std::size_t DecodeEntity(std::string_view m, std::size_t i, std::string& out) {
  // Entities are short: look for the ';' in the next 10 bytes only, so that a run of '&'
  // without one stays linear.
  std::size_t semi = m.substr(0, std::min(m.size(), i + 11)).find(';', i + 1);
  if (semi == std::string_view::npos) return 0;
  std::string_view name = m.substr(i + 1, semi - i - 1);
  if (name.size() >= 2 && name[0] == '#') {
    std::uint32_t cp = 0;
    bool hex = name[1] == 'x' || name[1] == 'X';
    std::string_view num = name.substr(hex ? 2 : 1);
    if (num.empty()) return 0;
    for (char c : num) {
      int v;
      if (c >= '0' && c <= '9') {
        v = c - '0';
      } else if (hex && Lower(c) >= 'a' && Lower(c) <= 'f') {
        v = Lower(c) - 'a' + 10;
      } else {
        return 0;
      }
      cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
      if (cp > 0x10FFFF) cp = 0x110000;  // stays invalid; avoids overflow
    }
    // The longest UTF-8 form is 4 bytes; "&#N;" is at least 4 bytes long.
    AppendUtf8(out, cp);
    return semi - i + 1;
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kNamed = {{
      {"amp", "&"},
      {"lt", "<"},
      {"gt", ">"},
      {"quot", "\""},
      {"apos", "'"},
      {"nbsp", " "},
      {"commat", "@"},
  }};
  for (const auto& [entity, text] : kNamed) {
    if (name == entity) {
      out += text;
      return semi - i + 1;
    }
  }
  return 0;
}

bool InlineHtmlTag(std::string_view name) {
  static constexpr std::array<std::string_view, 16> kInline = {
      "a",    "b",     "i",   "u",   "s",   "em",   "strong", "span",
      "font", "small", "big", "sub", "sup", "abbr", "code",   "wbr"};
  return std::find(kInline.begin(), kInline.end(), name) != kInline.end();
}

}  // namespace

void VisibleText(std::string_view m, Markup kind, std::string& out,
                 const MarkupTagVisitor& on_tag) {
  out.clear();
  out.reserve(m.size());
  std::size_t i = 0;
  while (i < m.size()) {
    char c = m[i];
    if (c == '&') {
      std::size_t used = DecodeEntity(m, i, out);
      if (used == 0) {
        out.push_back('&');
        ++i;
      } else {
        i += used;
      }
      continue;
    }
    if (c != '<') {
      out.push_back(c);
      ++i;
      continue;
    }
    std::string_view rest = m.substr(i);
    if (rest.substr(0, 4) == "<!--") {
      std::size_t end = m.find("-->", i + 4);
      if (end == std::string_view::npos) return;
      i = end + 3;
      continue;
    }
    if (rest.substr(0, 9) == "<![CDATA[") {
      std::size_t end = m.find("]]>", i + 9);
      if (end == std::string_view::npos) end = m.size();
      out.append(m.substr(i + 9, end - i - 9));
      i = end + 3;
      continue;
    }
    // A tag: read its name, then skip to '>' honouring quoted attribute values.
    std::size_t j = i + 1;
    bool closing = j < m.size() && m[j] == '/';
    if (closing) ++j;
    if (j >= m.size() || !(IsNameChar(m[j]) || m[j] == '!' || m[j] == '?')) {
      out.push_back('<');  // "a < b": not a tag
      ++i;
      continue;
    }
    std::size_t name_begin = j;
    while (j < m.size() && IsNameChar(m[j])) ++j;
    const std::size_t name_end = j;
    std::string name;
    for (char x : m.substr(name_begin, std::min<std::size_t>(j - name_begin, 16))) {
      name.push_back(Lower(x));
    }
    char quote = 0;
    while (j < m.size()) {
      char x = m[j];
      if (quote != 0) {
        if (x == quote) quote = 0;
      } else if (x == '"' || x == '\'') {
        quote = x;
      } else if (x == '>') {
        break;
      }
      ++j;
    }
    if (j >= m.size()) return;  // unterminated tag
    if (on_tag) on_tag(MarkupTag{name, closing, m.substr(name_end, j - name_end), out.size()});
    i = j + 1;
    if (kind == Markup::kHtml && !closing && (name == "script" || name == "style")) {
      std::size_t end = FindCaseless(m, name == "script" ? "</script" : "</style", i);
      if (end == std::string_view::npos) return;
      i = end;  // the closing tag is consumed as a tag next round
      out.push_back(' ');
      continue;
    }
    if (kind == Markup::kHtml && InlineHtmlTag(name)) continue;
    if (kind == Markup::kXml && closing && !out.empty() && out.back() != ' ') {
      // XML: text runs (OOXML <w:t> pieces) of one paragraph split across many elements.
      // Closing a run element joins; closing anything else separates.
      if (name == "w:t" || name == "a:t" || name == "w:r" || name == "text:span") continue;
    }
    if (kind == Markup::kXml && !closing &&
        (name == "w:t" || name == "w:r" || name == "a:t" || name == "text:span" || name == "a:r")) {
      continue;
    }
    if (!out.empty() && out.back() != ' ') out.push_back(' ');
  }
}

bool FindMarkupAttribute(std::string_view a, std::string_view name, std::string& value) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; };
  std::size_t p = 0;
  while (p < a.size()) {
    if (is_space(a[p]) || a[p] == '/') {
      ++p;
      continue;
    }
    const std::size_t attr_begin = p;
    while (p < a.size() && !is_space(a[p]) && a[p] != '=' && a[p] != '/') ++p;
    if (p == attr_begin) ++p;  // a stray '=': skip it
    const std::string_view attr = a.substr(attr_begin, p - attr_begin);
    while (p < a.size() && is_space(a[p])) ++p;
    std::string_view raw;
    if (p < a.size() && a[p] == '=') {
      ++p;
      while (p < a.size() && is_space(a[p])) ++p;
      if (p < a.size() && (a[p] == '"' || a[p] == '\'')) {
        std::size_t end = a.find(a[p], p + 1);
        if (end == std::string_view::npos) end = a.size();
        raw = a.substr(p + 1, end - p - 1);
        p = end + 1;
      } else {
        const std::size_t begin = p;
        while (p < a.size() && !is_space(a[p])) ++p;
        raw = a.substr(begin, p - begin);
      }
    }
    if (attr.size() != name.size() || !StartsWithCaseless(attr, name)) continue;
    value.clear();
    for (std::size_t k = 0; k < raw.size();) {
      std::size_t used = raw[k] == '&' ? DecodeEntity(raw, k, value) : 0;
      if (used == 0) {
        value.push_back(raw[k]);
        ++k;
      } else {
        k += used;
      }
    }
    return true;
  }
  return false;
}

bool LooksLikeXml(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  std::size_t i = bytes.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || bytes[i] != '<') return false;
  std::string_view rest = bytes.substr(i);
  if (rest.substr(0, 5) == "<?xml") return true;
  if (rest.size() > 1 && (rest[1] == '!' || IsNameChar(rest[1]))) return true;
  return false;
}

bool LooksLikeText(std::string_view bytes) {
  std::string_view head = bytes.substr(0, 4096);
  if (head.empty()) return false;
  std::size_t control = 0;
  for (char ch : head) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0) return false;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') ++control;
  }
  return control * 20 <= head.size();
}

}  // namespace bulwark::detectors

#include "detectors/activecontent/markup_scan.h"

#include <cstddef>
#include <cstdint>

#include "detectors/activecontent/ascii.h"

namespace bulwark::detectors::activecontent {
namespace {

constexpr std::size_t npos = std::string_view::npos;

bool IsTagNameChar(char c) { return IsAlnum(c) || c == ':' || c == '-' || c == '_'; }

// Skips spaces at `pos`; returns the first other position.
std::size_t SkipSpaces(std::string_view s, std::size_t pos) {
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
  return pos;
}

// Calls `found(pos)` for each occurrence of `needle` (lowercase) that starts an element or
// attribute name (preceded by '<', ':', or a space), in one pass.
template <typename Found>
void ForEachMarkupName(std::string_view text, std::string_view needle, Found found) {
  std::size_t pos = FindIgnoreCase(text, needle);
  while (pos != npos) {
    const char before = pos == 0 ? ' ' : text[pos - 1];
    if (pos > 0 && (before == '<' || before == ':' || IsSpace(before))) found(pos);
    pos = FindIgnoreCase(text, needle, pos + needle.size());
  }
}

// The field code at `pos` (after optional spaces) starts with DDE: reports which one.
void CheckFieldCode(std::string_view text, std::size_t pos, Evidence& evidence) {
  pos = SkipSpaces(text, pos);
  if (!StartsWithIgnoreCase(text.substr(pos), "dde")) return;
  evidence.Add(StartsWithIgnoreCase(text.substr(pos), "ddeauto") ? "DDEAUTO field" : "DDE field");
}

// RTF: after \fldinst, skips groups, control words and spaces (bounded) to the field code.
void CheckRtfField(std::string_view text, std::size_t pos, Evidence& evidence) {
  const std::size_t limit = pos + 256 < text.size() ? pos + 256 : text.size();
  while (pos < limit) {
    const char c = text[pos];
    if (IsSpace(c) || c == '{' || c == '}') {
      ++pos;
    } else if (c == '\\' && pos + 1 < limit && (IsAlpha(text[pos + 1]) || text[pos + 1] == '*')) {
      ++pos;
      while (pos < limit && (IsAlpha(text[pos]) || text[pos] == '*')) ++pos;
      while (pos < limit && (IsDigit(text[pos]) || text[pos] == '-')) ++pos;
      if (pos < limit && text[pos] == ' ') ++pos;
    } else {
      break;
    }
  }
  CheckFieldCode(text, pos, evidence);
}

// =cmd|'/c calc'!A1: '=' and a short program name before '|', then a quoted topic and '!'.
// Linear: the position of the next "'!" is remembered across candidates.
void ScanDdeFormulas(std::string_view text, Evidence& evidence) {
  std::size_t next_close = 0;  // position of the next "'!" at or after a candidate, or npos
  bool close_known = false;
  for (std::size_t bar = text.find('|'); bar != npos; bar = text.find('|', bar + 1)) {
    if (bar + 1 >= text.size() || text[bar + 1] != '\'') continue;
    std::size_t start = bar;
    while (start > 0 && bar - start < 32 &&
           (IsAlnum(text[start - 1]) || text[start - 1] == '_' || text[start - 1] == '.')) {
      --start;
    }
    if (start == bar || start == 0) continue;
    const char before = text[start - 1];
    if (before != '=' && before != '+' && before != '-' && before != '@') continue;
    if (!close_known || (next_close != npos && next_close <= bar)) {
      next_close = text.find("'!", bar + 2);
      close_known = true;
    }
    if (next_close != npos && next_close - bar <= 1024) {
      evidence.Add("DDE formula");
      return;
    }
  }
}

}  // namespace

Evidence ScanTextForDde(std::string_view text) {
  Evidence evidence;
  // <ddeLink …> (an element, any namespace prefix) and ddeService="…" (an attribute).
  ForEachMarkupName(text, "ddelink", [&](std::size_t pos) {
    const std::size_t after = pos + 7;
    if (text[pos - 1] != ' ' && after < text.size() &&
        (IsSpace(text[after]) || text[after] == '>' || text[after] == '/')) {
      evidence.Add("ddeLink");
    }
  });
  ForEachMarkupName(text, "ddeservice", [&](std::size_t pos) {
    const std::size_t after = SkipSpaces(text, pos + 10);
    if (after < text.size() && text[after] == '=') evidence.Add("ddeService");
  });
  ForEachMarkupName(text, "instrtext", [&](std::size_t pos) {
    if (pos == 0 || text[pos - 1] == '/') return;
    const std::size_t close = text.find('>', pos);
    if (close == npos || close - pos > 512) return;
    CheckFieldCode(text, close + 1, evidence);
  });
  ForEachMarkupName(text, "instr=", [&](std::size_t pos) {
    std::size_t value = pos + 6;
    if (value < text.size() && (text[value] == '"' || text[value] == '\'')) ++value;
    CheckFieldCode(text, value, evidence);
  });
  for (std::size_t pos = FindIgnoreCase(text, "\\fldinst"); pos != npos;
       pos = FindIgnoreCase(text, "\\fldinst", pos + 8)) {
    CheckRtfField(text, pos + 8, evidence);
  }
  ScanDdeFormulas(text, evidence);
  return evidence;
}

Evidence ScanWordStreamForDde(std::string_view s) {
  Evidence evidence;
  for (std::size_t pos = s.find('\x13'); pos != npos; pos = s.find('\x13', pos + 1)) {
    // 8-bit text.
    std::size_t p = pos + 1;
    while (p < s.size() && s[p] == ' ') ++p;
    if (StartsWithIgnoreCase(s.substr(p), "dde")) {
      evidence.Add(StartsWithIgnoreCase(s.substr(p), "ddeauto") ? "DDEAUTO field" : "DDE field");
      continue;
    }
    // UTF-16LE text: 13 00, then spaces (20 00), then D 00 D 00 E 00.
    if (pos + 1 >= s.size() || s[pos + 1] != '\0') continue;
    p = pos + 2;
    while (p + 1 < s.size() && s[p] == ' ' && s[p + 1] == '\0') p += 2;
    static constexpr std::string_view kDde = "dde";
    bool match = true;
    for (std::size_t k = 0; k < kDde.size() && match; ++k) {
      const std::size_t at = p + 2 * k;
      match = at + 1 < s.size() && LowerAscii(s[at]) == kDde[k] && s[at + 1] == '\0';
    }
    if (match) evidence.Add("DDE field");
  }
  return evidence;
}

bool HasProgramAction(std::string_view text) {
  return ContainsIgnoreCase(text, "ppaction://program");
}

BiffScan ScanBiffWorkbook(std::string_view s) {
  BiffScan scan;
  auto u16 = [&](std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) |
                                      (static_cast<unsigned char>(s[at + 1]) << 8));
  };
  if (s.size() < 4 || (u16(0) != 0x0809 && u16(0) != 0x0409 && u16(0) != 0x0209)) return scan;
  std::size_t pos = 0;
  while (pos + 4 <= s.size()) {
    const std::uint16_t id = u16(pos);
    const std::uint16_t length = u16(pos + 2);
    const std::size_t data = pos + 4;
    if (data + length > s.size()) break;
    // BOUNDSHEET: lbPlyPos (4), hsState (1), dt (1); dt 1 = Excel 4 macro sheet.
    if (id == 0x0085 && length >= 6 && s[data + 5] == '\x01') scan.excel4_macro_sheet = true;
    // SUPBOOK: ctab (2), cch (2), then the virtual path; a DDE link's path is
    // "<application>\x03<topic>" ([MS-XLS] 2.4.271).
    if (id == 0x01AE && length > 5 && u16(data) == 0 && u16(data + 2) > 0) {
      const std::string_view path = s.substr(data + 5, length - 5);
      if (path.find('\x03') != npos) scan.dde_link = true;
    }
    pos = data + length;
  }
  return scan;
}

MarkupScan ScanMarkup(std::string_view s) {
  MarkupScan scan;
  std::size_t i = s.find('<');
  while (i != npos && i < s.size()) {
    if (s.substr(i, 4) == "<!--") {
      const std::size_t end = s.find("-->", i + 4);
      if (end == npos) break;
      i = s.find('<', end + 3);
      continue;
    }
    std::size_t p = i + 1;
    const bool closing = p < s.size() && s[p] == '/';
    if (closing) ++p;
    const std::size_t name_start = p;
    while (p < s.size() && IsTagNameChar(s[p])) ++p;
    if (p == name_start || !IsAlpha(s[name_start])) {
      i = s.find('<', i + 1);
      continue;
    }
    std::string_view name = s.substr(name_start, p - name_start);
    if (const std::size_t colon = name.rfind(':'); colon != npos) name.remove_prefix(colon + 1);
    const bool is_script = !closing && EqualsIgnoreCase(name, "script");
    if (is_script) scan.script.Add("<script>");
    if (!closing && EqualsIgnoreCase(name, "svg")) scan.has_svg = true;

    // Attributes up to '>'.
    while (p < s.size() && s[p] != '>') {
      if (IsSpace(s[p]) || s[p] == '/') {
        ++p;
        continue;
      }
      const std::size_t attr_start = p;
      while (p < s.size() && !IsSpace(s[p]) && s[p] != '=' && s[p] != '>' && s[p] != '/') ++p;
      const std::string_view attr = s.substr(attr_start, p - attr_start);
      if (attr.size() > 2 && StartsWithIgnoreCase(attr, "on")) {
        bool letters = true;
        for (char c : attr.substr(2)) letters = letters && IsAlpha(c);
        if (letters && SkipSpaces(s, p) < s.size() && s[SkipSpaces(s, p)] == '=') {
          scan.script.Add("on* event handler");
        }
      }
      p = SkipSpaces(s, p);
      if (p >= s.size() || s[p] != '=') continue;
      p = SkipSpaces(s, p + 1);
      if (p >= s.size()) break;
      std::string_view value;
      if (s[p] == '"' || s[p] == '\'') {
        const std::size_t end = s.find(s[p], p + 1);
        if (end == npos) return scan;
        value = s.substr(p + 1, end - p - 1);
        p = end + 1;
      } else {
        const std::size_t start = p;
        while (p < s.size() && !IsSpace(s[p]) && s[p] != '>') ++p;
        value = s.substr(start, p - start);
      }
      value = value.substr(std::min(value.size(), SkipSpaces(value, 0)));
      if (StartsWithIgnoreCase(value, "javascript:")) scan.script.Add("javascript: URL");
      if (StartsWithIgnoreCase(value, "vbscript:")) scan.script.Add("vbscript: URL");
    }
    if (p >= s.size()) break;
    if (is_script) {
      const std::size_t end = FindIgnoreCase(s, "</script", p);
      if (end == npos) break;
      p = end;
    }
    i = s.find('<', p);
  }
  return scan;
}

}  // namespace bulwark::detectors::activecontent

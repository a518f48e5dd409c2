#include "detectors/urls/url_heuristics.h"

#include <libpsl.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "detectors/urls/url_extract.h"

namespace bulwark::urls {
namespace {

// Common public URL shorteners, matched against the host and its registrable domain.
constexpr std::string_view kShorteners[] = {
    "adf.ly",     "bit.do",      "bit.ly",     "bitly.com",  "bl.ink",     "buff.ly",
    "clck.ru",    "cli.re",      "cutt.ly",    "db.tt",      "did.li",     "dlvr.it",
    "fb.me",      "goo.gl",      "is.gd",      "j.mp",       "lnkd.in",    "mcaf.ee",
    "ow.ly",      "po.st",       "q.gs",       "qr.ae",      "rb.gy",      "rebrand.ly",
    "s.id",       "shorte.st",   "shorturl.at", "snip.ly",   "su.pr",      "t.co",
    "t.ly",       "tiny.cc",    "tiny.one",   "tinyurl.com", "tr.im",
    "trib.al",    "u.to",        "urlz.fr",    "v.gd",       "w.wiki",     "wp.me",
    "x.co",       "y2u.be",      "yourls.org", "zpr.io",     "1url.com",   "2.gy",
};

enum class Script : std::uint8_t {
  kCommon,  // digits, '-', '_', combining marks: belong to every script
  kLatin,
  kGreek,
  kCyrillic,
  kArmenian,
  kHebrew,
  kArabic,
  kGeorgian,
  kCherokee,
  kThai,
  kHan,
  kHiragana,
  kKatakana,
  kHangul,
  kBopomofo,
  kOther,
};

std::string_view ScriptName(Script s) {
  static constexpr std::array<std::string_view, 16> kNames = {
      "Common", "Latin",  "Greek",    "Cyrillic", "Armenian", "Hebrew",   "Arabic",   "Georgian",
      "Cherokee", "Thai", "Han",      "Hiragana", "Katakana", "Hangul",   "Bopomofo", "Other"};
  return kNames[static_cast<std::size_t>(s)];
}

Script ScriptOf(std::uint32_t cp) {
  struct Range {
    std::uint32_t first, last;
    Script script;
  };
  static constexpr Range kRanges[] = {
      {'0', '9', Script::kCommon},        {'-', '-', Script::kCommon},
      {'_', '_', Script::kCommon},        {'a', 'z', Script::kLatin},
      {'A', 'Z', Script::kLatin},         {0x00C0, 0x00D6, Script::kLatin},
      {0x00D8, 0x00F6, Script::kLatin},   {0x00F8, 0x024F, Script::kLatin},
      {0x0300, 0x036F, Script::kCommon},  {0x0370, 0x03FF, Script::kGreek},
      {0x0400, 0x052F, Script::kCyrillic}, {0x0530, 0x058F, Script::kArmenian},
      {0x0590, 0x05FF, Script::kHebrew},  {0x0600, 0x06FF, Script::kArabic},
      {0x0750, 0x077F, Script::kArabic},  {0x08A0, 0x08FF, Script::kArabic},
      {0x0E00, 0x0E7F, Script::kThai},    {0x10A0, 0x10FF, Script::kGeorgian},
      {0x1100, 0x11FF, Script::kHangul},  {0x13A0, 0x13FF, Script::kCherokee},
      {0x1C80, 0x1C8F, Script::kCyrillic}, {0x1E00, 0x1EFF, Script::kLatin},
      {0x1F00, 0x1FFF, Script::kGreek},   {0x2C60, 0x2C7F, Script::kLatin},
      {0x2DE0, 0x2DFF, Script::kCyrillic}, {0x3040, 0x309F, Script::kHiragana},
      {0x30A0, 0x30FF, Script::kKatakana}, {0x3100, 0x312F, Script::kBopomofo},
      {0x3130, 0x318F, Script::kHangul},  {0x3400, 0x4DBF, Script::kHan},
      {0x4E00, 0x9FFF, Script::kHan},     {0xA640, 0xA69F, Script::kCyrillic},
      {0xA720, 0xA7FF, Script::kLatin},   {0xAB70, 0xABBF, Script::kCherokee},
      {0xAC00, 0xD7AF, Script::kHangul},  {0xF900, 0xFAFF, Script::kHan},
      {0xFB50, 0xFDFF, Script::kArabic},  {0xFE70, 0xFEFF, Script::kArabic},
      {0x20000, 0x3FFFF, Script::kHan},
  };
  for (const Range& r : kRanges) {
    if (cp >= r.first && cp <= r.last) return r.script;
  }
  return Script::kOther;
}

// Decodes one UTF-8 sequence at s[i]; advances i. Invalid bytes yield 0xFFFD.
std::uint32_t NextCodePoint(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i++]);
  if (b0 < 0x80) return b0;
  int extra = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : b0 >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  std::uint32_t cp = b0 & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

bool OrdinaryMix(const std::vector<Script>& scripts) {
  auto within = [&](std::initializer_list<Script> allowed) {
    return std::all_of(scripts.begin(), scripts.end(), [&](Script s) {
      return std::find(allowed.begin(), allowed.end(), s) != allowed.end();
    });
  };
  using S = Script;
  return within({S::kLatin, S::kHan, S::kHiragana, S::kKatakana}) ||
         within({S::kLatin, S::kHan, S::kBopomofo}) || within({S::kLatin, S::kHan, S::kHangul});
}

}  // namespace

DomainRules::DomainRules() {
  // psl_latest: the newer of libpsl's built-in list and the distribution's file. It reads
  // a local file only. psl_builtin() is a static list that must not be freed.
  if (psl_ctx_t* latest = psl_latest(nullptr)) {
    psl_ = latest;
    owns_psl_ = true;
  } else {
    psl_ = psl_builtin();
  }
}

DomainRules::~DomainRules() {
  if (owns_psl_) psl_free(const_cast<psl_ctx_t*>(psl_));
}

std::string DomainRules::RegistrableDomain(std::string_view ascii_host) const {
  std::string host(ascii_host);
  if (psl_ == nullptr || host.empty() || host.front() == '[') return host;
  const char* registrable = psl_registrable_domain(psl_, host.c_str());
  return registrable != nullptr ? std::string(registrable) : host;
}

bool DomainRules::HasKnownSuffix(std::string_view ascii_host) const {
  const std::size_t dot = ascii_host.rfind('.');
  if (psl_ == nullptr || dot == std::string_view::npos || dot + 1 >= ascii_host.size()) {
    return false;
  }
  std::string tld(ascii_host.substr(dot + 1));
  return psl_is_public_suffix2(psl_, tld.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

std::optional<std::string> DomainRules::DomainShownIn(std::string_view text) const {
  Extraction found;
  ExtractFromText(text, found);
  for (const FoundUrl& written : found.urls) {
    if (auto url = ParseUrl(written.raw); url && url->host_kind == HostKind::kDomain) {
      return url->host;
    }
  }
  // One word with a dot: "PayPal.com", "paypal.com/signin".
  while (!text.empty() && static_cast<unsigned char>(text.front()) <= 0x20) text.remove_prefix(1);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) <= 0x20 || text.back() == '.' ||
                           text.back() == ',' || text.back() == ')')) {
    text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 253 || text.find('.') == std::string_view::npos) {
    return std::nullopt;
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '@' || c == ':') return std::nullopt;
  }
  auto url = ParseUrl("http://" + std::string(text));
  if (!url || url->host_kind != HostKind::kDomain || !HasKnownSuffix(url->host)) {
    return std::nullopt;
  }
  return url->host;
}

bool DomainRules::IsShortener(std::string_view ascii_host) const {
  auto listed = [](std::string_view host) {
    return std::find(std::begin(kShorteners), std::end(kShorteners), host) !=
           std::end(kShorteners);
  };
  return listed(ascii_host) || listed(RegistrableDomain(ascii_host));
}

std::string MixedScripts(std::string_view host) {
  std::size_t i = 0;
  while (i < host.size()) {
    std::vector<Script> scripts;  // of this label, first-seen order
    while (i < host.size() && host[i] != '.') {
      const Script script = ScriptOf(NextCodePoint(host, i));
      if (script == Script::kCommon) continue;
      if (std::find(scripts.begin(), scripts.end(), script) == scripts.end()) {
        scripts.push_back(script);
      }
    }
    ++i;  // the dot
    if (scripts.size() < 2 || OrdinaryMix(scripts)) continue;
    std::string names;
    for (Script s : scripts) {
      if (!names.empty()) names += "+";
      names += ScriptName(s);
    }
    return names;
  }
  return {};
}

}  // namespace bulwark::urls

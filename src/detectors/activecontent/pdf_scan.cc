#include "detectors/activecontent/pdf_scan.h"

#include <cstddef>

#include "bulwark/common/text.h"
#include "detectors/activecontent/ascii.h"

namespace bulwark::detectors::activecontent {
namespace {

// PDF delimiters and white space end a name (ISO 32000-1, 7.2.2).
bool EndsName(char c) {
  switch (c) {
    case '\0':
    case '\t':
    case '\n':
    case '\f':
    case '\r':
    case ' ':
    case '(':
    case ')':
    case '<':
    case '>':
    case '[':
    case ']':
    case '{':
    case '}':
    case '/':
    case '%':
      return true;
    default:
      return false;
  }
}


}  // namespace

PdfScan ScanPdf(std::string_view s) {
  PdfScan scan;
  // Longer names than this are none of ours; they are skipped, still in linear time.
  constexpr std::size_t kMaxName = 16;
  char name[kMaxName];
  for (std::size_t i = s.find('/'); i != std::string_view::npos;) {
    std::size_t p = i + 1;
    std::size_t length = 0;
    bool too_long = false;
    while (p < s.size() && !EndsName(s[p])) {
      char c = s[p];
      if (c == '#' && p + 2 < s.size() && HexDigitValue(s[p + 1]) >= 0 && HexDigitValue(s[p + 2]) >= 0) {
        c = static_cast<char>(HexDigitValue(s[p + 1]) * 16 + HexDigitValue(s[p + 2]));
        p += 3;
      } else {
        ++p;
      }
      if (length < kMaxName) {
        name[length++] = c;
      } else {
        too_long = true;
      }
    }
    if (!too_long) {
      const std::string_view token(name, length);
      if (token == "JavaScript" || token == "JS")
        scan.javascript = true;
      else if (token == "OpenAction")
        scan.open_action = true;
      else if (token == "AA")
        scan.additional_actions = true;
      else if (token == "Launch")
        scan.launch = true;
      else if (token == "EmbeddedFile" || token == "EmbeddedFiles")
        scan.embedded_file = true;
      else if (token == "XFA")
        scan.xfa = true;
      else if (token == "RichMedia")
        scan.rich_media = true;
    }
    i = (p < s.size() && s[p] == '/') ? p : s.find('/', p);
  }
  return scan;
}

}  // namespace bulwark::detectors::activecontent

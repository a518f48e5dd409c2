#include "http/url.h"

#include <utility>

#include "bulwark/common/text.h"

namespace bulwark::http {

Result<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return InvalidArgumentError("truncated percent escape");
      }
      int hi = HexDigitValue(static_cast<unsigned char>(text[i + 1]));
      int lo = HexDigitValue(static_cast<unsigned char>(text[i + 2]));
      if (hi < 0 || lo < 0) return InvalidArgumentError("bad percent escape");
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::multimap<std::string, std::string>> ParseQuery(std::string_view query) {
  std::multimap<std::string, std::string> out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    std::size_t eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    BULWARK_ASSIGN_OR_RETURN(std::string name, PercentDecode(raw_name, true));
    BULWARK_ASSIGN_OR_RETURN(std::string value, PercentDecode(raw_value, true));
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

Result<ParsedTarget> ParseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return InvalidArgumentError("request target must be an absolute path");
  }
  std::size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  ParsedTarget parsed;
  BULWARK_ASSIGN_OR_RETURN(parsed.path, PercentDecode(raw_path, false));
  if (parsed.path.find('\0') != std::string::npos) {
    return InvalidArgumentError("NUL in path");
  }
  std::string_view rest(parsed.path);
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the '/'
    std::size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment == "." || segment == "..") return InvalidArgumentError("dot segment in path");
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash);
  }
  if (question != std::string_view::npos) {
    BULWARK_ASSIGN_OR_RETURN(parsed.query, ParseQuery(target.substr(question + 1)));
  }
  return parsed;
}

}  // namespace bulwark::http

#include "detectors/senderauth/auth_headers.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace bulwark::senderauth {
namespace {

constexpr std::size_t kMaxResults = 64;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Removes RFC 5322 comments (nested parentheses, backslash escapes), leaving quoted strings
// alone; each comment becomes one space.
std::string StripComments(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (quoted || depth > 0)) {
      if (depth == 0) {
        out += c;
        out += s[i + 1];
      }
      ++i;
      continue;
    }
    if (depth == 0 && c == '"') quoted = !quoted;
    if (!quoted && c == '(') {
      if (depth++ == 0) out += ' ';
      continue;
    }
    if (!quoted && c == ')' && depth > 0) {
      --depth;
      continue;
    }
    if (depth == 0) out += c;
  }
  return out;
}

// Canonical text of an IPv4 or IPv6 address ("IPv6:" prefix allowed), or "".
std::string CanonicalIp(std::string_view text) {
  if (text.size() > 5 && EqualsIgnoreCase(text.substr(0, 5), "ipv6:")) text.remove_prefix(5);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return "";
  const std::string s(text);
  char buf[INET6_ADDRSTRLEN];
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    return inet_ntop(AF_INET, &v4, buf, sizeof buf) ? std::string(buf) : "";
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    return inet_ntop(AF_INET6, &v6, buf, sizeof buf) ? std::string(buf) : "";
  }
  return "";
}

std::string StripDot(std::string s) {
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool IsTokenChar(char c) {
  // RFC 2045 token: printable ASCII except SPACE and tspecials.
  if (c <= ' ' || c >= 127) return false;
  return std::strchr("()<>@,;:\\\"/[]?=", c) == nullptr;
}

// A value as written in an Authentication-Results field: token or quoted string.
std::string Quote(std::string_view value, bool allow_domain_chars) {
  bool token = !value.empty();
  for (char c : value) {
    if (!(IsTokenChar(c) || (allow_domain_chars && c == '@'))) token = false;
  }
  if (token) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (static_cast<unsigned char>(c) < ' ' || c == 127) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// Splits `s` at `sep` outside quoted strings.
std::vector<std::string_view> SplitOutsideQuotes(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted) {
      ++i;
      continue;
    }
    if (s[i] == '"') quoted = !quoted;
    if (!quoted && s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

// Reads `key=value` pairs separated by white space (value: token or quoted string; a bare
// word without `=` has an empty value).
std::vector<std::pair<std::string, std::string>> ReadPairs(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t i = 0;
  while (i < s.size() && pairs.size() < 256) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size()) break;
    std::string key;
    while (i < s.size() && !IsSpace(s[i]) && s[i] != '=') key += s[i++];
    while (i < s.size() && IsSpace(s[i])) ++i;
    std::string value;
    if (i < s.size() && s[i] == '=') {
      ++i;
      while (i < s.size() && IsSpace(s[i])) ++i;
      if (i < s.size() && s[i] == '"') {
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          value += s[i++];
        }
        if (i < s.size()) ++i;
      } else {
        while (i < s.size() && !IsSpace(s[i])) value += s[i++];
      }
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  return pairs;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::vector<HeaderField> ParseHeaderFields(std::string_view message) {
  std::vector<HeaderField> fields;
  std::size_t pos = 0;
  while (pos < message.size() && fields.size() < kMaxHeaderFields) {
    std::size_t eol = message.find('\n', pos);
    if (eol == std::string_view::npos) eol = message.size();
    std::string_view line = message.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header
    if (line.front() == ' ' || line.front() == '\t') {
      if (fields.empty()) break;  // continuation without a field: not a header
      std::string& value = fields.back().value;
      if (value.size() < kMaxHeaderValue) {
        value += line.substr(0, kMaxHeaderValue - value.size());
      }
    } else {
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) break;
      std::string_view name = line.substr(0, colon);
      if (std::any_of(name.begin(), name.end(), [](char c) { return c <= ' ' || c >= 127; })) {
        break;
      }
      HeaderField field;
      field.name = std::string(name);
      field.value = std::string(line.substr(colon + 1, kMaxHeaderValue));
      fields.push_back(std::move(field));
    }
    pos = eol + 1;
  }
  for (HeaderField& field : fields) field.value = std::string(Trim(field.value));
  return fields;
}

std::string AddressOf(std::string_view field_value) {
  const std::string text = StripComments(field_value);
  std::string_view s = text;
  // Several mailboxes (a comma outside quoted strings) are not one address.
  std::size_t mailboxes = 0;
  for (std::string_view part : SplitOutsideQuotes(s, ',')) mailboxes += !Trim(part).empty();
  if (mailboxes > 1) return "";
  std::string_view addr = s;
  const std::size_t lt = s.rfind('<');
  if (lt != std::string_view::npos) {
    const std::size_t gt = s.find('>', lt);
    addr = s.substr(lt + 1, gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1);
  }
  addr = Trim(addr);
  if (!addr.empty() && addr.back() == ',') addr.remove_suffix(1);
  if (addr.empty() || addr.find_first_of(" \t\"") != std::string_view::npos) {
    // A display name without angle brackets, or a quoted local part with spaces: keep only
    // the last word, which holds the address when there is one.
    const std::size_t sp = addr.find_last_of(" \t");
    if (sp != std::string_view::npos) addr = addr.substr(sp + 1);
  }
  const std::size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return std::string(addr);
  return std::string(addr.substr(0, at + 1)) + StripDot(ToLower(addr.substr(at + 1)));
}

std::string AddressDomain(std::string_view field_value) {
  const std::string address = AddressOf(field_value);
  const std::size_t at = address.rfind('@');
  if (at == std::string::npos) return "";
  std::string domain = address.substr(at + 1);
  if (domain.empty() || domain.front() == '[' || domain.find('.') == std::string::npos) return "";
  for (char c : domain) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
          static_cast<unsigned char>(c) >= 0x80)) {
      return "";
    }
  }
  return domain;
}

std::optional<ReceivedFrom> ParseReceived(std::string_view value) {
  // "from" must start the field (RFC 5321 §4.4 Stamp); the clause ends at " by ".
  std::string_view v = Trim(value);
  if (v.size() < 5 || !EqualsIgnoreCase(v.substr(0, 5), "from ")) return std::nullopt;
  v.remove_prefix(5);
  ReceivedFrom out;
  // The receiving host: the word after the first " by " outside comments.
  const std::string no_comments = StripComments(v);
  std::string_view plain = no_comments;
  std::string_view clause = v;
  for (std::size_t i = 0; i + 4 <= plain.size(); ++i) {
    if (IsSpace(plain[i]) && EqualsIgnoreCase(plain.substr(i + 1, 3), "by ")) {
      std::string_view rest = Trim(plain.substr(i + 4));
      out.by = StripDot(ToLower(rest.substr(0, rest.find_first_of(" \t;"))));
      break;
    }
  }
  // In the raw text the clause before " by " may contain comments with "by" inside; find
  // the first " by " at depth 0.
  int depth = 0;
  for (std::size_t i = 0; i + 4 <= v.size(); ++i) {
    if (v[i] == '(') ++depth;
    if (v[i] == ')' && depth > 0) --depth;
    if (depth == 0 && IsSpace(v[i]) && EqualsIgnoreCase(v.substr(i + 1, 3), "by ")) {
      clause = v.substr(0, i);
      break;
    }
  }
  clause = Trim(clause);
  // HELO: the first word, unless it is an address literal.
  const std::string_view first = clause.substr(0, clause.find_first_of(" \t("));
  if (!first.empty() && first.front() != '[') out.helo = StripDot(std::string(first));
  // Exim's "(helo=name)".
  for (std::size_t i = 0; i + 5 <= clause.size(); ++i) {
    if (EqualsIgnoreCase(clause.substr(i, 5), "helo=")) {
      std::string_view h = clause.substr(i + 5);
      h = h.substr(0, h.find_first_of(" \t)]"));
      if (out.helo.empty()) out.helo = StripDot(std::string(h));
      break;
    }
  }
  // The address: the first bracketed literal that parses.
  std::size_t at = 0;
  while ((at = clause.find('[', at)) != std::string_view::npos) {
    const std::size_t close = clause.find(']', at);
    if (close == std::string_view::npos) break;
    std::string ip = CanonicalIp(clause.substr(at + 1, close - at - 1));
    if (!ip.empty()) {
      out.ip = std::move(ip);
      break;
    }
    at = close;
  }
  if (out.ip.empty()) return std::nullopt;
  return out;
}

std::string_view AuthResultsEntry::Property(std::string_view ptype_name,
                                            std::string_view property_name) const {
  for (const auto& p : properties) {
    if (EqualsIgnoreCase(p.ptype, ptype_name) && EqualsIgnoreCase(p.property, property_name)) {
      return p.value;
    }
  }
  return {};
}

std::optional<AuthResults> ParseAuthenticationResults(std::string_view value) {
  const std::string text = StripComments(value.substr(0, kMaxHeaderValue));
  const std::vector<std::string_view> parts = SplitOutsideQuotes(text, ';');
  AuthResults out;
  // authserv-id [version]
  std::string_view head = Trim(parts[0]);
  head = head.substr(0, head.find_first_of(" \t"));
  if (head.size() >= 2 && head.front() == '"' && head.back() == '"') {
    head = head.substr(1, head.size() - 2);
  }
  if (head.empty() || std::any_of(head.begin(), head.end(), [](char c) {
        return static_cast<unsigned char>(c) < ' ' || c == 127;
      })) {
    return std::nullopt;  // no authserv-id, or one with control bytes (not a value)
  }
  out.authserv_id = ToLower(head);
  for (std::size_t i = 1; i < parts.size() && out.results.size() < kMaxResults; ++i) {
    const auto pairs = ReadPairs(parts[i]);
    if (pairs.empty()) continue;
    if (pairs.size() == 1 && pairs[0].second.empty() && EqualsIgnoreCase(pairs[0].first, "none")) {
      continue;
    }
    AuthResultsEntry entry;
    std::string method = ToLower(pairs[0].first);
    if (const std::size_t slash = method.find('/'); slash != std::string::npos) {
      method.resize(slash);  // method version
    }
    if (method.empty() || pairs[0].second.empty()) continue;
    entry.method = std::move(method);
    entry.result = ToLower(pairs[0].second);
    for (std::size_t k = 1; k < pairs.size(); ++k) {
      const auto& [key, val] = pairs[k];
      if (EqualsIgnoreCase(key, "reason")) {
        entry.reason = val;
        continue;
      }
      const std::size_t dot = key.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == key.size()) continue;
      entry.properties.push_back({ToLower(key.substr(0, dot)), ToLower(key.substr(dot + 1)), val});
    }
    out.results.push_back(std::move(entry));
  }
  return out;
}

std::string RenderAuthenticationResults(const AuthResults& results) {
  std::string id;
  for (char c : results.authserv_id) {
    if (static_cast<unsigned char>(c) >= ' ' && c != 127) id += c;
  }
  std::string out = Quote(id.empty() ? "unknown" : id, false);
  if (results.results.empty()) return out + "; none";
  for (const AuthResultsEntry& entry : results.results) {
    out += ";\r\n\t";
    out += Quote(entry.method, false) + "=" + Quote(entry.result, false);
    if (!entry.reason.empty()) out += " reason=" + Quote(entry.reason, false);
    for (const AuthResultsProperty& p : entry.properties) {
      out += " " + Quote(p.ptype, false) + "." + Quote(p.property, false) + "=" +
             Quote(p.value, true);
    }
  }
  return out;
}

}  // namespace bulwark::senderauth

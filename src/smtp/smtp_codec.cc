#include "smtp/smtp_codec.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace bulwark::smtp {
namespace {

constexpr std::size_t kMaxPathBytes = 256;     // RFC 5321 §4.5.3.1.3
constexpr std::size_t kLongLineFlush = 65536;  // DATA lines longer than this are streamed

char Upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Upper(x) == Upper(y); });
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

bool IsControl(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Printable ASCII or UTF-8 (SMTPUTF8), no space, none of the bytes that break a path.
bool IsPathByte(char c) { return !IsControl(c) && c != ' ' && c != '<' && c != '>' && c != '\\'; }

bool IsDomainByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || c == '-' || c == '.' || u >= 0x80;
}

bool IsValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 255) return false;
  if (domain.front() == '[') {  // address literal
    return domain.size() > 2 && domain.back() == ']' &&
           std::all_of(domain.begin() + 1, domain.end() - 1,
                       [](char c) { return !IsControl(c) && c != ' ' && c != '[' && c != ']'; });
  }
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(domain.begin(), domain.end(), IsDomainByte);
}

struct VerbName {
  std::string_view name;
  SmtpVerb verb;
};
constexpr std::array<VerbName, 14> kVerbs{{
    {"HELO", SmtpVerb::kHelo},
    {"EHLO", SmtpVerb::kEhlo},
    {"MAIL", SmtpVerb::kMail},
    {"RCPT", SmtpVerb::kRcpt},
    {"DATA", SmtpVerb::kData},
    {"RSET", SmtpVerb::kRset},
    {"NOOP", SmtpVerb::kNoop},
    {"QUIT", SmtpVerb::kQuit},
    {"VRFY", SmtpVerb::kVrfy},
    {"EXPN", SmtpVerb::kExpn},
    {"HELP", SmtpVerb::kHelp},
    {"STARTTLS", SmtpVerb::kStartTls},
    {"BDAT", SmtpVerb::kBdat},
    {"AUTH", SmtpVerb::kAuth},
}};

Status ParseParameters(std::string_view rest, PathArgument& out) {
  while (!rest.empty()) {
    if (rest.front() == ' ') {
      rest.remove_prefix(1);
      continue;
    }
    std::size_t end = std::min(rest.find(' '), rest.size());
    std::string_view item = rest.substr(0, end);
    rest.remove_prefix(end);
    std::size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    bool key_ok = !key.empty() && std::isalnum(static_cast<unsigned char>(key.front())) != 0 &&
                  std::all_of(key.begin(), key.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
                  });
    bool value_ok =
        std::none_of(value.begin(), value.end(), [](char c) { return IsControl(c) || c == '='; });
    if (!key_ok || !value_ok) {
      return InvalidArgumentError("malformed parameter \"" + std::string(item) + "\"");
    }
    std::string upper(key);
    std::transform(upper.begin(), upper.end(), upper.begin(), Upper);
    out.parameters.emplace_back(std::move(upper), std::string(value));
  }
  return OkStatus();
}

}  // namespace

SmtpCommand ParseCommand(std::string_view line) {
  SmtpCommand command;
  std::size_t space = line.find(' ');
  std::string_view verb = line.substr(0, space);
  for (const VerbName& v : kVerbs) {
    if (EqualsIgnoreCase(verb, v.name)) command.verb = v.verb;
  }
  if (space != std::string_view::npos) {
    std::string_view argument = line.substr(space + 1);
    while (!argument.empty() && (argument.back() == ' ' || argument.back() == '\t')) {
      argument.remove_suffix(1);
    }
    command.argument = std::string(argument);
  }
  return command;
}

const std::string* PathArgument::Find(std::string_view keyword) const {
  for (const auto& [key, value] : parameters) {
    if (key == keyword) return &value;
  }
  return nullptr;
}

Result<PathArgument> ParsePath(std::string_view argument, std::string_view keyword,
                               bool allow_null) {
  std::string expected = std::string(keyword) + ":";
  if (!StartsWithIgnoreCase(argument, expected)) {
    return InvalidArgumentError("expected " + expected + "<address>");
  }
  std::string_view rest = argument.substr(expected.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);  // "FROM: <a@b>"
  std::string_view path;
  if (!rest.empty() && rest.front() == '<') {
    std::size_t close = rest.find('>');
    if (close == std::string_view::npos) return InvalidArgumentError("unterminated <address>");
    path = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ' ') {
      return InvalidArgumentError("text after <address>");
    }
  } else {  // a bare address, as lenient servers accept
    std::size_t end = std::min(rest.find(' '), rest.size());
    path = rest.substr(0, end);
    rest.remove_prefix(end);
    if (path.empty()) return InvalidArgumentError("expected " + expected + "<address>");
  }
  if (!path.empty() && path.front() == '@') {  // source route: ignored (RFC 5321 §4.1.2)
    std::size_t colon = path.find(':');
    if (colon == std::string_view::npos) return InvalidArgumentError("malformed source route");
    path.remove_prefix(colon + 1);
  }
  PathArgument out;
  if (path.empty()) {
    if (!allow_null) return InvalidArgumentError("a null address <> is not allowed here");
  } else {
    if (path.size() > kMaxPathBytes) return InvalidArgumentError("address too long");
    if (!std::all_of(path.begin(), path.end(), IsPathByte)) {
      return InvalidArgumentError("invalid character in address");
    }
    std::size_t at = path.rfind('@');
    bool postmaster = at == std::string_view::npos && EqualsIgnoreCase(path, "postmaster");
    if (!postmaster &&
        (at == std::string_view::npos || at == 0 || !IsValidDomain(path.substr(at + 1)))) {
      return InvalidArgumentError("address must be local-part@domain");
    }
    out.address = std::string(path);
  }
  BULWARK_RETURN_IF_ERROR(ParseParameters(rest, out));
  return out;
}

std::string DomainOf(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string domain(address.substr(at + 1));
  std::transform(domain.begin(), domain.end(), domain.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return domain;
}

std::string SmtpReply::Text() const {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

SmtpReply MakeReply(int code, std::string enhanced, std::string text) {
  SmtpReply reply;
  reply.code = code;
  reply.enhanced = std::move(enhanced);
  reply.lines.push_back(std::move(text));
  return reply;
}

std::string FormatReply(const SmtpReply& reply) {
  int code = std::clamp(reply.code, 200, 599);
  std::string out;
  std::vector<std::string> lines = reply.lines;
  if (lines.empty()) lines.emplace_back();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += std::to_string(code);
    out += i + 1 < lines.size() ? '-' : ' ';
    if (!reply.enhanced.empty()) out += reply.enhanced + (lines[i].empty() ? "" : " ");
    std::string text = lines[i].substr(0, 900);
    std::replace_if(text.begin(), text.end(), IsControl, ' ');
    out += text;
    out += "\r\n";
  }
  return out;
}

std::optional<ReplyLine> ParseReplyLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() < 3 ||
      !std::all_of(line.begin(), line.begin() + 3, [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  ReplyLine out;
  out.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (out.code < 200 || out.code > 599) return std::nullopt;
  if (line.size() > 3) {
    if (line[3] != ' ' && line[3] != '-') return std::nullopt;
    out.last = line[3] == ' ';
  }
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  // An enhanced code "x.y.z" whose class matches the reply's.
  std::size_t space = std::min(text.find(' '), text.size());
  std::string_view first = text.substr(0, space);
  bool enhanced = first.size() >= 5 && first[0] == line[0] && first[1] == '.' &&
                  std::count(first.begin(), first.end(), '.') == 2 &&
                  std::all_of(first.begin(), first.end(),
                              [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
  if (enhanced) {
    out.enhanced = std::string(first);
    text.remove_prefix(std::min(space + 1, text.size()));
  }
  out.text = std::string(text);
  return out;
}

// --- DATA --------------------------------------------------------------------------------

void DataDecoder::Append(std::string_view bytes) {
  size_ += bytes.size();
  if (too_big_ || size_ > max_bytes_) {
    too_big_ = true;
    message_.clear();  // nothing of an oversized message is kept
    return;
  }
  message_.append(bytes);
}

void DataDecoder::EndLine() {
  // line_ holds a whole line with its end (or the tail of a long one when mid_line_).
  if (!mid_line_ && line_ == ".\r\n") {
    done_ = true;
  } else {
    if (line_.size() < 2 || line_[line_.size() - 2] != '\r') bare_lf_ = true;
    std::string_view text = line_;
    if (!mid_line_ && !text.empty() && text.front() == '.') text.remove_prefix(1);
    Append(text);
  }
  line_.clear();
  mid_line_ = false;
}

std::size_t DataDecoder::Feed(std::string_view input) {
  std::size_t taken = 0;
  while (!done_ && taken < input.size()) {
    std::string_view rest = input.substr(taken);
    std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) {
      line_.append(rest);
      taken = input.size();
      if (line_.size() > kLongLineFlush) {  // keep the last byte: it may be the CR
        std::string_view head(line_.data(), line_.size() - 1);
        if (!mid_line_ && !head.empty() && head.front() == '.') head.remove_prefix(1);
        Append(head);
        line_.erase(0, line_.size() - 1);
        mid_line_ = true;
      }
      break;
    }
    line_.append(rest.substr(0, newline + 1));
    taken += newline + 1;
    EndLine();
  }
  return taken;
}

std::string DotStuff(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < message.size(); ++i) {
    char c = message[i];
    if (line_start && c == '.') out += '.';
    if (c == '\n' && (i == 0 || message[i - 1] != '\r')) out += '\r';
    out += c;
    line_start = c == '\n';
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

bool IsValidHeloName(std::string_view name) {
  return !name.empty() && name.size() <= 255 &&
         std::all_of(name.begin(), name.end(), [](char c) { return !IsControl(c) && c != ' '; });
}

}  // namespace bulwark::smtp

#include "imap/imap_response.h"

#include <charconv>
#include <cstring>

#include "bulwark/common/text.h"

namespace bulwark::imap {
namespace {


// A line that ends in a literal announcement: "{123}" or "{123+}" (also literal8 "~{123}").
// Returns the announced size.
std::optional<std::uint64_t> TrailingLiteral(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

class Cursor {
 public:
  Cursor(std::string_view raw, const ImapLimits& limits) : raw_(raw), limits_(limits) {}

  bool done() const { return pos_ >= raw_.size(); }
  char peek() const { return done() ? '\0' : raw_[pos_]; }
  void SkipSpaces() {
    while (!done() && raw_[pos_] == ' ') ++pos_;
  }
  std::string_view Rest() {
    std::string_view rest = raw_.substr(pos_);
    pos_ = raw_.size();
    return rest;
  }

  // Up to the next space (or the end): a tag or the first word.
  std::string_view Word() {
    std::size_t start = pos_;
    while (!done() && raw_[pos_] != ' ') ++pos_;
    return raw_.substr(start, pos_ - start);
  }

  // "[...]" at the cursor: its inside, the cursor after the ']'.
  Result<std::string_view> Bracketed() {
    std::size_t close = raw_.find(']', pos_);
    if (close == std::string_view::npos) return InvalidArgumentError("unterminated response code");
    std::string_view inside = raw_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    return inside;
  }

  Result<std::vector<ImapValue>> Values(int depth, bool in_list) {
    if (depth > limits_.max_depth) return InvalidArgumentError("lists nested too deeply");
    std::vector<ImapValue> values;
    for (;;) {
      SkipSpaces();
      if (done()) {
        if (in_list) return InvalidArgumentError("unterminated list");
        return values;
      }
      char c = peek();
      if (c == ')') {
        if (!in_list) return InvalidArgumentError("unexpected ')'");
        ++pos_;
        return values;
      }
      BULWARK_ASSIGN_OR_RETURN(ImapValue value, Value(depth));
      values.push_back(std::move(value));
    }
  }

 private:
  Result<ImapValue> Value(int depth) {
    ImapValue value;
    char c = peek();
    if (c == '(') {
      ++pos_;
      value.kind = ImapValue::Kind::kList;
      BULWARK_ASSIGN_OR_RETURN(value.items, Values(depth + 1, /*in_list=*/true));
      return value;
    }
    if (c == '"') {
      value.kind = ImapValue::Kind::kString;
      BULWARK_ASSIGN_OR_RETURN(value.text, Quoted());
      return value;
    }
    if (c == '{' || (c == '~' && pos_ + 1 < raw_.size() && raw_[pos_ + 1] == '{')) {
      value.kind = ImapValue::Kind::kString;
      BULWARK_ASSIGN_OR_RETURN(value.text, Literal());
      return value;
    }
    BULWARK_ASSIGN_OR_RETURN(value.text, Atom());
    if (EqualsIgnoreCase(value.text, "NIL")) {
      value.kind = ImapValue::Kind::kNil;
      value.text.clear();
    }
    return value;
  }

  Result<std::string> Quoted() {
    ++pos_;  // the opening quote
    std::string out;
    while (!done()) {
      char c = raw_[pos_++];
      if (c == '"') return out;
      if (c == '\r' || c == '\n' || c == '\0') {
        return InvalidArgumentError("line break inside a quoted string");
      }
      if (c == '\\') {
        if (done()) break;
        c = raw_[pos_++];
        if (c != '\\' && c != '"') return InvalidArgumentError("invalid escape in a quoted string");
      }
      out.push_back(c);
    }
    return InvalidArgumentError("unterminated quoted string");
  }

  Result<std::string> Literal() {
    if (peek() == '~') ++pos_;
    std::size_t close = raw_.find('}', pos_);
    if (close == std::string_view::npos) return InvalidArgumentError("unterminated literal size");
    std::string_view digits = raw_.substr(pos_ + 1, close - pos_ - 1);
    if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return InvalidArgumentError("invalid literal size");
    }
    if (n > limits_.max_literal) return InvalidArgumentError("literal too large");
    pos_ = close + 1;
    if (raw_.substr(pos_, 2) != "\r\n") return InvalidArgumentError("literal size not followed by CR LF");
    pos_ += 2;
    if (raw_.size() - pos_ < n) return InvalidArgumentError("literal shorter than announced");
    std::string out(raw_.substr(pos_, n));
    pos_ += n;
    return out;
  }

  // Atom characters, with "[...]" (section specs such as BODY[HEADER.FIELDS (FROM)], which
  // hold spaces and parentheses) taken whole.
  Result<std::string> Atom() {
    std::size_t start = pos_;
    while (!done()) {
      char c = raw_[pos_];
      if (c == '[') {
        std::size_t close = raw_.find(']', pos_);
        if (close == std::string_view::npos) return InvalidArgumentError("unterminated '['");
        pos_ = close + 1;
        continue;
      }
      if (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{' || c == '\r' || c == '\n' ||
          static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        break;
      }
      ++pos_;
    }
    if (pos_ == start) {
      return InvalidArgumentError("unexpected character 0x" +
                                  std::to_string(static_cast<unsigned char>(peek())));
    }
    return std::string(raw_.substr(start, pos_ - start));
  }

  std::string_view raw_;
  const ImapLimits& limits_;
  std::size_t pos_ = 0;
};

bool IsStatusWord(std::string_view word) {
  return word == "OK" || word == "NO" || word == "BAD" || word == "BYE" || word == "PREAUTH";
}

// Status text: an optional "[code]" and the rest.
Status ParseStatusTail(Cursor& cursor, ImapResponse& response) {
  cursor.SkipSpaces();
  if (cursor.peek() == '[') {
    BULWARK_ASSIGN_OR_RETURN(std::string_view code, cursor.Bracketed());
    response.code = std::string(code);
    cursor.SkipSpaces();
  }
  response.text = std::string(cursor.Rest());
  return OkStatus();
}

// UTF-8 → code points; nullopt for invalid UTF-8.
std::optional<std::vector<char32_t>> DecodeUtf8(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    int extra = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : -1;
    if (extra < 0 || s.size() - i <= static_cast<std::size_t>(extra)) return std::nullopt;
    char32_t cp = extra == 0 ? b : (b & (0x3f >> extra));
    for (int k = 1; k <= extra; ++k) {
      auto cont = static_cast<unsigned char>(s[i + k]);
      if ((cont & 0xc0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cont & 0x3f);
    }
    static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
    out.push_back(cp);
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

constexpr char kModifiedBase64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

void FlushUtf16(std::string& out, std::vector<std::uint16_t>& units) {
  if (units.empty()) return;
  std::string bytes;
  for (std::uint16_t u : units) {
    bytes.push_back(static_cast<char>(u >> 8));
    bytes.push_back(static_cast<char>(u & 0xff));
  }
  out.push_back('&');
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kModifiedBase64[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kModifiedBase64[(acc << (6 - bits)) & 0x3f]);
  out.push_back('-');
  units.clear();
}

}  // namespace

bool ImapValue::IsAtom(std::string_view upper) const {
  return kind == Kind::kAtom && EqualsIgnoreCase(text, upper);
}

std::optional<std::uint64_t> ImapValue::Number() const {
  if (kind != Kind::kAtom || text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

std::vector<std::string> ImapResponse::CodeWords() const {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < code.size()) {
    while (i < code.size() && code[i] == ' ') ++i;
    std::size_t start = i;
    while (i < code.size() && code[i] != ' ') ++i;
    if (i > start) words.emplace_back(code.substr(start, i - start));
  }
  return words;
}

Result<std::optional<std::string>> ImapResponseFramer::Next() {
  for (;;) {
    if (scanned_ > limits_.max_response) {
      return ResourceExhaustedError("IMAP response longer than " +
                                    std::to_string(limits_.max_response) + " bytes");
    }
    if (in_literal_) {
      if (buffer_.size() - scanned_ < literal_remaining_) return std::optional<std::string>();
      scanned_ += literal_remaining_;
      in_literal_ = false;
      continue;
    }
    std::size_t newline = buffer_.find('\n', scanned_);
    if (newline == std::string::npos) {
      if (buffer_.size() - scanned_ > limits_.max_line) {
        return ResourceExhaustedError("IMAP response line longer than " +
                                      std::to_string(limits_.max_line) + " bytes");
      }
      return std::optional<std::string>();
    }
    std::size_t line_end = newline;
    if (line_end > scanned_ && buffer_[line_end - 1] == '\r') --line_end;
    if (line_end - scanned_ > limits_.max_line) {
      return ResourceExhaustedError("IMAP response line longer than " +
                                    std::to_string(limits_.max_line) + " bytes");
    }
    std::string_view line(buffer_.data() + scanned_, line_end - scanned_);
    if (std::optional<std::uint64_t> literal = TrailingLiteral(line)) {
      if (*literal > limits_.max_literal) {
        return ResourceExhaustedError("IMAP literal of " + std::to_string(*literal) +
                                      " bytes is over the limit of " +
                                      std::to_string(limits_.max_literal));
      }
      scanned_ = newline + 1;
      literal_remaining_ = static_cast<std::size_t>(*literal);
      in_literal_ = true;
      continue;
    }
    std::string response = buffer_.substr(0, line_end);
    buffer_.erase(0, newline + 1);
    scanned_ = 0;
    return std::optional<std::string>(std::move(response));
  }
}

Result<ImapResponse> ParseResponse(std::string_view raw, const ImapLimits& limits) {
  ImapResponse response;
  Cursor cursor(raw, limits);
  if (raw.empty()) return InvalidArgumentError("empty response");
  if (raw[0] == '+') {
    response.kind = ImapResponse::Kind::kContinuation;
    std::string_view text = raw.substr(1);
    if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
    response.text = std::string(text);
    return response;
  }
  std::string_view first = cursor.Word();
  if (first == "*") {
    response.kind = ImapResponse::Kind::kUntagged;
  } else {
    if (first.empty()) return InvalidArgumentError("response without a tag");
    response.kind = ImapResponse::Kind::kTagged;
    response.tag = std::string(first);
  }
  cursor.SkipSpaces();
  std::string word = AsciiUpper(cursor.Word());
  if (word.empty()) return InvalidArgumentError("response without content");
  if (IsStatusWord(word)) {
    response.status = word;
    BULWARK_RETURN_IF_ERROR(ParseStatusTail(cursor, response));
    return response;
  }
  if (response.kind == ImapResponse::Kind::kTagged) {
    return InvalidArgumentError("tagged response is not OK, NO or BAD");
  }
  ImapValue number_value{ImapValue::Kind::kAtom, word, {}};
  if (std::optional<std::uint64_t> number = number_value.Number()) {
    response.number = number;
    cursor.SkipSpaces();
    word = AsciiUpper(cursor.Word());
    if (word.empty()) return InvalidArgumentError("numbered response without a name");
  }
  response.name = word;
  BULWARK_ASSIGN_OR_RETURN(response.values, cursor.Values(0, /*in_list=*/false));
  return response;
}

bool NeedsLiteral(std::string_view text) {
  if (text.size() > 1024) return true;
  for (char c : text) {
    auto b = static_cast<unsigned char>(c);
    if (b == '\r' || b == '\n' || b == 0 || b >= 0x80) return true;
  }
  return false;
}

std::string QuoteString(std::string_view text) {
  if (NeedsLiteral(text)) return "{" + std::to_string(text.size()) + "}\r\n" + std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Result<std::string> EncodeMailboxName(std::string_view utf8) {
  std::optional<std::vector<char32_t>> points = DecodeUtf8(utf8);
  if (!points) return InvalidArgumentError("mailbox name is not valid UTF-8");
  std::string out;
  std::vector<std::uint16_t> pending;
  for (char32_t cp : *points) {
    if (cp >= 0x20 && cp <= 0x7e) {
      FlushUtf16(out, pending);
      out += cp == '&' ? std::string("&-") : std::string(1, static_cast<char>(cp));
      continue;
    }
    if (cp >= 0x10000) {
      char32_t v = cp - 0x10000;
      pending.push_back(static_cast<std::uint16_t>(0xd800 | (v >> 10)));
      pending.push_back(static_cast<std::uint16_t>(0xdc00 | (v & 0x3ff)));
    } else {
      pending.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  FlushUtf16(out, pending);
  return out;
}

Result<std::string> DecodeMailboxName(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    std::size_t end = text.find('-', i + 1);
    if (end == std::string_view::npos) return InvalidArgumentError("unterminated '&' sequence");
    if (end == i + 1) {
      out.push_back('&');
      i = end;
      continue;
    }
    std::uint32_t acc = 0;
    int bits = 0;
    std::vector<std::uint16_t> units;
    std::string bytes;
    for (std::size_t k = i + 1; k < end; ++k) {
      const char* at = std::strchr(kModifiedBase64, text[k]);
      if (at == nullptr || *at == '\0') return InvalidArgumentError("invalid modified base64");
      acc = (acc << 6) | static_cast<std::uint32_t>(at - kModifiedBase64);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push_back(static_cast<char>((acc >> bits) & 0xff));
      }
    }
    if (bytes.size() % 2 != 0) return InvalidArgumentError("odd UTF-16 length");
    for (std::size_t k = 0; k < bytes.size(); k += 2) {
      units.push_back(static_cast<std::uint16_t>((static_cast<unsigned char>(bytes[k]) << 8) |
                                                 static_cast<unsigned char>(bytes[k + 1])));
    }
    for (std::size_t k = 0; k < units.size(); ++k) {
      char32_t cp = units[k];
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (k + 1 >= units.size() || units[k + 1] < 0xdc00 || units[k + 1] > 0xdfff) {
          return InvalidArgumentError("unpaired UTF-16 surrogate");
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (units[k + 1] - 0xdc00);
        ++k;
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return InvalidArgumentError("unpaired UTF-16 surrogate");
      }
      AppendUtf8(out, cp);
    }
    i = end;
  }
  return out;
}

}  // namespace bulwark::imap

#pragma once
// The SMTP wire format (RFC 5321) without I/O: command lines, MAIL/RCPT paths and their
// parameters, replies (written and read), the DATA phase's end and dot-unstuffing, and
// dot-stuffing for relaying. Everything here takes hostile input; nothing asserts on it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::smtp {

enum class SmtpVerb {
  kHelo,
  kEhlo,
  kMail,
  kRcpt,
  kData,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kExpn,
  kHelp,
  kStartTls,
  kBdat,
  kAuth,
  kUnknown,
};

struct SmtpCommand {
  SmtpVerb verb = SmtpVerb::kUnknown;
  std::string argument;  // after the verb and one space; for MAIL/RCPT from "FROM:"/"TO:"
};

// `line` without its line end. Verbs are case-insensitive; "MAIL FROM:" and "RCPT TO:" keep
// everything after the verb (the keyword included) in `argument`.
SmtpCommand ParseCommand(std::string_view line);

// A MAIL FROM or RCPT TO argument: the path and its ESMTP parameters.
struct PathArgument {
  std::string address;  // without <>; "" for the null reverse path <>
  // Parameter keywords upper-cased; values as sent ("" when the keyword has none).
  std::vector<std::pair<std::string, std::string>> parameters;
  const std::string* Find(std::string_view keyword) const;
};

// Parses "FROM:<a@b> SIZE=10" (`keyword` "FROM") or "TO:<a@b>" (`keyword` "TO").
// A source route (<@x,@y:a@b>) is accepted and dropped (RFC 5321 §4.1.2). kInvalidArgument
// with a short reason for anything else that is not a path: no angle brackets, spaces or
// controls inside, a local part or domain missing, <> where `allow_null` is false.
Result<PathArgument> ParsePath(std::string_view argument, std::string_view keyword,
                               bool allow_null);

// The domain of "local@domain", lower-cased; "" when there is none.
std::string DomainOf(std::string_view address);

struct SmtpReply {
  int code = 250;
  std::string enhanced;  // "2.0.0"; "" when the reply has none (greeting, EHLO)
  std::vector<std::string> lines;
  bool positive() const { return code >= 200 && code < 300; }
  bool transient() const { return code >= 400 && code < 500; }
  std::string Text() const;  // the lines joined with "; "
};
SmtpReply MakeReply(int code, std::string enhanced, std::string text);

// "250-first\r\n250 2.0.0 last\r\n": the enhanced code starts every line. Control bytes in
// the text are replaced by spaces so that a reply can never be split by its content.
std::string FormatReply(const SmtpReply& reply);

// One line of a reply the next hop sent: "250-text" or "250 text". nullopt when the line
// is not a reply line. The enhanced code, when the line starts with one, goes to
// `enhanced` and is removed from `text`.
struct ReplyLine {
  int code = 0;
  bool last = true;
  std::string enhanced;
  std::string text;
};
std::optional<ReplyLine> ParseReplyLine(std::string_view line);

// The DATA phase, fed bytes as they arrive: finds the end (a line holding a single dot,
// CR LF only), undoes dot-stuffing and keeps at most `max_bytes` of the message.
class DataDecoder {
 public:
  explicit DataDecoder(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // Takes bytes from the front of `input` up to and including the end line; returns how
  // many were taken (bytes after the end belong to the next command).
  std::size_t Feed(std::string_view input);

  bool done() const { return done_; }
  // The message went over max_bytes (the excess was read and dropped).
  bool too_big() const { return too_big_; }
  // A line ended with a bare LF (no CR before it): refused as current practice demands
  // since SMTP smuggling (a "\n.\n" end must never be recognised by anyone).
  bool bare_lf() const { return bare_lf_; }
  std::uint64_t size() const { return size_; }
  std::string& message() { return message_; }

 private:
  void EndLine();
  void Append(std::string_view bytes);

  std::uint64_t max_bytes_;
  std::string message_;
  std::string line_;        // the current line so far (only its start when it is long)
  bool mid_line_ = false;   // part of the current line went to message_ already
  std::uint64_t size_ = 0;  // message bytes seen, kept or not
  bool done_ = false;
  bool too_big_ = false;
  bool bare_lf_ = false;
};

// `message` made ready for DATA: lines starting with "." get one more, the last line is
// ended, and the end line ".\r\n" follows. Bare LF line ends become CR LF.
std::string DotStuff(std::string_view message);

// True for an argument of EHLO/HELO that is acceptable: a domain or an address literal,
// printable ASCII without spaces.
bool IsValidHeloName(std::string_view name);

}  // namespace bulwark::smtp

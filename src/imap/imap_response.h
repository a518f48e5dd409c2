#pragma once
// IMAP4rev1 server responses (RFC 3501 §7, RFC 9051 §7) as the mailbox connector reads
// them: framing (a response is a line, continued after every literal) and parsing into a
// small value tree. No I/O: ImapResponseFramer is fed bytes and hands out whole responses,
// ParseResponse turns one into a structure. Both take untrusted input (the mail server may
// be hostile or broken) with limits and clear errors; fuzz/imap_response_fuzz.cc drives them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::imap {

// One value of a response: an atom (also numbers, flags such as \Seen and section specs such
// as BODY[HEADER.FIELDS (FROM)]), a string (quoted or literal, already unquoted), NIL, or a
// parenthesised list.
struct ImapValue {
  enum class Kind { kAtom, kString, kNil, kList };
  Kind kind = Kind::kAtom;
  std::string text;                // atom or string
  std::vector<ImapValue> items;    // list

  bool IsAtom(std::string_view upper) const;  // an atom equal to `upper`, case-insensitively
  // The number an atom holds; nullopt for anything else (or out of range).
  std::optional<std::uint64_t> Number() const;
};

struct ImapResponse {
  enum class Kind { kUntagged, kTagged, kContinuation };
  Kind kind = Kind::kUntagged;
  std::string tag;                         // kTagged only
  // Status responses (OK, NO, BAD, BYE, PREAUTH), tagged or untagged: the status word
  // upper-cased, the response code between [ and ] (raw, e.g. "UIDVALIDITY 3857529045";
  // "" when none) and the human-readable rest.
  std::string status;
  std::string code;
  std::string text;
  // Untagged data: "* 23 EXISTS" → number 23, name "EXISTS"; "* CAPABILITY …" → name
  // "CAPABILITY" and the values after it; "* 5 FETCH (…)" → number 5, name "FETCH", one
  // list value.
  std::optional<std::uint64_t> number;
  std::string name;  // upper-cased
  std::vector<ImapValue> values;

  bool IsStatus() const { return !status.empty(); }
  // The words of the response code: "COPYUID 38505 304 3956" → {"COPYUID", "38505", …}.
  std::vector<std::string> CodeWords() const;
};

struct ImapLimits {
  std::size_t max_line = 64 * 1024;              // one line between literals
  std::size_t max_literal = 64 * 1024 * 1024;    // one literal (a message body)
  std::size_t max_response = 80 * 1024 * 1024;   // a whole response with its literals
  int max_depth = 32;                            // nested lists
};

// Splits a byte stream into responses. Feed() what arrives; Next() hands out each complete
// response (its exact bytes, final CR LF removed) once it is whole. A line longer than
// max_line, a literal over max_literal or a response over max_response is
// kResourceExhausted; the framer is then unusable (the connection must be dropped).
class ImapResponseFramer {
 public:
  explicit ImapResponseFramer(ImapLimits limits = {}) : limits_(limits) {}
  void Feed(std::string_view bytes) { buffer_.append(bytes); }
  // A complete response, nullopt when more bytes are needed.
  Result<std::optional<std::string>> Next();
  std::size_t buffered() const { return buffer_.size(); }

 private:
  ImapLimits limits_;
  std::string buffer_;
  std::size_t scanned_ = 0;          // bytes of buffer_ known to belong to the response
  std::size_t literal_remaining_ = 0;  // literal bytes still to come before the line goes on
  bool in_literal_ = false;
};

// Parses one response as returned by ImapResponseFramer::Next (without the final CR LF).
// kInvalidArgument names what is malformed.
Result<ImapResponse> ParseResponse(std::string_view raw, const ImapLimits& limits = {});

// Command-argument encoding. Quoted when it is short 7-bit text without CR/LF/NUL, a
// literal ("{n}\r\n" + bytes) otherwise; Quote never returns an atom, so "" and "NIL" are
// safe. The result says whether the server must be waited for before the literal bytes
// (without LITERAL+): see ImapClient.
std::string QuoteString(std::string_view text);
bool NeedsLiteral(std::string_view text);

// Mailbox names: RFC 3501 §5.1.3 modified UTF-7, for servers that have not enabled UTF8=ACCEPT.
// "Quarantäne" → "Quarant&AOQ-ne"; "&" → "&-". Invalid UTF-8 is kInvalidArgument.
Result<std::string> EncodeMailboxName(std::string_view utf8);
Result<std::string> DecodeMailboxName(std::string_view modified_utf7);

}  // namespace bulwark::imap

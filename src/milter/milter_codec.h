#pragma once
// The milter wire format (Sendmail/Postfix milter protocol, version 6; docs/milter.md):
// packets (a 4-byte big-endian length, then a command byte and its data), the payloads of
// the MTA's commands and the milter's responses. No I/O and no engine: every parser takes
// bytes and returns a value or kInvalidArgument (malformed) / kResourceExhausted (over a
// limit), so the session can end a bad connection cleanly (fuzz/milter_protocol_fuzz.cc).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::milter {

inline constexpr std::uint32_t kProtocolVersion = 6;  // the newest we speak
inline constexpr std::uint32_t kMinProtocolVersion = 2;

// Largest packet we accept from the MTA (length field, command byte included in the length).
// Postfix sends body chunks of at most 65535 bytes; a header may be up to header_size_limit
// (102400 by default).
inline constexpr std::size_t kMaxPacketBytes = 1024 * 1024;
// Largest body chunk in one SMFIR_REPLBODY (libmilter's MILTER_CHUNK_SIZE).
inline constexpr std::size_t kMaxBodyChunk = 65535;

// What the MTA sends (SMFIC_*).
enum class Command : char {
  kAbort = 'A',
  kBody = 'B',
  kConnect = 'C',
  kMacro = 'D',
  kEndOfBody = 'E',
  kHelo = 'H',
  kQuitNewConnection = 'K',
  kHeader = 'L',
  kMail = 'M',
  kEndOfHeaders = 'N',
  kOptionNegotiation = 'O',
  kQuit = 'Q',
  kRecipient = 'R',
  kData = 'T',
  kUnknown = 'U',
};
// False for a byte that names no command.
bool IsCommand(char code);

// What the milter answers (SMFIR_*).
enum class Response : char {
  kAccept = 'a',
  kReplaceBody = 'b',
  kContinue = 'c',
  kDiscard = 'd',
  kAddHeader = 'h',
  kInsertHeader = 'i',
  kChangeHeader = 'm',
  kOptionNegotiation = 'O',
  kProgress = 'p',
  kQuarantine = 'q',
  kReject = 'r',
  kTempFail = 't',
  kReplyCode = 'y',
};

// Actions a milter may take at end of message (SMFIF_*), negotiated in SMFIC_OPTNEG.
inline constexpr std::uint32_t kActionAddHeaders = 0x001;
inline constexpr std::uint32_t kActionChangeBody = 0x002;
inline constexpr std::uint32_t kActionAddRecipient = 0x004;
inline constexpr std::uint32_t kActionDeleteRecipient = 0x008;
inline constexpr std::uint32_t kActionChangeHeaders = 0x010;
inline constexpr std::uint32_t kActionQuarantine = 0x020;
inline constexpr std::uint32_t kActionChangeFrom = 0x040;
inline constexpr std::uint32_t kActionAddRecipientArgs = 0x080;
inline constexpr std::uint32_t kActionSetSymbolList = 0x100;

// Protocol steps (SMFIP_*): "no" = do not send this command; "no reply" = send it but do not
// wait for an answer; kHeaderLeadingSpace = header values keep the space after the colon.
inline constexpr std::uint32_t kProtoNoConnect = 0x000001;
inline constexpr std::uint32_t kProtoNoHelo = 0x000002;
inline constexpr std::uint32_t kProtoNoMail = 0x000004;
inline constexpr std::uint32_t kProtoNoRecipient = 0x000008;
inline constexpr std::uint32_t kProtoNoBody = 0x000010;
inline constexpr std::uint32_t kProtoNoHeaders = 0x000020;
inline constexpr std::uint32_t kProtoNoEndOfHeaders = 0x000040;
inline constexpr std::uint32_t kProtoNoReplyHeader = 0x000080;
inline constexpr std::uint32_t kProtoNoUnknown = 0x000100;
inline constexpr std::uint32_t kProtoNoData = 0x000200;
inline constexpr std::uint32_t kProtoSkip = 0x000400;
inline constexpr std::uint32_t kProtoRejectedRecipients = 0x000800;
inline constexpr std::uint32_t kProtoNoReplyConnect = 0x001000;
inline constexpr std::uint32_t kProtoNoReplyHelo = 0x002000;
inline constexpr std::uint32_t kProtoNoReplyMail = 0x004000;
inline constexpr std::uint32_t kProtoNoReplyRecipient = 0x008000;
inline constexpr std::uint32_t kProtoNoReplyData = 0x010000;
inline constexpr std::uint32_t kProtoNoReplyUnknown = 0x020000;
inline constexpr std::uint32_t kProtoNoReplyEndOfHeaders = 0x040000;
inline constexpr std::uint32_t kProtoNoReplyBody = 0x080000;
inline constexpr std::uint32_t kProtoHeaderLeadingSpace = 0x100000;

struct Packet {
  char code = 0;
  std::string data;
};

// The packet at the front of `input`: nullopt when more bytes are needed (the length field
// or the packet is incomplete); kInvalidArgument for a zero length; kResourceExhausted when
// the length says more than `max_packet_bytes`. `consumed` is set to the packet's size on
// the wire when one is returned.
Result<std::optional<Packet>> DecodePacket(std::string_view input, std::size_t& consumed,
                                           std::size_t max_packet_bytes = kMaxPacketBytes);
// Length, code, data.
std::string EncodePacket(char code, std::string_view data);

// SMFIC_OPTNEG and its answer: three 32-bit big-endian words. The MTA may send more after
// them (ignored).
struct Options {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;
  std::uint32_t protocol = 0;
};
Result<Options> ParseOptions(std::string_view data);
std::string EncodeOptions(const Options& options);

// What this milter asks for, given what the MTA offers: the highest common version (at least
// kMinProtocolVersion, else kInvalidArgument), the wanted actions and protocol flags the MTA
// offered (asking for more is an error to the MTA), never more.
Options Negotiate(const Options& offered, std::uint32_t wanted_actions,
                  std::uint32_t wanted_protocol);

// SMFIC_MACRO: the command the macros are for, then name/value pairs ("{daemon_name}", "i").
struct Macros {
  char command = 0;
  std::vector<std::pair<std::string, std::string>> values;
};
Result<Macros> ParseMacros(std::string_view data);

// SMFIC_CONNECT: host name, address family ('4', '6', 'L' (Unix), 'U' unknown), port and
// address (the last two absent for 'U').
struct ConnectInfo {
  std::string hostname;
  char family = 'U';
  std::uint16_t port = 0;
  std::string address;  // as sent ("127.0.0.1", "IPv6:::1", a socket path)
};
Result<ConnectInfo> ParseConnect(std::string_view data);

// NUL-terminated strings (HELO's name; MAIL and RCPT: the address then ESMTP arguments; a
// final string without its NUL is taken as it is). kInvalidArgument when there is none.
Result<std::vector<std::string>> ParseStrings(std::string_view data);

// SMFIC_HEADER: name and value, each NUL-terminated.
struct Header {
  std::string name;
  std::string value;  // as sent (see kProtoHeaderLeadingSpace)
};
Result<Header> ParseHeader(std::string_view data);

// Responses. Header values are sent as given (the caller adds the leading space when
// kProtoHeaderLeadingSpace was negotiated).
std::string EncodeResponse(Response response);  // a response without data
std::string EncodeAddHeader(std::string_view name, std::string_view value);
std::string EncodeInsertHeader(std::uint32_t index, std::string_view name, std::string_view value);
// `index` counts fields of that name from 1; an empty value deletes the field.
std::string EncodeChangeHeader(std::uint32_t index, std::string_view name, std::string_view value);
// The body in chunks of at most kMaxBodyChunk bytes (one packet even when empty).
std::string EncodeReplaceBody(std::string_view body);
std::string EncodeQuarantine(std::string_view reason);
// SMFIR_REPLYCODE "550 5.7.1 text": `code` must be 4xx or 5xx (else kInvalidArgument); the
// text loses CR, LF and NUL and its '%' are doubled (Sendmail and Postfix read "%%" as '%').
Result<std::string> EncodeReplyCode(int code, std::string_view enhanced_code,
                                    std::string_view text);

// "<user@example.com>" → "user@example.com" (also without brackets; surrounding blanks go).
std::string StripAngleBrackets(std::string_view address);

}  // namespace bulwark::milter

#pragma once
// The clamd wire format (ClamAV 1.4's clamd, as measured against Debian's clamav-daemon):
// command framing in its three forms, command names, INSTREAM chunk lengths and reply
// framing. No I/O and no engine: the session (clamd_session.h) reads, this parses.

#include <cstdint>
#include <string>
#include <string_view>

namespace bulwark::clamd {

// How a command was framed; a reply ends with the matching terminator.
enum class Form {
  kPlain,    // "PING\n": the legacy form, only for the commands clamd still accepts so
  kNewline,  // "nPING\n"
  kNul,      // "zPING\0"
};

// '\0' for kNul, '\n' otherwise.
char Terminator(Form form);
// The delimiter that ends a command of `form` on the wire ("\0" or "\n").
std::string_view Delimiter(Form form);
// The form a command's first byte selects ('z', 'n', anything else is kPlain: the byte
// belongs to the command).
Form FormOf(char first_byte);

enum class Command {
  kUnknown,
  kPing,
  kVersion,
  kVersionCommands,
  kReload,
  kShutdown,  // SHUTDOWN and its deprecated alias QUIT
  kScan,
  kContScan,
  kMultiScan,
  kAllMatchScan,
  kInstream,
  kFildes,
  kStats,
  kIdSession,
  kEnd,
  kDetStats,       // listed by clamd 1.4 but answered with a silent close
  kDetStatsClear,  // likewise
  kAuth,           // Bulwark's TLS listener only: "AUTH <api-token>"
};

struct ParsedCommand {
  Command command = Command::kUnknown;
  std::string argument;  // the path of SCAN & co., the token of AUTH; as sent
};

// Longest command body (between the form byte and the delimiter) clamd 1.4 accepts; a
// longer one is dropped with the connection, without a reply.
inline constexpr std::size_t kMaxCommandBytes = 4102;

// Parses a command body (without form byte and delimiter). Names are case-sensitive and
// must match exactly: "PING " and "PING x" are kUnknown. Commands clamd accepts only in
// the z/n forms (INSTREAM, IDSESSION, END, STATS, VERSIONCOMMANDS, ALLMATCHSCAN) are
// kUnknown in the plain form, as clamd answers them. A command that needs a path and has
// none is kUnknown.
ParsedCommand ParseCommand(std::string_view body, Form form);

// The command list of VERSIONCOMMANDS, in clamd 1.4's order (" SCAN QUIT … ALLMATCHSCAN").
std::string_view CommandList();

// INSTREAM chunk length: 4 bytes, big-endian (network order).
std::uint32_t DecodeChunkLength(std::string_view four_bytes);
std::string EncodeChunkLength(std::uint32_t length);

// Frames one reply: "<id>: " inside an IDSESSION (id > 0), the text, the terminator.
std::string FrameReply(std::string_view text, Form form, std::uint64_t session_id = 0);

// Replies clamd words exactly so.
inline constexpr std::string_view kPong = "PONG";
inline constexpr std::string_view kUnknownCommand = "UNKNOWN COMMAND";
inline constexpr std::string_view kReloading = "RELOADING";
inline constexpr std::string_view kSizeLimitExceeded = "INSTREAM size limit exceeded. ERROR";
inline constexpr std::string_view kInvalidInSession = "Command invalid inside IDSESSION. ERROR";

}  // namespace bulwark::clamd

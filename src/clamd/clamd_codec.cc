#include "clamd/clamd_codec.h"

#include <array>

namespace bulwark::clamd {
namespace {

struct CommandSpec {
  std::string_view name;
  Command command;
  bool needs_argument;  // "SCAN <path>"
  bool plain_allowed;   // clamd still accepts it without a z/n prefix
};

// In VERSIONCOMMANDS order; AUTH is ours and not listed there.
constexpr std::array<CommandSpec, 17> kCommands = {{
    {"SCAN", Command::kScan, true, true},
    {"QUIT", Command::kShutdown, false, true},
    {"RELOAD", Command::kReload, false, true},
    {"PING", Command::kPing, false, true},
    {"CONTSCAN", Command::kContScan, true, true},
    {"VERSIONCOMMANDS", Command::kVersionCommands, false, false},
    {"VERSION", Command::kVersion, false, true},
    {"END", Command::kEnd, false, false},
    {"SHUTDOWN", Command::kShutdown, false, true},
    {"MULTISCAN", Command::kMultiScan, true, true},
    {"FILDES", Command::kFildes, false, true},
    {"STATS", Command::kStats, false, false},
    {"IDSESSION", Command::kIdSession, false, false},
    {"INSTREAM", Command::kInstream, false, false},
    {"DETSTATSCLEAR", Command::kDetStatsClear, false, true},
    {"DETSTATS", Command::kDetStats, false, true},
    {"ALLMATCHSCAN", Command::kAllMatchScan, true, false},
}};

constexpr CommandSpec kAuth = {"AUTH", Command::kAuth, true, true};

bool Matches(const CommandSpec& spec, std::string_view body, Form form, ParsedCommand& out) {
  if (form == Form::kPlain && !spec.plain_allowed) return false;
  if (!spec.needs_argument) {
    if (body != spec.name) return false;
    out.command = spec.command;
    return true;
  }
  if (body.size() <= spec.name.size() || body.substr(0, spec.name.size()) != spec.name ||
      body[spec.name.size()] != ' ') {
    return false;
  }
  out.command = spec.command;
  out.argument = std::string(body.substr(spec.name.size() + 1));
  return true;
}

}  // namespace

char Terminator(Form form) { return form == Form::kNul ? '\0' : '\n'; }

std::string_view Delimiter(Form form) {
  return form == Form::kNul ? std::string_view("\0", 1) : std::string_view("\n");
}

Form FormOf(char first_byte) {
  if (first_byte == 'z') return Form::kNul;
  if (first_byte == 'n') return Form::kNewline;
  return Form::kPlain;
}

ParsedCommand ParseCommand(std::string_view body, Form form) {
  ParsedCommand parsed;
  for (const CommandSpec& spec : kCommands) {
    if (Matches(spec, body, form, parsed)) return parsed;
  }
  if (Matches(kAuth, body, form, parsed)) return parsed;
  return ParsedCommand{};
}

std::string_view CommandList() {
  static const std::string list = [] {
    std::string out;
    for (const CommandSpec& spec : kCommands) {
      out += ' ';
      out += spec.name;
    }
    return out;
  }();
  return list;
}

std::uint32_t DecodeChunkLength(std::string_view four_bytes) {
  std::uint32_t length = 0;
  for (std::size_t i = 0; i < 4 && i < four_bytes.size(); ++i) {
    length = (length << 8) | static_cast<unsigned char>(four_bytes[i]);
  }
  return length;
}

std::string EncodeChunkLength(std::uint32_t length) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(length & 0xff);
    length >>= 8;
  }
  return out;
}

std::string FrameReply(std::string_view text, Form form, std::uint64_t session_id) {
  std::string out;
  if (session_id > 0) out = std::to_string(session_id) + ": ";
  out += text;
  out += Terminator(form);
  return out;
}

}  // namespace bulwark::clamd

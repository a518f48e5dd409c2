#include "milter/milter_codec.h"

#include <algorithm>

namespace bulwark::milter {
namespace {

std::uint32_t ReadWord(std::string_view data, std::size_t offset) {
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(data[offset + i]));
  };
  return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

void AppendWord(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>((value >> 24) & 0xff));
  out.push_back(static_cast<char>((value >> 16) & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

// The NUL-terminated string at the front of `data`, consumed with its NUL; kInvalidArgument
// when there is no NUL.
Result<std::string> TakeString(std::string_view& data, std::string_view what) {
  std::size_t nul = data.find('\0');
  if (nul == std::string_view::npos) {
    return InvalidArgumentError("milter: " + std::string(what) + " is not NUL-terminated");
  }
  std::string value(data.substr(0, nul));
  data.remove_prefix(nul + 1);
  return value;
}

std::string NameValue(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(name.size() + value.size() + 2);
  out.append(name);
  out.push_back('\0');
  out.append(value);
  out.push_back('\0');
  return out;
}

}  // namespace

bool IsCommand(char code) {
  static constexpr std::string_view kCodes = "ABCDEHKLMNOQRTU";
  return code != '\0' && kCodes.find(code) != std::string_view::npos;
}

Result<std::optional<Packet>> DecodePacket(std::string_view input, std::size_t& consumed,
                                           std::size_t max_packet_bytes) {
  consumed = 0;
  if (input.size() < 4) return std::optional<Packet>();
  std::uint32_t length = ReadWord(input, 0);
  if (length == 0) return InvalidArgumentError("milter: packet of length 0");
  if (length > max_packet_bytes) {
    return ResourceExhaustedError("milter: packet of " + std::to_string(length) +
                                  " bytes is over the limit of " +
                                  std::to_string(max_packet_bytes));
  }
  if (input.size() - 4 < length) return std::optional<Packet>();
  Packet packet;
  packet.code = input[4];
  packet.data.assign(input.substr(5, length - 1));
  consumed = 4 + static_cast<std::size_t>(length);
  return std::optional<Packet>(std::move(packet));
}

std::string EncodePacket(char code, std::string_view data) {
  std::string out;
  out.reserve(5 + data.size());
  AppendWord(out, static_cast<std::uint32_t>(data.size() + 1));
  out.push_back(code);
  out.append(data);
  return out;
}

Result<Options> ParseOptions(std::string_view data) {
  if (data.size() < 12) {
    return InvalidArgumentError("milter: option negotiation of " + std::to_string(data.size()) +
                                " bytes (12 expected)");
  }
  return Options{ReadWord(data, 0), ReadWord(data, 4), ReadWord(data, 8)};
}

std::string EncodeOptions(const Options& options) {
  std::string data;
  AppendWord(data, options.version);
  AppendWord(data, options.actions);
  AppendWord(data, options.protocol);
  return EncodePacket(static_cast<char>(Response::kOptionNegotiation), data);
}

Options Negotiate(const Options& offered, std::uint32_t wanted_actions,
                  std::uint32_t wanted_protocol) {
  Options answer;
  answer.version = std::min(offered.version, kProtocolVersion);
  answer.actions = offered.actions & wanted_actions;
  answer.protocol = offered.protocol & wanted_protocol;
  return answer;
}

Result<Macros> ParseMacros(std::string_view data) {
  if (data.empty()) return InvalidArgumentError("milter: macro packet without a command");
  Macros macros;
  macros.command = data[0];
  data.remove_prefix(1);
  while (!data.empty()) {
    BULWARK_ASSIGN_OR_RETURN(std::string name, TakeString(data, "macro name"));
    std::string value;
    if (!data.empty()) {
      BULWARK_ASSIGN_OR_RETURN(value, TakeString(data, "macro value"));
    }
    macros.values.emplace_back(std::move(name), std::move(value));
  }
  return macros;
}

Result<ConnectInfo> ParseConnect(std::string_view data) {
  ConnectInfo info;
  BULWARK_ASSIGN_OR_RETURN(info.hostname, TakeString(data, "connect host name"));
  if (data.empty()) return InvalidArgumentError("milter: connect without an address family");
  info.family = data[0];
  data.remove_prefix(1);
  if (info.family == 'U') return info;
  if (info.family != '4' && info.family != '6' && info.family != 'L') {
    return InvalidArgumentError("milter: unknown address family in connect");
  }
  if (data.size() < 2) return InvalidArgumentError("milter: connect without a port");
  info.port = static_cast<std::uint16_t>((static_cast<unsigned char>(data[0]) << 8) |
                                         static_cast<unsigned char>(data[1]));
  data.remove_prefix(2);
  BULWARK_ASSIGN_OR_RETURN(info.address, TakeString(data, "connect address"));
  return info;
}

Result<std::vector<std::string>> ParseStrings(std::string_view data) {
  std::vector<std::string> strings;
  while (!data.empty()) {
    std::size_t nul = data.find('\0');
    if (nul == std::string_view::npos) {
      strings.emplace_back(data);
      break;
    }
    strings.emplace_back(data.substr(0, nul));
    data.remove_prefix(nul + 1);
  }
  if (strings.empty()) return InvalidArgumentError("milter: command without its argument");
  return strings;
}

Result<Header> ParseHeader(std::string_view data) {
  Header header;
  BULWARK_ASSIGN_OR_RETURN(header.name, TakeString(data, "header name"));
  if (header.name.empty()) return InvalidArgumentError("milter: header without a name");
  BULWARK_ASSIGN_OR_RETURN(header.value, TakeString(data, "header value"));
  return header;
}

std::string EncodeResponse(Response response) {
  return EncodePacket(static_cast<char>(response), {});
}

std::string EncodeAddHeader(std::string_view name, std::string_view value) {
  return EncodePacket(static_cast<char>(Response::kAddHeader), NameValue(name, value));
}

std::string EncodeInsertHeader(std::uint32_t index, std::string_view name, std::string_view value) {
  std::string data;
  AppendWord(data, index);
  data += NameValue(name, value);
  return EncodePacket(static_cast<char>(Response::kInsertHeader), data);
}

std::string EncodeChangeHeader(std::uint32_t index, std::string_view name, std::string_view value) {
  std::string data;
  AppendWord(data, index);
  data += NameValue(name, value);
  return EncodePacket(static_cast<char>(Response::kChangeHeader), data);
}

std::string EncodeReplaceBody(std::string_view body) {
  std::string out;
  do {
    std::string_view chunk = body.substr(0, kMaxBodyChunk);
    out += EncodePacket(static_cast<char>(Response::kReplaceBody), chunk);
    body.remove_prefix(chunk.size());
  } while (!body.empty());
  return out;
}

std::string EncodeQuarantine(std::string_view reason) {
  std::string data(reason);
  std::replace_if(
      data.begin(), data.end(), [](char c) { return c == '\0'; }, ' ');
  data.push_back('\0');
  return EncodePacket(static_cast<char>(Response::kQuarantine), data);
}

Result<std::string> EncodeReplyCode(int code, std::string_view enhanced_code,
                                    std::string_view text) {
  if (code < 400 || code > 599) {
    return InvalidArgumentError("milter: reply code " + std::to_string(code) +
                                " is not 4xx or 5xx");
  }
  std::string line = std::to_string(code);
  if (!enhanced_code.empty()) {
    line += ' ';
    line += enhanced_code;
  }
  if (!text.empty()) line += ' ';
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') {
      line += ' ';
    } else if (c == '%') {
      line += "%%";
    } else {
      line += c;
    }
  }
  line.push_back('\0');
  return EncodePacket(static_cast<char>(Response::kReplyCode), line);
}

std::string StripAngleBrackets(std::string_view address) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!address.empty() && blank(address.front())) address.remove_prefix(1);
  while (!address.empty() && blank(address.back())) address.remove_suffix(1);
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
    address = address.substr(1, address.size() - 2);
  }
  return std::string(address);
}

}  // namespace bulwark::milter

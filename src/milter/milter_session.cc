#include "milter/milter_session.h"

#include <future>
#include <system_error>
#include <utility>

#include "bulwark/content/blob.h"

namespace bulwark::milter {
namespace {

constexpr std::size_t kMaxMacros = 256;

// One packet off the connection, length checked before its body is read.
Result<Packet> ReadPacket(net::BufferedReader& reader, std::size_t max_packet_bytes) {
  BULWARK_ASSIGN_OR_RETURN(bool data, reader.WaitForData());
  if (!data) return FailedPreconditionError("connection closed");
  std::string bytes;
  BULWARK_RETURN_IF_ERROR(reader.ReadExactly(4, bytes));
  std::size_t consumed = 0;
  BULWARK_ASSIGN_OR_RETURN(std::optional<Packet> packet,
                           DecodePacket(bytes, consumed, max_packet_bytes));
  std::size_t length = (static_cast<std::size_t>(static_cast<unsigned char>(bytes[0])) << 24) |
                       (static_cast<std::size_t>(static_cast<unsigned char>(bytes[1])) << 16) |
                       (static_cast<std::size_t>(static_cast<unsigned char>(bytes[2])) << 8) |
                       static_cast<std::size_t>(static_cast<unsigned char>(bytes[3]));
  BULWARK_RETURN_IF_ERROR(reader.ReadExactly(length, bytes));
  BULWARK_ASSIGN_OR_RETURN(packet, DecodePacket(bytes, consumed, max_packet_bytes));
  if (!packet) return InternalError("milter: packet framing");
  return std::move(*packet);
}

// Header values may carry folds as bare LF (Postfix) or CR LF (Sendmail): CR LF in the
// rebuilt message.
void AppendWithCrLf(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
}

std::string WithoutIpv6Prefix(std::string address) {
  if (address.rfind("IPv6:", 0) == 0) address.erase(0, 5);
  return address;
}

}  // namespace

void MilterSession::Run(net::Connection& connection) {
  net::BufferedReader reader(connection, options_.timeout);
  for (;;) {
    if (!in_transaction_ && options_.stopping && options_.stopping()) break;
    Result<Packet> packet = ReadPacket(reader, options_.max_packet_bytes);
    if (!packet.ok()) break;  // closed, timed out or malformed: the MTA's default action
    if (Handle(*packet, connection) == Next::kClose) break;
  }
  ResetMessage();
}

MilterSession::Next MilterSession::Handle(const Packet& packet, net::Connection& connection) {
  if (!IsCommand(packet.code)) return Next::kClose;
  Command command = static_cast<Command>(packet.code);
  if (command == Command::kOptionNegotiation) return Negotiate(packet, connection);
  if (negotiated_.version == 0) return Next::kClose;  // nothing before the negotiation
  switch (command) {
    case Command::kMacro: {
      Result<Macros> macros = ParseMacros(packet.data);
      if (!macros.ok()) return Next::kClose;
      for (auto& [name, value] : macros->values) {
        // Bounded: an MTA sends a few dozen names; more new ones are ignored.
        if (current_.macros.size() < kMaxMacros || current_.macros.count(name) != 0) {
          current_.macros[name] = value;
        }
      }
      return Next::kContinue;
    }
    case Command::kConnect: {
      Result<ConnectInfo> info = ParseConnect(packet.data);
      if (!info.ok()) return Next::kClose;
      ResetMessage();  // the macros for this connect came just before it: they stay
      current_.envelope = mail::Envelope();
      current_.envelope.client_name = info->hostname == "unknown" ? "" : info->hostname;
      if (info->family == '4' || info->family == '6') {
        current_.envelope.client_ip = WithoutIpv6Prefix(info->address);
      }
      return Continue(connection, kProtoNoReplyConnect);
    }
    case Command::kHelo: {
      Result<std::vector<std::string>> helo = ParseStrings(packet.data);
      if (!helo.ok()) return Next::kClose;
      current_.envelope.helo = helo->front();
      return Continue(connection, kProtoNoReplyHelo);
    }
    case Command::kMail: {
      Result<std::vector<std::string>> args = ParseStrings(packet.data);
      if (!args.ok()) return Next::kClose;
      ResetMessage();
      in_transaction_ = true;
      current_.envelope.mail_from = StripAngleBrackets(args->front());
      return Continue(connection, kProtoNoReplyMail);
    }
    case Command::kRecipient: {
      Result<std::vector<std::string>> args = ParseStrings(packet.data);
      if (!args.ok()) return Next::kClose;
      current_.envelope.recipients.push_back(StripAngleBrackets(args->front()));
      return Continue(connection, kProtoNoReplyRecipient);
    }
    case Command::kData:
      return Continue(connection, kProtoNoReplyData);
    case Command::kUnknown:
      return Continue(connection, kProtoNoReplyUnknown);
    case Command::kHeader: {
      Result<Header> header = ParseHeader(packet.data);
      if (!header.ok()) return Next::kClose;
      if (!answered_ && AddBytes(header->name.size() + header->value.size() + 4)) {
        current_.message += header->name;
        current_.message += (negotiated_.protocol & kProtoHeaderLeadingSpace) != 0 ? ":" : ": ";
        AppendWithCrLf(current_.message, header->value);
        current_.message += "\r\n";
        current_.headers.push_back(*std::move(header));
      }
      return Continue(connection, kProtoNoReplyHeader);
    }
    case Command::kEndOfHeaders:
      if (!header_block_done_ && AddBytes(2)) current_.message += "\r\n";
      header_block_done_ = true;
      return Continue(connection, kProtoNoReplyEndOfHeaders);
    case Command::kBody:
      return Body(packet.data, connection);
    case Command::kEndOfBody:
      return EndOfMessage(packet.data, connection);
    case Command::kAbort:
      ResetMessage();
      return Next::kContinue;
    case Command::kQuitNewConnection:
      ResetConnection();
      return Next::kContinue;
    case Command::kQuit:
    case Command::kOptionNegotiation:
      return Next::kClose;
  }
  return Next::kClose;
}

MilterSession::Next MilterSession::Negotiate(const Packet& packet, net::Connection& connection) {
  Result<Options> offered = ParseOptions(packet.data);
  if (!offered.ok() || offered->version < kMinProtocolVersion) return Next::kClose;
  negotiated_ = milter::Negotiate(*offered, kWantedActions, kWantedProtocol);
  ResetConnection();
  return Answer(connection, EncodeOptions(negotiated_)).ok() ? Next::kContinue : Next::kClose;
}

void MilterSession::Accumulate(std::string_view chunk) {
  if (answered_) return;
  if (!header_block_done_ && AddBytes(2)) current_.message += "\r\n";
  header_block_done_ = true;
  if (AddBytes(chunk.size())) current_.message.append(chunk);
}

std::optional<std::string> MilterSession::EarlyReply() {
  if (oversize_) {
    return *EncodeReplyCode(552, "5.3.4", "Message size exceeds the mail filter's limit");
  }
  if (!current_.tenant_id.empty()) return std::nullopt;
  Result<std::string> tenant = backend_.TenantFor(current_.envelope.recipients);
  if (!tenant.ok()) {
    mail::MailVerdict failed;
    failed.reply_code = 451;
    failed.enhanced_code = "4.3.0";
    failed.reply_text = "Mail filter cannot decide for these recipients; try again later";
    return TempFailReply(failed);
  }
  if (tenant->empty()) return EncodeResponse(Response::kAccept);  // nobody's: unscanned
  current_.tenant_id = *tenant;
  return std::nullopt;
}

MilterSession::Next MilterSession::AnswerEarly(net::Connection& connection,
                                               const std::string& reply) {
  ResetMessage();
  answered_ = true;  // until the next MAIL or ABORT
  early_reply_ = reply;
  return Answer(connection, reply).ok() ? Next::kContinue : Next::kClose;
}

MilterSession::Next MilterSession::Body(std::string_view chunk, net::Connection& connection) {
  if (answered_) {  // the MTA should have stopped: the same answer again
    if ((negotiated_.protocol & kProtoNoReplyBody) != 0) return Next::kContinue;
    return Answer(connection, early_reply_).ok() ? Next::kContinue : Next::kClose;
  }
  Accumulate(chunk);
  if (std::optional<std::string> reply = EarlyReply()) return AnswerEarly(connection, *reply);
  return Continue(connection, kProtoNoReplyBody);
}

MilterSession::Next MilterSession::EndOfMessage(std::string_view chunk,
                                                net::Connection& connection) {
  if (answered_) {  // answered before its end; the MTA should not have sent this
    std::string reply = std::move(early_reply_);
    ResetMessage();
    return Answer(connection, reply).ok() ? Next::kContinue : Next::kClose;
  }
  Accumulate(chunk);  // the last body bytes may come with the end of message
  if (std::optional<std::string> reply = EarlyReply()) {
    Next next = AnswerEarly(connection, *reply);
    ResetMessage();  // the message has ended
    return next;
  }
  auto queue_id = current_.macros.find("i");
  current_.envelope.queue_id = queue_id != current_.macros.end() ? queue_id->second : "";
  auto tls = current_.macros.find("{tls_version}");
  current_.envelope.tls = tls != current_.macros.end() && !tls->second.empty();
  MilterDecision decision = DecideWithProgress(connection);
  std::string reply = EndOfMessageReply(decision, negotiated_, current_.headers);
  ResetMessage();
  return Answer(connection, reply).ok() ? Next::kContinue : Next::kClose;
}

MilterDecision MilterSession::DecideWithProgress(net::Connection& connection) {
  std::future<MilterDecision> pending;
  try {
    pending = std::async(std::launch::async, [this] { return backend_.Decide(current_); });
  } catch (const std::system_error&) {
    return backend_.Decide(current_);  // no thread to spare: decide here, without progress
  }
  bool connected = true;
  while (pending.wait_for(options_.progress_interval) != std::future_status::ready) {
    if (connected) connected = Answer(connection, EncodeResponse(Response::kProgress)).ok();
  }
  return pending.get();
}

Status MilterSession::Answer(net::Connection& connection, std::string_view packets) {
  return connection.Write(packets, options_.timeout);
}

MilterSession::Next MilterSession::Continue(net::Connection& connection,
                                            std::uint32_t no_reply_flag) {
  if ((negotiated_.protocol & no_reply_flag) != 0) return Next::kContinue;
  return Answer(connection, EncodeResponse(Response::kContinue)).ok() ? Next::kContinue
                                                                      : Next::kClose;
}

bool MilterSession::AddBytes(std::size_t n) {
  if (oversize_) return false;
  message_bytes_ += n;
  if (message_bytes_ <= options_.max_message_bytes) return true;
  oversize_ = true;
  content::Blob::Own(std::move(current_.message));  // wiped now; nothing more is kept
  current_.message.clear();
  return false;
}

void MilterSession::ResetMessage() {
  content::Blob::Own(std::move(current_.message));
  current_.message.clear();
  current_.headers.clear();
  current_.envelope.mail_from.clear();
  current_.envelope.recipients.clear();
  current_.envelope.queue_id.clear();
  current_.tenant_id.clear();
  in_transaction_ = false;
  header_block_done_ = false;
  oversize_ = false;
  answered_ = false;
  early_reply_.clear();
  message_bytes_ = 0;
}

void MilterSession::ResetConnection() {
  ResetMessage();
  current_.envelope = mail::Envelope();
  current_.macros.clear();
}

}  // namespace bulwark::milter

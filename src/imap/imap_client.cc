#include "imap/imap_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "bulwark/common/text.h"
#include "net/tls.h"

namespace bulwark::imap {
namespace {

using Clock = std::chrono::steady_clock;

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string FlagList(const std::vector<std::string>& flags) {
  std::string out = "(";
  for (const std::string& flag : flags) {
    if (out.size() > 1) out += ' ';
    out += flag;
  }
  return out + ")";
}

// A flag or keyword as a command may carry it: "\Seen" or an atom of safe characters.
bool IsSafeFlag(std::string_view flag) {
  if (flag.empty() || flag.size() > 200) return false;
  for (std::size_t i = 0; i < flag.size(); ++i) {
    char c = flag[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '$' || c == '-' || c == '_' || c == '.' || (c == '\\' && i == 0);
    if (!ok) return false;
  }
  return true;
}

Status CommandFailed(std::string_view what, const ImapResponse& tagged) {
  std::string text = tagged.text.substr(0, 200);
  return FailedPreconditionError(std::string(what) + " failed: " + tagged.status + " " + text);
}

std::optional<MessageLocation> CopiedUid(const ImapResponse& response, std::string_view code_name) {
  // "COPYUID <uidvalidity> <source set> <dest set>", "APPENDUID <uidvalidity> <uid>"
  std::vector<std::string> words = response.CodeWords();
  if (words.size() < 3 || AsciiUpper(words[0]) != code_name) return std::nullopt;
  ImapValue validity{ImapValue::Kind::kAtom, words[1], {}};
  ImapValue last{ImapValue::Kind::kAtom, words.back(), {}};
  std::optional<std::uint64_t> uid = last.Number();
  if (!uid || *uid == 0 || *uid > 0xffffffffu || !validity.Number()) return std::nullopt;
  return MessageLocation{*validity.Number(), static_cast<std::uint32_t>(*uid)};
}

}  // namespace

Result<TlsMode> ParseTlsMode(std::string_view text) {
  if (text == "implicit") return TlsMode::kImplicit;
  if (text == "starttls") return TlsMode::kStartTls;
  if (text == "none") return TlsMode::kNone;
  return InvalidArgumentError("tls must be implicit, starttls or none");
}

ImapClient::ImapClient(std::unique_ptr<net::Connection> connection, ImapEndpoint endpoint)
    : connection_(std::move(connection)),
      endpoint_(std::move(endpoint)),
      framer_(endpoint_.limits) {}

ImapClient::~ImapClient() = default;

Result<std::unique_ptr<ImapClient>> ImapClient::Connect(const ImapEndpoint& endpoint) {
  BULWARK_ASSIGN_OR_RETURN(std::unique_ptr<net::Connection> connection,
                           net::ConnectTcp(endpoint.host, endpoint.port, endpoint.timeout));
  if (endpoint.tls == TlsMode::kImplicit) {
    BULWARK_ASSIGN_OR_RETURN(std::shared_ptr<const net::TlsContext> context,
                             net::TlsContext::Client(/*verify=*/true, endpoint.ca_file));
    BULWARK_RETURN_IF_ERROR(connection->StartTls(*context, endpoint.host, endpoint.timeout));
  }
  return Open(std::move(connection), endpoint);
}

Result<std::unique_ptr<ImapClient>> ImapClient::Open(std::unique_ptr<net::Connection> connection,
                                                     const ImapEndpoint& endpoint) {
  std::unique_ptr<ImapClient> client(new ImapClient(std::move(connection), endpoint));
  BULWARK_RETURN_IF_ERROR(client->ReadGreetingAndCapabilities());
  if (endpoint.tls == TlsMode::kStartTls) {
    if (!client->Has("STARTTLS")) {
      return FailedPreconditionError("the IMAP server does not offer STARTTLS");
    }
    BULWARK_RETURN_IF_ERROR(client->RunOk("STARTTLS").status());
    if (client->framer_.buffered() != 0) {
      return UnavailableError("the IMAP server sent data before the TLS handshake");
    }
    BULWARK_ASSIGN_OR_RETURN(std::shared_ptr<const net::TlsContext> context,
                             net::TlsContext::Client(/*verify=*/true, endpoint.ca_file));
    BULWARK_RETURN_IF_ERROR(
        client->connection_->StartTls(*context, endpoint.host, endpoint.timeout));
    client->capabilities_.clear();  // RFC 3501 §6.2.1: ask again under TLS
    BULWARK_RETURN_IF_ERROR(client->RefreshCapabilities());
  }
  return client;
}

bool ImapClient::Has(std::string_view capability) const {
  return capabilities_.count(std::string(capability)) != 0;
}

void ImapClient::NoteCapabilities(const ImapResponse& response) {
  std::vector<std::string> words;
  if (response.name == "CAPABILITY") {
    for (const ImapValue& v : response.values) words.push_back(v.text);
  } else {
    words = response.CodeWords();
    if (words.empty() || AsciiUpper(words[0]) != "CAPABILITY") return;
    words.erase(words.begin());
  }
  capabilities_.clear();
  for (const std::string& w : words) capabilities_.insert(AsciiUpper(w));
}

Status ImapClient::ReadGreetingAndCapabilities() {
  BULWARK_ASSIGN_OR_RETURN(ImapResponse greeting, ReadResponse(endpoint_.timeout));
  if (greeting.kind != ImapResponse::Kind::kUntagged ||
      (greeting.status != "OK" && greeting.status != "PREAUTH")) {
    return UnavailableError("the IMAP server refused the connection: " + greeting.status + " " +
                            greeting.text.substr(0, 200));
  }
  NoteCapabilities(greeting);
  if (capabilities_.empty()) return RefreshCapabilities();
  return OkStatus();
}

Status ImapClient::RefreshCapabilities() {
  BULWARK_ASSIGN_OR_RETURN(CommandResult result, RunOk("CAPABILITY"));
  for (const ImapResponse& r : result.untagged) NoteCapabilities(r);
  NoteCapabilities(result.tagged);
  return OkStatus();
}

Result<ImapResponse> ImapClient::ReadResponse(std::chrono::milliseconds timeout) {
  std::array<char, 16384> chunk{};
  for (;;) {
    BULWARK_ASSIGN_OR_RETURN(std::optional<std::string> raw, framer_.Next());
    if (raw) return ParseResponse(*raw, endpoint_.limits);
    BULWARK_ASSIGN_OR_RETURN(std::size_t n, connection_->Read(chunk, timeout));
    if (n == 0) return UnavailableError("the IMAP server closed the connection");
    framer_.Feed(std::string_view(chunk.data(), n));
  }
}

Status ImapClient::SendCommandText(const std::string& tag, const std::string& command) {
  // Split at each literal announcement "{n}\r\n": without LITERAL+ each literal is sent only
  // after the server's "+" continuation.
  bool non_sync = Has("LITERAL+");
  std::string pending = tag + " ";
  std::size_t pos = 0;
  while (pos <= command.size()) {
    std::size_t brace = command.find("}\r\n", pos);
    if (brace == std::string::npos) {
      pending += command.substr(pos);
      pending += "\r\n";
      return connection_->Write(pending, endpoint_.timeout);
    }
    std::size_t open = command.rfind('{', brace);
    std::uint64_t size = std::stoull(command.substr(open + 1, brace - open - 1));
    if (non_sync) {
      pending += command.substr(pos, brace - pos) + "+}\r\n";
      pending += command.substr(brace + 3, size);
    } else {
      pending += command.substr(pos, brace - pos + 3);
      BULWARK_RETURN_IF_ERROR(connection_->Write(pending, endpoint_.timeout));
      pending.clear();
      BULWARK_ASSIGN_OR_RETURN(ImapResponse next, ReadResponse(endpoint_.timeout));
      if (next.kind != ImapResponse::Kind::kContinuation) {
        return FailedPreconditionError("the IMAP server refused a literal: " + next.status + " " +
                                       next.text.substr(0, 200));
      }
      pending = command.substr(brace + 3, size);
    }
    pos = brace + 3 + size;
  }
  return OkStatus();
}

Result<ImapClient::CommandResult> ImapClient::Run(const std::string& command) {
  std::string tag = "b" + std::to_string(next_tag_++);
  BULWARK_RETURN_IF_ERROR(SendCommandText(tag, command));
  CommandResult result;
  for (;;) {
    BULWARK_ASSIGN_OR_RETURN(ImapResponse response, ReadResponse(endpoint_.timeout));
    if (response.kind == ImapResponse::Kind::kTagged) {
      if (response.tag != tag) {
        return InvalidArgumentError("IMAP answer for an unknown command tag");
      }
      result.tagged = std::move(response);
      return result;
    }
    if (response.kind == ImapResponse::Kind::kUntagged && response.status == "BYE") {
      return UnavailableError("the IMAP server ended the session: " + response.text.substr(0, 200));
    }
    if (response.kind == ImapResponse::Kind::kUntagged) {
      if (result.untagged.size() > 100000) {
        return ResourceExhaustedError("too many IMAP responses to one command");
      }
      result.untagged.push_back(std::move(response));
    }
  }
}

Result<ImapClient::CommandResult> ImapClient::RunOk(const std::string& command) {
  BULWARK_ASSIGN_OR_RETURN(CommandResult result, Run(command));
  if (result.tagged.status != "OK") {
    std::string verb = command.substr(0, command.find(' '));
    return CommandFailed(verb, result.tagged);
  }
  return result;
}

Status ImapClient::Authenticate(const std::string& mechanism, const std::string& initial) {
  std::string tag = "b" + std::to_string(next_tag_++);
  std::string line = tag + " AUTHENTICATE " + mechanism;
  bool inline_response = Has("SASL-IR");
  if (inline_response) line += " " + initial;
  BULWARK_RETURN_IF_ERROR(connection_->Write(line + "\r\n", endpoint_.timeout));
  bool sent_initial = inline_response;
  for (;;) {
    BULWARK_ASSIGN_OR_RETURN(ImapResponse response, ReadResponse(endpoint_.timeout));
    if (response.kind == ImapResponse::Kind::kContinuation) {
      // The first continuation asks for the initial response; a later one carries the
      // server's error details (XOAUTH2): answer empty so it sends the tagged NO.
      std::string answer = sent_initial ? "" : initial;
      sent_initial = true;
      BULWARK_RETURN_IF_ERROR(connection_->Write(answer + "\r\n", endpoint_.timeout));
      continue;
    }
    if (response.kind == ImapResponse::Kind::kUntagged) {
      NoteCapabilities(response);
      continue;
    }
    if (response.tag != tag) return InvalidArgumentError("IMAP answer for an unknown command tag");
    if (response.status != "OK") {
      return PermissionDeniedError("the IMAP server refused the credentials: " +
                                   response.text.substr(0, 200));
    }
    NoteCapabilities(response);
    return OkStatus();
  }
}

Status ImapClient::LoginWithPassword(const std::string& user, const std::string& password) {
  if (Has("AUTH=PLAIN")) {
    std::string plain;
    plain += '\0';
    plain += user;
    plain += '\0';
    plain += password;
    BULWARK_RETURN_IF_ERROR(Authenticate("PLAIN", Base64(plain)));
  } else {
    if (Has("LOGINDISABLED")) {
      return FailedPreconditionError("the IMAP server allows no password login here (LOGINDISABLED)");
    }
    BULWARK_ASSIGN_OR_RETURN(CommandResult result,
                             Run("LOGIN " + QuoteString(user) + " " + QuoteString(password)));
    if (result.tagged.status != "OK") {
      return PermissionDeniedError("the IMAP server refused the credentials: " +
                                   result.tagged.text.substr(0, 200));
    }
    NoteCapabilities(result.tagged);
  }
  return capabilities_.empty() ? RefreshCapabilities() : OkStatus();
}

Status ImapClient::LoginWithOAuth2(const std::string& user, const std::string& access_token) {
  std::string payload = "user=" + user + "\x01" + "auth=Bearer " + access_token + "\x01\x01";
  BULWARK_RETURN_IF_ERROR(Authenticate("XOAUTH2", Base64(payload)));
  return capabilities_.empty() ? RefreshCapabilities() : OkStatus();
}

Result<std::string> ImapClient::Mailbox(const std::string& folder) const {
  if (folder.empty()) return InvalidArgumentError("empty folder name");
  if (utf8_mailboxes_) return QuoteString(folder);
  BULWARK_ASSIGN_OR_RETURN(std::string encoded, EncodeMailboxName(folder));
  return QuoteString(encoded);
}

Result<MailboxStatus> ImapClient::Select(const std::string& folder) {
  BULWARK_ASSIGN_OR_RETURN(std::string mailbox, Mailbox(folder));
  std::string command = "SELECT " + mailbox;
  if (Has("CONDSTORE")) command += " (CONDSTORE)";
  BULWARK_ASSIGN_OR_RETURN(CommandResult result, RunOk(command));
  MailboxStatus status;
  auto note_code = [&status](const ImapResponse& r) {
    std::vector<std::string> words = r.CodeWords();
    if (words.size() < 2) return;
    ImapValue number{ImapValue::Kind::kAtom, words[1], {}};
    std::uint64_t value = number.Number().value_or(0);
    std::string name = AsciiUpper(words[0]);
    if (name == "UIDVALIDITY") status.uidvalidity = value;
    if (name == "UIDNEXT") status.uidnext = value;
    if (name == "HIGHESTMODSEQ") status.highest_modseq = value;
  };
  for (const ImapResponse& r : result.untagged) {
    if (r.name == "EXISTS" && r.number) status.exists = *r.number;
    note_code(r);
  }
  if (status.uidvalidity == 0) {
    return InvalidArgumentError("the IMAP server gave no UIDVALIDITY for " + folder);
  }
  return status;
}

Status ImapClient::CreateFolder(const std::string& folder) {
  BULWARK_ASSIGN_OR_RETURN(std::string mailbox, Mailbox(folder));
  BULWARK_ASSIGN_OR_RETURN(CommandResult result, Run("CREATE " + mailbox));
  if (result.tagged.status == "OK") return OkStatus();
  // ALREADYEXISTS (RFC 5530), or servers that only say so in text: check with a LIST.
  std::vector<std::string> words = result.tagged.CodeWords();
  if (!words.empty() && AsciiUpper(words[0]) == "ALREADYEXISTS") return OkStatus();
  BULWARK_ASSIGN_OR_RETURN(CommandResult list, RunOk("LIST \"\" " + mailbox));
  for (const ImapResponse& r : list.untagged) {
    if (r.name == "LIST") return OkStatus();
  }
  return CommandFailed("CREATE", result.tagged);
}

Result<std::vector<std::uint32_t>> ImapClient::UidSearch(const std::string& criteria) {
  BULWARK_ASSIGN_OR_RETURN(CommandResult result, RunOk("UID SEARCH " + criteria));
  std::vector<std::uint32_t> uids;
  for (const ImapResponse& r : result.untagged) {
    if (r.name != "SEARCH") continue;
    for (const ImapValue& v : r.values) {
      std::optional<std::uint64_t> n = v.Number();  // "(MODSEQ n)" is a list: skipped
      if (n && *n > 0 && *n <= 0xffffffffu) uids.push_back(static_cast<std::uint32_t>(*n));
    }
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

Result<std::vector<FetchedMessage>> ImapClient::UidFetch(const std::string& uids, bool with_body) {
  std::string items = with_body ? "(UID RFC822.SIZE FLAGS BODY.PEEK[])" : "(UID RFC822.SIZE FLAGS)";
  BULWARK_ASSIGN_OR_RETURN(CommandResult result, RunOk("UID FETCH " + uids + " " + items));
  std::vector<FetchedMessage> messages;
  for (const ImapResponse& r : result.untagged) {
    if (r.name != "FETCH" || r.values.size() != 1 ||
        r.values[0].kind != ImapValue::Kind::kList) {
      continue;
    }
    const std::vector<ImapValue>& attrs = r.values[0].items;
    FetchedMessage message;
    for (std::size_t i = 0; i + 1 < attrs.size(); i += 2) {
      const ImapValue& name = attrs[i];
      const ImapValue& value = attrs[i + 1];
      if (name.IsAtom("UID")) {
        message.uid = static_cast<std::uint32_t>(value.Number().value_or(0));
      } else if (name.IsAtom("RFC822.SIZE")) {
        message.size = value.Number().value_or(0);
      } else if (name.IsAtom("FLAGS") && value.kind == ImapValue::Kind::kList) {
        for (const ImapValue& flag : value.items) message.flags.push_back(flag.text);
      } else if (name.IsAtom("BODY[]") && value.kind != ImapValue::Kind::kList) {
        message.body = value.text;
      }
    }
    // Unsolicited FETCH responses (flag changes by another client) have no UID or body.
    if (message.uid == 0 || (with_body && !message.body)) continue;
    messages.push_back(std::move(message));
  }
  return messages;
}

Status ImapClient::AddFlags(std::uint32_t uid, const std::vector<std::string>& flags) {
  for (const std::string& flag : flags) {
    if (!IsSafeFlag(flag)) return InvalidArgumentError("invalid IMAP flag or keyword: " + flag);
  }
  return RunOk("UID STORE " + std::to_string(uid) + " +FLAGS.SILENT " + FlagList(flags)).status();
}

Result<std::optional<MessageLocation>> ImapClient::MoveMessage(std::uint32_t uid,
                                                             const std::string& folder) {
  BULWARK_ASSIGN_OR_RETURN(std::string mailbox, Mailbox(folder));
  std::string id = std::to_string(uid);
  if (Has("MOVE")) {
    BULWARK_ASSIGN_OR_RETURN(CommandResult result, RunOk("UID MOVE " + id + " " + mailbox));
    // COPYUID comes in an untagged OK before the EXPUNGE (RFC 6851 §4.3), or in the tagged OK.
    for (const ImapResponse& r : result.untagged) {
      if (auto moved = CopiedUid(r, "COPYUID")) return moved;
    }
    return CopiedUid(result.tagged, "COPYUID");
  }
  BULWARK_ASSIGN_OR_RETURN(CommandResult copied, RunOk("UID COPY " + id + " " + mailbox));
  BULWARK_RETURN_IF_ERROR(DeleteMessage(uid));
  return CopiedUid(copied.tagged, "COPYUID");
}

Status ImapClient::DeleteMessage(std::uint32_t uid) {
  std::string id = std::to_string(uid);
  BULWARK_RETURN_IF_ERROR(RunOk("UID STORE " + id + " +FLAGS.SILENT (\\Deleted)").status());
  // Without UIDPLUS a plain EXPUNGE also removes other messages marked \Deleted by the user;
  // that is what the user asked for by marking them, so it is acceptable.
  if (Has("UIDPLUS")) return RunOk("UID EXPUNGE " + id).status();
  return RunOk("EXPUNGE").status();
}

Result<std::optional<MessageLocation>> ImapClient::Append(const std::string& folder,
                                                        const std::vector<std::string>& flags,
                                                        std::string_view message) {
  for (const std::string& flag : flags) {
    if (!IsSafeFlag(flag)) return InvalidArgumentError("invalid IMAP flag or keyword: " + flag);
  }
  BULWARK_ASSIGN_OR_RETURN(std::string mailbox, Mailbox(folder));
  std::string command = "APPEND " + mailbox + " " + FlagList(flags) + " {" +
                        std::to_string(message.size()) + "}\r\n" + std::string(message);
  BULWARK_ASSIGN_OR_RETURN(CommandResult result, RunOk(command));
  return CopiedUid(result.tagged, "APPENDUID");
}

Result<bool> ImapClient::Idle(std::chrono::milliseconds limit, const std::atomic<bool>& stop) {
  std::string tag = "b" + std::to_string(next_tag_++);
  BULWARK_RETURN_IF_ERROR(connection_->Write(tag + " IDLE\r\n", endpoint_.timeout));
  BULWARK_ASSIGN_OR_RETURN(ImapResponse go_ahead, ReadResponse(endpoint_.timeout));
  if (go_ahead.kind != ImapResponse::Kind::kContinuation) {
    return FailedPreconditionError("the IMAP server refused IDLE: " + go_ahead.text.substr(0, 200));
  }
  const auto deadline = Clock::now() + limit;
  constexpr std::chrono::milliseconds kSlice{250};  // how quickly `stop` is noticed
  bool changed = false;
  while (!changed && !stop.load() && Clock::now() < deadline) {
    Result<ImapResponse> response = ReadResponse(kSlice);
    if (!response.ok()) {
      if (response.status().code() == StatusCode::kDeadlineExceeded) continue;
      return response.status();
    }
    if (response->status == "BYE") return UnavailableError("the IMAP server ended the session");
    const std::string& name = response->name;
    changed = name == "EXISTS" || name == "RECENT" || name == "FETCH" || name == "EXPUNGE" ||
              name == "VANISHED";
  }
  BULWARK_RETURN_IF_ERROR(connection_->Write("DONE\r\n", endpoint_.timeout));
  for (;;) {
    BULWARK_ASSIGN_OR_RETURN(ImapResponse response, ReadResponse(endpoint_.timeout));
    if (response.kind == ImapResponse::Kind::kTagged) {
      if (response.status != "OK") return CommandFailed("IDLE", response);
      return changed;
    }
  }
}

Status ImapClient::Noop() { return RunOk("NOOP").status(); }

void ImapClient::Logout() {
  // The server answers "* BYE" and then OK; either way the session is over.
  (void)Run("LOGOUT");
}

}  // namespace bulwark::imap

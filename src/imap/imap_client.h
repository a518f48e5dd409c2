#pragma once
// ImapClient: the mailbox connector's side of IMAP4rev1 (RFC 3501) with the extensions it
// uses when the server offers them: IDLE (RFC 2177), UIDPLUS (RFC 4315), MOVE (RFC 6851),
// CONDSTORE (RFC 7162), LITERAL+ (RFC 7888), SASL-IR (RFC 4959); XOAUTH2 (Google/Microsoft
// OAuth2 bearer tokens) or PLAIN/LOGIN authentication; implicit TLS (993) or STARTTLS, the
// server's certificate verified against the system trust store or a given CA file.
//
// One connection, one thread: calls block up to the configured timeout. Errors:
// kPermissionDenied when the server refuses the credentials (the connector reports it and
// backs off), kUnavailable/kDeadlineExceeded for a broken or silent connection,
// kFailedPrecondition for a NO to a command, kInvalidArgument for a malformed response (the
// connection is then unusable), kResourceExhausted when a response passes the limits.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"
#include "imap/imap_response.h"
#include "net/connection.h"

namespace bulwark::imap {

enum class TlsMode { kImplicit, kStartTls, kNone };
Result<TlsMode> ParseTlsMode(std::string_view text);  // "implicit", "starttls", "none"

struct ImapEndpoint {
  std::string host;
  std::uint16_t port = 993;
  TlsMode tls = TlsMode::kImplicit;
  std::string ca_file;  // "" = the system trust store
  std::chrono::milliseconds timeout{60000};
  ImapLimits limits;
};

struct MailboxStatus {
  std::uint64_t exists = 0;
  std::uint64_t uidvalidity = 0;
  std::uint64_t uidnext = 0;         // 0 when the server did not say
  std::uint64_t highest_modseq = 0;  // 0 without CONDSTORE
};

// Where a copied, moved or appended message now is (UIDPLUS COPYUID/APPENDUID).
struct MessageLocation {
  std::uint64_t uidvalidity = 0;
  std::uint32_t uid = 0;
};

struct FetchedMessage {
  std::uint32_t uid = 0;
  std::uint64_t size = 0;               // RFC822.SIZE
  std::vector<std::string> flags;       // system flags and keywords
  std::optional<std::string> body;      // BODY[] when it was fetched
};

class ImapClient {
 public:
  // Connects, negotiates TLS per `endpoint.tls`, reads the greeting and the capabilities.
  static Result<std::unique_ptr<ImapClient>> Connect(const ImapEndpoint& endpoint);
  // Over an established connection (tests: a socketpair with a scripted server).
  static Result<std::unique_ptr<ImapClient>> Open(std::unique_ptr<net::Connection> connection,
                                                  const ImapEndpoint& endpoint);
  ~ImapClient();
  ImapClient(const ImapClient&) = delete;
  ImapClient& operator=(const ImapClient&) = delete;

  bool Has(std::string_view capability) const;  // upper-case, e.g. "IDLE", "AUTH=PLAIN"
  const std::set<std::string>& capabilities() const { return capabilities_; }

  // AUTHENTICATE PLAIN when offered, LOGIN otherwise.
  Status LoginWithPassword(const std::string& user, const std::string& password);
  // AUTHENTICATE XOAUTH2 with an OAuth2 access token.
  Status LoginWithOAuth2(const std::string& user, const std::string& access_token);

  // SELECT (with CONDSTORE when offered); `folder` in UTF-8.
  Result<MailboxStatus> Select(const std::string& folder);
  // CREATE; an existing folder is not an error.
  Status CreateFolder(const std::string& folder);
  // UID SEARCH with `criteria` already in IMAP syntax (e.g. "UID 12:*", "SINCE 1-Jan-2026
  // FROM \"x@example.com\""); the UIDs found, ascending.
  Result<std::vector<std::uint32_t>> UidSearch(const std::string& criteria);
  // UID FETCH of `uids` ("1:5,9"): UID, RFC822.SIZE, FLAGS, and BODY.PEEK[] when
  // `with_body` (the \Seen flag is not changed).
  Result<std::vector<FetchedMessage>> UidFetch(const std::string& uids, bool with_body);
  // UID STORE +FLAGS.SILENT / -FLAGS.SILENT.
  Status AddFlags(std::uint32_t uid, const std::vector<std::string>& flags);
  // Moves one message to `folder` (UID MOVE, or COPY + \Deleted + UID EXPUNGE without MOVE).
  // Returns where it is there when the server says (UIDPLUS COPYUID), else nullopt.
  Result<std::optional<MessageLocation>> MoveMessage(std::uint32_t uid, const std::string& folder);
  // Deletes one message: \Deleted, then UID EXPUNGE (UIDPLUS) or EXPUNGE.
  Status DeleteMessage(std::uint32_t uid);
  // APPEND `message` to `folder` with `flags`; where it is when the server says (APPENDUID).
  Result<std::optional<MessageLocation>> Append(const std::string& folder,
                                              const std::vector<std::string>& flags,
                                              std::string_view message);

  // IDLE (precondition: Has("IDLE") and a folder selected): waits until the server reports
  // a change (EXISTS, RECENT, FETCH, EXPUNGE) or `limit` passes or `stop` becomes true, then
  // ends IDLE. True when something changed.
  Result<bool> Idle(std::chrono::milliseconds limit, const std::atomic<bool>& stop);
  // NOOP (picks up changes on servers without IDLE).
  Status Noop();
  // Ends the session politely (errors do not matter then).
  void Logout();

 private:
  ImapClient(std::unique_ptr<net::Connection> connection, ImapEndpoint endpoint);

  // Sends a command (tag added) and reads until its tagged answer; untagged responses on the
  // way are returned. Arguments that need a literal are in `command` as "{n}\r\n"+bytes:
  // without LITERAL+ the client waits for the server's continuation before each.
  struct CommandResult {
    std::vector<ImapResponse> untagged;
    ImapResponse tagged;
  };
  Result<CommandResult> Run(const std::string& command);
  // Like Run, for a tagged NO/BAD an error (kFailedPrecondition with the server's text).
  Result<CommandResult> RunOk(const std::string& command);
  Result<ImapResponse> ReadResponse(std::chrono::milliseconds timeout);
  Status SendCommandText(const std::string& tag, const std::string& command);
  Status ReadGreetingAndCapabilities();
  Status RefreshCapabilities();
  void NoteCapabilities(const ImapResponse& response);
  Status Authenticate(const std::string& mechanism, const std::string& initial_response);
  Result<std::string> Mailbox(const std::string& folder) const;  // encoded and quoted

  std::unique_ptr<net::Connection> connection_;
  ImapEndpoint endpoint_;
  ImapResponseFramer framer_;
  std::set<std::string> capabilities_;
  std::uint64_t next_tag_ = 1;
  bool utf8_mailboxes_ = false;  // UTF8=ACCEPT enabled
};

}  // namespace bulwark::imap

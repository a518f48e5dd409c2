#pragma once
// DovecotServer: a throw-away Dovecot IMAP server for tests (the IMAP connector's peer).
// Start() writes a complete dovecot.conf into a fresh scratch directory (nothing from
// /etc/dovecot is read, nothing is written to /etc or /var) and runs `dovecot -F` on
// 127.0.0.1 with two listeners: plain IMAP that offers STARTTLS and accepts plaintext
// LOGIN/AUTHENTICATE PLAIN, and IMAPS (implicit TLS). The TLS certificate is self-signed,
// made fresh for "localhost" and IP 127.0.0.1; ca_file() is the PEM to trust.
//
// Users come from a passwd-file (password scheme PLAIN). With `oauth_tokens`, SASL XOAUTH2
// and OAUTHBEARER are accepted too: Dovecot's oauth2 passdb asks a tiny loopback HTTP
// introspection endpoint (a python3 script run as a child process), which answers
// {"active":true,"username":USER} for a known token and {"active":false} otherwise; the
// user named in the SASL exchange must be the token's user.
//
// A failed authentication is answered after up to 0.5 s (Dovecot answers failures on a
// timer; the usual 2 s delay and the growing penalty for repeated failures are off).
//
// Mail is in Maildir under the scratch directory. When the test runs as root, the mail
// processes run as nobody:nogroup and Dovecot's own processes as its packaged users
// (dovecot, dovenull); otherwise everything runs as the current user.
//
// Line ends: Dovecot is configured to store mail with CRLF (mail_save_crlf = yes), so a
// message Deliver()ed with LF or CRLF line ends is stored, served over IMAP and returned by
// Messages() with CRLF line ends (a bare CR is kept as it is). A message delivered with CRLF
// comes back byte for byte.
//
// Thread safety: none; use one instance from one thread at a time (several instances,
// e.g. in several test binaries, can run at once).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"

namespace bulwark::testing {

class ChildProcess;
class ScratchDir;

struct DovecotUser {
  std::string name;      // letters, digits and . _ - + @ only
  std::string password;  // no ':', CR or LF
};

struct DovecotOptions {
  std::vector<DovecotUser> users;
  // Bearer tokens accepted with SASL XOAUTH2 and OAUTHBEARER: token -> user name. Tokens
  // are printable ASCII without spaces; each user must also be in `users` (that file is
  // the userdb too; the password stays valid for LOGIN/PLAIN). When empty, neither
  // mechanism is offered and python3 is not needed.
  std::vector<std::pair<std::string, std::string>> oauth_tokens;
};

class DovecotServer {
 public:
  // A message as Dovecot holds it now.
  struct StoredMessage {
    std::uint32_t uid = 0;
    // System flags ("\\Seen", "\\Flagged", ...) and keywords, in Dovecot's order. \Recent
    // is left out: it depends on which session looked first, not on the message.
    std::vector<std::string> flags;
    std::string text;  // the full raw message (CRLF line ends, see above)
  };

  // Returns once both listeners accept connections.
  // kUnavailable when Dovecot (dovecot, doveadm), openssl or, with oauth_tokens, python3 is
  // not installed (the message says how to install them); kInvalidArgument for a user name,
  // password or token that the generated files cannot carry; kInternal when the server
  // does not come up (the message carries the end of its log).
  static Result<std::unique_ptr<DovecotServer>> Start(const DovecotOptions& options);

  // Stops Dovecot and the introspection endpoint (SIGTERM) and removes the directory.
  ~DovecotServer();
  DovecotServer(const DovecotServer&) = delete;
  DovecotServer& operator=(const DovecotServer&) = delete;

  std::uint16_t imap_port() const { return imap_port_; }    // plain, STARTTLS offered
  std::uint16_t imaps_port() const { return imaps_port_; }  // implicit TLS
  // The self-signed certificate (PEM) of both listeners, to trust as a CA.
  std::string ca_file() const;
  // Dovecot's log and the master's own output so far, for failure messages.
  std::string log_text() const;

  // Stores `message` in `user`'s `folder` (created first when missing; '/' separates
  // levels, "INBOX" is the inbox) as a new message, through `doveadm save`, so that
  // Dovecot assigns its UID as for a real delivery. kNotFound for an unknown user; kInternal
  // (with doveadm's error) when the save fails otherwise.
  Status Deliver(const std::string& user, const std::string& folder, const std::string& message);

  // The messages in `user`'s `folder` now, in UID order. kNotFound when the user or the
  // folder does not exist; kInternal when doveadm fails or its output cannot be parsed.
  Result<std::vector<StoredMessage>> Messages(const std::string& user, const std::string& folder);

  // The folder's UIDVALIDITY, and a way to change it (as if the mailbox had been
  // recreated: clients must forget the UIDs they knew). kNotFound for an unknown user or a
  // missing folder.
  Result<std::uint32_t> UidValidity(const std::string& user, const std::string& folder);
  Status SetUidValidity(const std::string& user, const std::string& folder,
                        std::uint32_t uid_validity);

 private:
  DovecotServer() = default;
  // Runs `doveadm -c dovecot.conf <arguments>` (arguments shell-quoted here), stdin from
  // `input` when not empty. Non-OK (with its stderr) unless it exits 0; kNotFound when it
  // exits 67 or 68 (doveadm's "no such user" and "not found", e.g. no such mailbox).
  Result<std::string> Doveadm(const std::vector<std::string>& arguments,
                              const std::filesystem::path& input = {});
  // Starts `dovecot -F` with the dovecot.conf written for the current ports and waits
  // until it listens; kInternal with the log when it does not.
  Status Launch();

  // Constant after Start().
  std::unique_ptr<ScratchDir> scratch_;  // everything: config, TLS, mail, sockets, logs
  std::filesystem::path dovecot_, doveadm_;
  bool as_root_ = false;
  std::string oauth2_config_;  // the oauth2 passdb's settings file; "" without tokens
  std::uint16_t imap_port_ = 0, imaps_port_ = 0;
  // Declared last: destroyed (stopped) first, while the directory still exists.
  std::unique_ptr<ChildProcess> introspection_;
  std::unique_ptr<ChildProcess> dovecot_process_;
};

}  // namespace bulwark::testing

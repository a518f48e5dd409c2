#pragma once
// One SMTP connection of the inline gateway (RFC 5321 with the extensions in
// docs/smtp-gateway.md), as a before-queue proxy: at the first accepted recipient the
// session opens the next hop of that recipient's domain and passes its MAIL and RCPT
// answers back; at the end of DATA the message is scanned and, when it is to be delivered,
// handed to the next hop, whose final answer the client gets. Nothing is stored: a client
// hears 250 only once the next hop said 250 (or the message was quarantined or discarded
// on purpose). The site behind it (routing, the scan, the next hop) is the SmtpBackend, so
// tests run the session over a socketpair with fakes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/mail_scan.h"
#include "net/connection.h"
#include "net/tls.h"
#include "smtp/smtp_codec.h"

namespace bulwark::smtp {

// Where mail for a recipient goes: one [[mail.domains]] entry.
struct SmtpRoute {
  std::string tenant_id;                       // "" = no tenant (verdict only)
  std::string next_hop;                        // "host[:port]"
  std::string next_hop_tls = "opportunistic";  // "opportunistic", "required", "none"
  std::string next_hop_ca_file;
  // Two recipients can share a transaction only when they go the same way.
  bool SameDestination(const SmtpRoute& other) const {
    return tenant_id == other.tenant_id && next_hop == other.next_hop &&
           next_hop_tls == other.next_hop_tls && next_hop_ca_file == other.next_hop_ca_file;
  }
};

// The open SMTP transaction with the next hop (after its MAIL FROM was accepted). Every
// call answers with the next hop's reply; a network failure or timeout becomes a 4xx reply
// (451 4.4.2) and the hop is then unusable.
class NextHop {
 public:
  virtual ~NextHop() = default;
  virtual SmtpReply Recipient(const std::string& address) = 0;
  // DATA, the message (dot-stuffed here), the end line; the final reply.
  virtual SmtpReply Data(std::string_view message) = 0;
  // Ends the transaction without delivering (RSET) and the connection (QUIT).
  virtual void Abandon() = 0;
};

// What the sender asked for in MAIL FROM that the next hop must also be told.
struct MailParameters {
  std::optional<std::uint64_t> size;  // SIZE=
  std::string body;                   // BODY= as sent ("7BIT", "8BITMIME"), "" = none
  bool smtputf8 = false;
};

// The outcome of opening a next hop: `hop`, or the reply to give the client instead.
struct NextHopOpening {
  std::unique_ptr<NextHop> hop;
  SmtpReply failure;
};

// What to do with a received message.
struct SmtpDecision {
  enum class Action {
    kRelay,     // hand `message` to the next hop; the client gets the next hop's answer
    kReject,    // answer `reply` (5xx); nothing is delivered
    kAccepted,  // quarantined or discarded on purpose: answer `reply` (2xx)
    kTempFail,  // answer `reply` (4xx)
  };
  Action action = Action::kTempFail;
  SmtpReply reply;
  std::string message;      // kRelay: the bytes to hand on (trace and verdict fields added)
  std::string disposition;  // for logs: "deliver", "reject", "quarantine", …
};

// Thread safety: one backend serves every session at once.
class SmtpBackend {
 public:
  virtual ~SmtpBackend() = default;
  // The route of a recipient address, or nullopt when we do not accept mail for it
  // (relay denied).
  // Isolation: the recipient's domain alone chooses the tenant.
  virtual std::optional<SmtpRoute> Route(const std::string& recipient) = 0;
  // Connects to route.next_hop, greets it, does STARTTLS per route, sends MAIL FROM.
  virtual NextHopOpening OpenNextHop(const SmtpRoute& route, const std::string& mail_from,
                                     const MailParameters& parameters) = 0;
  // Scans and decides. Never fails: errors are a kTempFail decision.
  virtual SmtpDecision Decide(const mail::Envelope& envelope, const SmtpRoute& route,
                              std::string_view message) = 0;
};

struct SmtpSessionOptions {
  std::string hostname = "localhost";  // in the banner and replies
  std::uint64_t max_message_bytes = 50ull << 20;
  std::size_t max_recipients = 100;
  std::size_t max_line_bytes = 4096;
  std::size_t max_errors = 20;  // then 421 and close, as Postfix's hard error limit
  std::chrono::milliseconds command_timeout{300000};
  std::chrono::milliseconds data_timeout{600000};
  // Offered as STARTTLS when set and the connection is not TLS yet.
  std::shared_ptr<const net::TlsContext> tls;
  std::function<bool()> stopping;  // true: 421 at the next command and close
};

// Runs the dialogue until QUIT, the client closes, a timeout (421 4.4.2), too many errors
// (421 4.7.0), a failed STARTTLS, or `stopping` (421 4.3.2).
void RunSmtpSession(net::Connection& connection, SmtpBackend& backend,
                    const SmtpSessionOptions& options);

}  // namespace bulwark::smtp

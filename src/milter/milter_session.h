#pragma once
// One milter connection's dialogue (Sendmail/Postfix milter protocol 6; docs/milter.md):
// option negotiation, then for each SMTP session the MTA relays over it the connect, HELO,
// MAIL, RCPT, header and body events, and at end of message the decision. The message is
// rebuilt from the header and body events; the site behind the session (tenant of the
// recipients, the scan and the decision) is a MilterBackend, so tests and the fuzzer run a
// session over a socketpair or in memory without a site.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "mail/mail_scan.h"
#include "milter/milter_codec.h"
#include "milter/milter_reply.h"
#include "net/connection.h"

namespace bulwark::milter {

// One message as the session collected it.
struct MilterMessage {
  mail::Envelope envelope;
  std::string tenant_id;  // from MilterBackend::TenantFor
  // Header fields as the MTA sent them ("Name: value" lines, CR LF), a blank line, the body.
  std::string message;
  std::vector<Header> headers;  // as sent (values with their leading space when negotiated)
  // Macros the MTA sent so far in this SMTP session ("i", "{daemon_name}", "{tls_version}"…).
  std::map<std::string, std::string> macros;
};

// Thread safety: one backend serves every session at once.
class MilterBackend {
 public:
  virtual ~MilterBackend() = default;
  // The tenant that scans mail to `recipients`: "" = nobody's (the message is accepted
  // unscanned). An error (a configured tenant that does not exist) tempfails the message.
  // Isolation: the recipients' [[mail.domains]] entries, then the listener's fallback
  // tenant, are the only ways a message gets a tenant.
  virtual Result<std::string> TenantFor(const std::vector<std::string>& recipients) = 0;
  // Scans and decides (and records the event in message.tenant_id). Never fails: errors are
  // a kTempFail verdict.
  virtual MilterDecision Decide(const MilterMessage& message) = 0;
};

struct MilterSessionOptions {
  std::uint64_t max_message_bytes = 50ull << 20;  // headers and body as received
  std::size_t max_packet_bytes = kMaxPacketBytes;
  std::chrono::milliseconds timeout{300000};  // for each packet and each write
  // While a decision takes longer, SMFIR_PROGRESS is sent this often so that the MTA's
  // milter_content_timeout restarts.
  std::chrono::milliseconds progress_interval{10000};
  std::function<bool()> stopping;  // true: end the connection before the next SMTP session
};

// The actions and protocol steps the session asks for (subject to what the MTA offers).
inline constexpr std::uint32_t kWantedActions =
    kActionAddHeaders | kActionChangeHeaders | kActionChangeBody | kActionQuarantine;
inline constexpr std::uint32_t kWantedProtocol =
    kProtoNoUnknown | kProtoNoData | kProtoNoReplyConnect | kProtoNoReplyHelo | kProtoNoReplyMail |
    kProtoNoReplyRecipient | kProtoNoReplyData | kProtoNoReplyUnknown | kProtoNoReplyHeader |
    kProtoNoReplyEndOfHeaders | kProtoHeaderLeadingSpace;

class MilterSession {
 public:
  MilterSession(MilterBackend& backend, const MilterSessionOptions& options)
      : backend_(backend), options_(options) {}

  // Runs the dialogue until the MTA quits or closes, a timeout, a protocol error (the
  // connection is closed; the MTA applies its milter_default_action) or `stopping` at an
  // SMTP session boundary. Never throws.
  void Run(net::Connection& connection);

 private:
  enum class Next { kContinue, kClose };

  Next Handle(const Packet& packet, net::Connection& connection);
  Next Negotiate(const Packet& packet, net::Connection& connection);
  Next Body(std::string_view chunk, net::Connection& connection);
  // Adds body bytes to the message (ends the header block first), within the size limit.
  void Accumulate(std::string_view chunk);
  // The answer due before the end of the message: 552 when over the size limit, accept
  // when the recipients are nobody's, tempfail when their tenant cannot be found; else
  // nullopt (and the tenant is set).
  std::optional<std::string> EarlyReply();
  Next AnswerEarly(net::Connection& connection, const std::string& reply);
  Next EndOfMessage(std::string_view chunk, net::Connection& connection);
  Status Answer(net::Connection& connection, std::string_view packets);
  // Answers SMFIR_CONTINUE unless the MTA was told not to wait for a reply to this step
  // (`no_reply_flag` negotiated).
  Next Continue(net::Connection& connection, std::uint32_t no_reply_flag);
  // Counts `n` more message bytes; false (and the message dropped) once over the limit.
  bool AddBytes(std::size_t n);
  // The backend's decision, run on its own thread while SMFIR_PROGRESS keeps the MTA waiting.
  MilterDecision DecideWithProgress(net::Connection& connection);
  void ResetMessage();
  void ResetConnection();

  MilterBackend& backend_;
  const MilterSessionOptions& options_;

  // The negotiated options; version 0 until SMFIC_OPTNEG.
  Options negotiated_;
  // The SMTP session being relayed (cleared by SMFIC_QUIT_NC).
  MilterMessage current_;
  // The message being received (cleared by MAIL, ABORT and the end of message).
  bool in_transaction_ = false;  // between MAIL and the end of the message
  bool header_block_done_ = false;
  bool oversize_ = false;
  bool answered_ = false;    // accepted or refused before its end: ignore the rest …
  std::string early_reply_;  // … and repeat this answer if the MTA goes on regardless
  std::uint64_t message_bytes_ = 0;
  std::string body_;
};

}  // namespace bulwark::milter

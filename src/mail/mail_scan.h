#pragma once
// The mail layer shared by the inline SMTP gateway (src/smtp) and the milter (src/milter):
// which tenant a message belongs to (its recipients' domain, [[mail.domains]]), the trace
// field Bulwark adds, the scan of the whole message through service::ScanContent (lists,
// engine, tenant policy, event, sealed quarantine) and what then happens to the message:
// deliver it (with verdict headers, a tagged subject, blocked attachments stripped),
// reject it, quarantine it or discard it. No I/O of its own besides the site's.
// See docs/smtp-gateway.md and docs/milter.md.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"
#include "service/config.h"
#include "service/content_scan.h"
#include "service/site.h"

namespace bulwark::mail {

// What the SMTP session said.
struct Envelope {
  std::string client_ip;    // IPv4/IPv6 text; "" when unknown
  std::string client_name;  // the client's host name as the MTA knows it; "" = unknown
  std::string helo;         // HELO/EHLO argument
  std::string mail_from;    // without <>; "" = the null sender
  std::vector<std::string> recipients;  // without <>
  bool tls = false;         // the client used STARTTLS
  std::string queue_id;     // names the transaction in the Received field and logs
};

// Recipient domain → [[mail.domains]] entry. Matching is case-insensitive; an entry with
// include_subdomains also covers every subdomain; the longest matching domain wins.
class DomainRouter {
 public:
  explicit DomainRouter(std::vector<service::MailDomainConfig> domains);
  // The entry responsible for `address` ("local@domain", with or without <>), or null.
  const service::MailDomainConfig* Route(std::string_view address) const;
  bool empty() const { return domains_.empty(); }

 private:
  std::vector<service::MailDomainConfig> domains_;
};

enum class Disposition {
  kDeliver,     // hand on (possibly with headers added, subject tagged, parts stripped)
  kReject,      // refuse with a 5xx reply
  kQuarantine,  // sealed into Bulwark's quarantine; accept and do not deliver
  kDiscard,     // accept and drop (the policy said delete and nothing is left to deliver)
  kTempFail,    // 4xx: try again later (Bulwark could not decide, e.g. the store failed)
};
std::string_view DispositionName(Disposition disposition);  // "deliver", "reject", …

struct HeaderField {
  std::string name;
  std::string value;  // unfolded; the writer folds long values
};

// What to do with one message.
struct MailVerdict {
  Disposition disposition = Disposition::kDeliver;
  // The SMTP reply for kReject and kTempFail (and the 250 text for the others), e.g.
  // 550, "5.7.1", "Message rejected by policy: malware (Eicar-Test-Signature)".
  int reply_code = 250;
  std::string enhanced_code = "2.0.0";
  std::string reply_text = "OK";
  // Prepended to the message when delivered: X-Bulwark-Verdict, X-Bulwark-Findings,
  // X-Bulwark-Event, Authentication-Results (when sender authentication is on).
  std::vector<HeaderField> add_headers;
  std::string subject_prefix;  // non-empty: the subject is to start with it (tag action)
  // Attachments (their declared file names) replaced with a notice, and the message
  // without them (set by MailScanner::Scan; RewriteMessage delivers it instead).
  std::vector<std::string> strip_attachments;
  std::string cleaned_message;
  service::ContentScanOutcome outcome;
};

// The verdict for a scan outcome under the tenant's decision (exposed for tests):
// log/notify → deliver with verdict headers; tag → deliver with `subject_tag` before the
// subject; reject → 550 5.7.1 naming the protection and findings (names only, never
// content); quarantine → accepted and held when the object was sealed, else rejected;
// delete → the attachments that hold every detection are stripped, or, when a detection
// is in the message itself, the message is discarded.
MailVerdict VerdictFor(service::ContentScanOutcome outcome, std::string_view subject_tag);

struct MailScanOptions {
  std::string hostname;       // ours, in Received and Authentication-Results
  std::string subject_tag = "[SUSPICIOUS]";
  std::string service = "smtp";  // the policy scope and event service: "smtp", "milter"
  // Mail delivered gets X-Bulwark-Signature (mail/verdict_seal.h) for the mailbox connector.
  bool sign_verdicts = false;
};

class MailScanner {
 public:
  MailScanner(service::Site& site, MailScanOptions options);

  // The Received field (name and value, RFC 5321 §4.4) the gateway adds for `envelope`.
  HeaderField ReceivedField(const Envelope& envelope) const;

  // Scans `message` (RFC 5322 bytes as received, CR LF or LF) for `tenant_id` ("" = no
  // tenant: engine verdict only, nothing recorded, no quarantine) and decides.
  // `trace` are the fields the caller puts before the message (the gateway's Received
  // field); they are scanned with it, together with a Return-Path of the envelope sender,
  // so that sender authentication sees the real client, HELO and MAIL FROM.
  // Errors are returned as a kTempFail verdict, never as a failed call.
  MailVerdict Scan(const Envelope& envelope, const std::vector<HeaderField>& trace,
                   std::string_view message, const std::string& tenant_id) const;

 private:
  service::Site& site_;
  MailScanOptions options_;
};

// The message to hand on for a kDeliver verdict: `verdict.add_headers` (after `trace`,
// which comes first), the subject tagged, attachments stripped. Untouched otherwise: a
// clean message comes out byte-identical apart from the fields put before it. Line ends of
// added text follow the message's own (CR LF unless it uses bare LF).
std::string RewriteMessage(std::string_view message, const std::vector<HeaderField>& trace,
                           const MailVerdict& verdict);

// Folds `name: value` at white space to lines of at most 78 characters, ending each line
// with `eol`. The result ends with `eol`.
std::string FormatHeaderField(const HeaderField& field, std::string_view eol = "\r\n");

// The machine's host name (gethostname), or "localhost".
std::string LocalHostName();

}  // namespace bulwark::mail

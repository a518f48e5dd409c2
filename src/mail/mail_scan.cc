#include "mail/mail_scan.h"

#include "mail/verdict_seal.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "bulwark/common/text.h"
#include "detectors/senderauth/sender_auth.h"
#include "mail/attachment_strip.h"

namespace bulwark::mail {
namespace {

std::string StripAngles(std::string_view address) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
    address = address.substr(1, address.size() - 2);
  }
  return std::string(address);
}

std::string DomainOfAddress(std::string_view address) {
  std::string plain = StripAngles(address);
  std::size_t at = plain.rfind('@');
  if (at == std::string::npos) return {};
  std::string domain = AsciiLower(std::string_view(plain).substr(at + 1));
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  return domain;
}

bool Covers(const service::MailDomainConfig& entry, const std::string& domain) {
  return entry.include_subdomains ? IsDomainOrSubdomain(domain, entry.domain)
                                  : domain == entry.domain;
}

// RFC 5322 date-time in UTC: "Sat, 28 Nov 2026 18:20:00 +0000".
std::string Rfc5322Date(std::time_t now) {
  std::tm tm{};
  gmtime_r(&now, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

// The address literal of RFC 5321 §4.1.3 for the Received field.
std::string AddressLiteral(const std::string& ip) {
  if (ip.find(':') != std::string::npos) return "[IPv6:" + ip + "]";
  return "[" + ip + "]";
}

// Header-safe: no line breaks or other control characters from the peer.
std::string Sanitized(std::string_view text, std::size_t max = 200) {
  std::string out;
  for (char c : text.substr(0, std::min(text.size(), max))) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  return out;
}

// "\r\n" unless the message's first line ends in a bare LF.
std::string_view LineEndOf(std::string_view message) {
  std::size_t lf = message.find('\n');
  if (lf != std::string_view::npos && (lf == 0 || message[lf - 1] != '\r')) return "\n";
  return "\r\n";
}

// The distinct names of the findings that made the verdict (at most `max`).
std::string FindingNames(const std::vector<engine::Finding>& findings, std::size_t max = 5) {
  std::vector<std::string> names;
  for (const auto& f : findings) {
    if (f.category == engine::Category::kSuspicious && f.severity == engine::Severity::kInfo) {
      continue;  // evidence only (see policy::DecideVerdict)
    }
    if (std::find(names.begin(), names.end(), f.name) == names.end()) names.push_back(f.name);
  }
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) {
    out += (out.empty() ? "" : ", ") + Sanitized(names[i], 100);
  }
  if (names.size() > max) out += ", …";
  return out;
}

// The top-level attachments that hold every detection, or empty when a detection is in
// the message itself (its headers or body text) and stripping cannot remove it.
std::vector<std::string> AttachmentsHoldingDetections(const engine::ScanReport& report) {
  std::vector<std::string> names;
  for (const auto& f : report.findings) {
    if (f.category == engine::Category::kSuspicious && f.severity == engine::Severity::kInfo) {
      continue;
    }
    if (f.path.empty()) return {};
    const std::string& top = f.path.parts().front();
    if (std::find(names.begin(), names.end(), top) == names.end()) names.push_back(top);
  }
  return names;
}

// A subject field's value starts with the tag already (after white space).
bool AlreadyTagged(std::string_view value, std::string_view tag) {
  std::size_t start = value.find_first_not_of(" \t");
  return start != std::string_view::npos && value.substr(start).starts_with(tag);
}

// Inserts `prefix` at the start of the Subject field of `message`'s header; false when the
// header has no Subject field.
bool TagSubject(std::string& message, std::string_view prefix) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    std::size_t end = eol == std::string::npos ? message.size() : eol;
    std::string_view line(message.data() + pos, end - pos);
    if (line.empty() || line == "\r") return false;  // end of the header
    if (line.size() >= 8 && AsciiLower(line.substr(0, 8)) == "subject:") {
      std::string_view value = line.substr(8);
      if (AlreadyTagged(value, prefix)) return true;
      std::size_t insert = pos + 8;
      if (!value.empty() && value[0] == ' ') ++insert;
      message.insert(insert, std::string(prefix) + " ");
      return true;
    }
    if (eol == std::string::npos) break;
    pos = eol + 1;
  }
  return false;
}

}  // namespace

DomainRouter::DomainRouter(std::vector<service::MailDomainConfig> domains)
    : domains_(std::move(domains)) {
  for (auto& d : domains_) d.domain = AsciiLower(d.domain);
}

const service::MailDomainConfig* DomainRouter::Route(std::string_view address) const {
  std::string domain = DomainOfAddress(address);
  if (domain.empty()) return nullptr;
  const service::MailDomainConfig* best = nullptr;
  for (const auto& entry : domains_) {
    if (Covers(entry, domain) && (best == nullptr || entry.domain.size() > best->domain.size())) {
      best = &entry;
    }
  }
  return best;
}

std::string_view DispositionName(Disposition disposition) {
  switch (disposition) {
    case Disposition::kDeliver: return "deliver";
    case Disposition::kReject: return "reject";
    case Disposition::kQuarantine: return "quarantine";
    case Disposition::kDiscard: return "discard";
    case Disposition::kTempFail: return "tempfail";
  }
  return "deliver";
}

std::string LocalHostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string FormatHeaderField(const HeaderField& field, std::string_view eol) {
  // Words are separated by single spaces; a word that would pass column 78 starts a
  // continuation line (RFC 5322 §2.2.3), unless it is the first word of the field.
  std::string out = field.name + ":";
  std::size_t line_length = out.size();
  const std::size_t first_line = out.size();
  std::string_view rest = field.value;
  while (!rest.empty()) {
    std::size_t space = rest.find(' ');
    std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (word.empty()) continue;
    if (line_length + 1 + word.size() > 78 && line_length > first_line) {
      out += eol;
      out += '\t';
      line_length = 1;
    } else {
      out += ' ';
      ++line_length;
    }
    out += word;
    line_length += word.size();
  }
  out += eol;
  return out;
}

MailVerdict VerdictFor(service::ContentScanOutcome outcome, std::string_view subject_tag) {
  MailVerdict verdict;
  const engine::ScanReport& report = outcome.report;
  const std::string names = FindingNames(report.findings);
  verdict.add_headers.push_back(
      {"X-Bulwark-Verdict",
       std::string(policy::VerdictKindName(report.verdict.kind)) +
           (report.verdict.IsDetection() ? "; action=" +
                                               std::string(service::ActionName(outcome.action()))
                                         : "")});
  if (!names.empty() && report.verdict.IsDetection()) {
    verdict.add_headers.push_back({"X-Bulwark-Findings", names});
  }
  if (outcome.event_seq) {
    verdict.add_headers.push_back({"X-Bulwark-Event", std::to_string(*outcome.event_seq)});
  }
  const std::string why = outcome.decision.protections.empty()
                              ? std::string(policy::VerdictKindName(report.verdict.kind))
                              : outcome.decision.protections.front();
  switch (outcome.action()) {
    case service::Action::kLog:
    case service::Action::kNotify:
      break;
    case service::Action::kTag:
      verdict.subject_prefix = std::string(subject_tag);
      break;
    case service::Action::kReject:
      verdict.disposition = Disposition::kReject;
      verdict.reply_code = 550;
      verdict.enhanced_code = "5.7.1";
      verdict.reply_text = "Message rejected by the recipient's security policy: " + why +
                           (names.empty() ? "" : " (" + names + ")");
      break;
    case service::Action::kQuarantine:
      if (outcome.quarantine_id) {
        verdict.disposition = Disposition::kQuarantine;
        verdict.reply_text = "Message accepted and held by the recipient's security policy";
      } else {
        // Nothing was sealed (no tenant): refusing is the only way not to lose it silently.
        verdict.disposition = Disposition::kReject;
        verdict.reply_code = 550;
        verdict.enhanced_code = "5.7.1";
        verdict.reply_text = "Message rejected by the recipient's security policy: " + why +
                             (names.empty() ? "" : " (" + names + ")");
      }
      break;
    case service::Action::kDelete: {
      std::vector<std::string> attachments = AttachmentsHoldingDetections(report);
      if (attachments.empty()) {
        verdict.disposition = Disposition::kDiscard;
        verdict.reply_text = "Message accepted and deleted by the recipient's security policy";
      } else {
        verdict.strip_attachments = std::move(attachments);
      }
      break;
    }
  }
  if (verdict.disposition == Disposition::kDeliver) {
    verdict.reply_text = "OK";
  }
  verdict.outcome = std::move(outcome);
  return verdict;
}

MailScanner::MailScanner(service::Site& site, MailScanOptions options)
    : site_(site), options_(std::move(options)) {
  if (options_.hostname.empty()) options_.hostname = LocalHostName();
}

HeaderField MailScanner::ReceivedField(const Envelope& envelope) const {
  std::string value = "from " + Sanitized(envelope.helo.empty() ? "unknown" : envelope.helo);
  if (!envelope.client_ip.empty()) {
    value += " (" + Sanitized(envelope.client_name.empty() ? "unknown" : envelope.client_name) +
             " " + AddressLiteral(Sanitized(envelope.client_ip, 64)) + ")";
  }
  value += " by " + options_.hostname + " (Bulwark) with " + (envelope.tls ? "ESMTPS" : "ESMTP");
  if (!envelope.queue_id.empty()) value += " id " + Sanitized(envelope.queue_id, 64);
  if (envelope.recipients.size() == 1) {
    value += " for <" + Sanitized(StripAngles(envelope.recipients.front())) + ">";
  }
  value += "; " + Rfc5322Date(std::time(nullptr));
  return {"Received", value};
}

MailVerdict MailScanner::Scan(const Envelope& envelope, const std::vector<HeaderField>& trace,
                              std::string_view message, const std::string& tenant_id) const {
  const std::string_view eol = LineEndOf(message);
  std::string scanned = FormatHeaderField({"Return-Path", "<" + Sanitized(envelope.mail_from) + ">"}, eol);
  for (const auto& field : trace) scanned += FormatHeaderField(field, eol);
  scanned.append(message);

  service::ContentScanRequest request;
  request.tenant_id = tenant_id;
  request.data = scanned;
  request.name = "message.eml";
  request.sender = AsciiLower(StripAngles(envelope.mail_from));
  for (const auto& r : envelope.recipients) {
    request.recipients += (request.recipients.empty() ? "" : ",") + AsciiLower(StripAngles(r));
  }
  request.subject.service = options_.service;
  if (!envelope.recipients.empty()) {
    request.subject.user = AsciiLower(StripAngles(envelope.recipients.front()));
  }
  Result<service::ContentScanOutcome> outcome = service::ScanContent(site_, request);
  if (!outcome.ok()) {
    MailVerdict verdict;
    verdict.disposition = Disposition::kTempFail;
    verdict.reply_code = 451;
    verdict.enhanced_code = "4.3.0";
    verdict.reply_text = "Temporary failure while checking the message, try again later";
    return verdict;
  }
  MailVerdict verdict = VerdictFor(std::move(outcome).value(), options_.subject_tag);
  if (!verdict.strip_attachments.empty()) {
    Result<std::string> cleaned = StripAttachments(
        message, verdict.strip_attachments,
        "removed by the recipient's security policy (" +
            FindingNames(verdict.outcome.report.findings) + ")");
    if (cleaned.ok()) {
      verdict.cleaned_message = std::move(cleaned).value();
    } else {
      // Never deliver what could not be cleaned.
      verdict.disposition = Disposition::kReject;
      verdict.reply_code = 550;
      verdict.enhanced_code = "5.7.1";
      verdict.reply_text = "Message rejected by the recipient's security policy: an attachment "
                           "that must be removed could not be (" +
                           FindingNames(verdict.outcome.report.findings) + ")";
      verdict.strip_attachments.clear();
    }
  }

  if (site_.sender_auth_resolver() != nullptr) {
    senderauth::SenderAuthOptions auth_options;
    auth_options.authserv_id = options_.hostname;
    auth_options.trusted_authserv_ids = site_.config().sender_auth_trusted_authserv_ids;
    auth_options.trusted_arc_sealers = site_.config().sender_auth_trusted_arc_sealers;
    senderauth::Envelope auth_envelope{envelope.client_ip, envelope.helo, envelope.mail_from,
                                       !envelope.client_ip.empty()};
    senderauth::SenderAuthResult result = senderauth::Authenticate(
        senderauth::MessageView{message}, auth_envelope, *site_.sender_auth_resolver(),
        auth_options);
    verdict.add_headers.insert(
        verdict.add_headers.begin(),
        {"Authentication-Results", senderauth::RenderAuthenticationResults(result, options_.hostname)});
  }
  if (options_.sign_verdicts && verdict.disposition == Disposition::kDeliver) {
    // Sealed over what is delivered (the cleaned body when attachments were stripped).
    const engine::ScanReport& report = verdict.outcome.report;
    VerdictSealKey key{site_.verdict_key(), site_.config().site.id,
                       report.signature_version.empty() ? site_.engine().signature_version()
                                                        : report.signature_version};
    verdict.add_headers.push_back(SealVerdict(key, policy::VerdictKindName(report.verdict.kind),
                                              RewriteMessage(message, {}, verdict),
                                              service::Site::Now()));
  }
  return verdict;
}

std::string RewriteMessage(std::string_view message, const std::vector<HeaderField>& trace,
                           const MailVerdict& verdict) {
  const std::string_view eol = LineEndOf(message);
  std::string body(verdict.strip_attachments.empty() ? message
                                                     : std::string_view(verdict.cleaned_message));
  std::string out;
  out.reserve(body.size() + 512);
  for (const auto& field : trace) out += FormatHeaderField(field, eol);
  for (const auto& field : verdict.add_headers) out += FormatHeaderField(field, eol);
  if (!verdict.subject_prefix.empty() && !TagSubject(body, verdict.subject_prefix)) {
    out += FormatHeaderField({"Subject", verdict.subject_prefix}, eol);
  }
  out += body;
  return out;
}

}  // namespace bulwark::mail

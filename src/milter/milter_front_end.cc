#include "milter/milter_front_end.h"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "mail/mail_scan.h"
#include "smtp/notifier.h"
#include "service/administration.h"

namespace bulwark::milter {
namespace {

void Log(std::string_view level, const std::string& message) {
  nlohmann::json line = {{"level", level}, {"component", "milter"}, {"message", message}};
  std::fprintf(stderr, "%s\n", line.dump().c_str());
}

}  // namespace

// The backend of every session: the site's tenants and the mail layer's scan.
// Constant after construction; MailScanner and DomainRouter are safe for concurrent use.
class MilterFrontEnd::Backend : public MilterBackend {
 public:
  Backend(service::Site& site, const service::MailConfig& mail,
          std::map<std::string, std::string> domain_tenant_ids, std::string fallback_tenant_id)
      : router_(mail.domains),
        scanner_(site, ScanOptions(mail)),
        domain_tenant_ids_(std::move(domain_tenant_ids)),
        fallback_tenant_id_(std::move(fallback_tenant_id)),
        notifier_(mail, std::chrono::seconds(60)) {}

  Result<std::string> TenantFor(const std::vector<std::string>& recipients) override {
    const service::MailDomainConfig* chosen = nullptr;
    for (const std::string& recipient : recipients) {
      const service::MailDomainConfig* entry = router_.Route(recipient);
      if (entry == nullptr || entry->tenant.empty()) continue;
      if (chosen == nullptr) {
        chosen = entry;
      } else if (entry->tenant != chosen->tenant) {
        Log("warning", "recipients of one message span tenants; scanned for '" + chosen->tenant +
                           "' (the first recipient's), not '" + entry->tenant + "'");
        break;
      }
    }
    if (chosen == nullptr) return fallback_tenant_id_;
    auto id = domain_tenant_ids_.find(chosen->tenant);
    if (id == domain_tenant_ids_.end()) {
      return NotFoundError("mail domain " + chosen->domain + ": tenant not resolved");
    }
    return id->second;
  }

  MilterDecision Decide(const MilterMessage& message) override {
    MilterDecision decision;
    // Postfix does not pass its own Received field to milters: the scan gets one built from
    // the connect, HELO and MAIL events (scanned only, never added to the message).
    const std::vector<mail::HeaderField> trace = {scanner_.ReceivedField(message.envelope)};
    decision.verdict = scanner_.Scan(message.envelope, trace, message.message, message.tenant_id);
    const mail::MailVerdict& verdict = decision.verdict;
    if (auto notice = smtp::NoticeFor(verdict, message.envelope.mail_from,
                                      message.envelope.recipients, "milter")) {
      notifier_.Send(*notice);
    }
    if (verdict.disposition == mail::Disposition::kTempFail) {
      Log("error", "message " + message.envelope.queue_id + " tempfailed: " + verdict.reply_text);
    }
    if (verdict.disposition == mail::Disposition::kDeliver && !verdict.strip_attachments.empty()) {
      mail::MailVerdict body_only = verdict;
      body_only.add_headers.clear();
      body_only.subject_prefix.clear();
      std::string rewritten = mail::RewriteMessage(message.message, {}, body_only);
      BodyReplacement replacement = SplitRewrittenMessage(message.message, rewritten);
      decision.replacement_body = std::move(replacement.body);
      decision.changed_headers = std::move(replacement.changed_headers);
    }
    return decision;
  }

 private:
  static mail::MailScanOptions ScanOptions(const service::MailConfig& mail) {
    mail::MailScanOptions options;
    options.hostname = mail.hostname.empty() ? mail::LocalHostName() : mail.hostname;
    options.subject_tag = mail.subject_tag;
    options.sign_verdicts = mail.sign_verdicts;
    options.service = "milter";
    return options;
  }

  mail::DomainRouter router_;
  mail::MailScanner scanner_;
  std::map<std::string, std::string> domain_tenant_ids_;  // configured name or id → id
  std::string fallback_tenant_id_;
  smtp::Notifier notifier_;  // notices go through [mail] notify_relay (the milter has no hop)
};

MilterFrontEnd::MilterFrontEnd() = default;

Result<std::unique_ptr<MilterFrontEnd>> MilterFrontEnd::Start(service::Site& site,
                                                              const service::MilterConfig& config,
                                                              const service::MailConfig& mail) {
  if (!site.has_engine()) return FailedPreconditionError("milter: the site has no scan engine");
  std::string fallback_tenant_id;
  if (!config.tenant.empty()) {
    auto tenant = service::FindTenant(site, config.tenant);
    if (!tenant.ok()) {
      return InvalidArgumentError(
          "milter: tenant '" + config.tenant +
          "' (milter.tenant) is not a tenant of this site: " + tenant.status().message());
    }
    fallback_tenant_id = tenant->id;
  }
  std::map<std::string, std::string> domain_tenant_ids;
  for (const service::MailDomainConfig& domain : mail.domains) {
    if (domain.tenant.empty() || domain_tenant_ids.count(domain.tenant) != 0) continue;
    auto tenant = service::FindTenant(site, domain.tenant);
    if (!tenant.ok()) {
      return InvalidArgumentError("milter: [[mail.domains]] " + domain.domain + ": tenant '" +
                                  domain.tenant +
                                  "' is not a tenant of this site: " + tenant.status().message());
    }
    domain_tenant_ids[domain.tenant] = tenant->id;
  }

  std::unique_ptr<MilterFrontEnd> front(new MilterFrontEnd());
  front->backend_ = std::make_unique<Backend>(site, mail, std::move(domain_tenant_ids),
                                              std::move(fallback_tenant_id));
  MilterFrontEnd* raw = front.get();
  front->session_options_.max_message_bytes = config.max_message_bytes;
  front->session_options_.timeout = config.timeout;
  front->session_options_.stopping = [raw] { return raw->stopping_.load(); };

  net::Endpoint endpoint;
  endpoint.transport = net::Transport::kTcp;
  endpoint.address = config.listener.address;
  endpoint.port = config.listener.port;
  net::ServerOptions options;
  options.name = "milter";
  options.max_connections = config.max_connections;
  auto handler = [raw](net::Connection& connection) {
    MilterSession session(*raw->backend_, raw->session_options_);
    session.Run(connection);
  };
  // Over the cap: close at once; the MTA applies milter_default_action (tempfail).
  auto overloaded = [](net::Connection&) {
    Log("warning", "connection refused: at max_connections");
  };
  BULWARK_ASSIGN_OR_RETURN(front->server_,
                           net::StreamServer::Start({endpoint}, options, handler, overloaded));
  return front;
}

MilterFrontEnd::~MilterFrontEnd() { Stop(std::chrono::milliseconds(0)); }

const std::vector<net::Endpoint>& MilterFrontEnd::bound() const { return server_->bound(); }

void MilterFrontEnd::Stop(std::chrono::milliseconds grace) {
  stopping_ = true;
  if (server_) server_->Stop(grace);
}

}  // namespace bulwark::milter

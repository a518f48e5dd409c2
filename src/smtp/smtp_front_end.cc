#include "smtp/smtp_front_end.h"

#include <map>
#include <mutex>

#include "mail/mail_scan.h"
#include "service/administration.h"
#include "smtp/notifier.h"
#include "smtp/smtp_client.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_session.h"

namespace bulwark::smtp {
namespace {

constexpr std::string_view kMessagesHelp = "Messages through the SMTP gateway, by disposition";

// The address part of a peer ("1.2.3.4" of "1.2.3.4:5678").
std::string ClientKey(const net::Peer& peer) {
  std::size_t colon = peer.address.rfind(':');
  return colon == std::string::npos ? peer.address : peer.address.substr(0, colon);
}

}  // namespace

// SmtpBackend over a Site: [[mail.domains]] routes, MailScanner, next hops over TCP.
class SmtpFrontEnd::Backend : public SmtpBackend {
 public:
  Backend(service::Site& site, const service::SmtpConfig& smtp, const service::MailConfig& mail,
          std::string hostname, std::map<std::string, std::string> tenant_ids)
      : router_(mail.domains),
        scanner_(site, mail::MailScanOptions{hostname, mail.subject_tag, "smtp", mail.sign_verdicts}),
        tenant_ids_(std::move(tenant_ids)),
        max_per_client_(smtp.max_connections_per_client),
        notifier_(mail, smtp.next_hop_timeout) {
    for (std::string_view name : {"deliver", "reject", "quarantine", "discard", "tempfail"}) {
      messages_[std::string(name)] = &site.metrics().GetCounter(
          "bulwark_smtp_messages_total", kMessagesHelp, {{"disposition", std::string(name)}});
    }
    next_hop_options_.helo_name = hostname;
    next_hop_options_.timeout = smtp.next_hop_timeout;
  }

  std::optional<SmtpRoute> Route(const std::string& recipient) override {
    const service::MailDomainConfig* entry = router_.Route(recipient);
    if (entry == nullptr || entry->next_hop.empty()) return std::nullopt;
    SmtpRoute route;
    auto tenant = tenant_ids_.find(entry->tenant);
    if (tenant != tenant_ids_.end()) route.tenant_id = tenant->second;
    route.next_hop = entry->next_hop;
    route.next_hop_tls = entry->next_hop_tls;
    route.next_hop_ca_file = entry->next_hop_ca_file;
    return route;
  }

  NextHopOpening OpenNextHop(const SmtpRoute& route, const std::string& mail_from,
                             const MailParameters& parameters) override {
    return OpenSmtpNextHop(route, mail_from, parameters, next_hop_options_);
  }

  SmtpDecision Decide(const mail::Envelope& envelope, const SmtpRoute& route,
                      std::string_view message) override {
    std::vector<mail::HeaderField> trace{scanner_.ReceivedField(envelope)};
    mail::MailVerdict verdict = scanner_.Scan(envelope, trace, message, route.tenant_id);
    std::string relay;
    if (verdict.disposition == mail::Disposition::kDeliver) {
      relay = mail::RewriteMessage(message, trace, verdict);
    }
    if (auto notice = NoticeFor(verdict, envelope.mail_from, envelope.recipients, "smtp")) {
      notifier_.Send(*notice);
    }
    SmtpDecision decision = DecisionFor(verdict, std::move(relay));
    auto counter = messages_.find(decision.disposition);
    if (counter != messages_.end()) counter->second->Increment();
    return decision;
  }

  // Counts a connection of `client`; false when it already has max_per_client open.
  bool Admit(const std::string& client) {
    std::lock_guard lock(mu_);
    std::size_t& count = per_client_[client];
    if (count >= max_per_client_) return false;
    ++count;
    return true;
  }

  void Release(const std::string& client) {
    std::lock_guard lock(mu_);
    auto it = per_client_.find(client);
    if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
  }

 private:
  const mail::DomainRouter router_;
  const mail::MailScanner scanner_;
  const std::map<std::string, std::string> tenant_ids_;  // [[mail.domains]] tenant → id
  const std::size_t max_per_client_;
  Notifier notifier_;
  // Constant after construction.
  NextHopOptions next_hop_options_;
  std::map<std::string, http::Counter*> messages_;  // by disposition
  std::mutex mu_;
  std::map<std::string, std::size_t> per_client_;  // Guarded by mu_.
};

Result<std::unique_ptr<SmtpFrontEnd>> SmtpFrontEnd::Start(service::Site& site,
                                                          const service::SmtpConfig& smtp,
                                                          const service::MailConfig& mail,
                                                          const std::string& certificate_file,
                                                          const std::string& private_key_file) {
  std::map<std::string, std::string> tenant_ids;
  for (const service::MailDomainConfig& domain : mail.domains) {
    if (domain.tenant.empty() || tenant_ids.count(domain.tenant) != 0) continue;
    Result<storage::Tenant> tenant = service::FindTenant(site, domain.tenant);
    if (!tenant.ok()) {
      return Status(tenant.status().code(), "[[mail.domains]] " + domain.domain + ": tenant \"" +
                                                domain.tenant + "\": " + tenant.status().message());
    }
    tenant_ids[domain.tenant] = tenant->id;
  }
  auto options = std::make_shared<SmtpSessionOptions>();
  options->hostname = mail.hostname.empty() ? mail::LocalHostName() : mail.hostname;
  options->max_message_bytes = smtp.max_message_bytes;
  options->max_recipients = smtp.max_recipients;
  options->max_line_bytes = std::max<std::size_t>(smtp.max_line_bytes, 512);
  options->command_timeout = smtp.command_timeout;
  options->data_timeout = smtp.data_timeout;
  if (smtp.starttls) {
    Result<std::shared_ptr<const net::TlsContext>> tls =
        net::TlsContext::Server(certificate_file, private_key_file);
    if (!tls.ok()) return Status(tls.status().code(), "[smtp] starttls: " + tls.status().message());
    options->tls = std::move(*tls);
  }

  std::unique_ptr<SmtpFrontEnd> front(new SmtpFrontEnd());
  front->backend_ =
      std::make_unique<Backend>(site, smtp, mail, options->hostname, std::move(tenant_ids));
  SmtpFrontEnd* self = front.get();  // outlives the server it owns
  options->stopping = [self] { return self->stopping_.load(); };
  net::Endpoint endpoint;
  endpoint.address = smtp.listener.address;
  endpoint.port = smtp.listener.port;
  net::ServerOptions server_options;
  server_options.name = "SMTP";
  server_options.max_connections = smtp.max_connections;
  Backend* backend = front->backend_.get();
  BULWARK_ASSIGN_OR_RETURN(
      front->server_,
      net::StreamServer::Start(
          {endpoint}, server_options,
          [backend, options](net::Connection& connection) {
            std::string client = ClientKey(connection.peer());
            if (!backend->Admit(client)) {
              (void)connection.Write(
                  FormatReply(MakeReply(
                      421, "4.7.0", options->hostname + " Too many connections from your address")),
                  std::chrono::seconds(5));
              return;
            }
            RunSmtpSession(connection, *backend, *options);
            backend->Release(client);
          },
          [options](net::Connection& connection) {
            (void)connection.Write(
                FormatReply(MakeReply(
                    421, "4.3.2", options->hostname + " Too many connections, try again later")),
                std::chrono::seconds(5));
          }));
  return front;
}

SmtpFrontEnd::~SmtpFrontEnd() { Stop(std::chrono::milliseconds(0)); }

const std::vector<net::Endpoint>& SmtpFrontEnd::bound() const { return server_->bound(); }

void SmtpFrontEnd::Stop(std::chrono::milliseconds grace) {
  stopping_ = true;  // idle sessions are told 421 at their next command
  if (server_) server_->Stop(grace);
}

}  // namespace bulwark::smtp

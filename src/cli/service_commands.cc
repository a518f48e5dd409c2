#include "cli/service_commands.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "clamd/clamd_front_end.h"
#include "http/server.h"
#include "icap/icap_front_end.h"
#include "milter/milter_front_end.h"
#include "net/stream_server.h"
#include "service/administration.h"
#include "smtp/smtp_front_end.h"
#include "mailbox/mailbox_api.h"
#include "mailbox/mailbox_service.h"
#include "service/api.h"
#include "service/audit_export.h"
#include "service/config.h"
#include "service/maintenance.h"
#include "service/site.h"
#include "service/syslog_forwarder.h"

namespace bulwark::cli {
namespace {

using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;
constexpr int kExitError = 2;
constexpr const char* kCliActor = "cli";

// Where the site's configuration comes from.
struct SiteOptions {
  std::string config_path;
  std::string data_dir;
};

void AddSiteOptions(CLI::App& command, SiteOptions& options) {
  command.add_option("-c,--config", options.config_path, "TOML configuration file")
      ->check(CLI::ExistingFile);
  command.add_option("--data", options.data_dir,
                     "Data directory of the embedded default (default: $BULWARK_DATA or "
                     "./bulwark-data)");
}

Result<service::ServiceConfig> ResolveConfig(const SiteOptions& options) {
  if (!options.config_path.empty()) return service::LoadConfig(options.config_path);
  return service::EmbeddedDefaultConfig(options.data_dir.empty() ? service::DefaultDataDir()
                                                                 : options.data_dir);
}

int Fail(const Status& status) {
  std::fprintf(stderr, "bulwark: %s\n", status.message().c_str());
  return kExitError;
}

// Opens the site for an administration command (no engine, nothing created but the
// database schema).
Result<std::unique_ptr<service::Site>> OpenForAdmin(const SiteOptions& options) {
  ::umask(077);  // the database and keys are the site's alone
  BULWARK_ASSIGN_OR_RETURN(service::ServiceConfig config, ResolveConfig(options));
  service::SiteOpenOptions open;
  open.with_engine = false;
  return service::Site::Open(config, open);
}

void LogJson(const json& fields) {
  json line = fields;
  line["time"] = service::Site::Now();
  std::fprintf(stderr, "%s\n", line.dump().c_str());
}

// ---- serve --------------------------------------------------------------------------------

struct ServeOptions {
  SiteOptions site;
  std::string address;
  int port = -1;
  int clamd_port = -1;  // -1: as configured
  int icap_port = -1;
  bool no_clamd = false;
  bool no_icap = false;
  int milter_port = -1;
  bool no_milter = false;
  int smtp_port = -1;
  bool no_smtp = false;
  bool no_mailbox = false;
  std::string ready_file;
};

std::string DescribeAll(const std::vector<net::Endpoint>& endpoints) {
  std::string out;
  for (const auto& e : endpoints) out += (out.empty() ? "" : ", ") + net::Describe(e);
  return out;
}

int RunServe(const ServeOptions& options) {
  ::umask(077);  // the database, keys, certificate key and quarantine are the site's alone
  Result<service::ServiceConfig> config = ResolveConfig(options.site);
  if (!config.ok()) return Fail(config.status());
  if (!options.address.empty()) config->api.address = options.address;
  if (options.port >= 0) config->api.port = static_cast<std::uint16_t>(options.port);
  if (options.clamd_port >= 0) config->clamd.tcp.port = static_cast<std::uint16_t>(options.clamd_port);
  if (options.icap_port >= 0) config->icap.listener.port = static_cast<std::uint16_t>(options.icap_port);
  if (options.no_clamd) config->clamd.enabled = false;
  if (options.no_icap) config->icap.enabled = false;
  if (options.milter_port >= 0) config->milter.listener.port = static_cast<std::uint16_t>(options.milter_port);
  if (options.no_milter) config->milter.enabled = false;
  if (options.smtp_port >= 0) config->smtp.listener.port = static_cast<std::uint16_t>(options.smtp_port);
  if (options.no_smtp) config->smtp.enabled = false;
  if (options.no_mailbox) config->mailbox.enabled = false;

  // Signals are taken synchronously by this thread (sigwait); every thread started below
  // inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Result<std::unique_ptr<service::Site>> site = service::Site::Open(*config);
  if (!site.ok()) return Fail(site.status());
  if (config->generate_certificate) {
    if (Status s = http::EnsureSelfSignedCertificate(config->certificate_file,
                                                     config->private_key_file, {});
        !s.ok()) {
      return Fail(s);
    }
  }
  Result<std::optional<service::Site::FirstAdministrator>> first =
      (*site)->EnsureFirstAdministrator();
  if (!first.ok()) return Fail(first.status());

  http::ServerOptions server_options;
  server_options.address = config->api.address;
  server_options.port = config->api.port;
  server_options.certificate_file = config->certificate_file;
  server_options.private_key_file = config->private_key_file;
  server_options.max_body_bytes = config->max_request_bytes;
  server_options.worker_threads = config->scan_threads;
  server_options.metrics = &(*site)->metrics();
  server_options.access_log = config->access_log;
  auto router = service::BuildApiRouter(**site);
  mailbox::AddMailboxRoutes(*router, **site);
  Result<std::unique_ptr<http::HttpsServer>> server =
      http::HttpsServer::Create(server_options, router);
  if (!server.ok()) return Fail(server.status());
  (*server)->Start();

  // The protocol front-ends. A clamd SHUTDOWN (when allowed) stops the service as SIGTERM does.
  std::unique_ptr<clamd::ClamdFrontEnd> clamd_front_end;
  if (config->clamd.enabled) {
    Result<std::unique_ptr<clamd::ClamdFrontEnd>> started = clamd::ClamdFrontEnd::Start(
        **site, config->clamd, config->certificate_file, config->private_key_file,
        [] { ::kill(::getpid(), SIGTERM); });
    if (!started.ok()) return Fail(started.status());
    clamd_front_end = std::move(*started);
  }
  std::unique_ptr<icap::IcapFrontEnd> icap_front_end;
  if (config->icap.enabled) {
    Result<std::unique_ptr<icap::IcapFrontEnd>> started =
        icap::IcapFrontEnd::Start(**site, config->icap);
    if (!started.ok()) return Fail(started.status());
    icap_front_end = std::move(*started);
  }
  std::unique_ptr<milter::MilterFrontEnd> milter_front_end;
  if (config->milter.enabled) {
    Result<std::unique_ptr<milter::MilterFrontEnd>> started =
        milter::MilterFrontEnd::Start(**site, config->milter, config->mail);
    if (!started.ok()) return Fail(started.status());
    milter_front_end = std::move(*started);
  }
  std::unique_ptr<smtp::SmtpFrontEnd> smtp_front_end;
  if (config->smtp.enabled) {
    Result<std::unique_ptr<smtp::SmtpFrontEnd>> started =
        smtp::SmtpFrontEnd::Start(**site, config->smtp, config->mail, config->certificate_file,
                                  config->private_key_file);
    if (!started.ok()) return Fail(started.status());
    smtp_front_end = std::move(*started);
  }

  const service::ServiceConfig& c = (*site)->config();
  std::string base = "https://" + c.api.address + ":" + std::to_string((*server)->port());
  std::printf("Bulwark %s: site \"%s\" (%s, region %s)\n", BULWARK_VERSION, c.site.id.c_str(),
              c.site.name.c_str(), c.site.region.c_str());
  std::printf("  API      %s/api/v1   (health %s/healthz, metrics %s/metrics)\n", base.c_str(),
              base.c_str(), base.c_str());
  std::printf("  data     %s   database %s\n", c.data_dir.c_str(),
              (*site)->database().Describe().c_str());
  std::printf("  TLS      %s%s\n", c.certificate_file.c_str(),
              c.generate_certificate ? " (self-signed, generated)" : "");
  if (clamd_front_end) {
    std::printf("  clamd    %s%s\n", DescribeAll(clamd_front_end->bound()).c_str(),
                c.clamd.tenant.empty() ? "   (no tenant: verdicts only, no events)" : "");
  }
  if (icap_front_end) {
    std::printf("  ICAP     icap://%s/respmod, /reqmod%s\n",
                DescribeAll(icap_front_end->bound()).c_str(),
                c.icap.tenant.empty() ? "   (no tenant: verdicts only, no events)" : "");
  }
  if (milter_front_end) {
    std::printf("  milter   inet:%s%s\n", DescribeAll(milter_front_end->bound()).c_str(),
                c.milter.tenant.empty() && c.mail.domains.empty()
                    ? "   (no tenant, no [[mail.domains]]: mail passes unscanned)"
                    : "");
  }
  if (smtp_front_end) {
    std::printf("  SMTP     %s%s%s\n", DescribeAll(smtp_front_end->bound()).c_str(),
                c.smtp.starttls ? " (STARTTLS)" : "",
                c.mail.domains.empty() ? "   (no [[mail.domains]]: every recipient is refused)"
                                       : "");
  }
  // Mailbox connectors (API mode): created through the API, watched by worker threads.
  std::unique_ptr<mailbox::MailboxService> mailboxes;
  if (c.mailbox.enabled) {
    mailboxes = std::make_unique<mailbox::MailboxService>(**site);
    mailboxes->Start();
    std::printf("  mailbox  IMAP connectors from /api/v1/mailboxes (up to %zu at once)\n",
                c.mailbox.max_connectors);
  }
  // SIEM push of detection events: the database is the buffer while the receiver is down.
  std::unique_ptr<service::SyslogForwarder> forwarder;
  if (!c.syslog_host.empty()) {
    service::SyslogTarget target;
    target.host = c.syslog_host;
    target.port = c.syslog_port;
    target.tls = c.syslog_tls;
    target.ca_file = c.syslog_ca_file;
    target.server_name = c.syslog_server_name;
    forwarder = std::make_unique<service::SyslogForwarder>((*site)->store(), target, c.site.id,
                                                           service::SyslogForwarderOptions{});
    forwarder->Start();
    std::printf("  syslog   %s:%u (%s)\n", c.syslog_host.c_str(), unsigned{c.syslog_port},
                c.syslog_tls ? "TLS" : "plain TCP");
  }

  if (*first) {
    std::printf("\nFirst administrator (shown once, change it at first login):\n"
                "  email     %s\n  password  %s\n",
                (*first)->email.c_str(), (*first)->one_time_password.c_str());
  }
  std::printf("\nStop with Ctrl-C.\n");
  std::fflush(stdout);
  if (!options.ready_file.empty()) {
    std::ofstream(options.ready_file) << (*server)->port() << "\n";
  }
  LogJson({{"level", "info"}, {"msg", "serving"}, {"site", c.site.id}, {"url", base}});

  // Background jobs: the signature self-check (reload on changed files) and retention,
  // hourly.
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread maintenance([&] {
    using Clock = std::chrono::steady_clock;
    const std::chrono::seconds check = c.signature_check;
    Clock::time_point next_retention = Clock::now();
    Clock::time_point next_check = Clock::now() + check;
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      if (Clock::now() >= next_retention) {
        Result<service::MaintenanceReport> report =
            service::RunMaintenance(**site, service::Site::Now());
        if (!report.ok()) {
          LogJson({{"level", "error"}, {"msg", "maintenance failed"},
                   {"error", report.status().ToString()}});
        }
        next_retention = Clock::now() + std::chrono::hours(1);
      }
      if (check.count() > 0 && Clock::now() >= next_check) {
        Result<bool> reloaded = (*site)->ReloadSignaturesIfChanged();
        if (!reloaded.ok()) {
          LogJson({{"level", "error"}, {"msg", "signature reload failed; the loaded set stays"},
                   {"error", reloaded.status().ToString()}});
        } else if (*reloaded) {
          LogJson({{"level", "info"}, {"msg", "signatures reloaded (files changed)"},
                   {"signature_version", (*site)->engine().signature_version()}});
        }
        next_check = Clock::now() + check;
      }
      lock.lock();
      Clock::time_point next =
          check.count() > 0 ? std::min(next_retention, next_check) : next_retention;
      wake.wait_until(lock, next, [&] { return stopping; });
    }
  });

  // SIGHUP and SIGUSR2 reload the signatures; SIGINT and SIGTERM stop.
  for (;;) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGHUP || signal_number == SIGUSR2) {
      Status reloaded = (*site)->ReloadSignatures();
      LogJson({{"level", reloaded.ok() ? "info" : "error"},
               {"msg", reloaded.ok() ? "signatures reloaded" : "signature reload failed"},
               {"signal", signal_number},
               {"signature_version", (*site)->engine().signature_version()},
               {"error", reloaded.ok() ? "" : reloaded.ToString()}});
      continue;
    }
    LogJson({{"level", "info"}, {"msg", "stopping"}, {"signal", signal_number}});
    break;
  }
  if (mailboxes) mailboxes->Stop();
  if (smtp_front_end) smtp_front_end->Stop(std::chrono::seconds(10));
  if (milter_front_end) milter_front_end->Stop(std::chrono::seconds(10));
  if (icap_front_end) icap_front_end->Stop(std::chrono::seconds(10));
  if (clamd_front_end) clamd_front_end->Stop(std::chrono::seconds(10));
  (*server)->Stop(std::chrono::seconds(10));
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  maintenance.join();
  if (forwarder) forwarder->Stop();
  LogJson({{"level", "info"}, {"msg", "stopped"}});
  return kExitOk;
}

// ---- tenant / user / token ----------------------------------------------------------------

struct AdminOptions {
  SiteOptions site;
  std::string name, tenant, email, role, id;
  std::vector<std::string> scopes;
  std::int64_t expires_days = 90;
  bool json_output = false;
  std::string format = "json";
  std::string output;
};

int TenantCreate(const AdminOptions& o) {
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  Result<storage::Tenant> tenant = service::CreateTenant(**site, kCliActor, o.name);
  if (!tenant.ok()) return Fail(tenant.status());
  std::printf("%s\t%s\n", tenant->id.c_str(), tenant->name.c_str());
  if (!o.email.empty()) {
    Result<service::NewUser> admin = service::AddUser(**site, kCliActor, tenant->id, o.email,
                                                      storage::Role::kTenantAdmin);
    if (!admin.ok()) return Fail(admin.status());
    std::printf("administrator %s, one-time password (shown once): %s\n",
                admin->user.email.c_str(), admin->one_time_password.c_str());
  }
  return kExitOk;
}

int TenantList(const AdminOptions& o) {
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  Result<std::vector<storage::Tenant>> tenants = (*site)->store().ListTenants();
  if (!tenants.ok()) return Fail(tenants.status());
  for (const auto& t : *tenants) {
    if (o.json_output) {
      std::printf("%s\n", json{{"id", t.id}, {"name", t.name}, {"disabled", t.disabled},
                               {"created_at", t.created_at}}
                              .dump()
                              .c_str());
    } else {
      std::printf("%s\t%s\t%s\n", t.id.c_str(), t.disabled ? "disabled" : "active",
                  t.name.c_str());
    }
  }
  return kExitOk;
}

int TenantSetDisabled(const AdminOptions& o, bool disabled) {
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  Result<storage::Tenant> tenant = service::FindTenant(**site, o.tenant);
  if (!tenant.ok()) return Fail(tenant.status());
  if (Status s = service::SetTenantDisabled(**site, kCliActor, tenant->id, disabled); !s.ok()) {
    return Fail(s);
  }
  std::printf("%s\t%s\n", tenant->id.c_str(), disabled ? "disabled" : "active");
  return kExitOk;
}

int UserAdd(const AdminOptions& o) {
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  std::optional<storage::Role> role = storage::ParseRole(o.role);
  if (!role) {
    return Fail(InvalidArgumentError(
        "--role must be site_operator, tenant_admin, analyst or auditor"));
  }
  std::string tenant_id;
  if (!o.tenant.empty()) {
    Result<storage::Tenant> tenant = service::FindTenant(**site, o.tenant);
    if (!tenant.ok()) return Fail(tenant.status());
    tenant_id = tenant->id;
  }
  Result<service::NewUser> user = service::AddUser(**site, kCliActor, tenant_id, o.email, *role);
  if (!user.ok()) return Fail(user.status());
  std::printf("%s\t%s\tone-time password (shown once): %s\n", user->user.id.c_str(),
              user->user.email.c_str(), user->one_time_password.c_str());
  return kExitOk;
}

int UserResetMfa(const AdminOptions& o) {
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  Result<storage::User> user = (*site)->store().FindUserByEmail(o.email);
  if (!user.ok()) return Fail(NotFoundError("no user " + o.email));
  if (Status s = service::ResetUserMfa(**site, kCliActor, *user); !s.ok()) return Fail(s);
  std::printf("%s\tMFA reset; the user enrols again at next login\n", user->email.c_str());
  return kExitOk;
}

int TokenCreate(const AdminOptions& o) {
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  service::TokenRequest request;
  request.name = o.name;
  request.scopes = o.scopes;
  request.expires_in_days = o.expires_days;
  if (o.tenant.empty()) {
    request.role = storage::Role::kSiteOperator;
  } else {
    Result<storage::Tenant> tenant = service::FindTenant(**site, o.tenant);
    if (!tenant.ok()) return Fail(tenant.status());
    request.tenant_id = tenant->id;
    std::optional<storage::Role> role = storage::ParseRole(o.role);
    if (!role) return Fail(InvalidArgumentError("--role must be tenant_admin, analyst or auditor"));
    request.role = *role;
  }
  Result<service::NewToken> token = service::CreateToken(**site, kCliActor, request);
  if (!token.ok()) return Fail(token.status());
  std::fprintf(stderr, "token %s created; the secret below is shown once:\n",
               token->token.id.c_str());
  std::printf("%s\n", token->secret.c_str());
  return kExitOk;
}

int TokenRevoke(const AdminOptions& o) {
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  std::string tenant_id;
  if (!o.tenant.empty()) {
    Result<storage::Tenant> tenant = service::FindTenant(**site, o.tenant);
    if (!tenant.ok()) return Fail(tenant.status());
    tenant_id = tenant->id;
  }
  if (Status s = service::RevokeToken(**site, kCliActor, tenant_id, o.id); !s.ok()) {
    return Fail(s);
  }
  std::printf("%s\trevoked\n", o.id.c_str());
  return kExitOk;
}

// ---- audit / db ---------------------------------------------------------------------------

int AuditVerify(const AdminOptions& o) {
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  Result<storage::AuditVerification> result = (*site)->store().VerifyAudit();
  if (!result.ok()) return Fail(result.status());
  if (result->intact) {
    std::printf("audit log intact: %lld records, hash chain verified\n",
                static_cast<long long>(result->records));
    return kExitOk;
  }
  std::printf("AUDIT LOG TAMPERED: %s (first bad record %lld of %lld)\n",
              result->problem.c_str(), static_cast<long long>(result->first_bad_seq),
              static_cast<long long>(result->records));
  return kExitCheckFailed;
}

int AuditExport(const AdminOptions& o) {
  if (o.format != "json" && o.format != "syslog") {
    return Fail(InvalidArgumentError("--format must be json or syslog"));
  }
  auto site = OpenForAdmin(o.site);
  if (!site.ok()) return Fail(site.status());
  std::FILE* out = stdout;
  if (!o.output.empty()) {
    out = std::fopen(o.output.c_str(), "w");
    if (out == nullptr) return Fail(UnavailableError("cannot write " + o.output));
  }
  char hostname[256] = "-";
  gethostname(hostname, sizeof hostname - 1);
  std::int64_t after = 0;
  int code = kExitOk;
  while (true) {
    Result<std::vector<storage::AuditRecord>> page = (*site)->store().ListAudit("", after, 1000);
    if (!page.ok()) {
      code = Fail(page.status());
      break;
    }
    for (const auto& r : *page) {
      const std::string& site_id = (*site)->config().site.id;
      std::string line = o.format == "json" ? service::AuditToJsonLine(r, site_id)
                                            : service::AuditToSyslog(r, hostname, site_id);
      std::fprintf(out, "%s\n", line.c_str());
      after = r.seq;
    }
    if (page->size() < 1000) break;
  }
  if (out != stdout) std::fclose(out);
  return code;
}

int DbMigrate(const AdminOptions& o) {
  Result<service::ServiceConfig> config = ResolveConfig(o.site);
  if (!config.ok()) return Fail(config.status());
  Result<std::unique_ptr<storage::Database>> db = storage::OpenDatabase(config->database_url);
  if (!db.ok()) return Fail(db.status());
  Result<int> before = storage::CurrentSchemaVersion(**db);
  if (!before.ok()) return Fail(before.status());
  Result<int> after = storage::Migrate(**db);
  if (!after.ok()) return Fail(after.status());
  std::printf("%s: schema version %d -> %d (latest %d)\n", (*db)->Describe().c_str(), *before,
              *after, storage::LatestSchemaVersion());
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Run the site service: HTTPS API (default https://127.0.0.1:8443)");
  AddSiteOptions(*serve, options->site);
  serve->add_option("--address", options->address, "Listen address (overrides the config)");
  serve->add_option("--port", options->port, "Listen port; 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  serve->add_option("--clamd-port", options->clamd_port,
                    "clamd-protocol TCP port (default 3310); 0 picks a free one");
  serve->add_option("--icap-port", options->icap_port,
                    "ICAP port (default 1344); 0 picks a free one");
  serve->add_flag("--no-clamd", options->no_clamd, "Do not start the clamd-protocol listeners");
  serve->add_flag("--no-icap", options->no_icap, "Do not start the ICAP listener");
  serve->add_option("--milter-port", options->milter_port,
                    "Milter port (default 8891); 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  serve->add_flag("--no-milter", options->no_milter, "Do not start the milter listener");
  serve->add_option("--smtp-port", options->smtp_port,
                    "SMTP gateway port (default 2525); 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  serve->add_flag("--no-smtp", options->no_smtp, "Do not start the SMTP gateway listener");
  serve->add_flag("--no-mailbox", options->no_mailbox,
                  "Do not watch mailbox connectors (API mode) in this process");
  serve->add_option("--ready-file", options->ready_file,
                    "Write the listening port to this file once serving");
  serve->callback([options, &exit_code] { exit_code = RunServe(*options); });
}

void AddAdminCommands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<AdminOptions>();
  auto run = [o, &exit_code](int (*f)(const AdminOptions&)) {
    return [o, f, &exit_code] { exit_code = f(*o); };
  };

  CLI::App* tenant = app.add_subcommand("tenant", "Manage the site's tenants");
  tenant->require_subcommand(1);
  CLI::App* create = tenant->add_subcommand("create", "Create a tenant");
  AddSiteOptions(*create, o->site);
  create->add_option("name", o->name, "Tenant name")->required();
  create->add_option("--admin-email", o->email, "Also add its first administrator");
  create->callback(run(TenantCreate));
  CLI::App* list = tenant->add_subcommand("list", "List tenants");
  AddSiteOptions(*list, o->site);
  list->add_flag("--json", o->json_output, "JSON Lines output");
  list->callback(run(TenantList));
  CLI::App* disable = tenant->add_subcommand("disable", "Disable a tenant (its credentials stop working)");
  AddSiteOptions(*disable, o->site);
  disable->add_option("tenant", o->tenant, "Tenant id or name")->required();
  disable->callback([o, &exit_code] { exit_code = TenantSetDisabled(*o, true); });
  CLI::App* enable = tenant->add_subcommand("enable", "Enable a disabled tenant");
  AddSiteOptions(*enable, o->site);
  enable->add_option("tenant", o->tenant, "Tenant id or name")->required();
  enable->callback([o, &exit_code] { exit_code = TenantSetDisabled(*o, false); });

  CLI::App* user = app.add_subcommand("user", "Manage users");
  user->require_subcommand(1);
  CLI::App* add = user->add_subcommand("add", "Add a user; prints a one-time password");
  AddSiteOptions(*add, o->site);
  add->add_option("email", o->email, "Email address (login name)")->required();
  add->add_option("--tenant", o->tenant, "Tenant id or name (none for a site operator)");
  add->add_option("--role", o->role, "site_operator, tenant_admin, analyst or auditor")
      ->required();
  add->callback(run(UserAdd));
  CLI::App* reset = user->add_subcommand("reset-mfa", "Remove a user's TOTP enrolment");
  AddSiteOptions(*reset, o->site);
  reset->add_option("email", o->email, "Email address")->required();
  reset->callback(run(UserResetMfa));

  CLI::App* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  CLI::App* token_create = token->add_subcommand("create", "Create a token; prints its secret once");
  AddSiteOptions(*token_create, o->site);
  token_create->add_option("--tenant", o->tenant, "Tenant id or name (none: a site token)");
  token_create->add_option("--name", o->name, "What the token is for")->required();
  token_create->add_option("--role", o->role, "tenant_admin, analyst or auditor")
      ->default_val("analyst");
  token_create->add_option("--scope", o->scopes,
                           "scan, events:read, policy:read, policy:write, quarantine:read, "
                           "quarantine:write, audit:read, mailboxes:read, mailboxes:write, "
                           "admin (repeatable)")
      ->required();
  token_create->add_option("--expires-days", o->expires_days, "Days until expiry; 0 = never")
      ->default_val(90);
  token_create->callback(run(TokenCreate));
  CLI::App* revoke = token->add_subcommand("revoke", "Revoke a token");
  AddSiteOptions(*revoke, o->site);
  revoke->add_option("id", o->id, "Token id (k_…)")->required();
  revoke->add_option("--tenant", o->tenant, "Tenant id or name (none: a site token)");
  revoke->callback(run(TokenRevoke));

  CLI::App* audit = app.add_subcommand("audit", "The hash-chained audit log");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify", "Check the hash chain; exit 1 if any record was changed or removed");
  AddSiteOptions(*verify, o->site);
  verify->callback(run(AuditVerify));
  CLI::App* exp = audit->add_subcommand("export", "Export every record");
  AddSiteOptions(*exp, o->site);
  exp->add_option("--format", o->format, "json (JSON Lines) or syslog (RFC 5424)")
      ->default_val("json");
  exp->add_option("-o,--output", o->output, "File to write (default: standard output)");
  exp->callback(run(AuditExport));

  CLI::App* db = app.add_subcommand("db", "Database administration");
  db->require_subcommand(1);
  CLI::App* migrate = db->add_subcommand("migrate", "Apply pending schema migrations");
  AddSiteOptions(*migrate, o->site);
  migrate->callback(run(DbMigrate));
}

}  // namespace bulwark::cli

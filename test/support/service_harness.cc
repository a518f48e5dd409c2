#include "test/support/service_harness.h"

#include <stdlib.h>

#include <fstream>
#include <mutex>

#include "mailbox/mailbox_api.h"
#include "service/api.h"
#include "test/support/postgres_server.h"

namespace bulwark::testing {

std::string BackendLabel(Backend backend) {
  return backend == Backend::kSqlite ? "Sqlite" : "Postgres";
}

std::string ApiResponse::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? "" : it->second;
}

nlohmann::json LoadOpenApi() {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) + "/docs/openapi.json");
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

Result<PostgresDatabase> FreshPostgresDatabase() {
  // One server for the whole test binary; stopped at exit.
  static std::mutex mutex;
  static std::unique_ptr<PostgresServer> server;
  std::lock_guard lock(mutex);
  if (!server) {
    BULWARK_ASSIGN_OR_RETURN(server, PostgresServer::Start());
  }
  BULWARK_ASSIGN_OR_RETURN(std::string name, server->CreateDatabase("site"));
  return PostgresDatabase{server->conninfo(name), server->admin_conninfo(name)};
}

Result<std::unique_ptr<ServiceHarness>> ServiceHarness::Start(const Options& options) {
  std::unique_ptr<ServiceHarness> h(new ServiceHarness());
  std::string data_dir = options.data_dir;
  if (data_dir.empty()) {
    char pattern[] = "/tmp/bulwark-site-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return UnavailableError("mkdtemp failed");
    data_dir = pattern;
    h->owned_dir_ = data_dir;
  }
  h->config_ = service::EmbeddedDefaultConfig(data_dir);
  h->config_.site.id = options.site_id;
  h->config_.site.name = "Site " + options.site_id;
  h->config_.api.port = 0;
  h->config_.require_mfa = options.require_mfa;
  h->config_.clamav_db = "";  // the test signature set only: fast and deterministic
  h->config_.signature_dirs = {std::string(BULWARK_SOURCE_DIR) + "/rules/clamav"};
  if (!options.extra_signature_dir.empty()) {
    h->config_.signature_dirs.push_back(options.extra_signature_dir);
  }
  h->config_.scan_threads = 2;
  if (options.token_rate_per_second > 0) {
    h->config_.token_rate_per_second = options.token_rate_per_second;
    h->config_.token_burst = options.token_burst;
  }
  h->config_.mailbox = options.mailbox;
  h->config_.quarantine_s3_endpoint = options.s3_endpoint;
  h->config_.quarantine_s3_bucket = options.s3_bucket;
  h->config_.quarantine_s3_access_key = options.s3_access_key;
  h->config_.quarantine_s3_secret_key = options.s3_secret_key;
  if (!options.database_url.empty()) {
    h->config_.database_url = options.database_url;
  } else if (options.backend == Backend::kPostgres) {
    BULWARK_ASSIGN_OR_RETURN(PostgresDatabase database, FreshPostgresDatabase());
    h->config_.database_url = database.url;
    h->admin_database_url_ = database.admin_url;
  }
  BULWARK_ASSIGN_OR_RETURN(h->site_, service::Site::Open(h->config_));
  BULWARK_RETURN_IF_ERROR(http::EnsureSelfSignedCertificate(h->config_.certificate_file,
                                                            h->config_.private_key_file));
  http::ServerOptions server_options;
  server_options.port = 0;
  server_options.certificate_file = h->config_.certificate_file;
  server_options.private_key_file = h->config_.private_key_file;
  server_options.worker_threads = 2;
  server_options.metrics = &h->site_->metrics();
  h->router_ = service::BuildApiRouter(*h->site_);
  mailbox::AddMailboxRoutes(*h->router_, *h->site_);  // as `bulwark serve` does
  h->openapi_ = LoadOpenApi();
  if (h->openapi_.is_discarded()) return InternalError("docs/openapi.json does not parse");
  BULWARK_ASSIGN_OR_RETURN(h->server_, http::HttpsServer::Create(server_options, h->router_));
  h->server_->Start();
  h->base_url_ = "https://127.0.0.1:" + std::to_string(h->server_->port());
  http::ClientOptions client_options;
  client_options.ca_file = h->config_.certificate_file;  // verify against the site's own cert
  BULWARK_ASSIGN_OR_RETURN(h->client_, http::Client::Create(client_options));
  return h;
}

ServiceHarness::~ServiceHarness() {
  if (server_) server_->Stop(std::chrono::seconds(5));
  server_.reset();
  site_.reset();
  if (!owned_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(owned_dir_, ec);
  }
}

Status ServiceHarness::TamperDatabase(const std::string& sql) {
  bool postgres = !admin_database_url_.empty();
  BULWARK_ASSIGN_OR_RETURN(
      std::unique_ptr<storage::Database> db,
      storage::OpenDatabase(postgres ? admin_database_url_ : config_.database_url, 1));
  BULWARK_ASSIGN_OR_RETURN(storage::Database::Lease lease, db->Acquire(storage::Scope::Site()));
  std::string script = postgres ? "SET session_replication_role = replica; " + sql
                                : "DROP TRIGGER IF EXISTS audit_no_update; "
                                  "DROP TRIGGER IF EXISTS audit_no_delete; " +
                                      sql;
  return lease->ExecuteScript(script);
}

ApiResponse ServiceHarness::Call(const std::string& method, const std::string& path,
                                 const Credentials& credentials, const std::string& body,
                                 const std::string& content_type) {
  http::ClientHeaders headers;
  if (!credentials.bearer.empty()) {
    headers.emplace_back("Authorization", "Bearer " + credentials.bearer);
  }
  if (!credentials.cookie.empty()) {
    headers.emplace_back("Cookie", "bulwark_session=" + credentials.cookie);
    if (!credentials.csrf.empty()) headers.emplace_back("X-CSRF-Token", credentials.csrf);
  }
  if (!body.empty()) headers.emplace_back("Content-Type", content_type);
  ApiResponse out;
  Result<http::ClientResponse> response = client_->Send(method, base_url_ + path, headers, body);
  if (!response.ok()) {
    out.status = -1;
    out.body = response.status().ToString();
    return out;
  }
  out.status = response->status;
  out.body = response->body;
  out.headers = response->headers;
  out.json = nlohmann::json::parse(out.body, nullptr, false);
  if (out.json.is_discarded()) out.json = nullptr;

  std::string route_path = path.substr(0, path.find('?'));
  http::Router::Match match = router_->Resolve(method, route_path);
  if (match.handler != nullptr) {
    std::string lower_method = method;
    for (char& c : lower_method) c = static_cast<char>(std::tolower(c));
    const nlohmann::json* operation = nullptr;
    auto paths = openapi_.find("paths");
    if (paths != openapi_.end() && paths->contains(match.pattern) &&
        (*paths)[match.pattern].contains(lower_method)) {
      operation = &(*paths)[match.pattern][lower_method];
    }
    std::string status = std::to_string(out.status);
    if (operation == nullptr) {
      openapi_violations_.push_back(method + " " + match.pattern + " is not documented");
    } else if (!(*operation)["responses"].contains(status)) {
      openapi_violations_.push_back(method + " " + match.pattern + " answered " + status +
                                    ", which docs/openapi.json does not list");
    }
  }
  return out;
}

}  // namespace bulwark::testing

#pragma once
// ServiceHarness: a whole site (Site + HTTPS server on a free loopback port) for integration
// tests, on SQLite (a fresh data directory) or PostgreSQL (a fresh database on this binary's
// throw-away server), and a small JSON client for its API. Test-only.

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bulwark/common/result.h"
#include "http/client.h"
#include "http/server.h"
#include "service/config.h"
#include "service/site.h"

namespace bulwark::testing {

enum class Backend { kSqlite, kPostgres };
std::string BackendLabel(Backend backend);  // "Sqlite", "Postgres"

struct ApiResponse {
  int status = 0;
  std::string body;
  nlohmann::json json;  // parsed body (null when not JSON)
  std::string Header(std::string_view name) const;
  std::multimap<std::string, std::string> headers;
};

// Credentials for calls: a bearer token, or a session cookie with its CSRF token.
struct Credentials {
  static Credentials Bearer(std::string token) { return {std::move(token), "", ""}; }
  std::string bearer;
  std::string cookie;
  std::string csrf;
};

class ServiceHarness {
 public:
  struct Options {
    Backend backend = Backend::kSqlite;
    std::string site_id = "test";
    bool require_mfa = true;
    // Shared data directory (two harnesses on one directory test site ownership).
    std::string data_dir;
    std::string database_url;  // overrides the backend's fresh database
    // Rate limits per token (the site default when 0).
    double token_rate_per_second = 0, token_burst = 0;
    // A further signature directory (after the project's test set), for reload tests.
    std::string extra_signature_dir;
    // Quarantine on S3-compatible storage instead of the data directory.
    std::string s3_endpoint, s3_bucket, s3_access_key, s3_secret_key;
    // The mailbox connector's settings (tests shorten its intervals).
    service::MailboxConfig mailbox;
  };
  static Result<std::unique_ptr<ServiceHarness>> Start(const Options& options);
  ~ServiceHarness();

  service::Site& site() { return *site_; }
  const service::ServiceConfig& config() const { return config_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& data_dir() const { return config_.data_dir; }
  // The database URL (for a second site pointed at it).
  const std::string& database_url() const { return config_.database_url; }

  // Sends one request. Every answer of a routed request is checked against
  // docs/openapi.json: a status the document does not list for that operation is recorded
  // in openapi_violations().
  ApiResponse Call(const std::string& method, const std::string& path,
                   const Credentials& credentials = {}, const std::string& body = "",
                   const std::string& content_type = "application/json");
  const std::vector<std::string>& openapi_violations() const { return openapi_violations_; }
  // Runs SQL with the powers of whoever holds the database itself, past the service's role
  // and the audit log's append-only triggers (SQLite: triggers dropped; PostgreSQL: as the
  // superuser with triggers off). For tamper tests.
  Status TamperDatabase(const std::string& sql);
  const http::Router& router() const { return *router_; }

 private:
  ServiceHarness() = default;
  std::string owned_dir_;  // removed at the end when the harness created it
  std::string admin_database_url_;  // PostgreSQL superuser URL of the site's database
  service::ServiceConfig config_;
  std::unique_ptr<service::Site> site_;
  std::shared_ptr<http::Router> router_;
  nlohmann::json openapi_;
  std::vector<std::string> openapi_violations_;
  std::unique_ptr<http::HttpsServer> server_;
  std::unique_ptr<http::Client> client_;
  std::string base_url_;
};

// docs/openapi.json, parsed.
nlohmann::json LoadOpenApi();

// A PostgreSQL database for this test binary (one server per binary, started on first use):
// its URL for the service's role and for the superuser.
struct PostgresDatabase {
  std::string url;
  std::string admin_url;
};
Result<PostgresDatabase> FreshPostgresDatabase();

}  // namespace bulwark::testing

#pragma once
// Site: everything one Bulwark site runs on, opened from its configuration: the database
// (migrated, and checked to belong to this site), the KEK, the quarantine vault, the engine
// (for `serve`), metrics, rate limiters, and the audit trail. `bulwark serve` and the
// administration commands open one; tests open two side by side.

#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "bulwark/common/result.h"
#include "bulwark/engine/engine.h"
#include "detectors/senderauth/dns_resolver.h"
#include "http/metrics.h"
#include "security/envelope.h"
#include "security/object_store.h"
#include "security/rate_limiter.h"
#include "service/config.h"
#include "service/quarantine_vault.h"
#include "storage/database.h"
#include "storage/store.h"

namespace bulwark::service {

struct SiteOpenOptions {
  bool with_engine = true;      // administration commands do not scan
  bool create_if_missing = true;  // embedded default: create data dir, KEK, certificate
};

class Site {
 public:
  static Result<std::unique_ptr<Site>> Open(const ServiceConfig& config,
                                            const SiteOpenOptions& options = {});
  ~Site();

  const ServiceConfig& config() const { return config_; }
  storage::Store& store() { return *store_; }
  storage::Database& database() { return *database_; }
  QuarantineVault& quarantine() { return *vault_; }
  http::Metrics& metrics() { return metrics_; }
  security::RateLimiter& token_limiter() { return token_limiter_; }
  security::RateLimiter& tenant_limiter() { return tenant_limiter_; }
  security::RateLimiter& login_limiter() { return login_limiter_; }
  // Precondition: opened with_engine.
  const engine::Engine& engine() const { return *engine_; }
  bool has_engine() const { return engine_ != nullptr; }
  // The DNS resolver of sender authentication (SPF, DKIM, DMARC); null unless the site was
  // opened with_engine and config().sender_auth is on. Shared with the engine's detector.
  const std::shared_ptr<const senderauth::Resolver>& sender_auth_resolver() const {
    return sender_auth_resolver_;
  }
  // Re-reads the signature sources and swaps the new set in (scans in flight finish on the
  // old one). Precondition: opened with_engine.
  Status ReloadSignatures();
  // Reloads when a file of the signature sources (signature_dirs, clamav_db) was added,
  // removed or changed since the last load, as clamd's SelfCheck does; true when it did.
  Result<bool> ReloadSignaturesIfChanged();
  // HMAC key for time-limited download links (derived from the KEK; never stored).
  const std::string& link_key() const { return link_key_; }
  // HMAC key of the signed verdict header X-Bulwark-Signature (derived from the KEK).
  const std::string& verdict_key() const { return verdict_key_; }
  // An Argon2id hash of a random password: logins for unknown emails verify against it, so
  // their timing does not tell which accounts exist.
  const std::string& decoy_password_hash() const { return decoy_password_hash_; }

  // Appends an audit record (hash-chained). Failures are returned: an administrative act
  // whose audit record cannot be written must not be reported as done.
  Status Audit(const std::string& tenant_id, const std::string& actor, const std::string& action,
               const std::string& target, const std::string& detail_json = "{}");

  // Creates the first site operator when the site has no user yet. Returns its email and
  // one-time password (to be printed once), or nullopt when users exist.
  struct FirstAdministrator {
    std::string email;
    std::string one_time_password;
  };
  Result<std::optional<FirstAdministrator>> EnsureFirstAdministrator();

  static std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

 private:
  explicit Site(ServiceConfig config);

  ServiceConfig config_;
  std::unique_ptr<storage::Database> database_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<security::ObjectStore> objects_;
  std::unique_ptr<QuarantineVault> vault_;
  std::shared_ptr<const senderauth::Resolver> sender_auth_resolver_;
  std::unique_ptr<engine::Engine> engine_;
  http::Metrics metrics_;
  security::RateLimiter token_limiter_;
  security::RateLimiter tenant_limiter_;
  security::RateLimiter login_limiter_;
  std::string signature_files_;  // fingerprint of the loaded signature files
  std::mutex reload_mutex_;
  std::string link_key_;
  std::string verdict_key_;
  std::string decoy_password_hash_;
};

}  // namespace bulwark::service

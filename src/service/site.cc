#include "service/site.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "crypto/sha256.h"
#include "extensions/standard_extensions.h"
#include "security/credentials.h"
#include "service/administration.h"

namespace bulwark::service {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSiteMarkerKey = "site-id";

Status MakePrivateDirectory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return OkStatus();
}

Result<security::Key> LoadKek(const ServiceConfig& config, bool create_if_missing) {
  if (const char* hex = std::getenv("BULWARK_KEK"); hex != nullptr && *hex != '\0') {
    return security::ParseKekHex(hex);
  }
  std::error_code ec;
  if (!fs::exists(config.kek_file, ec) && create_if_missing) {
    return security::CreateKekFile(config.kek_file);
  }
  return security::LoadKekFile(config.kek_file);
}

// The database and the quarantine store each record the site they belong to on first use;
// a site refuses to start on another site's storage.
Status ClaimDatabase(storage::Store& store, const std::string& site_id) {
  BULWARK_ASSIGN_OR_RETURN(std::optional<std::string> owner, store.GetMeta("site_id"));
  if (!owner) return store.SetMeta("site_id", site_id);
  if (*owner != site_id) {
    return FailedPreconditionError("the database belongs to site \"" + *owner +
                                   "\", not to this site \"" + site_id +
                                   "\"; sites share nothing");
  }
  return OkStatus();
}

// Names, sizes and modification times of the files in the signature sources and their
// subdirectories: a change of any of them (a freshclam update, a new rule file, a new URL
// feed) changes the fingerprint.
std::string SignatureFilesFingerprint(const ServiceConfig& config) {
  std::vector<std::string> dirs = config.signature_dirs;
  if (!config.clamav_db.empty()) dirs.push_back(config.clamav_db);
  std::string listing;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    std::vector<std::string> entries;
    // Recursive: URL feeds live in <dir>/urls/block and <dir>/urls/allow.
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      entries.push_back(it->path().string() + "|" + std::to_string(st.st_size) + "|" +
                        std::to_string(st.st_mtim.tv_sec) + "." +
                        std::to_string(st.st_mtim.tv_nsec));
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) listing += e + "\n";
  }
  return crypto::ToHex(crypto::Sha256(listing));
}

Status ClaimObjectStore(security::ObjectStore& objects, const std::string& site_id) {
  Result<std::string> owner = objects.Get(kSiteMarkerKey);
  if (!owner.ok()) {
    if (owner.status().code() != StatusCode::kNotFound) return owner.status();
    return objects.Put(kSiteMarkerKey, site_id);
  }
  if (*owner != site_id) {
    return FailedPreconditionError("the quarantine store " + objects.Describe() +
                                   " belongs to site \"" + *owner + "\", not to this site \"" +
                                   site_id + "\"; sites share nothing");
  }
  return OkStatus();
}

std::string FromEnvironmentOr(const char* variable, const std::string& fallback) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// The local directory, or S3-compatible storage when an endpoint is configured.
Result<std::unique_ptr<security::ObjectStore>> OpenQuarantineStore(const ServiceConfig& config) {
  if (config.quarantine_s3_endpoint.empty()) {
    return security::OpenLocalObjectStore(config.quarantine_dir);
  }
  security::S3Options s3;
  s3.endpoint = config.quarantine_s3_endpoint;
  s3.bucket = config.quarantine_s3_bucket;
  s3.region = config.quarantine_s3_region;
  s3.access_key = FromEnvironmentOr("BULWARK_S3_ACCESS_KEY", config.quarantine_s3_access_key);
  s3.secret_key = FromEnvironmentOr("BULWARK_S3_SECRET_KEY", config.quarantine_s3_secret_key);
  s3.ca_file = config.quarantine_s3_ca_file;
  return security::OpenS3ObjectStore(s3);
}

Result<std::unique_ptr<engine::Engine>> CreateEngine(
    const ServiceConfig& config, std::shared_ptr<const senderauth::Resolver> resolver) {
  engine::EngineOptions options;
  for (const auto& dir : config.signature_dirs) options.signatures.directories.emplace_back(dir);
  options.signatures.system_clamav_directory = config.clamav_db;
  options.signatures.limits = options.limits;
  engine::Registry registry;
  extensions::ExtensionOptions extension_options;
  extension_options.dlp = true;  // tenants' policies decide what a DLP match means
  extension_options.sender_auth = config.sender_auth;
  extension_options.sender_auth_nameserver = config.sender_auth_nameserver;
  extension_options.sender_auth_resolver = std::move(resolver);
  extension_options.sender_auth_trusted_authserv_ids = config.sender_auth_trusted_authserv_ids;
  extension_options.sender_auth_trusted_arc_sealers = config.sender_auth_trusted_arc_sealers;
  extensions::RegisterStandardExtensions(registry, extension_options);
  return engine::Engine::Create(std::move(options), std::move(registry));
}

}  // namespace

Site::Site(ServiceConfig config)
    : config_(std::move(config)),
      token_limiter_({config_.token_rate_per_second, config_.token_burst, 100000}),
      tenant_limiter_({config_.tenant_rate_per_second, config_.tenant_burst, 100000}),
      login_limiter_({10.0 / 60.0, 10, 100000}) {}

Site::~Site() = default;

Result<std::unique_ptr<Site>> Site::Open(const ServiceConfig& config,
                                         const SiteOpenOptions& options) {
  BULWARK_RETURN_IF_ERROR(ValidateConfig(config));
  std::unique_ptr<Site> site(new Site(config));
  if (options.create_if_missing) BULWARK_RETURN_IF_ERROR(MakePrivateDirectory(config.data_dir));

  BULWARK_ASSIGN_OR_RETURN(security::Key kek, LoadKek(config, options.create_if_missing));
  crypto::Sha256Digest link = crypto::Sha256(
      "bulwark-download-links:" +
      std::string(reinterpret_cast<const char*>(kek.bytes().data()), kek.bytes().size()));
  site->link_key_.assign(reinterpret_cast<const char*>(link.data()), link.size());
  crypto::Sha256Digest seal = crypto::Sha256(
      "bulwark-verdict-seal:" +
      std::string(reinterpret_cast<const char*>(kek.bytes().data()), kek.bytes().size()));
  site->verdict_key_.assign(reinterpret_cast<const char*>(seal.data()), seal.size());

  BULWARK_ASSIGN_OR_RETURN(site->decoy_password_hash_,
                           security::HashPassword(security::RandomPassword()));
  BULWARK_ASSIGN_OR_RETURN(site->database_, storage::OpenDatabase(config.database_url));
  BULWARK_ASSIGN_OR_RETURN(int version, storage::Migrate(*site->database_));
  (void)version;
  site->store_ = std::make_unique<storage::Store>(*site->database_);
  BULWARK_RETURN_IF_ERROR(ClaimDatabase(*site->store_, config.site.id));

  BULWARK_ASSIGN_OR_RETURN(site->objects_, OpenQuarantineStore(config));
  BULWARK_RETURN_IF_ERROR(ClaimObjectStore(*site->objects_, config.site.id));
  site->vault_ = std::make_unique<QuarantineVault>(*site->store_, *site->objects_, kek);

  if (options.with_engine) {
    site->signature_files_ = SignatureFilesFingerprint(config);
    if (config.sender_auth) {
      BULWARK_ASSIGN_OR_RETURN(site->sender_auth_resolver_,
                               senderauth::CreateStubResolver({config.sender_auth_nameserver}));
    }
    BULWARK_ASSIGN_OR_RETURN(site->engine_, CreateEngine(config, site->sender_auth_resolver_));
  }
  return site;
}

Status Site::Audit(const std::string& tenant_id, const std::string& actor,
                   const std::string& action, const std::string& target,
                   const std::string& detail_json) {
  storage::AuditRecord record;
  record.time = Now();
  record.tenant_id = tenant_id;
  record.actor = actor;
  record.action = action;
  record.target = target;
  record.detail_json = detail_json;
  Result<storage::AuditRecord> appended = store_->AppendAudit(std::move(record));
  return appended.ok() ? OkStatus() : appended.status();
}

Result<std::optional<Site::FirstAdministrator>> Site::EnsureFirstAdministrator() {
  BULWARK_ASSIGN_OR_RETURN(std::vector<storage::User> operators, store_->ListUsers(""));
  if (!operators.empty()) return std::optional<FirstAdministrator>();
  BULWARK_ASSIGN_OR_RETURN(NewUser created,
                           AddUser(*this, "bulwark", "", "admin@" + config_.site.id + ".bulwark.local",
                                   storage::Role::kSiteOperator));
  FirstAdministrator first{created.user.email, created.one_time_password};
  return std::optional<FirstAdministrator>(std::move(first));
}

}  // namespace bulwark::service

namespace bulwark::service {

Status Site::ReloadSignatures() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  std::string fingerprint = SignatureFilesFingerprint(config_);
  BULWARK_RETURN_IF_ERROR(engine_->Reload());
  signature_files_ = std::move(fingerprint);
  return OkStatus();
}

Result<bool> Site::ReloadSignaturesIfChanged() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  std::string fingerprint = SignatureFilesFingerprint(config_);
  if (fingerprint == signature_files_) return false;
  BULWARK_RETURN_IF_ERROR(engine_->Reload());
  signature_files_ = std::move(fingerprint);
  return true;
}

}  // namespace bulwark::service

#include "service/config.h"

// toml++ reports errors as values with exceptions off; Debian's compiled libtomlplusplus is
// built with exceptions, so the parser is compiled here, header-only, in its no-exceptions
// form. Both must precede the include.
#define TOML_EXCEPTIONS 0
#define TOML_HEADER_ONLY 1
#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string_view>

#include "bulwark/common/text.h"

namespace bulwark::service {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::string& dir, std::string_view name) {
  return (fs::path(dir) / name).string();
}

bool ValidSiteId(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string Where(const toml::node& node) {
  return "line " + std::to_string(node.source().begin.line);
}

// Reads one table of the file, refusing keys it does not know.
class Section {
 public:
  Section(const toml::table& table, std::string name) : table_(table), name_(std::move(name)) {}

  Status CheckKeys(std::initializer_list<std::string_view> known) const {
    std::set<std::string_view> allowed(known);
    for (const auto& [key, node] : table_) {
      if (!allowed.contains(key.str())) {
        return InvalidArgumentError("configuration: unknown key " + Qualified(key.str()) + " (" +
                                    Where(node) + ")");
      }
    }
    return OkStatus();
  }

  Status String(std::string_view key, std::string& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return OkStatus();
    auto value = node->value<std::string>();
    if (!value) return TypeError(key, *node, "a string");
    out = *value;
    return OkStatus();
  }

  template <typename Int>
  Status Integer(std::string_view key, Int& out, std::int64_t min, std::int64_t max) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return OkStatus();
    auto value = node->value<std::int64_t>();
    if (!value || !node->is_integer()) return TypeError(key, *node, "an integer");
    if (*value < min || *value > max) {
      return InvalidArgumentError("configuration: " + Qualified(key) + " must be between " +
                                  std::to_string(min) + " and " + std::to_string(max) + " (" +
                                  Where(*node) + ")");
    }
    out = static_cast<Int>(*value);
    return OkStatus();
  }

  Status Number(std::string_view key, double& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return OkStatus();
    auto value = node->value<double>();
    if (!value || *value <= 0) return TypeError(key, *node, "a positive number");
    out = *value;
    return OkStatus();
  }

  Status Boolean(std::string_view key, bool& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return OkStatus();
    auto value = node->value<bool>();
    if (!value || !node->is_boolean()) return TypeError(key, *node, "true or false");
    out = *value;
    return OkStatus();
  }

  // Calls `read` for each table of an array of tables ([[name.key]]).
  template <typename Read>
  Status Tables(std::string_view key, Read read) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return OkStatus();
    const toml::array* array = node->as_array();
    if (array == nullptr)
      return TypeError(key, *node, "an array of tables ([[" + Qualified(key) + "]])");
    std::size_t index = 0;
    for (const auto& element : *array) {
      const toml::table* table = element.as_table();
      if (table == nullptr) return TypeError(key, element, "an array of tables");
      BULWARK_RETURN_IF_ERROR(
          read(Section(*table, Qualified(key) + "[" + std::to_string(index++) + "]")));
    }
    return OkStatus();
  }

  Status Strings(std::string_view key, std::vector<std::string>& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return OkStatus();
    const toml::array* array = node->as_array();
    if (array == nullptr) return TypeError(key, *node, "an array of strings");
    out.clear();
    for (const auto& element : *array) {
      auto value = element.value<std::string>();
      if (!value) return TypeError(key, element, "an array of strings");
      out.push_back(*value);
    }
    return OkStatus();
  }

 private:
  std::string Qualified(std::string_view key) const {
    return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
  }
  Status TypeError(std::string_view key, const toml::node& node, std::string_view expected) const {
    return InvalidArgumentError("configuration: " + Qualified(key) + " must be " +
                                std::string(expected) + " (" + Where(node) + ")");
  }

  const toml::table& table_;
  std::string name_;
};

// A whole number of seconds between 1 and a day.
Status Seconds(const Section& s, std::string_view key, std::chrono::seconds& out) {
  std::int64_t value = out.count();
  BULWARK_RETURN_IF_ERROR(s.Integer(key, value, 1, 86400));
  out = std::chrono::seconds(value);
  return OkStatus();
}

// Calls `read` with the named sub-table when present.
template <typename Read>
Status WithSection(const toml::table& root, std::string_view name, Read read) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return OkStatus();
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    return InvalidArgumentError("configuration: [" + std::string(name) + "] must be a table (" +
                                Where(*node) + ")");
  }
  return read(Section(*table, std::string(name)));
}

Status ReadSections(const toml::table& root, ServiceConfig& c) {
  BULWARK_RETURN_IF_ERROR(Section(root, "").CheckKeys(
      {"data_dir", "site", "database", "api", "tls", "keys", "quarantine", "sandbox", "engine",
       "access", "log", "syslog", "clamd", "icap", "sender_auth", "mail", "smtp", "milter",
       "mailbox"}));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "site", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"id", "name", "region"}));
    BULWARK_RETURN_IF_ERROR(s.String("id", c.site.id));
    BULWARK_RETURN_IF_ERROR(s.String("name", c.site.name));
    return s.String("region", c.site.region);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "database", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"url"}));
    return s.String("url", c.database_url);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "api", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"address", "port", "max_request_bytes"}));
    BULWARK_RETURN_IF_ERROR(s.String("address", c.api.address));
    BULWARK_RETURN_IF_ERROR(s.Integer("port", c.api.port, 0, 65535));
    return s.Integer("max_request_bytes", c.max_request_bytes, 1024, std::int64_t{1} << 32);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "tls", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"certificate", "private_key"}));
    std::string cert, key;
    BULWARK_RETURN_IF_ERROR(s.String("certificate", cert));
    BULWARK_RETURN_IF_ERROR(s.String("private_key", key));
    if (cert.empty() != key.empty()) {
      return InvalidArgumentError("configuration: tls.certificate and tls.private_key go together");
    }
    if (!cert.empty()) {
      c.certificate_file = cert;
      c.private_key_file = key;
      c.generate_certificate = false;
    }
    return OkStatus();
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "keys", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"kek_file"}));
    return s.String("kek_file", c.kek_file);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "quarantine", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(
        s.CheckKeys({"dir", "retention_days", "s3_endpoint", "s3_bucket", "s3_region",
                     "s3_access_key", "s3_secret_key", "s3_ca_file"}));
    BULWARK_RETURN_IF_ERROR(s.String("dir", c.quarantine_dir));
    BULWARK_RETURN_IF_ERROR(s.String("s3_endpoint", c.quarantine_s3_endpoint));
    BULWARK_RETURN_IF_ERROR(s.String("s3_bucket", c.quarantine_s3_bucket));
    BULWARK_RETURN_IF_ERROR(s.String("s3_region", c.quarantine_s3_region));
    BULWARK_RETURN_IF_ERROR(s.String("s3_access_key", c.quarantine_s3_access_key));
    BULWARK_RETURN_IF_ERROR(s.String("s3_secret_key", c.quarantine_s3_secret_key));
    BULWARK_RETURN_IF_ERROR(s.String("s3_ca_file", c.quarantine_s3_ca_file));
    return s.Integer("retention_days", c.quarantine_retention_days, 1, 3650);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "sandbox", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"url", "site"}));
    BULWARK_RETURN_IF_ERROR(s.String("url", c.sandbox_url));
    return s.String("site", c.sandbox_site);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "engine", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(
        s.CheckKeys({"signature_dirs", "clamav_db", "threads", "self_check_seconds"}));
    std::int64_t self_check = c.signature_check.count();
    BULWARK_RETURN_IF_ERROR(s.Integer("self_check_seconds", self_check, 0, 86400));
    c.signature_check = std::chrono::seconds(self_check);
    BULWARK_RETURN_IF_ERROR(s.Strings("signature_dirs", c.signature_dirs));
    BULWARK_RETURN_IF_ERROR(s.String("clamav_db", c.clamav_db));
    return s.Integer("threads", c.scan_threads, 0, 1024);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "access", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(
        s.CheckKeys({"session_lifetime_seconds", "login_failures_before_lockout", "lockout_seconds",
                     "token_rate_per_second", "token_burst", "tenant_rate_per_second",
                     "tenant_burst", "require_mfa"}));
    std::int64_t session = c.session_lifetime.count(), lockout = c.lockout.count();
    BULWARK_RETURN_IF_ERROR(s.Integer("session_lifetime_seconds", session, 60, 30 * 86400));
    BULWARK_RETURN_IF_ERROR(
        s.Integer("login_failures_before_lockout", c.login_failures_before_lockout, 1, 1000));
    BULWARK_RETURN_IF_ERROR(s.Integer("lockout_seconds", lockout, 1, 86400));
    c.session_lifetime = std::chrono::seconds(session);
    c.lockout = std::chrono::seconds(lockout);
    BULWARK_RETURN_IF_ERROR(s.Number("token_rate_per_second", c.token_rate_per_second));
    BULWARK_RETURN_IF_ERROR(s.Number("token_burst", c.token_burst));
    BULWARK_RETURN_IF_ERROR(s.Number("tenant_rate_per_second", c.tenant_rate_per_second));
    BULWARK_RETURN_IF_ERROR(s.Number("tenant_burst", c.tenant_burst));
    return s.Boolean("require_mfa", c.require_mfa);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "syslog", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"host", "port", "tls", "ca_file", "server_name"}));
    BULWARK_RETURN_IF_ERROR(s.String("host", c.syslog_host));
    BULWARK_RETURN_IF_ERROR(s.Integer("port", c.syslog_port, 1, 65535));
    BULWARK_RETURN_IF_ERROR(s.Boolean("tls", c.syslog_tls));
    BULWARK_RETURN_IF_ERROR(s.String("ca_file", c.syslog_ca_file));
    return s.String("server_name", c.syslog_server_name);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "sender_auth", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(
        s.CheckKeys({"enabled", "nameserver", "trusted_authserv_ids", "trusted_arc_sealers"}));
    BULWARK_RETURN_IF_ERROR(s.Boolean("enabled", c.sender_auth));
    BULWARK_RETURN_IF_ERROR(s.String("nameserver", c.sender_auth_nameserver));
    BULWARK_RETURN_IF_ERROR(s.Strings("trusted_arc_sealers", c.sender_auth_trusted_arc_sealers));
    for (std::string& sealer : c.sender_auth_trusted_arc_sealers) sealer = AsciiLower(sealer);
    return s.Strings("trusted_authserv_ids", c.sender_auth_trusted_authserv_ids);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "clamd", [&](const Section& s) {
    ClamdConfig& d = c.clamd;
    BULWARK_RETURN_IF_ERROR(s.CheckKeys(
        {"enabled", "address", "port", "tcp", "unix_socket", "tenant", "tls", "tls_address",
         "tls_port", "stream_max_length", "max_connections", "idle_timeout_seconds",
         "read_timeout_seconds", "scan_directories", "allow_shutdown"}));
    BULWARK_RETURN_IF_ERROR(s.Boolean("enabled", d.enabled));
    BULWARK_RETURN_IF_ERROR(s.String("address", d.tcp.address));
    BULWARK_RETURN_IF_ERROR(s.Integer("port", d.tcp.port, 0, 65535));
    BULWARK_RETURN_IF_ERROR(s.Boolean("tcp", d.tcp_enabled));
    BULWARK_RETURN_IF_ERROR(s.String("unix_socket", d.unix_socket));
    BULWARK_RETURN_IF_ERROR(s.String("tenant", d.tenant));
    BULWARK_RETURN_IF_ERROR(s.Boolean("tls", d.tls_enabled));
    BULWARK_RETURN_IF_ERROR(s.String("tls_address", d.tls.address));
    BULWARK_RETURN_IF_ERROR(s.Integer("tls_port", d.tls.port, 0, 65535));
    BULWARK_RETURN_IF_ERROR(
        s.Integer("stream_max_length", d.stream_max_length, 1, std::int64_t{4} << 30));
    BULWARK_RETURN_IF_ERROR(s.Integer("max_connections", d.max_connections, 1, 10000));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "idle_timeout_seconds", d.idle_timeout));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "read_timeout_seconds", d.read_timeout));
    BULWARK_RETURN_IF_ERROR(s.Strings("scan_directories", d.scan_directories));
    return s.Boolean("allow_shutdown", d.allow_shutdown);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "icap", [&](const Section& s) {
    IcapConfig& i = c.icap;
    BULWARK_RETURN_IF_ERROR(s.CheckKeys(
        {"enabled", "address", "port", "tenant", "tenants", "max_connections", "preview_bytes",
         "max_object_bytes", "block_oversize", "idle_timeout_seconds", "read_timeout_seconds"}));
    BULWARK_RETURN_IF_ERROR(s.Boolean("enabled", i.enabled));
    BULWARK_RETURN_IF_ERROR(s.String("address", i.listener.address));
    BULWARK_RETURN_IF_ERROR(s.Integer("port", i.listener.port, 0, 65535));
    BULWARK_RETURN_IF_ERROR(s.String("tenant", i.tenant));
    BULWARK_RETURN_IF_ERROR(s.Strings("tenants", i.tenants));
    BULWARK_RETURN_IF_ERROR(s.Integer("max_connections", i.max_connections, 1, 10000));
    BULWARK_RETURN_IF_ERROR(s.Integer("preview_bytes", i.preview_bytes, 0, 1 << 20));
    BULWARK_RETURN_IF_ERROR(
        s.Integer("max_object_bytes", i.max_object_bytes, 1, std::int64_t{4} << 30));
    BULWARK_RETURN_IF_ERROR(s.Boolean("block_oversize", i.block_oversize));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "idle_timeout_seconds", i.idle_timeout));
    return Seconds(s, "read_timeout_seconds", i.read_timeout);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "mail", [&](const Section& s) {
    MailConfig& m = c.mail;
    BULWARK_RETURN_IF_ERROR(
        s.CheckKeys({"hostname", "subject_tag", "notify_address", "notify_recipients",
                     "notify_relay", "sign_verdicts", "domains"}));
    BULWARK_RETURN_IF_ERROR(s.Boolean("notify_recipients", m.notify_recipients));
    BULWARK_RETURN_IF_ERROR(s.String("notify_relay", m.notify_relay));
    BULWARK_RETURN_IF_ERROR(s.String("hostname", m.hostname));
    BULWARK_RETURN_IF_ERROR(s.Boolean("sign_verdicts", m.sign_verdicts));
    BULWARK_RETURN_IF_ERROR(s.String("subject_tag", m.subject_tag));
    BULWARK_RETURN_IF_ERROR(s.String("notify_address", m.notify_address));
    return s.Tables("domains", [&](const Section& d) {
      MailDomainConfig domain;
      BULWARK_RETURN_IF_ERROR(d.CheckKeys({"domain", "include_subdomains", "tenant", "next_hop",
                                           "next_hop_tls", "next_hop_ca_file"}));
      BULWARK_RETURN_IF_ERROR(d.String("domain", domain.domain));
      BULWARK_RETURN_IF_ERROR(d.Boolean("include_subdomains", domain.include_subdomains));
      BULWARK_RETURN_IF_ERROR(d.String("tenant", domain.tenant));
      BULWARK_RETURN_IF_ERROR(d.String("next_hop", domain.next_hop));
      BULWARK_RETURN_IF_ERROR(d.String("next_hop_tls", domain.next_hop_tls));
      BULWARK_RETURN_IF_ERROR(d.String("next_hop_ca_file", domain.next_hop_ca_file));
      domain.domain = AsciiLower(domain.domain);
      m.domains.push_back(std::move(domain));
      return OkStatus();
    });
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "smtp", [&](const Section& s) {
    SmtpConfig& g = c.smtp;
    BULWARK_RETURN_IF_ERROR(s.CheckKeys(
        {"enabled", "address", "port", "max_connections", "max_connections_per_client",
         "max_message_bytes", "max_recipients", "max_line_bytes", "starttls",
         "command_timeout_seconds", "data_timeout_seconds", "next_hop_timeout_seconds"}));
    BULWARK_RETURN_IF_ERROR(s.Boolean("enabled", g.enabled));
    BULWARK_RETURN_IF_ERROR(s.String("address", g.listener.address));
    BULWARK_RETURN_IF_ERROR(s.Integer("port", g.listener.port, 0, 65535));
    BULWARK_RETURN_IF_ERROR(s.Integer("max_connections", g.max_connections, 1, 10000));
    BULWARK_RETURN_IF_ERROR(
        s.Integer("max_connections_per_client", g.max_connections_per_client, 1, 10000));
    BULWARK_RETURN_IF_ERROR(
        s.Integer("max_message_bytes", g.max_message_bytes, 1024, std::int64_t{1} << 30));
    BULWARK_RETURN_IF_ERROR(s.Integer("max_recipients", g.max_recipients, 1, 10000));
    BULWARK_RETURN_IF_ERROR(s.Integer("max_line_bytes", g.max_line_bytes, 512, 1 << 20));
    BULWARK_RETURN_IF_ERROR(s.Boolean("starttls", g.starttls));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "command_timeout_seconds", g.command_timeout));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "data_timeout_seconds", g.data_timeout));
    return Seconds(s, "next_hop_timeout_seconds", g.next_hop_timeout);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "milter", [&](const Section& s) {
    MilterConfig& m = c.milter;
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"enabled", "address", "port", "tenant", "max_connections",
                                         "max_message_bytes", "timeout_seconds"}));
    BULWARK_RETURN_IF_ERROR(s.Boolean("enabled", m.enabled));
    BULWARK_RETURN_IF_ERROR(s.String("address", m.listener.address));
    BULWARK_RETURN_IF_ERROR(s.Integer("port", m.listener.port, 0, 65535));
    BULWARK_RETURN_IF_ERROR(s.String("tenant", m.tenant));
    BULWARK_RETURN_IF_ERROR(s.Integer("max_connections", m.max_connections, 1, 10000));
    BULWARK_RETURN_IF_ERROR(
        s.Integer("max_message_bytes", m.max_message_bytes, 1024, std::int64_t{1} << 30));
    return Seconds(s, "timeout_seconds", m.timeout);
  }));
  BULWARK_RETURN_IF_ERROR(WithSection(root, "mailbox", [&](const Section& s) {
    MailboxConfig& m = c.mailbox;
    BULWARK_RETURN_IF_ERROR(s.CheckKeys(
        {"enabled", "max_connectors", "poll_interval_seconds", "idle_interval_seconds",
         "refresh_interval_seconds", "lease_seconds", "timeout_seconds", "max_backoff_seconds",
         "max_message_bytes", "tag_keyword", "trust_signed_verdicts_seconds"}));
    BULWARK_RETURN_IF_ERROR(s.Boolean("enabled", m.enabled));
    BULWARK_RETURN_IF_ERROR(s.Integer("max_connectors", m.max_connectors, 1, 100000));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "poll_interval_seconds", m.poll_interval));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "idle_interval_seconds", m.idle_interval));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "refresh_interval_seconds", m.refresh_interval));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "lease_seconds", m.lease));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "timeout_seconds", m.timeout));
    BULWARK_RETURN_IF_ERROR(Seconds(s, "max_backoff_seconds", m.max_backoff));
    BULWARK_RETURN_IF_ERROR(
        s.Integer("max_message_bytes", m.max_message_bytes, 1024, std::int64_t{1} << 30));
    BULWARK_RETURN_IF_ERROR(s.String("tag_keyword", m.tag_keyword));
    std::int64_t trust = m.trust_signed_verdicts.count();
    BULWARK_RETURN_IF_ERROR(
        s.Integer("trust_signed_verdicts_seconds", trust, 0, std::int64_t{90} * 86400));
    m.trust_signed_verdicts = std::chrono::seconds(trust);
    if (m.idle_interval > std::chrono::seconds(29 * 60)) {
      return InvalidArgumentError(
          "[mailbox] idle_interval_seconds must be at most 1740 (RFC 2177)");
    }
    return OkStatus();
  }));
  return WithSection(root, "log", [&](const Section& s) {
    BULWARK_RETURN_IF_ERROR(s.CheckKeys({"access"}));
    return s.Boolean("access", c.access_log);
  });
}

}  // namespace

std::string DefaultDataDir() {
  const char* env = std::getenv("BULWARK_DATA");
  std::string dir = (env != nullptr && *env != '\0') ? env : "bulwark-data";
  std::error_code ec;
  fs::path absolute = fs::absolute(dir, ec);
  return ec ? dir : absolute.lexically_normal().string();
}

ServiceConfig EmbeddedDefaultConfig(const std::string& data_dir) {
  ServiceConfig c;
  std::error_code ec;
  fs::path absolute = fs::absolute(data_dir, ec);
  c.data_dir = ec ? data_dir : absolute.lexically_normal().string();
  c.database_url = "sqlite:" + Join(c.data_dir, "bulwark.db");
  c.certificate_file = Join(c.data_dir, "tls/cert.pem");
  c.private_key_file = Join(c.data_dir, "tls/key.pem");
  c.kek_file = Join(c.data_dir, "keys/kek");
  c.quarantine_dir = Join(c.data_dir, "quarantine");
  c.clamd.unix_socket = Join(c.data_dir, "clamd.sock");
  return c;
}

Status ValidateConfig(const ServiceConfig& c) {
  if (!ValidSiteId(c.site.id)) {
    return InvalidArgumentError("configuration: site.id \"" + c.site.id +
                                "\" must be 1-32 characters of a-z, 0-9 and '-'");
  }
  if (!c.sandbox_url.empty() && c.sandbox_site != c.site.id) {
    return InvalidArgumentError("configuration: the sandbox " + c.sandbox_url +
                                " belongs to site \"" + c.sandbox_site + "\", not to this site \"" +
                                c.site.id + "\"; sites share nothing");
  }
  if (!c.quarantine_s3_endpoint.empty() && c.quarantine_s3_bucket.empty()) {
    return InvalidArgumentError("configuration: quarantine.s3_endpoint needs quarantine.s3_bucket");
  }
  if (c.database_url.rfind("sqlite:", 0) != 0 && c.database_url.rfind("postgres://", 0) != 0 &&
      c.database_url.rfind("postgresql://", 0) != 0) {
    return InvalidArgumentError(
        "configuration: database.url must start with sqlite:, postgres:// or postgresql://");
  }
  if (c.clamd.enabled && c.clamd.tls_enabled && c.clamd.tls.port == c.clamd.tcp.port &&
      c.clamd.tcp_enabled && c.clamd.tls.port != 0) {
    return InvalidArgumentError("configuration: clamd.port and clamd.tls_port must differ");
  }
  for (const MailDomainConfig& d : c.mail.domains) {
    if (d.domain.empty() || d.domain.find_first_of(" @/:") != std::string::npos) {
      return InvalidArgumentError("configuration: mail.domains needs a domain name (\"" + d.domain +
                                  "\")");
    }
    if (d.tenant.empty()) {
      return InvalidArgumentError("configuration: mail.domains \"" + d.domain +
                                  "\" needs a tenant");
    }
    if (d.next_hop_tls != "opportunistic" && d.next_hop_tls != "required" &&
        d.next_hop_tls != "none") {
      return InvalidArgumentError("configuration: mail.domains \"" + d.domain +
                                  "\": next_hop_tls must be opportunistic, required or none");
    }
  }
  for (const std::string& dir : c.clamd.scan_directories) {
    if (dir.empty() || dir[0] != '/') {
      return InvalidArgumentError(
          "configuration: clamd.scan_directories must be absolute paths (\"" + dir + "\")");
    }
  }
  return OkStatus();
}

Result<ServiceConfig> LoadConfig(const std::string& path) {
  toml::parse_result parsed = toml::parse_file(path);
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    return InvalidArgumentError("configuration " + path + ": " + std::string(error.description()) +
                                " (line " + std::to_string(error.source().begin.line) + ")");
  }
  const toml::table& root = parsed.table();
  std::string data_dir = DefaultDataDir();
  BULWARK_RETURN_IF_ERROR(Section(root, "").String("data_dir", data_dir));
  ServiceConfig config = EmbeddedDefaultConfig(data_dir);
  BULWARK_RETURN_IF_ERROR(ReadSections(root, config));
  BULWARK_RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

}  // namespace bulwark::service

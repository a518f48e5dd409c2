#pragma once
// ServiceConfig: what `bulwark serve` and the administration commands read from the TOML
// file given with --config, or the embedded default (docs/configuration.md).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::service {

struct SiteIdentity {
  std::string id = "local";  // [a-z0-9-]{1,32}; bound into every credential
  std::string name = "Local site";
  std::string region = "local";
};

struct ListenerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;
};

// The clamd-protocol front-end (docs/clamd.md): a TCP listener and a Unix socket for
// existing clamd clients, and an optional TLS listener where each connection first
// authenticates with a tenant's API token.
struct ClamdConfig {
  bool enabled = true;
  ListenerConfig tcp{"127.0.0.1", 3310};
  bool tcp_enabled = true;
  std::string unix_socket;  // "<data>/clamd.sock"; "" = none
  // The tenant whose policy, lists and events apply to scans on the TCP and Unix-socket
  // listeners (id or name). "" = the engine's verdict only, no events (a plain clamd).
  std::string tenant;
  bool tls_enabled = false;
  ListenerConfig tls{"127.0.0.1", 3311};
  std::uint64_t stream_max_length = 100ull << 20;  // clamd's StreamMaxLength default
  std::size_t max_connections = 100;
  std::chrono::seconds idle_timeout{30};      // between commands (clamd IdleTimeout)
  std::chrono::seconds read_timeout{120};     // inside a command (clamd ReadTimeout)
  // Directories SCAN, CONTSCAN and MULTISCAN may read; empty = those commands refused.
  std::vector<std::string> scan_directories;
  bool allow_shutdown = false;  // SHUTDOWN stops `bulwark serve` only when true
};

// The ICAP front-end (RFC 3507, docs/icap.md) for web proxies.
struct IcapConfig {
  bool enabled = true;
  ListenerConfig listener{"127.0.0.1", 1344};
  // The tenant for requests whose URI names no tenant (id or name); "" = verdict only.
  std::string tenant;
  // Tenants a request may name in its URI (icap://host/<tenant>/respmod). A tenant not
  // listed here is answered 404: the listener has no authentication of its own.
  std::vector<std::string> tenants;
  std::size_t max_connections = 100;
  std::uint64_t preview_bytes = 4096;
  std::uint64_t max_object_bytes = 64ull << 20;  // larger bodies: see block_oversize
  bool block_oversize = false;  // false: pass larger objects unscanned (and record it)
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds read_timeout{60};
};

// A mail domain the site protects (docs/smtp-gateway.md, docs/milter.md): mail to it
// belongs to `tenant`; the SMTP gateway relays it on to `next_hop`.
struct MailDomainConfig {
  std::string domain;    // lower-case; also covers its subdomains when include_subdomains
  bool include_subdomains = false;
  std::string tenant;    // id or name
  std::string next_hop;  // "host[:port]" (port 25 by default); gateway only, "" = none
  // STARTTLS to the next hop: "opportunistic" (when offered), "required", or "none".
  std::string next_hop_tls = "opportunistic";
  std::string next_hop_ca_file;  // "" = the system's trust store (checked when required)
};

// What the mail front-ends (SMTP gateway, milter) share.
struct MailConfig {
  // Our host name in the SMTP banner, Received and Authentication-Results; "" = the
  // machine's host name.
  std::string hostname;
  std::vector<MailDomainConfig> domains;
  std::string subject_tag = "[SUSPICIOUS]";  // prefix for the "tag" action
  // Where the "notify" action and quarantine notices go ("" = no notices): an address
  // that receives a short notice (never the content) through the domain's next hop.
  std::string notify_address;
  // Also tell each protected recipient when a message to them was quarantined, rejected,
  // deleted or stripped of attachments (smtp/notifier.h).
  bool notify_recipients = false;
  // Where notices are handed on ("host[:port]", STARTTLS when offered); "" = the recipient
  // domain's next hop (the milter has none: set this, e.g. to the MTA itself).
  std::string notify_relay;
  // Add X-Bulwark-Signature (an HMAC with the site's key over the verdict, the engine's
  // signature version, From, Message-ID and the body) to mail the gateway and the milter
  // deliver, so the mailbox connector does not scan it again (docs/mailbox-connector.md).
  bool sign_verdicts = true;
};

// The inline SMTP gateway (RFC 5321, before-queue; docs/smtp-gateway.md).
struct SmtpConfig {
  bool enabled = true;
  ListenerConfig listener{"127.0.0.1", 2525};
  std::size_t max_connections = 100;
  std::size_t max_connections_per_client = 20;
  std::uint64_t max_message_bytes = 50ull << 20;  // SIZE
  std::size_t max_recipients = 100;
  std::size_t max_line_bytes = 4096;  // command lines (RFC 5321 §4.5.3.1.4 asks ≥ 512)
  bool starttls = true;               // offered with the site's certificate
  std::chrono::seconds command_timeout{300};  // RFC 5321 §4.5.3.2: 5 minutes
  std::chrono::seconds data_timeout{600};     // whole DATA phase
  std::chrono::seconds next_hop_timeout{120}; // connecting and each reply of the next hop
};

// The milter front-end (Sendmail/Postfix milter protocol v6; docs/milter.md).
struct MilterConfig {
  bool enabled = true;
  ListenerConfig listener{"127.0.0.1", 8891};
  // The tenant for mail whose recipients match no [[mail.domains]] entry (id or name);
  // "" = such mail is accepted unscanned.
  std::string tenant;
  std::size_t max_connections = 100;
  std::uint64_t max_message_bytes = 50ull << 20;
  std::chrono::seconds timeout{300};
};

// The mailbox connector (API mode: IMAP mailboxes scanned after delivery; the connectors
// themselves are created through the API; docs/mailbox-connector.md).
struct MailboxConfig {
  bool enabled = true;
  std::size_t max_connectors = 200;          // mailboxes watched by this process at once
  std::chrono::seconds poll_interval{60};    // without IDLE: how often to look for new mail
  std::chrono::seconds idle_interval{300};   // IDLE is renewed after this (RFC 2177: < 29 min)
  std::chrono::seconds refresh_interval{10}; // how often the list of connectors is re-read
  std::chrono::seconds lease{120};           // a connector's lease (several `serve` processes)
  std::chrono::seconds timeout{60};          // connecting and each IMAP response
  std::chrono::seconds max_backoff{3600};    // retry delay cap after failures (doubling)
  std::uint64_t max_message_bytes = 50ull << 20;  // larger messages: an unscannable event
  std::string tag_keyword = "$Bulwark-Suspicious";  // IMAP keyword of the "tag" action
  // A valid X-Bulwark-Signature younger than this, made with the current signatures,
  // stands for a scan; 0 = always scan.
  std::chrono::seconds trust_signed_verdicts{7 * 86400};
};

struct ServiceConfig {
  SiteIdentity site;
  std::string data_dir;          // absolute; everything below defaults to paths inside it
  std::string database_url;      // "sqlite:<data>/bulwark.db" or "postgresql://…"
  ListenerConfig api;
  std::string certificate_file;  // "<data>/tls/cert.pem"; generated when both are default
  std::string private_key_file;  // "<data>/tls/key.pem"
  bool generate_certificate = true;
  // The key-encryption key: from this file, or from the BULWARK_KEK environment variable
  // (64 hex digits) when set. Generated in the embedded default.
  std::string kek_file;  // "<data>/keys/kek"
  std::string quarantine_dir;  // "<data>/quarantine"
  // S3-compatible object storage for the quarantine instead of quarantine_dir (scale-out).
  // The keys may also come from BULWARK_S3_ACCESS_KEY / BULWARK_S3_SECRET_KEY.
  std::string quarantine_s3_endpoint;  // "" = local directory
  std::string quarantine_s3_bucket;
  std::string quarantine_s3_region = "us-east-1";
  std::string quarantine_s3_access_key;
  std::string quarantine_s3_secret_key;
  std::string quarantine_s3_ca_file;
  std::int64_t quarantine_retention_days = 30;
  // Endpoints the site talks to, each declared with the site it belongs to; a mismatch
  // with site.id refuses to start (sites share nothing).
  std::string sandbox_url;       // "" = no sandbox
  std::string sandbox_site;
  // SIEM push of detection events (RFC 5424 over TLS, octet counting); "" = off.
  std::string syslog_host;
  std::uint16_t syslog_port = 6514;
  bool syslog_tls = true;
  std::string syslog_ca_file;      // "" = the system's trust store
  std::string syslog_server_name;  // certificate name to expect; "" = syslog_host
  // Engine.
  std::vector<std::string> signature_dirs;
  std::string clamav_db = "/var/lib/clamav";
  int scan_threads = 0;  // 0 = every core
  // How often `serve` looks for changed signature files and reloads (clamd's SelfCheck);
  // 0 = only on SIGHUP, SIGUSR2 or a clamd RELOAD.
  std::chrono::seconds signature_check{600};
  std::uint64_t max_request_bytes = 64ull << 20;
  // Access.
  std::chrono::seconds session_lifetime{8 * 3600};
  int login_failures_before_lockout = 5;
  std::chrono::seconds lockout{15 * 60};
  double token_rate_per_second = 50;
  double token_burst = 100;
  double tenant_rate_per_second = 200;
  double tenant_burst = 400;
  bool require_mfa = true;  // console logins need TOTP once enrolled; enrolment forced
  // Sender authentication (SPF, DKIM, DMARC) of scanned messages; asks DNS, so off unless
  // enabled (docs/sender-auth.md).
  bool sender_auth = false;
  std::string sender_auth_nameserver;  // "192.0.2.53[:port]"; "" = /etc/resolv.conf
  std::vector<std::string> sender_auth_trusted_authserv_ids;
  std::vector<std::string> sender_auth_trusted_arc_sealers;  // lower-case domains
  // Front-ends.
  ClamdConfig clamd;
  IcapConfig icap;
  MailConfig mail;
  SmtpConfig smtp;
  MilterConfig milter;
  MailboxConfig mailbox;
  // Logs are JSON lines on stderr, never content.
  bool access_log = true;  // one JSON line per request (route pattern, status, duration)
};

// The embedded default for `data_dir` (made absolute): SQLite, self-signed certificate,
// generated KEK, loopback listener on 8443.
ServiceConfig EmbeddedDefaultConfig(const std::string& data_dir);
// The data directory when no configuration says otherwise: $BULWARK_DATA or ./bulwark-data.
std::string DefaultDataDir();
// Reads a TOML file; unknown keys and wrong types are errors with the key's name and line.
// Values not given keep the embedded default for the file's data_dir.
Result<ServiceConfig> LoadConfig(const std::string& path);
// Checks cross-field rules (site id syntax, endpoint ownership, port). Called by LoadConfig.
Status ValidateConfig(const ServiceConfig& config);

}  // namespace bulwark::service

#pragma once
// Store: the typed records of a site (tenants, users, credentials, policies, lists, events,
// quarantine metadata, IMAP mailbox connectors, audit log) on top of a Database. One
// implementation for both backends (portable SQL). Every tenant-owned read and write takes the
// tenant id and filters by it in SQL *and* runs on a connection scoped to that tenant (RLS on
// PostgreSQL).
//
// Nothing here stores scanned content: events hold metadata, hashes and masked samples.
//
// Lookups that happen before the tenant is known run in site scope, by design: login by email
// (FindUserByEmail, GetUser), token lookup by secret hash (FindTokenBySecretHash, TouchToken),
// every session call (by cookie hash), and the site-wide audit chain (AppendAudit,
// VerifyAudit). They select one row by a unique key or secret; callers take the tenant from
// that row and use it from then on. ListAllMailboxConnectors is site scope too: the mailbox
// worker manager starts one worker per connector of every tenant, each then tenant-scoped.
//
// Isolation: a method taking a tenant id never returns or changes another tenant's rows; a row
// of another tenant is kNotFound, indistinguishable from a row that does not exist. An empty
// tenant id where a tenant is required is kInvalidArgument.
//
// Errors common to every method: kUnavailable when the database is unreachable or busy,
// kInternal for anything unexpected. Thread-safe (the Database is).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"
#include "storage/database.h"

namespace bulwark::storage {

using UnixSeconds = std::int64_t;

enum class Role { kSiteOperator, kTenantAdmin, kAnalyst, kAuditor };
std::string_view RoleName(Role role);  // "site_operator", "tenant_admin", "analyst", "auditor"
std::optional<Role> ParseRole(std::string_view name);

struct Tenant {
  std::string id;    // opaque, random ("t_" + 16 hex)
  std::string name;  // unique on the site
  std::string site_id;
  bool disabled = false;
  UnixSeconds created_at = 0;
  std::int64_t retention_days = 90;  // events and quarantine
};

struct User {
  std::string id;          // "u_" + 16 hex
  std::string tenant_id;   // "" for site operators
  std::string email;       // unique on the site, lower-cased
  Role role = Role::kAnalyst;
  std::string password_hash;  // Argon2id encoded string
  std::string totp_secret;    // base32; "" until enrolled
  std::int64_t totp_last_step = 0;  // replay protection
  std::int64_t failed_logins = 0;
  UnixSeconds locked_until = 0;
  bool must_change_password = false;
  bool disabled = false;
  UnixSeconds created_at = 0;
};

struct ApiToken {
  std::string id;         // "k_" + 16 hex (shown in listings; the secret never is)
  std::string tenant_id;  // "" for a site-operator token
  std::string user_id;    // creator
  std::string name;
  Role role = Role::kAnalyst;  // the token acts with this role
  std::vector<std::string> scopes;  // e.g. "scan", "events:read", "quarantine:write"
  std::string secret_hash;  // SHA-256 hex of the secret
  std::string site_id;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;  // 0 = never
  UnixSeconds revoked_at = 0;  // 0 = active
  UnixSeconds last_used_at = 0;
};

struct Session {
  std::string id_hash;  // SHA-256 hex of the cookie value
  std::string user_id;
  std::string tenant_id;
  std::string site_id;
  std::string csrf_token;
  bool mfa_passed = false;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
};

struct PolicyVersion {
  std::string tenant_id;
  std::int64_t version = 0;  // 1, 2, …
  std::string body_json;
  std::string author;  // user or token id
  UnixSeconds created_at = 0;
};

struct ListEntry {
  std::string tenant_id;
  std::string kind;         // "sender", "domain", "url", "sha256"
  std::string disposition;  // "allow" or "block"
  std::string value;
  std::string comment;
  UnixSeconds created_at = 0;
};

struct Event {
  std::string tenant_id;
  std::int64_t seq = 0;  // per tenant, strictly increasing in commit order (cursor)
  UnixSeconds time = 0;
  std::string service;      // "api", "smtp", "milter", "imap", "icap", "clamd"
  std::string object_name;
  std::string sender;
  std::string recipients;   // comma-separated
  std::string owner;
  std::string sha256;
  std::string verdict;      // clean, suspicious, malicious, policy, unscannable
  std::string threat_type;  // malware, phishing, dlp, active_content, unscannable, …
  std::string detectors;    // comma-separated detector names
  std::string action;       // logged, tagged, quarantined, deleted, rejected, notified
  std::string findings_json;  // findings with masked samples only
};

struct EventFilter {
  // Every member has a default initializer so that designated initializers
  // (`{.service = "api", .limit = 50}`) compile cleanly under -Wextra.
  std::optional<std::string> service{}, detector{}, threat_type{}, action{}, verdict{}, user{};
  std::optional<UnixSeconds> since{}, until{};  // [since, until)
  std::int64_t after_seq = 0;  // cursor: events with seq > after_seq
  int limit = 100;
};

struct Facet {
  std::string field;  // "service", "threat_type", "action", "verdict"
  std::string value;
  std::int64_t count = 0;
};

struct QuarantineItem {
  std::string id;  // "q_" + 16 hex
  std::string tenant_id;
  std::int64_t event_seq = 0;
  std::string object_name;
  std::string sha256;
  std::int64_t size = 0;
  std::string storage_key;  // where the encrypted object lives in the object store
  std::string status;       // "held", "released", "deleted"
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
};

struct AuditRecord {
  std::int64_t seq = 0;    // site-wide, gap-free
  UnixSeconds time = 0;
  std::string tenant_id;   // "" for site-level acts
  std::string actor;       // user/token id or "cli"
  std::string action;      // e.g. "tenant.create", "quarantine.download"
  std::string target;      // object id
  std::string detail_json;
  std::string prev_hash;   // hash of record seq-1 ("0"*64 for the first)
  std::string hash;        // SHA-256 hex over the canonical form (see AuditRecordHash)
};

// --- IMAP mailbox connector ("API mode") ---------------------------------------------------
// Metadata only: connection settings (the secret sealed by the caller), sync positions, what
// was moved where, sweep progress. Never message content.

// One IMAP mailbox the service watches for a tenant.
struct MailboxConnector {
  std::string id;  // "m_" + 16 hex, picked by the caller (NewId("m_"))
  std::string tenant_id;
  std::string name;  // display name (usually the mailbox address); unique per tenant
  std::string host;
  std::int64_t port = 993;
  std::string tls = "implicit";  // "implicit" (IMAPS), "starttls", "none"
  std::string ca_file;           // "" = the system trust store
  std::string username;
  std::string auth = "password";  // "password" or "xoauth2"
  std::string sealed_secret;      // password or OAuth2 token sealed with the tenant's data key
  std::vector<std::string> folders{"INBOX"};  // stored as a JSON array
  std::string quarantine_folder = "Quarantine";
  bool enabled = true;
  UnixSeconds created_at = 0;  // 0 = now
  // State written by the connector worker (RecordMailboxState, AddMailboxCounters, the lease).
  std::string status = "pending";  // pending, ok, auth_failed, error
  std::string last_error;
  UnixSeconds last_sync_at = 0;
  UnixSeconds next_attempt_at = 0;
  std::int64_t failures = 0;  // consecutive failed attempts
  std::int64_t messages_scanned = 0;
  std::int64_t bytes_scanned = 0;
  std::int64_t detections = 0;
  std::string lease_owner;  // "" = free
  UnixSeconds lease_until = 0;
};

// The outcome of one connector attempt, as RecordMailboxState writes it.
struct MailboxConnectorState {
  std::string status;  // pending, ok, auth_failed, error
  std::string last_error;
  UnixSeconds last_sync_at = 0;
  UnixSeconds next_attempt_at = 0;
  std::int64_t failures = 0;
};

// How far a connector has read one folder (RFC 3501 UIDs, RFC 7162 CONDSTORE).
struct MailboxFolderState {
  std::string tenant_id;
  std::string connector_id;
  std::string folder;
  std::int64_t uidvalidity = 0;  // a change invalidates last_uid
  std::int64_t last_uid = 0;     // highest UID scanned
  std::int64_t highest_modseq = 0;
  UnixSeconds updated_at = 0;  // 0 = now
};

// A message the connector moved to the mailbox's quarantine folder (the message stays on the
// IMAP server; this row says where).
struct MailboxQuarantineItem {
  std::string id;  // "mq_" + 16 hex, picked by the caller (NewId("mq_"))
  std::string tenant_id;
  std::string connector_id;
  std::string origin_folder;
  std::string quarantine_folder;  // where it is now
  std::int64_t uidvalidity = 0;   // of quarantine_folder
  std::int64_t uid = 0;           // in quarantine_folder
  std::string message_id;         // the Message-ID header
  std::string sender;
  std::int64_t event_seq = 0;   // the scan event
  std::string status = "held";  // held, restored, deleted
  UnixSeconds created_at = 0;   // 0 = now
  UnixSeconds updated_at = 0;   // 0 = now
};

// A retroactive scan of messages already in the mailbox ("sweep"), run by the connector worker.
struct MailboxSweep {
  std::string id;  // "sw_" + 16 hex, picked by the caller (NewId("sw_"))
  std::string tenant_id;
  std::string connector_id;
  std::string folder;     // "" = every configured folder
  UnixSeconds since = 0;  // messages received in [since, before); 0 = open
  UnixSeconds before = 0;
  std::string sender;               // "" = any
  std::string subject;              // "" = any
  std::string sha256;               // "" = any
  std::string status = "queued";    // queued, running, done, failed, cancelled
  UnixSeconds not_before = 0;       // not started before this time
  std::int64_t repeat_seconds = 0;  // 0 = once
  std::int64_t total = 0;           // messages to scan (once known)
  std::int64_t done = 0;
  std::int64_t detections = 0;
  std::string error;
  UnixSeconds created_at = 0;  // 0 = now
  UnixSeconds started_at = 0;
  UnixSeconds finished_at = 0;
};

// The canonical hash of an audit record: SHA-256 (lower-case hex) over the fields except
// `hash`, in declaration order, each written as "<decimal byte length>:<bytes>" (integers as
// decimal text).
std::string AuditRecordHash(const AuditRecord& record);

// A new random identifier: `prefix` + 16 lower-case hex digits (64 bits from OpenSSL's CSPRNG),
// e.g. NewId("k_") for a token, NewId("q_") for a quarantine item. Aborts the process if the
// CSPRNG fails (a predictable id would be worse).
std::string NewId(std::string_view prefix);

struct AuditVerification {
  bool intact = true;
  std::int64_t records = 0;
  std::int64_t first_bad_seq = 0;  // 0 when intact
  std::string problem;             // "record 17 was changed", "record 18 is missing", …
};

// One sighting of a sender by a tenant (RecordSenderSighting).
struct SenderSighting {
  bool first_time = false;        // no earlier mail from this sender in the history
  UnixSeconds history_since = 0;  // when the tenant's history began
};

class Store {
 public:
  explicit Store(Database& db) : db_(db) {}

  Database& database() { return db_; }

  // Site metadata (key/value): site id, first-start markers.
  Result<std::optional<std::string>> GetMeta(const std::string& key);
  Status SetMeta(const std::string& key, const std::string& value);

  // Tenants (site scope). CreateTenant: kAlreadyExists for a taken name, kInvalidArgument for
  // an empty one. The setters: kNotFound for an unknown id; retention below 1 day is
  // kInvalidArgument.
  Result<Tenant> CreateTenant(const std::string& name, const std::string& site_id);
  Result<std::vector<Tenant>> ListTenants();
  Result<Tenant> GetTenant(const std::string& id);  // kNotFound
  Result<Tenant> FindTenantByName(const std::string& name);
  Status SetTenantDisabled(const std::string& id, bool disabled);
  Status SetTenantRetention(const std::string& id, std::int64_t days);

  // Users. Emails are unique on the site and stored lower-cased (lookups lower-case too).
  // Runs in the user's tenant scope, site scope for site operators (tenant_id "").
  // GetUser and FindUserByEmail: site scope (login). kNotFound.
  Result<User> CreateUser(User user);  // fills id and created_at; kAlreadyExists
  Result<User> GetUser(const std::string& id);
  Result<User> FindUserByEmail(const std::string& email);
  Result<std::vector<User>> ListUsers(const std::string& tenant_id);
  // Every mutable field (all but id, tenant_id, created_at) by id and tenant_id; kNotFound.
  Status UpdateUser(const User& user);

  // API tokens. CreateToken: the caller picks token.id (NewId("k_"); kInvalidArgument when
  // empty) and the secret; created_at 0 = now; kAlreadyExists for a duplicate id or secret.
  // RevokeToken keeps the first revocation time; RevokeToken/TouchToken: kNotFound.
  Status CreateToken(const ApiToken& token);
  Result<ApiToken> FindTokenBySecretHash(const std::string& secret_hash);
  Result<std::vector<ApiToken>> ListTokens(const std::string& tenant_id);  // "" = site tokens
  Status RevokeToken(const std::string& tenant_id, const std::string& id, UnixSeconds now);
  Status TouchToken(const std::string& id, UnixSeconds now);

  // Sessions (site scope: found by cookie before the tenant is known). UpdateSession changes
  // csrf_token, mfa_passed and expires_at (kNotFound); DeleteSession of an unknown session is
  // OK; DeleteExpiredSessions removes those with expires_at <= now.
  Status CreateSession(const Session& session);
  Result<Session> FindSession(const std::string& id_hash);
  Status UpdateSession(const Session& session);
  Status DeleteSession(const std::string& id_hash);
  Status DeleteExpiredSessions(UnixSeconds now);

  // Policies: versioned per tenant, versions 1, 2, … handed out under the tenant row's lock.
  // AddPolicyVersion: kNotFound for an unknown tenant.
  Result<PolicyVersion> AddPolicyVersion(const std::string& tenant_id, const std::string& body,
                                         const std::string& author);
  Result<std::optional<PolicyVersion>> CurrentPolicy(const std::string& tenant_id);
  Result<std::vector<PolicyVersion>> PolicyHistory(const std::string& tenant_id);

  // Approved/blocked lists. RemoveListEntry: kNotFound when absent. ListEntries is ordered by
  // kind, disposition, value.
  Status AddListEntry(const ListEntry& entry);  // kAlreadyExists for a duplicate
  Status RemoveListEntry(const std::string& tenant_id, const std::string& kind,
                         const std::string& disposition, const std::string& value);
  Result<std::vector<ListEntry>> ListEntries(const std::string& tenant_id);

  // Events. AppendEvent assigns seq under a per-tenant row lock so that seq order is commit
  // order: a reader paging with after_seq never misses or repeats an event.
  Result<std::int64_t> AppendEvent(Event event);
  // AppendEvent: time 0 = now; kNotFound for an unknown tenant. QueryEvents: seq ascending,
  // limit clamped to 1..1000; `user` matches sender, owner or one of the recipients (case-
  // insensitive), `detector` one of the detector names. EventFacets counts under the same
  // filter, ignoring after_seq and limit.
  Result<std::vector<Event>> QueryEvents(const std::string& tenant_id, const EventFilter& filter);
  Result<std::optional<Event>> GetEvent(const std::string& tenant_id, std::int64_t seq);
  Result<std::vector<Facet>> EventFacets(const std::string& tenant_id, const EventFilter& filter);
  // Deletes the tenant's events older than `before`; returns how many.
  Result<std::int64_t> PurgeEvents(const std::string& tenant_id, UnixSeconds before);

  // Quarantine metadata (the encrypted bytes live in the object store). AddQuarantineItem: the
  // caller picks item.id (NewId("q_"); kInvalidArgument when empty); status "" = "held";
  // created_at 0 = now. status_filter "" = every status. SetQuarantineStatus: "held",
  // "released" or "deleted" (else kInvalidArgument); kNotFound. ExpiredQuarantine: items
  // still held whose expires_at is set (non-zero) and <= now.
  Status AddQuarantineItem(const QuarantineItem& item);
  Result<QuarantineItem> GetQuarantineItem(const std::string& tenant_id, const std::string& id);
  Result<std::vector<QuarantineItem>> ListQuarantine(const std::string& tenant_id,
                                                     const std::string& status_filter);
  Status SetQuarantineStatus(const std::string& tenant_id, const std::string& id,
                             const std::string& status);
  Result<std::vector<QuarantineItem>> ExpiredQuarantine(const std::string& tenant_id,
                                                        UnixSeconds now);

  // Per-tenant wrapped data keys (wrapped by the site KEK; the KEK is never stored here).
  // PutWrappedDataKey only inserts: kAlreadyExists when the tenant has a key, so two processes
  // creating the first key race safely (the loser re-reads) and a key is never overwritten.
  Result<std::optional<std::string>> GetWrappedDataKey(const std::string& tenant_id);
  Status PutWrappedDataKey(const std::string& tenant_id, const std::string& wrapped);

  // IMAP mailbox connectors. Every call runs in the tenant's scope and filters by tenant_id,
  // except ListAllMailboxConnectors (site scope, for the worker manager).
  // Isolation: another tenant's connector, folder state, quarantine item or sweep is
  // kNotFound (or absent from a list), indistinguishable from one that does not exist.
  //
  // CreateMailboxConnector: the caller picks c.id (NewId("m_")); kInvalidArgument when the id,
  // tenant id or name is empty or a folder name is not UTF-8; kNotFound for an unknown tenant;
  // kAlreadyExists when the tenant has a connector of that name or the id is taken. status
  // "" = "pending"; created_at 0 = now.
  Status CreateMailboxConnector(const MailboxConnector& c);
  Result<MailboxConnector> GetMailboxConnector(const std::string& tenant_id,
                                               const std::string& id);  // kNotFound
  Result<std::vector<MailboxConnector>> ListMailboxConnectors(
      const std::string& tenant_id);  // by name
  // Every tenant's connectors, by tenant id then name (site scope).
  Result<std::vector<MailboxConnector>> ListAllMailboxConnectors();
  // Deletes the connector with its folder states and sweeps in one transaction; its
  // mailbox_quarantine rows stay (they still point at events). kNotFound.
  Status DeleteMailboxConnector(const std::string& tenant_id, const std::string& id);
  // kNotFound for these three setters.
  Status SetMailboxConnectorEnabled(const std::string& tenant_id, const std::string& id,
                                    bool enabled);
  Status SetMailboxConnectorSecret(const std::string& tenant_id, const std::string& id,
                                   const std::string& sealed_secret);
  // Writes every field of `state`; kInvalidArgument for an empty status.
  Status RecordMailboxState(const std::string& tenant_id, const std::string& id,
                            const MailboxConnectorState& state);
  // Adds to the connector's counters in one UPDATE (concurrent calls all count);
  // kInvalidArgument for a negative amount; kNotFound.
  Status AddMailboxCounters(const std::string& tenant_id, const std::string& id,
                            std::int64_t messages, std::int64_t bytes, std::int64_t detections);

  // The connector's lease, so that one worker among several processes syncs a mailbox.
  // ClaimMailboxConnector: true when `owner` now holds the connector until now+lease_seconds
  // (it was free, lease_until < now, or `owner` already held it: a renewal); false when
  // another owner holds a lease that has not expired. Decided by one conditional UPDATE, so
  // concurrent claims have one winner. kInvalidArgument for an empty owner or lease_seconds
  // < 1; kNotFound for an unknown connector.
  Result<bool> ClaimMailboxConnector(const std::string& tenant_id, const std::string& id,
                                     const std::string& owner, UnixSeconds now,
                                     std::int64_t lease_seconds);
  // Frees the lease when `owner` holds it; OK and no change when someone else does (the lease
  // expired and was taken over). kNotFound for an unknown connector.
  Status ReleaseMailboxConnector(const std::string& tenant_id, const std::string& id,
                                 const std::string& owner);

  // Folder sync positions, one per (connector, folder). Get: nullopt when none is stored.
  // PutMailboxFolderState inserts or replaces (uidvalidity, last_uid, highest_modseq,
  // updated_at; updated_at 0 = now); kNotFound when the connector is not the tenant's.
  // ListMailboxFolderStates: by folder.
  Result<std::optional<MailboxFolderState>> GetMailboxFolderState(const std::string& tenant_id,
                                                                  const std::string& connector_id,
                                                                  const std::string& folder);
  Status PutMailboxFolderState(const MailboxFolderState& state);
  Result<std::vector<MailboxFolderState>> ListMailboxFolderStates(const std::string& tenant_id,
                                                                  const std::string& connector_id);

  // Messages moved to a mailbox's quarantine folder. AddMailboxQuarantineItem: the caller
  // picks item.id (NewId("mq_"); kInvalidArgument when empty); status "" = "held";
  // created_at/updated_at 0 = now; kAlreadyExists for a taken id. Status values: "held",
  // "restored", "deleted" (else kInvalidArgument). ListMailboxQuarantine: connector_id and
  // status "" = all; newest first. UpdateMailboxQuarantineItem writes status,
  // quarantine_folder, uidvalidity, uid and updated_at (0 = now) by id and tenant; kNotFound.
  Status AddMailboxQuarantineItem(const MailboxQuarantineItem& item);
  Result<MailboxQuarantineItem> GetMailboxQuarantineItem(const std::string& tenant_id,
                                                         const std::string& id);  // kNotFound
  Result<std::vector<MailboxQuarantineItem>> ListMailboxQuarantine(const std::string& tenant_id,
                                                                   const std::string& connector_id,
                                                                   const std::string& status);
  Status UpdateMailboxQuarantineItem(const MailboxQuarantineItem& item);

  // Sweeps. CreateMailboxSweep: the caller picks sweep.id (NewId("sw_"); kInvalidArgument
  // when empty); status "" = "queued"; created_at 0 = now; kNotFound when the connector is not
  // the tenant's; kAlreadyExists for a taken id. Status values: queued, running, done,
  // failed, cancelled (else kInvalidArgument). ListMailboxSweeps: the connector's, newest
  // first. NextDueMailboxSweep: the oldest (by created_at) queued sweep of the connector with
  // not_before <= now, nullopt when none. UpdateMailboxSweep writes status, total, done,
  // detections, error, started_at and finished_at by id and tenant; kNotFound.
  Status CreateMailboxSweep(const MailboxSweep& sweep);
  Result<MailboxSweep> GetMailboxSweep(const std::string& tenant_id,
                                       const std::string& id);  // kNotFound
  Result<std::vector<MailboxSweep>> ListMailboxSweeps(const std::string& tenant_id,
                                                      const std::string& connector_id);
  Result<std::optional<MailboxSweep>> NextDueMailboxSweep(const std::string& tenant_id,
                                                          const std::string& connector_id,
                                                          UnixSeconds now);
  Status UpdateMailboxSweep(const MailboxSweep& sweep);

  // Sender history (hashes only): records that the tenant received mail from the sender with
  // this hash (SHA-256 hex of the lower-cased address) at `now`, and says whether it was the
  // first time and since when the tenant's history runs. kInvalidArgument for an empty hash.
  Result<SenderSighting> RecordSenderSighting(const std::string& tenant_id,
                                              const std::string& sender_hash, UnixSeconds now);

  // Audit log: append-only, hash-chained, site-wide. AppendAudit fills seq, prev_hash, hash
  // (serialised: one writer at a time extends the chain).
  Result<AuditRecord> AppendAudit(AuditRecord record);
  // tenant_id "" = every record (site scope); otherwise the tenant's own records.
  Result<std::vector<AuditRecord>> ListAudit(const std::string& tenant_id, std::int64_t after_seq,
                                             int limit);
  // Recomputes the whole chain (site scope): seqs from 1 without gaps, each hash, each link.
  // Reports the first problem only. Removing the newest records is not detectable from the
  // chain alone (keep an external copy of the head for that).
  Result<AuditVerification> VerifyAudit();

 private:
  Database& db_;
};

}  // namespace bulwark::storage

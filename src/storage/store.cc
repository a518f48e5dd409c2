#include "storage/store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "crypto/sha256.h"

namespace bulwark::storage {
namespace {

using Params = std::vector<Value>;

// Serialises AppendAudit on PostgreSQL ("BULWARK" + 'A'udit); SQLite's BEGIN IMMEDIATE does
// the same there.
constexpr std::string_view kAuditLockSql = "SELECT pg_advisory_xact_lock(4779111733314816065)";
constexpr int kMaxPage = 1000;

UnixSeconds Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t Flag(bool value) { return value ? 1 : 0; }

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return text;
}

int ClampLimit(int limit) { return std::clamp(limit, 1, kMaxPage); }

// A LIKE pattern matching `value` as one element of a comma-separated list that was wrapped
// in commas; `\` escapes the wildcards (ESCAPE '\').
std::string ListElementPattern(std::string_view value) {
  std::string pattern = "%,";
  for (char c : value) {
    if (c == '\\' || c == '%' || c == '_') pattern.push_back('\\');
    pattern.push_back(c);
  }
  pattern += ",%";
  return pattern;
}

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out.push_back(',');
    out += item;
  }
  return out;
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Site scope for "" (site-level rows), the tenant's scope otherwise.
Scope ScopeFor(const std::string& tenant_id) {
  return tenant_id.empty() ? Scope::Site() : Scope::Tenant(tenant_id);
}

// Runs `body` in one transaction: commit when it returns OK, roll back otherwise.
template <typename Body>
Status InTransaction(Connection& connection, Body&& body) {
  BULWARK_RETURN_IF_ERROR(connection.Begin());
  Status status = body();
  if (!status.ok()) {
    (void)connection.Rollback();
    return status;
  }
  return connection.Commit();
}

Status ExpectOneRow(const Rows& rows, std::string_view what) {
  if (rows.affected == 0) return NotFoundError(std::string(what) + " not found");
  return OkStatus();
}

Result<Role> RoleFromColumn(const std::string& name) {
  std::optional<Role> role = ParseRole(name);
  if (!role.has_value()) return InternalError("stored role is not a known role");
  return *role;
}

constexpr std::string_view kTenantColumns =
    "id, name, site_id, disabled, created_at, retention_days";
Tenant TenantFromRow(const Row& row) {
  Tenant tenant;
  tenant.id = row.Text(0);
  tenant.name = row.Text(1);
  tenant.site_id = row.Text(2);
  tenant.disabled = row.Int(3) != 0;
  tenant.created_at = row.Int(4);
  tenant.retention_days = row.Int(5);
  return tenant;
}

constexpr std::string_view kUserColumns =
    "id, tenant_id, email, role, password_hash, totp_secret, totp_last_step, failed_logins, "
    "locked_until, must_change_password, disabled, created_at";
Result<User> UserFromRow(const Row& row) {
  User user;
  user.id = row.Text(0);
  user.tenant_id = row.Text(1);
  user.email = row.Text(2);
  BULWARK_ASSIGN_OR_RETURN(user.role, RoleFromColumn(row.Text(3)));
  user.password_hash = row.Text(4);
  user.totp_secret = row.Text(5);
  user.totp_last_step = row.Int(6);
  user.failed_logins = row.Int(7);
  user.locked_until = row.Int(8);
  user.must_change_password = row.Int(9) != 0;
  user.disabled = row.Int(10) != 0;
  user.created_at = row.Int(11);
  return user;
}

constexpr std::string_view kTokenColumns =
    "id, tenant_id, user_id, name, role, scopes, secret_hash, site_id, created_at, expires_at, "
    "revoked_at, last_used_at";
Result<ApiToken> TokenFromRow(const Row& row) {
  ApiToken token;
  token.id = row.Text(0);
  token.tenant_id = row.Text(1);
  token.user_id = row.Text(2);
  token.name = row.Text(3);
  BULWARK_ASSIGN_OR_RETURN(token.role, RoleFromColumn(row.Text(4)));
  token.scopes = SplitComma(row.Text(5));
  token.secret_hash = row.Text(6);
  token.site_id = row.Text(7);
  token.created_at = row.Int(8);
  token.expires_at = row.Int(9);
  token.revoked_at = row.Int(10);
  token.last_used_at = row.Int(11);
  return token;
}

constexpr std::string_view kSessionColumns =
    "id_hash, user_id, tenant_id, site_id, csrf_token, mfa_passed, created_at, expires_at";
Session SessionFromRow(const Row& row) {
  Session session;
  session.id_hash = row.Text(0);
  session.user_id = row.Text(1);
  session.tenant_id = row.Text(2);
  session.site_id = row.Text(3);
  session.csrf_token = row.Text(4);
  session.mfa_passed = row.Int(5) != 0;
  session.created_at = row.Int(6);
  session.expires_at = row.Int(7);
  return session;
}

constexpr std::string_view kPolicyColumns = "tenant_id, version, body_json, author, created_at";
PolicyVersion PolicyFromRow(const Row& row) {
  PolicyVersion policy;
  policy.tenant_id = row.Text(0);
  policy.version = row.Int(1);
  policy.body_json = row.Text(2);
  policy.author = row.Text(3);
  policy.created_at = row.Int(4);
  return policy;
}

constexpr std::string_view kListColumns =
    "tenant_id, kind, disposition, value, comment, created_at";
ListEntry ListEntryFromRow(const Row& row) {
  ListEntry entry;
  entry.tenant_id = row.Text(0);
  entry.kind = row.Text(1);
  entry.disposition = row.Text(2);
  entry.value = row.Text(3);
  entry.comment = row.Text(4);
  entry.created_at = row.Int(5);
  return entry;
}

constexpr std::string_view kEventColumns =
    "tenant_id, seq, time, service, object_name, sender, recipients, owner, sha256, verdict, "
    "threat_type, detectors, action, findings_json";
Event EventFromRow(const Row& row) {
  Event event;
  event.tenant_id = row.Text(0);
  event.seq = row.Int(1);
  event.time = row.Int(2);
  event.service = row.Text(3);
  event.object_name = row.Text(4);
  event.sender = row.Text(5);
  event.recipients = row.Text(6);
  event.owner = row.Text(7);
  event.sha256 = row.Text(8);
  event.verdict = row.Text(9);
  event.threat_type = row.Text(10);
  event.detectors = row.Text(11);
  event.action = row.Text(12);
  event.findings_json = row.Text(13);
  return event;
}

constexpr std::string_view kQuarantineColumns =
    "id, tenant_id, event_seq, object_name, sha256, size, storage_key, status, created_at, "
    "expires_at";
QuarantineItem QuarantineFromRow(const Row& row) {
  QuarantineItem item;
  item.id = row.Text(0);
  item.tenant_id = row.Text(1);
  item.event_seq = row.Int(2);
  item.object_name = row.Text(3);
  item.sha256 = row.Text(4);
  item.size = row.Int(5);
  item.storage_key = row.Text(6);
  item.status = row.Text(7);
  item.created_at = row.Int(8);
  item.expires_at = row.Int(9);
  return item;
}

constexpr std::string_view kMailboxConnectorColumns =
    "id, tenant_id, name, host, port, tls, ca_file, username, auth, sealed_secret, folders, "
    "quarantine_folder, enabled, created_at, status, last_error, last_sync_at, next_attempt_at, "
    "failures, messages_scanned, bytes_scanned, detections, lease_owner, lease_until";

// Folder names as a JSON array of strings. kInvalidArgument for a name that is not UTF-8.
Result<std::string> FoldersToJson(const std::vector<std::string>& folders) {
  try {
    return nlohmann::json(folders).dump();
  } catch (const nlohmann::json::exception&) {
    return InvalidArgumentError("mailbox folder names must be UTF-8");
  }
}

Result<std::vector<std::string>> FoldersFromJson(const std::string& text) {
  try {
    nlohmann::json parsed = nlohmann::json::parse(text);
    if (!parsed.is_array()) return InternalError("stored mailbox folders are not a JSON array");
    std::vector<std::string> folders;
    for (const nlohmann::json& folder : parsed) {
      if (!folder.is_string()) return InternalError("stored mailbox folder is not a string");
      folders.push_back(folder.get<std::string>());
    }
    return folders;
  } catch (const nlohmann::json::exception&) {
    return InternalError("stored mailbox folders are not valid JSON");
  }
}

Result<MailboxConnector> MailboxConnectorFromRow(const Row& row) {
  MailboxConnector c;
  c.id = row.Text(0);
  c.tenant_id = row.Text(1);
  c.name = row.Text(2);
  c.host = row.Text(3);
  c.port = row.Int(4);
  c.tls = row.Text(5);
  c.ca_file = row.Text(6);
  c.username = row.Text(7);
  c.auth = row.Text(8);
  c.sealed_secret = row.Text(9);
  BULWARK_ASSIGN_OR_RETURN(c.folders, FoldersFromJson(row.Text(10)));
  c.quarantine_folder = row.Text(11);
  c.enabled = row.Int(12) != 0;
  c.created_at = row.Int(13);
  c.status = row.Text(14);
  c.last_error = row.Text(15);
  c.last_sync_at = row.Int(16);
  c.next_attempt_at = row.Int(17);
  c.failures = row.Int(18);
  c.messages_scanned = row.Int(19);
  c.bytes_scanned = row.Int(20);
  c.detections = row.Int(21);
  c.lease_owner = row.Text(22);
  c.lease_until = row.Int(23);
  return c;
}

constexpr std::string_view kMailboxFolderColumns =
    "tenant_id, connector_id, folder, uidvalidity, last_uid, highest_modseq, updated_at";
MailboxFolderState MailboxFolderFromRow(const Row& row) {
  MailboxFolderState state;
  state.tenant_id = row.Text(0);
  state.connector_id = row.Text(1);
  state.folder = row.Text(2);
  state.uidvalidity = row.Int(3);
  state.last_uid = row.Int(4);
  state.highest_modseq = row.Int(5);
  state.updated_at = row.Int(6);
  return state;
}

constexpr std::string_view kMailboxQuarantineColumns =
    "id, tenant_id, connector_id, origin_folder, quarantine_folder, uidvalidity, uid, "
    "message_id, sender, event_seq, status, created_at, updated_at";
MailboxQuarantineItem MailboxQuarantineFromRow(const Row& row) {
  MailboxQuarantineItem item;
  item.id = row.Text(0);
  item.tenant_id = row.Text(1);
  item.connector_id = row.Text(2);
  item.origin_folder = row.Text(3);
  item.quarantine_folder = row.Text(4);
  item.uidvalidity = row.Int(5);
  item.uid = row.Int(6);
  item.message_id = row.Text(7);
  item.sender = row.Text(8);
  item.event_seq = row.Int(9);
  item.status = row.Text(10);
  item.created_at = row.Int(11);
  item.updated_at = row.Int(12);
  return item;
}

constexpr std::string_view kMailboxSweepColumns =
    "id, tenant_id, connector_id, folder, since, before, sender, subject, sha256, status, "
    "not_before, repeat_seconds, total, done, detections, error, created_at, started_at, "
    "finished_at";
MailboxSweep MailboxSweepFromRow(const Row& row) {
  MailboxSweep sweep;
  sweep.id = row.Text(0);
  sweep.tenant_id = row.Text(1);
  sweep.connector_id = row.Text(2);
  sweep.folder = row.Text(3);
  sweep.since = row.Int(4);
  sweep.before = row.Int(5);
  sweep.sender = row.Text(6);
  sweep.subject = row.Text(7);
  sweep.sha256 = row.Text(8);
  sweep.status = row.Text(9);
  sweep.not_before = row.Int(10);
  sweep.repeat_seconds = row.Int(11);
  sweep.total = row.Int(12);
  sweep.done = row.Int(13);
  sweep.detections = row.Int(14);
  sweep.error = row.Text(15);
  sweep.created_at = row.Int(16);
  sweep.started_at = row.Int(17);
  sweep.finished_at = row.Int(18);
  return sweep;
}

bool IsMailboxQuarantineStatus(const std::string& status) {
  return status == "held" || status == "restored" || status == "deleted";
}

bool IsMailboxSweepStatus(const std::string& status) {
  return status == "queued" || status == "running" || status == "done" || status == "failed" ||
         status == "cancelled";
}

// kNotFound unless the tenant has connector `id` (on a tenant-scoped connection).
Status ExpectMailboxConnector(Connection& connection, const std::string& tenant_id,
                              const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      connection.Query("SELECT 1 FROM mailbox_connectors WHERE tenant_id = $1 AND id = $2",
                       Params{tenant_id, id}));
  if (rows.rows.empty()) return NotFoundError("mailbox connector not found");
  return OkStatus();
}

constexpr std::string_view kAuditColumns =
    "seq, time, tenant_id, actor, action, target, detail_json, prev_hash, hash";
AuditRecord AuditFromRow(const Row& row) {
  AuditRecord record;
  record.seq = row.Int(0);
  record.time = row.Int(1);
  record.tenant_id = row.Text(2);
  record.actor = row.Text(3);
  record.action = row.Text(4);
  record.target = row.Text(5);
  record.detail_json = row.Text(6);
  record.prev_hash = row.Text(7);
  record.hash = row.Text(8);
  return record;
}

std::string Select(std::string_view columns, std::string_view rest) {
  std::string sql = "SELECT ";
  sql += columns;
  sql += ' ';
  sql += rest;
  return sql;
}

// The WHERE clause of an event query (tenant first, then every filter present), with its
// parameters. The cursor and limit are added by QueryEvents only.
struct EventWhere {
  std::string sql;
  Params params;

  std::string Next(Value value) {
    params.push_back(std::move(value));
    std::string placeholder = "$";  // (not "$" + …: gcc 12 -O2 warns falsely, -Wrestrict)
    placeholder += std::to_string(params.size());
    return placeholder;
  }
};

EventWhere BuildEventWhere(const std::string& tenant_id, const EventFilter& filter) {
  EventWhere where;
  where.sql = "WHERE tenant_id = " + where.Next(tenant_id);
  auto equals = [&where](std::string_view column, const std::optional<std::string>& value) {
    if (!value.has_value()) return;
    where.sql += " AND ";
    where.sql += column;
    where.sql += " = " + where.Next(*value);
  };
  equals("service", filter.service);
  equals("threat_type", filter.threat_type);
  equals("action", filter.action);
  equals("verdict", filter.verdict);
  if (filter.detector.has_value()) {
    where.sql += " AND (',' || detectors || ',') LIKE " +
                 where.Next(ListElementPattern(*filter.detector)) + " ESCAPE '\\'";
  }
  if (filter.user.has_value()) {
    std::string user = Lower(*filter.user);
    std::string exact = where.Next(user);
    std::string element = where.Next(ListElementPattern(user));
    where.sql += " AND (LOWER(sender) = " + exact + " OR LOWER(owner) = " + exact +
                 " OR (',' || LOWER(REPLACE(recipients, ' ', '')) || ',') LIKE " + element +
                 " ESCAPE '\\')";
  }
  if (filter.since.has_value()) where.sql += " AND time >= " + where.Next(*filter.since);
  if (filter.until.has_value()) where.sql += " AND time < " + where.Next(*filter.until);
  return where;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSiteOperator:
      return "site_operator";
    case Role::kTenantAdmin:
      return "tenant_admin";
    case Role::kAnalyst:
      return "analyst";
    case Role::kAuditor:
      return "auditor";
  }
  return "analyst";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kSiteOperator, Role::kTenantAdmin, Role::kAnalyst, Role::kAuditor}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

std::string NewId(std::string_view prefix) {
  std::array<unsigned char, 8> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // A predictable identifier would be worse than stopping.
    std::fputs("bulwark: the random number generator failed\n", stderr);
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(prefix);
  for (unsigned char byte : bytes) {
    id.push_back(kHex[byte >> 4]);
    id.push_back(kHex[byte & 0xf]);
  }
  return id;
}

std::string AuditRecordHash(const AuditRecord& record) {
  std::string canonical;
  auto field = [&canonical](std::string_view value) {
    canonical += std::to_string(value.size());
    canonical.push_back(':');
    canonical += value;
  };
  field(std::to_string(record.seq));
  field(std::to_string(record.time));
  field(record.tenant_id);
  field(record.actor);
  field(record.action);
  field(record.target);
  field(record.detail_json);
  field(record.prev_hash);
  return crypto::ToHex(crypto::Sha256(canonical));
}

// --- Site metadata ---------------------------------------------------------------------------

Result<std::optional<std::string>> Store::GetMeta(const std::string& key) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("SELECT meta_value FROM site_meta WHERE meta_key = $1", Params{key}));
  if (rows.rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows.rows[0].Text(0));
}

Status Store::SetMeta(const std::string& key, const std::string& value) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("INSERT INTO site_meta (meta_key, meta_value) VALUES ($1, $2) "
                   "ON CONFLICT (meta_key) DO UPDATE SET meta_value = excluded.meta_value",
                   Params{key, value}));
  return OkStatus();
}

// --- Tenants ---------------------------------------------------------------------------------

Result<Tenant> Store::CreateTenant(const std::string& name, const std::string& site_id) {
  if (name.empty()) return InvalidArgumentError("tenant name is empty");
  Tenant tenant;
  tenant.id = NewId("t_");
  tenant.name = name;
  tenant.site_id = site_id;
  tenant.created_at = Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("INSERT INTO tenants (id, name, site_id, disabled, created_at, retention_days) "
                   "VALUES ($1, $2, $3, 0, $4, $5)",
                   Params{tenant.id, tenant.name, tenant.site_id, tenant.created_at,
                          tenant.retention_days}));
  return tenant;
}

Result<std::vector<Tenant>> Store::ListTenants() {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(Rows rows,
                           lease->Query(Select(kTenantColumns, "FROM tenants ORDER BY name")));
  std::vector<Tenant> tenants;
  for (const Row& row : rows.rows) tenants.push_back(TenantFromRow(row));
  return tenants;
}

Result<Tenant> Store::GetTenant(const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kTenantColumns, "FROM tenants WHERE id = $1"), Params{id}));
  if (rows.rows.empty()) return NotFoundError("tenant not found");
  return TenantFromRow(rows.rows[0]);
}

Result<Tenant> Store::FindTenantByName(const std::string& name) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kTenantColumns, "FROM tenants WHERE name = $1"), Params{name}));
  if (rows.rows.empty()) return NotFoundError("tenant not found");
  return TenantFromRow(rows.rows[0]);
}

Status Store::SetTenantDisabled(const std::string& id, bool disabled) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(Rows rows, lease->Query("UPDATE tenants SET disabled = $2 WHERE id = $1",
                                                   Params{id, Flag(disabled)}));
  return ExpectOneRow(rows, "tenant");
}

Status Store::SetTenantRetention(const std::string& id, std::int64_t days) {
  if (days < 1) return InvalidArgumentError("retention must be at least one day");
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("UPDATE tenants SET retention_days = $2 WHERE id = $1", Params{id, days}));
  return ExpectOneRow(rows, "tenant");
}

// --- Users -----------------------------------------------------------------------------------

Result<User> Store::CreateUser(User user) {
  user.email = Lower(user.email);
  if (user.email.empty()) return InvalidArgumentError("user email is empty");
  user.id = NewId("u_");
  user.created_at = Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(ScopeFor(user.tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("INSERT INTO users (" + std::string(kUserColumns) +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                   Params{user.id, user.tenant_id, user.email, std::string(RoleName(user.role)),
                          user.password_hash, user.totp_secret, user.totp_last_step,
                          user.failed_logins, user.locked_until, Flag(user.must_change_password),
                          Flag(user.disabled), user.created_at}));
  return user;
}

Result<User> Store::GetUser(const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kUserColumns, "FROM users WHERE id = $1"), Params{id}));
  if (rows.rows.empty()) return NotFoundError("user not found");
  return UserFromRow(rows.rows[0]);
}

Result<User> Store::FindUserByEmail(const std::string& email) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kUserColumns, "FROM users WHERE email = $1"), Params{Lower(email)}));
  if (rows.rows.empty()) return NotFoundError("user not found");
  return UserFromRow(rows.rows[0]);
}

Result<std::vector<User>> Store::ListUsers(const std::string& tenant_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(ScopeFor(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kUserColumns, "FROM users WHERE tenant_id = $1 ORDER BY email"),
                   Params{tenant_id}));
  std::vector<User> users;
  for (const Row& row : rows.rows) {
    BULWARK_ASSIGN_OR_RETURN(User user, UserFromRow(row));
    users.push_back(std::move(user));
  }
  return users;
}

Status Store::UpdateUser(const User& user) {
  std::string email = Lower(user.email);
  if (email.empty()) return InvalidArgumentError("user email is empty");
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(ScopeFor(user.tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(
          "UPDATE users SET email = $3, role = $4, password_hash = $5, totp_secret = $6, "
          "totp_last_step = $7, failed_logins = $8, locked_until = $9, "
          "must_change_password = $10, disabled = $11 WHERE id = $1 AND tenant_id = $2",
          Params{user.id, user.tenant_id, email, std::string(RoleName(user.role)),
                 user.password_hash, user.totp_secret, user.totp_last_step, user.failed_logins,
                 user.locked_until, Flag(user.must_change_password), Flag(user.disabled)}));
  return ExpectOneRow(rows, "user");
}

// --- API tokens ------------------------------------------------------------------------------

Status Store::CreateToken(const ApiToken& token) {
  if (token.id.empty()) return InvalidArgumentError("token id is empty (use NewId(\"k_\"))");
  if (token.secret_hash.empty()) return InvalidArgumentError("token secret hash is empty");
  UnixSeconds created_at = token.created_at != 0 ? token.created_at : Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(ScopeFor(token.tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("INSERT INTO api_tokens (" + std::string(kTokenColumns) +
                                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                              Params{token.id, token.tenant_id, token.user_id, token.name,
                                     std::string(RoleName(token.role)), JoinComma(token.scopes),
                                     token.secret_hash, token.site_id, created_at, token.expires_at,
                                     token.revoked_at, token.last_used_at}));
  return OkStatus();
}

Result<ApiToken> Store::FindTokenBySecretHash(const std::string& secret_hash) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kTokenColumns, "FROM api_tokens WHERE secret_hash = $1"),
                              Params{secret_hash}));
  if (rows.rows.empty()) return NotFoundError("token not found");
  return TokenFromRow(rows.rows[0]);
}

Result<std::vector<ApiToken>> Store::ListTokens(const std::string& tenant_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(ScopeFor(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(
          Select(kTokenColumns, "FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at, id"),
          Params{tenant_id}));
  std::vector<ApiToken> tokens;
  for (const Row& row : rows.rows) {
    BULWARK_ASSIGN_OR_RETURN(ApiToken token, TokenFromRow(row));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

Status Store::RevokeToken(const std::string& tenant_id, const std::string& id, UnixSeconds now) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(ScopeFor(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("UPDATE api_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN $3 "
                              "ELSE revoked_at END WHERE tenant_id = $1 AND id = $2",
                              Params{tenant_id, id, now}));
  return ExpectOneRow(rows, "token");
}

Status Store::TouchToken(const std::string& id, UnixSeconds now) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", Params{id, now}));
  return ExpectOneRow(rows, "token");
}

// --- Sessions (site scope: looked up by cookie before the tenant is known) -------------------

Status Store::CreateSession(const Session& session) {
  if (session.id_hash.empty()) return InvalidArgumentError("session id hash is empty");
  UnixSeconds created_at = session.created_at != 0 ? session.created_at : Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("INSERT INTO sessions (" + std::string(kSessionColumns) +
                                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                              Params{session.id_hash, session.user_id, session.tenant_id,
                                     session.site_id, session.csrf_token, Flag(session.mfa_passed),
                                     created_at, session.expires_at}));
  return OkStatus();
}

Result<Session> Store::FindSession(const std::string& id_hash) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kSessionColumns, "FROM sessions WHERE id_hash = $1"), Params{id_hash}));
  if (rows.rows.empty()) return NotFoundError("session not found");
  return SessionFromRow(rows.rows[0]);
}

Status Store::UpdateSession(const Session& session) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("UPDATE sessions SET csrf_token = $2, mfa_passed = $3, expires_at = $4 "
                   "WHERE id_hash = $1",
                   Params{session.id_hash, session.csrf_token, Flag(session.mfa_passed),
                          session.expires_at}));
  return ExpectOneRow(rows, "session");
}

Status Store::DeleteSession(const std::string& id_hash) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("DELETE FROM sessions WHERE id_hash = $1", Params{id_hash}));
  return OkStatus();
}

Status Store::DeleteExpiredSessions(UnixSeconds now) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("DELETE FROM sessions WHERE expires_at <= $1", Params{now}));
  return OkStatus();
}

// --- Policies --------------------------------------------------------------------------------

Result<PolicyVersion> Store::AddPolicyVersion(const std::string& tenant_id, const std::string& body,
                                              const std::string& author) {
  PolicyVersion policy{tenant_id, 0, body, author, Now()};
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  // The tenant row's counter hands out versions under its row lock, like event seqs.
  BULWARK_RETURN_IF_ERROR(InTransaction(*lease, [&]() -> Status {
    BULWARK_ASSIGN_OR_RETURN(Rows next,
                             lease->Query("UPDATE tenants SET policy_version = policy_version + 1 "
                                          "WHERE id = $1 RETURNING policy_version",
                                          Params{tenant_id}));
    if (next.rows.empty()) return NotFoundError("tenant not found");
    policy.version = next.rows[0].Int(0);
    BULWARK_ASSIGN_OR_RETURN(
        Rows inserted,
        lease->Query("INSERT INTO policies (" + std::string(kPolicyColumns) +
                         ") VALUES ($1, $2, $3, $4, $5)",
                     Params{tenant_id, policy.version, body, author, policy.created_at}));
    return OkStatus();
  }));
  return policy;
}

Result<std::optional<PolicyVersion>> Store::CurrentPolicy(const std::string& tenant_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kPolicyColumns,
                          "FROM policies WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1"),
                   Params{tenant_id}));
  if (rows.rows.empty()) return std::optional<PolicyVersion>();
  return std::optional<PolicyVersion>(PolicyFromRow(rows.rows[0]));
}

Result<std::vector<PolicyVersion>> Store::PolicyHistory(const std::string& tenant_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kPolicyColumns, "FROM policies WHERE tenant_id = $1 ORDER BY version"),
                   Params{tenant_id}));
  std::vector<PolicyVersion> history;
  for (const Row& row : rows.rows) history.push_back(PolicyFromRow(row));
  return history;
}

// --- Lists -----------------------------------------------------------------------------------

Status Store::AddListEntry(const ListEntry& entry) {
  UnixSeconds created_at = entry.created_at != 0 ? entry.created_at : Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(entry.tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("INSERT INTO list_entries (" + std::string(kListColumns) +
                                  ") VALUES ($1, $2, $3, $4, $5, $6)",
                              Params{entry.tenant_id, entry.kind, entry.disposition, entry.value,
                                     entry.comment, created_at}));
  return OkStatus();
}

Status Store::RemoveListEntry(const std::string& tenant_id, const std::string& kind,
                              const std::string& disposition, const std::string& value) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("DELETE FROM list_entries WHERE tenant_id = $1 AND kind = $2 AND "
                              "disposition = $3 AND value = $4",
                              Params{tenant_id, kind, disposition, value}));
  return ExpectOneRow(rows, "list entry");
}

Result<std::vector<ListEntry>> Store::ListEntries(const std::string& tenant_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(Rows rows, lease->Query(Select(kListColumns,
                                                          "FROM list_entries WHERE tenant_id = $1 "
                                                          "ORDER BY kind, disposition, value"),
                                                   Params{tenant_id}));
  std::vector<ListEntry> entries;
  for (const Row& row : rows.rows) entries.push_back(ListEntryFromRow(row));
  return entries;
}

// --- Events ----------------------------------------------------------------------------------

Result<std::int64_t> Store::AppendEvent(Event event) {
  if (event.time == 0) event.time = Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(event.tenant_id)));
  // The UPDATE row-locks the tenant until commit, so the next writer of this tenant gets its
  // seq only after this event is visible: seq order is commit order.
  BULWARK_RETURN_IF_ERROR(InTransaction(*lease, [&]() -> Status {
    BULWARK_ASSIGN_OR_RETURN(
        Rows next, lease->Query("UPDATE tenants SET event_seq = event_seq + 1 WHERE id = $1 "
                                "RETURNING event_seq",
                                Params{event.tenant_id}));
    if (next.rows.empty()) return NotFoundError("tenant not found");
    event.seq = next.rows[0].Int(0);
    BULWARK_ASSIGN_OR_RETURN(
        Rows inserted,
        lease->Query(
            "INSERT INTO events (" + std::string(kEventColumns) +
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            Params{event.tenant_id, event.seq, event.time, event.service, event.object_name,
                   event.sender, event.recipients, event.owner, event.sha256, event.verdict,
                   event.threat_type, event.detectors, event.action, event.findings_json}));
    return OkStatus();
  }));
  return event.seq;
}

Result<std::vector<Event>> Store::QueryEvents(const std::string& tenant_id,
                                              const EventFilter& filter) {
  EventWhere where = BuildEventWhere(tenant_id, filter);
  where.sql += " AND seq > " + where.Next(filter.after_seq);
  where.sql += " ORDER BY seq LIMIT " + where.Next(std::int64_t{ClampLimit(filter.limit)});
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kEventColumns, "FROM events " + where.sql), where.params));
  std::vector<Event> events;
  events.reserve(rows.rows.size());
  for (const Row& row : rows.rows) events.push_back(EventFromRow(row));
  return events;
}

Result<std::optional<Event>> Store::GetEvent(const std::string& tenant_id, std::int64_t seq) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kEventColumns, "FROM events WHERE tenant_id = $1 AND seq = $2"),
                   Params{tenant_id, seq}));
  if (rows.rows.empty()) return std::optional<Event>();
  return std::optional<Event>(EventFromRow(rows.rows[0]));
}

Result<std::vector<Facet>> Store::EventFacets(const std::string& tenant_id,
                                              const EventFilter& filter) {
  EventWhere where = BuildEventWhere(tenant_id, filter);
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  std::vector<Facet> facets;
  for (std::string_view field : {"service", "threat_type", "action", "verdict"}) {
    std::string column(field);
    BULWARK_ASSIGN_OR_RETURN(
        Rows rows, lease->Query("SELECT " + column + ", COUNT(*) FROM events " + where.sql +
                                    " GROUP BY " + column + " ORDER BY " + column,
                                where.params));
    for (const Row& row : rows.rows) facets.push_back({column, row.Text(0), row.Int(1)});
  }
  return facets;
}

Result<std::int64_t> Store::PurgeEvents(const std::string& tenant_id, UnixSeconds before) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(Rows rows,
                           lease->Query("DELETE FROM events WHERE tenant_id = $1 AND time < $2",
                                        Params{tenant_id, before}));
  return rows.affected;
}

// --- Quarantine ------------------------------------------------------------------------------

Status Store::AddQuarantineItem(const QuarantineItem& item) {
  if (item.id.empty()) return InvalidArgumentError("quarantine id is empty (use NewId(\"q_\"))");
  UnixSeconds created_at = item.created_at != 0 ? item.created_at : Now();
  std::string status = item.status.empty() ? "held" : item.status;
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(item.tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("INSERT INTO quarantine (" + std::string(kQuarantineColumns) +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                   Params{item.id, item.tenant_id, item.event_seq, item.object_name, item.sha256,
                          item.size, item.storage_key, status, created_at, item.expires_at}));
  return OkStatus();
}

Result<QuarantineItem> Store::GetQuarantineItem(const std::string& tenant_id,
                                                const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kQuarantineColumns, "FROM quarantine WHERE tenant_id = $1 AND id = $2"),
                   Params{tenant_id, id}));
  if (rows.rows.empty()) return NotFoundError("quarantine item not found");
  return QuarantineFromRow(rows.rows[0]);
}

Result<std::vector<QuarantineItem>> Store::ListQuarantine(const std::string& tenant_id,
                                                          const std::string& status_filter) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  Params params{tenant_id};
  std::string rest = "FROM quarantine WHERE tenant_id = $1";
  if (!status_filter.empty()) {
    rest += " AND status = $2";
    params.emplace_back(status_filter);
  }
  rest += " ORDER BY created_at DESC, id";
  BULWARK_ASSIGN_OR_RETURN(Rows rows, lease->Query(Select(kQuarantineColumns, rest), params));
  std::vector<QuarantineItem> items;
  for (const Row& row : rows.rows) items.push_back(QuarantineFromRow(row));
  return items;
}

Status Store::SetQuarantineStatus(const std::string& tenant_id, const std::string& id,
                                  const std::string& status) {
  if (status != "held" && status != "released" && status != "deleted") {
    return InvalidArgumentError("quarantine status must be held, released or deleted");
  }
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("UPDATE quarantine SET status = $3 WHERE tenant_id = $1 AND id = $2",
                              Params{tenant_id, id, status}));
  return ExpectOneRow(rows, "quarantine item");
}

Result<std::vector<QuarantineItem>> Store::ExpiredQuarantine(const std::string& tenant_id,
                                                             UnixSeconds now) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kQuarantineColumns,
                                     "FROM quarantine WHERE tenant_id = $1 AND status = 'held' AND "
                                     "expires_at > 0 AND expires_at <= $2 ORDER BY expires_at, id"),
                              Params{tenant_id, now}));
  std::vector<QuarantineItem> items;
  for (const Row& row : rows.rows) items.push_back(QuarantineFromRow(row));
  return items;
}

// --- Tenant data keys ------------------------------------------------------------------------

Result<std::optional<std::string>> Store::GetWrappedDataKey(const std::string& tenant_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("SELECT wrapped FROM tenant_keys WHERE tenant_id = $1", Params{tenant_id}));
  if (rows.rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows.rows[0].Text(0));
}

Status Store::PutWrappedDataKey(const std::string& tenant_id, const std::string& wrapped) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("INSERT INTO tenant_keys (tenant_id, wrapped, created_at) VALUES ($1, $2, $3)",
                   Params{tenant_id, wrapped, Now()}));
  return OkStatus();
}

// --- IMAP mailbox connectors -----------------------------------------------------------------

Status Store::CreateMailboxConnector(const MailboxConnector& c) {
  if (c.id.empty())
    return InvalidArgumentError("mailbox connector id is empty (use NewId(\"m_\"))");
  if (c.tenant_id.empty()) return InvalidArgumentError("tenant id is empty");
  if (c.name.empty()) return InvalidArgumentError("mailbox connector name is empty");
  BULWARK_ASSIGN_OR_RETURN(std::string folders, FoldersToJson(c.folders));
  UnixSeconds created_at = c.created_at != 0 ? c.created_at : Now();
  std::string status = c.status.empty() ? "pending" : c.status;
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(c.tenant_id)));
  // The tenants table has no RLS: a tenant-scoped connection can tell an unknown tenant.
  BULWARK_ASSIGN_OR_RETURN(
      Rows tenant, lease->Query("SELECT 1 FROM tenants WHERE id = $1", Params{c.tenant_id}));
  if (tenant.rows.empty()) return NotFoundError("tenant not found");
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("INSERT INTO mailbox_connectors (" + std::string(kMailboxConnectorColumns) +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
                       "$15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
                   Params{c.id,
                          c.tenant_id,
                          c.name,
                          c.host,
                          c.port,
                          c.tls,
                          c.ca_file,
                          c.username,
                          c.auth,
                          c.sealed_secret,
                          folders,
                          c.quarantine_folder,
                          Flag(c.enabled),
                          created_at,
                          status,
                          c.last_error,
                          c.last_sync_at,
                          c.next_attempt_at,
                          c.failures,
                          c.messages_scanned,
                          c.bytes_scanned,
                          c.detections,
                          c.lease_owner,
                          c.lease_until}));
  return OkStatus();
}

Result<MailboxConnector> Store::GetMailboxConnector(const std::string& tenant_id,
                                                    const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kMailboxConnectorColumns,
                                     "FROM mailbox_connectors WHERE tenant_id = $1 AND id = $2"),
                              Params{tenant_id, id}));
  if (rows.rows.empty()) return NotFoundError("mailbox connector not found");
  return MailboxConnectorFromRow(rows.rows[0]);
}

Result<std::vector<MailboxConnector>> Store::ListMailboxConnectors(const std::string& tenant_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kMailboxConnectorColumns,
                                     "FROM mailbox_connectors WHERE tenant_id = $1 ORDER BY name"),
                              Params{tenant_id}));
  std::vector<MailboxConnector> connectors;
  for (const Row& row : rows.rows) {
    BULWARK_ASSIGN_OR_RETURN(MailboxConnector c, MailboxConnectorFromRow(row));
    connectors.push_back(std::move(c));
  }
  return connectors;
}

Result<std::vector<MailboxConnector>> Store::ListAllMailboxConnectors() {
  // Site scope: the worker manager looks at every tenant's connectors.
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kMailboxConnectorColumns,
                                     "FROM mailbox_connectors ORDER BY tenant_id, name")));
  std::vector<MailboxConnector> connectors;
  for (const Row& row : rows.rows) {
    BULWARK_ASSIGN_OR_RETURN(MailboxConnector c, MailboxConnectorFromRow(row));
    connectors.push_back(std::move(c));
  }
  return connectors;
}

Status Store::DeleteMailboxConnector(const std::string& tenant_id, const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  return InTransaction(*lease, [&]() -> Status {
    Params params{tenant_id, id};
    BULWARK_ASSIGN_OR_RETURN(
        Rows folders,
        lease->Query("DELETE FROM mailbox_folders WHERE tenant_id = $1 AND connector_id = $2",
                     params));
    BULWARK_ASSIGN_OR_RETURN(
        Rows sweeps,
        lease->Query("DELETE FROM mailbox_sweeps WHERE tenant_id = $1 AND connector_id = $2",
                     params));
    BULWARK_ASSIGN_OR_RETURN(
        Rows rows,
        lease->Query("DELETE FROM mailbox_connectors WHERE tenant_id = $1 AND id = $2", params));
    return ExpectOneRow(rows, "mailbox connector");
  });
}

Status Store::SetMailboxConnectorEnabled(const std::string& tenant_id, const std::string& id,
                                         bool enabled) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("UPDATE mailbox_connectors SET enabled = $3 WHERE tenant_id = $1 AND id = $2",
                   Params{tenant_id, id, Flag(enabled)}));
  return ExpectOneRow(rows, "mailbox connector");
}

Status Store::SetMailboxConnectorSecret(const std::string& tenant_id, const std::string& id,
                                        const std::string& sealed_secret) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(Rows rows,
                           lease->Query("UPDATE mailbox_connectors SET sealed_secret = $3 "
                                        "WHERE tenant_id = $1 AND id = $2",
                                        Params{tenant_id, id, sealed_secret}));
  return ExpectOneRow(rows, "mailbox connector");
}

Status Store::RecordMailboxState(const std::string& tenant_id, const std::string& id,
                                 const MailboxConnectorState& state) {
  if (state.status.empty()) return InvalidArgumentError("mailbox connector status is empty");
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query("UPDATE mailbox_connectors SET status = $3, last_error = $4, "
                              "last_sync_at = $5, next_attempt_at = $6, failures = $7 "
                              "WHERE tenant_id = $1 AND id = $2",
                              Params{tenant_id, id, state.status, state.last_error,
                                     state.last_sync_at, state.next_attempt_at, state.failures}));
  return ExpectOneRow(rows, "mailbox connector");
}

Status Store::AddMailboxCounters(const std::string& tenant_id, const std::string& id,
                                 std::int64_t messages, std::int64_t bytes,
                                 std::int64_t detections) {
  if (messages < 0 || bytes < 0 || detections < 0) {
    return InvalidArgumentError("mailbox counters only grow");
  }
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("UPDATE mailbox_connectors SET messages_scanned = messages_scanned + $3, "
                   "bytes_scanned = bytes_scanned + $4, detections = detections + $5 "
                   "WHERE tenant_id = $1 AND id = $2",
                   Params{tenant_id, id, messages, bytes, detections}));
  return ExpectOneRow(rows, "mailbox connector");
}

Result<bool> Store::ClaimMailboxConnector(const std::string& tenant_id, const std::string& id,
                                          const std::string& owner, UnixSeconds now,
                                          std::int64_t lease_seconds) {
  if (owner.empty()) return InvalidArgumentError("lease owner is empty");
  if (lease_seconds < 1) return InvalidArgumentError("lease must last at least one second");
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  // The condition is in the WHERE clause: of two concurrent claims, the second re-checks it
  // against the first one's row (PostgreSQL re-evaluates after the row lock; SQLite writes
  // one at a time), so exactly one wins.
  BULWARK_ASSIGN_OR_RETURN(
      Rows claimed,
      lease->Query("UPDATE mailbox_connectors SET lease_owner = $3, lease_until = $4 "
                   "WHERE tenant_id = $1 AND id = $2 AND (lease_until < $5 OR lease_owner = $3)",
                   Params{tenant_id, id, owner, now + lease_seconds, now}));
  if (claimed.affected > 0) return true;
  BULWARK_RETURN_IF_ERROR(ExpectMailboxConnector(*lease, tenant_id, id));
  return false;
}

Status Store::ReleaseMailboxConnector(const std::string& tenant_id, const std::string& id,
                                      const std::string& owner) {
  if (owner.empty()) return InvalidArgumentError("lease owner is empty");
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows released, lease->Query("UPDATE mailbox_connectors SET lease_owner = '', lease_until = 0 "
                                  "WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3",
                                  Params{tenant_id, id, owner}));
  if (released.affected > 0) return OkStatus();
  return ExpectMailboxConnector(*lease, tenant_id, id);
}

Result<std::optional<MailboxFolderState>> Store::GetMailboxFolderState(
    const std::string& tenant_id, const std::string& connector_id, const std::string& folder) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(Rows rows,
                           lease->Query(Select(kMailboxFolderColumns,
                                               "FROM mailbox_folders WHERE tenant_id = $1 AND "
                                               "connector_id = $2 AND folder = $3"),
                                        Params{tenant_id, connector_id, folder}));
  if (rows.rows.empty()) return std::optional<MailboxFolderState>();
  return std::optional<MailboxFolderState>(MailboxFolderFromRow(rows.rows[0]));
}

Status Store::PutMailboxFolderState(const MailboxFolderState& state) {
  UnixSeconds updated_at = state.updated_at != 0 ? state.updated_at : Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(state.tenant_id)));
  return InTransaction(*lease, [&]() -> Status {
    BULWARK_RETURN_IF_ERROR(ExpectMailboxConnector(*lease, state.tenant_id, state.connector_id));
    // The connector is the tenant's, so is the row the conflict finds; the tenant condition
    // in DO UPDATE only repeats that.
    BULWARK_ASSIGN_OR_RETURN(
        Rows rows,
        lease->Query("INSERT INTO mailbox_folders (" + std::string(kMailboxFolderColumns) +
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7) "
                         "ON CONFLICT (connector_id, folder) DO UPDATE SET "
                         "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, "
                         "highest_modseq = excluded.highest_modseq, "
                         "updated_at = excluded.updated_at "
                         "WHERE mailbox_folders.tenant_id = excluded.tenant_id",
                     Params{state.tenant_id, state.connector_id, state.folder, state.uidvalidity,
                            state.last_uid, state.highest_modseq, updated_at}));
    return ExpectOneRow(rows, "mailbox connector");
  });
}

Result<std::vector<MailboxFolderState>> Store::ListMailboxFolderStates(
    const std::string& tenant_id, const std::string& connector_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kMailboxFolderColumns,
                          "FROM mailbox_folders WHERE tenant_id = $1 AND connector_id = $2 "
                          "ORDER BY folder"),
                   Params{tenant_id, connector_id}));
  std::vector<MailboxFolderState> states;
  for (const Row& row : rows.rows) states.push_back(MailboxFolderFromRow(row));
  return states;
}

Status Store::AddMailboxQuarantineItem(const MailboxQuarantineItem& item) {
  if (item.id.empty()) {
    return InvalidArgumentError("mailbox quarantine id is empty (use NewId(\"mq_\"))");
  }
  std::string status = item.status.empty() ? "held" : item.status;
  if (!IsMailboxQuarantineStatus(status)) {
    return InvalidArgumentError("mailbox quarantine status must be held, restored or deleted");
  }
  UnixSeconds created_at = item.created_at != 0 ? item.created_at : Now();
  UnixSeconds updated_at = item.updated_at != 0 ? item.updated_at : created_at;
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(item.tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("INSERT INTO mailbox_quarantine (" + std::string(kMailboxQuarantineColumns) +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                   Params{item.id, item.tenant_id, item.connector_id, item.origin_folder,
                          item.quarantine_folder, item.uidvalidity, item.uid, item.message_id,
                          item.sender, item.event_seq, status, created_at, updated_at}));
  return OkStatus();
}

Result<MailboxQuarantineItem> Store::GetMailboxQuarantineItem(const std::string& tenant_id,
                                                              const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kMailboxQuarantineColumns,
                                     "FROM mailbox_quarantine WHERE tenant_id = $1 AND id = $2"),
                              Params{tenant_id, id}));
  if (rows.rows.empty()) return NotFoundError("mailbox quarantine item not found");
  return MailboxQuarantineFromRow(rows.rows[0]);
}

Result<std::vector<MailboxQuarantineItem>> Store::ListMailboxQuarantine(
    const std::string& tenant_id, const std::string& connector_id, const std::string& status) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  Params params{tenant_id};
  std::string rest = "FROM mailbox_quarantine WHERE tenant_id = $1";
  if (!connector_id.empty()) {
    params.emplace_back(connector_id);
    rest += " AND connector_id = $2";
  }
  if (!status.empty()) {
    params.emplace_back(status);
    rest += params.size() == 2 ? " AND status = $2" : " AND status = $3";
  }
  rest += " ORDER BY created_at DESC, id";
  BULWARK_ASSIGN_OR_RETURN(Rows rows,
                           lease->Query(Select(kMailboxQuarantineColumns, rest), params));
  std::vector<MailboxQuarantineItem> items;
  for (const Row& row : rows.rows) items.push_back(MailboxQuarantineFromRow(row));
  return items;
}

Status Store::UpdateMailboxQuarantineItem(const MailboxQuarantineItem& item) {
  if (!IsMailboxQuarantineStatus(item.status)) {
    return InvalidArgumentError("mailbox quarantine status must be held, restored or deleted");
  }
  UnixSeconds updated_at = item.updated_at != 0 ? item.updated_at : Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(item.tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("UPDATE mailbox_quarantine SET status = $3, quarantine_folder = $4, "
                   "uidvalidity = $5, uid = $6, updated_at = $7 WHERE tenant_id = $1 AND id = $2",
                   Params{item.tenant_id, item.id, item.status, item.quarantine_folder,
                          item.uidvalidity, item.uid, updated_at}));
  return ExpectOneRow(rows, "mailbox quarantine item");
}

Status Store::CreateMailboxSweep(const MailboxSweep& sweep) {
  if (sweep.id.empty()) return InvalidArgumentError("sweep id is empty (use NewId(\"sw_\"))");
  std::string status = sweep.status.empty() ? "queued" : sweep.status;
  if (!IsMailboxSweepStatus(status)) {
    return InvalidArgumentError("sweep status must be queued, running, done, failed or cancelled");
  }
  UnixSeconds created_at = sweep.created_at != 0 ? sweep.created_at : Now();
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(sweep.tenant_id)));
  return InTransaction(*lease, [&]() -> Status {
    BULWARK_RETURN_IF_ERROR(ExpectMailboxConnector(*lease, sweep.tenant_id, sweep.connector_id));
    BULWARK_ASSIGN_OR_RETURN(
        Rows rows,
        lease->Query("INSERT INTO mailbox_sweeps (" + std::string(kMailboxSweepColumns) +
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
                         "$15, $16, $17, $18, $19)",
                     Params{sweep.id, sweep.tenant_id, sweep.connector_id, sweep.folder,
                            sweep.since, sweep.before, sweep.sender, sweep.subject, sweep.sha256,
                            status, sweep.not_before, sweep.repeat_seconds, sweep.total, sweep.done,
                            sweep.detections, sweep.error, created_at, sweep.started_at,
                            sweep.finished_at}));
    return OkStatus();
  });
}

Result<MailboxSweep> Store::GetMailboxSweep(const std::string& tenant_id, const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows, lease->Query(Select(kMailboxSweepColumns,
                                     "FROM mailbox_sweeps WHERE tenant_id = $1 AND id = $2"),
                              Params{tenant_id, id}));
  if (rows.rows.empty()) return NotFoundError("sweep not found");
  return MailboxSweepFromRow(rows.rows[0]);
}

Result<std::vector<MailboxSweep>> Store::ListMailboxSweeps(const std::string& tenant_id,
                                                           const std::string& connector_id) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(Rows rows,
                           lease->Query(Select(kMailboxSweepColumns,
                                               "FROM mailbox_sweeps WHERE tenant_id = $1 AND "
                                               "connector_id = $2 ORDER BY created_at DESC, id"),
                                        Params{tenant_id, connector_id}));
  std::vector<MailboxSweep> sweeps;
  for (const Row& row : rows.rows) sweeps.push_back(MailboxSweepFromRow(row));
  return sweeps;
}

Result<std::optional<MailboxSweep>> Store::NextDueMailboxSweep(const std::string& tenant_id,
                                                               const std::string& connector_id,
                                                               UnixSeconds now) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query(Select(kMailboxSweepColumns,
                          "FROM mailbox_sweeps WHERE tenant_id = $1 AND connector_id = $2 AND "
                          "status = 'queued' AND not_before <= $3 "
                          "ORDER BY created_at, id LIMIT 1"),
                   Params{tenant_id, connector_id, now}));
  if (rows.rows.empty()) return std::optional<MailboxSweep>();
  return std::optional<MailboxSweep>(MailboxSweepFromRow(rows.rows[0]));
}

Status Store::UpdateMailboxSweep(const MailboxSweep& sweep) {
  if (!IsMailboxSweepStatus(sweep.status)) {
    return InvalidArgumentError("sweep status must be queued, running, done, failed or cancelled");
  }
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(sweep.tenant_id)));
  BULWARK_ASSIGN_OR_RETURN(
      Rows rows,
      lease->Query("UPDATE mailbox_sweeps SET status = $3, total = $4, done = $5, "
                   "detections = $6, error = $7, started_at = $8, finished_at = $9 "
                   "WHERE tenant_id = $1 AND id = $2",
                   Params{sweep.tenant_id, sweep.id, sweep.status, sweep.total, sweep.done,
                          sweep.detections, sweep.error, sweep.started_at, sweep.finished_at}));
  return ExpectOneRow(rows, "sweep");
}

// --- Audit -----------------------------------------------------------------------------------

Result<AuditRecord> Store::AppendAudit(AuditRecord record) {
  if (record.time == 0) record.time = Now();
  // Site scope: the chain is site-wide, the last record may belong to any tenant.
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  BULWARK_RETURN_IF_ERROR(InTransaction(*lease, [&]() -> Status {
    if (lease->dialect() == Dialect::kPostgres) {
      BULWARK_ASSIGN_OR_RETURN(Rows locked, lease->Query(kAuditLockSql));
    }
    BULWARK_ASSIGN_OR_RETURN(Rows last,
                             lease->Query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    record.seq = last.rows.empty() ? 1 : last.rows[0].Int(0) + 1;
    record.prev_hash = last.rows.empty() ? std::string(64, '0') : last.rows[0].Text(1);
    record.hash = AuditRecordHash(record);
    BULWARK_ASSIGN_OR_RETURN(
        Rows inserted,
        lease->Query("INSERT INTO audit (" + std::string(kAuditColumns) +
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                     Params{record.seq, record.time, record.tenant_id, record.actor, record.action,
                            record.target, record.detail_json, record.prev_hash, record.hash}));
    return OkStatus();
  }));
  return record;
}

Result<std::vector<AuditRecord>> Store::ListAudit(const std::string& tenant_id,
                                                  std::int64_t after_seq, int limit) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(ScopeFor(tenant_id)));
  Params params{after_seq, std::int64_t{ClampLimit(limit)}};
  std::string rest = "FROM audit WHERE seq > $1";
  if (!tenant_id.empty()) {
    rest += " AND tenant_id = $3";
    params.emplace_back(tenant_id);
  }
  rest += " ORDER BY seq LIMIT $2";
  BULWARK_ASSIGN_OR_RETURN(Rows rows, lease->Query(Select(kAuditColumns, rest), params));
  std::vector<AuditRecord> records;
  for (const Row& row : rows.rows) records.push_back(AuditFromRow(row));
  return records;
}

Result<AuditVerification> Store::VerifyAudit() {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Site()));
  AuditVerification result;
  auto fail = [&result](std::int64_t seq, std::string problem) {
    result.intact = false;
    result.first_bad_seq = seq;
    result.problem = std::move(problem);
    return result;
  };
  std::int64_t expected = 1;
  std::string prev_hash(64, '0');
  while (true) {
    BULWARK_ASSIGN_OR_RETURN(Rows rows,
                             lease->Query(Select(kAuditColumns,
                                                 "FROM audit WHERE seq >= $1 ORDER BY seq "
                                                 "LIMIT $2"),
                                          Params{expected, std::int64_t{kMaxPage}}));
    if (rows.rows.empty()) break;
    for (const Row& row : rows.rows) {
      AuditRecord record = AuditFromRow(row);
      std::string n = std::to_string(expected);
      if (record.seq != expected) return fail(expected, "record " + n + " is missing");
      if (AuditRecordHash(record) != record.hash)
        return fail(expected, "record " + n + " was changed");
      if (record.prev_hash != prev_hash) {
        return fail(expected,
                    "record " + n + " does not link to record " + std::to_string(expected - 1));
      }
      prev_hash = record.hash;
      ++expected;
      ++result.records;
    }
  }
  return result;
}

Result<SenderSighting> Store::RecordSenderSighting(const std::string& tenant_id,
                                                  const std::string& sender_hash,
                                                  UnixSeconds now) {
  if (sender_hash.empty()) return InvalidArgumentError("sender hash is empty");
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db_.Acquire(Scope::Tenant(tenant_id)));
  SenderSighting sighting;
  BULWARK_RETURN_IF_ERROR(InTransaction(*lease, [&]() -> Status {
    // The marker row: the history began with the first sighting.
    BULWARK_RETURN_IF_ERROR(
        lease
            ->Query("INSERT INTO sender_history (tenant_id, sender_hash, first_seen, last_seen, "
                    "messages) VALUES ($1, '', $2, $2, 0) "
                    "ON CONFLICT (tenant_id, sender_hash) DO NOTHING",
                    Params{tenant_id, now})
            .status());
    BULWARK_ASSIGN_OR_RETURN(
        Rows since, lease->Query("SELECT first_seen FROM sender_history WHERE tenant_id = $1 "
                                 "AND sender_hash = ''",
                                 Params{tenant_id}));
    if (since.rows.empty()) return InternalError("sender history marker missing");
    sighting.history_since = since.rows[0].Int(0);
    BULWARK_ASSIGN_OR_RETURN(
        Rows known, lease->Query("SELECT messages FROM sender_history WHERE tenant_id = $1 AND "
                                 "sender_hash = $2",
                                 Params{tenant_id, sender_hash}));
    sighting.first_time = known.rows.empty();
    return lease
        ->Query("INSERT INTO sender_history (tenant_id, sender_hash, first_seen, last_seen, "
                "messages) VALUES ($1, $2, $3, $3, 1) "
                "ON CONFLICT (tenant_id, sender_hash) DO UPDATE SET last_seen = excluded.last_seen, "
                "messages = sender_history.messages + 1 "
                "WHERE sender_history.tenant_id = excluded.tenant_id",
                Params{tenant_id, sender_hash, now})
        .status();
  }));
  return sighting;
}

}  // namespace bulwark::storage

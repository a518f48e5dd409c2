// Schema migrations. Migration N is applied in one transaction that first takes the
// migration lock (PostgreSQL: a transaction-scoped advisory lock; SQLite: BEGIN IMMEDIATE),
// then re-reads `schema_migrations`, so two processes starting together apply it once.
//
// Types are TEXT and BIGINT only, so rows read the same on both backends; booleans are 0/1.
//
// Tenant isolation on PostgreSQL: every tenant-owned table has row-level security, forced
// for the owner too (the service's role owns the schema and must not be a superuser, since
// superusers bypass RLS). A row is visible and writable when its tenant_id equals the session
// setting `bulwark.tenant`, or when that setting is '*' (site scope). Unset or '' = no rows
// (rows with tenant_id '', the site operators' users and tokens, need site scope).
//
// Lookups made before the tenant is known run in site scope, by design: login by email
// (users), API-token lookup by secret hash (api_tokens), session lookup by cookie hash
// (sessions), and the site-wide audit chain (audit). Their WHERE clauses select one row by a
// unique secret or key; the caller learns the tenant from that row and scopes from then on.

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "storage/database.h"

namespace bulwark::storage {
namespace {

// Any constant shared by every Bulwark process; "BULWARK" as ASCII with a 'M'igrate suffix.
constexpr std::string_view kMigrationLockSql = "SELECT pg_advisory_xact_lock(4779111733314816077)";

constexpr std::string_view kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

// The tenant-owned tables each migration creates: they get row-level security on PostgreSQL in
// the same migration.
constexpr std::string_view kTenantTablesV1[] = {"users",      "api_tokens",   "sessions",
                                                "policies",   "list_entries", "events",
                                                "quarantine", "tenant_keys",  "audit"};

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE site_meta (
  meta_key TEXT PRIMARY KEY,
  meta_value TEXT NOT NULL
);
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  site_id TEXT NOT NULL,
  disabled BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  retention_days BIGINT NOT NULL DEFAULT 90,
  event_seq BIGINT NOT NULL DEFAULT 0,
  policy_version BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  totp_secret TEXT NOT NULL,
  totp_last_step BIGINT NOT NULL,
  failed_logins BIGINT NOT NULL,
  locked_until BIGINT NOT NULL,
  must_change_password BIGINT NOT NULL,
  disabled BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  scopes TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  site_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  site_id TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  mfa_passed BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE TABLE policies (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  version BIGINT NOT NULL,
  body_json TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, version)
);
CREATE TABLE list_entries (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  kind TEXT NOT NULL,
  disposition TEXT NOT NULL,
  value TEXT NOT NULL,
  comment TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, kind, disposition, value)
);
CREATE TABLE events (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  seq BIGINT NOT NULL,
  time BIGINT NOT NULL,
  service TEXT NOT NULL,
  object_name TEXT NOT NULL,
  sender TEXT NOT NULL,
  recipients TEXT NOT NULL,
  owner TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  verdict TEXT NOT NULL,
  threat_type TEXT NOT NULL,
  detectors TEXT NOT NULL,
  action TEXT NOT NULL,
  findings_json TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX events_time ON events (tenant_id, time);
CREATE TABLE quarantine (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  event_seq BIGINT NOT NULL,
  object_name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  storage_key TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX quarantine_tenant ON quarantine (tenant_id, status);
CREATE TABLE tenant_keys (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
  wrapped TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE audit (
  seq BIGINT PRIMARY KEY,
  time BIGINT NOT NULL,
  tenant_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_tenant ON audit (tenant_id, seq);
)sql";

// The audit table refuses UPDATE and DELETE (the Store only appends; the hash chain catches
// whoever edits the file or disables the triggers).
constexpr std::string_view kSqliteAuditGuardV1 = R"sql(
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
)sql";

constexpr std::string_view kPostgresAuditGuardV1 = R"sql(
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit records are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
)sql";

// Migration 2: the IMAP mailbox connector ("API mode"). Metadata only: connection settings
// with a sealed secret, per-folder sync positions, what was moved to the quarantine folder,
// and retroactive sweeps. Folder states and sweeps belong to a connector and are deleted with
// it; quarantine rows outlive it (they point at events).
constexpr std::string_view kTenantTablesV2[] = {"mailbox_connectors", "mailbox_folders",
                                                "mailbox_quarantine", "mailbox_sweeps"};

constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE mailbox_connectors (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  name TEXT NOT NULL,
  host TEXT NOT NULL,
  port BIGINT NOT NULL,
  tls TEXT NOT NULL,
  ca_file TEXT NOT NULL,
  username TEXT NOT NULL,
  auth TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  folders TEXT NOT NULL,
  quarantine_folder TEXT NOT NULL,
  enabled BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  last_error TEXT NOT NULL,
  last_sync_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  failures BIGINT NOT NULL,
  messages_scanned BIGINT NOT NULL,
  bytes_scanned BIGINT NOT NULL,
  detections BIGINT NOT NULL,
  lease_owner TEXT NOT NULL,
  lease_until BIGINT NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE mailbox_folders (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  connector_id TEXT NOT NULL REFERENCES mailbox_connectors (id),
  folder TEXT NOT NULL,
  uidvalidity BIGINT NOT NULL,
  last_uid BIGINT NOT NULL,
  highest_modseq BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (connector_id, folder)
);
CREATE TABLE mailbox_quarantine (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  connector_id TEXT NOT NULL,
  origin_folder TEXT NOT NULL,
  quarantine_folder TEXT NOT NULL,
  uidvalidity BIGINT NOT NULL,
  uid BIGINT NOT NULL,
  message_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  event_seq BIGINT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX mailbox_quarantine_tenant ON mailbox_quarantine (tenant_id, connector_id, status);
CREATE TABLE mailbox_sweeps (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  connector_id TEXT NOT NULL REFERENCES mailbox_connectors (id),
  folder TEXT NOT NULL,
  since BIGINT NOT NULL,
  before BIGINT NOT NULL,
  sender TEXT NOT NULL,
  subject TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  status TEXT NOT NULL,
  not_before BIGINT NOT NULL,
  repeat_seconds BIGINT NOT NULL,
  total BIGINT NOT NULL,
  done BIGINT NOT NULL,
  detections BIGINT NOT NULL,
  error TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL
);
CREATE INDEX mailbox_sweeps_connector ON mailbox_sweeps (connector_id, status, created_at);
)sql";

// PostgreSQL: forced row-level security with the tenant policy on each of `tables`.
std::string RowLevelSecuritySql(std::span<const std::string_view> tables) {
  // '' (a session whose setting was reset) matches nothing, not the site-level rows.
  constexpr std::string_view kTenantMatch =
      "(current_setting('bulwark.tenant', true) = '*' OR (tenant_id <> '' AND "
      "tenant_id = current_setting('bulwark.tenant', true)))";
  std::string sql;
  for (std::string_view table : tables) {
    std::string name(table);
    sql += "ALTER TABLE " + name + " ENABLE ROW LEVEL SECURITY;\n";
    sql += "ALTER TABLE " + name + " FORCE ROW LEVEL SECURITY;\n";
    sql += "CREATE POLICY tenant_isolation ON " + name + " USING " + std::string(kTenantMatch) +
           " WITH CHECK " + std::string(kTenantMatch) + ";\n";
  }
  return sql;
}

// Version 3: who has written to each tenant before, for the "first-seen external sender"
// signal of impersonation. Hashes only (SHA-256 of the lower-cased address), never the
// address; the row with sender_hash '' marks when the tenant's history began.
constexpr std::string_view kTenantTablesV3[] = {"sender_history"};

constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE sender_history (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  sender_hash TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  messages BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, sender_hash)
);
)sql";

std::string MigrationSql(int version, Dialect dialect) {
  std::string sql;
  bool postgres = dialect == Dialect::kPostgres;
  switch (version) {
    case 1:
      sql = kSchemaV1;
      sql += postgres ? kPostgresAuditGuardV1 : kSqliteAuditGuardV1;
      if (postgres) sql += RowLevelSecuritySql(kTenantTablesV1);
      break;
    case 2:
      sql = kSchemaV2;
      if (postgres) sql += RowLevelSecuritySql(kTenantTablesV2);
      break;
    case 3:
      sql = kSchemaV3;
      if (postgres) sql += RowLevelSecuritySql(kTenantTablesV3);
      break;
    default:
      break;
  }
  return sql;
}

constexpr int kLatestVersion = 3;

// Applies migration `version` unless a concurrent run already did.
Status ApplyOne(Connection& connection, int version) {
  BULWARK_RETURN_IF_ERROR(connection.Begin());
  auto apply = [&]() -> Status {
    if (connection.dialect() == Dialect::kPostgres) {
      auto locked = connection.Query(kMigrationLockSql);
      if (!locked.ok()) return locked.status();
    }
    BULWARK_RETURN_IF_ERROR(connection.ExecuteScript(kMigrationsTable));
    Value v = std::int64_t{version};
    auto applied = connection.Query("SELECT version FROM schema_migrations WHERE version = $1",
                                    std::span<const Value>(&v, 1));
    if (!applied.ok()) return applied.status();
    if (!applied->rows.empty()) return OkStatus();
    Status script = connection.ExecuteScript(MigrationSql(version, connection.dialect()));
    if (!script.ok()) {
      return Status(script.code(),
                    "migration " + std::to_string(version) + " failed: " + script.message());
    }
    Value params[] = {
        v, static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count())};
    auto recorded = connection.Query(
        "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", params);
    return recorded.ok() ? OkStatus() : recorded.status();
  };
  Status status = apply();
  if (!status.ok()) {
    (void)connection.Rollback();
    return status;
  }
  return connection.Commit();
}

}  // namespace

int LatestSchemaVersion() { return kLatestVersion; }

Result<int> CurrentSchemaVersion(Database& db) {
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db.Acquire(Scope::Site()));
  // A fresh database has no schema_migrations table: ask the catalogue first.
  std::string_view exists_sql =
      db.dialect() == Dialect::kSqlite
          ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
            "'schema_migrations'"
          : "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
            "AND tablename = 'schema_migrations'";
  BULWARK_ASSIGN_OR_RETURN(Rows exists, lease->Query(exists_sql));
  if (exists.rows.empty() || exists.rows[0].Int(0) == 0) return 0;
  BULWARK_ASSIGN_OR_RETURN(Rows rows,
                           lease->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return rows.rows.empty() ? 0 : static_cast<int>(rows.rows[0].Int(0));
}

Result<int> Migrate(Database& db) {
  BULWARK_ASSIGN_OR_RETURN(int current, CurrentSchemaVersion(db));
  if (current > kLatestVersion) {
    return FailedPreconditionError("database schema version " + std::to_string(current) +
                                   " is newer than this binary's " +
                                   std::to_string(kLatestVersion));
  }
  {
    BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, db.Acquire(Scope::Site()));
    for (int version = current + 1; version <= kLatestVersion; ++version) {
      BULWARK_RETURN_IF_ERROR(ApplyOne(*lease, version));
    }
  }
  return CurrentSchemaVersion(db);
}

}  // namespace bulwark::storage

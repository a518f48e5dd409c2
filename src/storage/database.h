#pragma once
// Database: one SQL connection interface, two backends (SQLite, PostgreSQL via libpq).
//
// SQL is written once, in the portable subset both backends accept, with PostgreSQL
// placeholders `$1..$N`; the SQLite backend maps them to `?N`. Values are NULL, 64-bit
// integers or text (binary data is stored hex- or base64-encoded by the caller), so rows read
// the same on both backends.
//
// Tenant scope: every connection handed out carries a scope. On PostgreSQL the scope is the
// session setting `bulwark.tenant` that the row-level security policies of every tenant
// table compare against (a second wall behind the WHERE clauses of the code); the site scope
// (`bulwark.tenant` = '*') is for site administration and maintenance jobs only. SQLite has
// no RLS: there the code's WHERE clauses are the only wall, and tests cover both.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"

namespace bulwark::storage {

using Value = std::variant<std::monostate, std::int64_t, std::string>;  // NULL, integer, text

struct Row {
  std::vector<Value> values;

  bool IsNull(std::size_t i) const { return std::holds_alternative<std::monostate>(values[i]); }
  // Text of column i ("" for NULL; integers are formatted).
  std::string Text(std::size_t i) const;
  // Integer of column i (0 for NULL; text is parsed, 0 when not a number).
  std::int64_t Int(std::size_t i) const;
};

struct Rows {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

enum class Dialect { kSqlite, kPostgres };

// Which tenant's rows a connection may see. Site scope sees every row (administration).
// Acquire refuses (kInvalidArgument) a tenant scope whose id is "" or "*": "*" is how the site
// scope is spelled to PostgreSQL, so a tenant id taken from a request must never become it.
struct Scope {
  static Scope Site() { return Scope{std::nullopt}; }
  static Scope Tenant(std::string id) { return Scope{std::move(id)}; }
  std::optional<std::string> tenant;  // nullopt = site scope
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Runs one statement. Errors: kAlreadyExists for a unique-constraint violation,
  // kUnavailable when the server is gone, kInternal for anything else (message from the
  // backend, never containing parameter values).
  virtual Result<Rows> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Runs several statements without parameters (migrations).
  virtual Status ExecuteScript(std::string_view sql) = 0;
  virtual Status Begin() = 0;  // one transaction; on SQLite BEGIN IMMEDIATE
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
  virtual Dialect dialect() const = 0;
};

// A pool of connections. Thread-safe.
class Database {
 public:
  virtual ~Database() = default;

  // A connection for the given scope, returned to the pool when the lease ends (a transaction
  // still open then is rolled back; a connection whose server is gone is discarded). Waits up
  // to `wait` for a free connection (kUnavailable after that). kInvalidArgument for a tenant
  // scope of "" or "*". Every lease must end before the Database is destroyed.
  class Lease;
  virtual Result<Lease> Acquire(const Scope& scope,
                                std::chrono::milliseconds wait = std::chrono::seconds(5)) = 0;
  virtual Dialect dialect() const = 0;
  // "sqlite:/path/bulwark.db" or "postgresql://user@127.0.0.1:5432/db" with the password
  // removed: for logs and /readyz.
  virtual std::string Describe() const = 0;

  class Lease {
   public:
    Lease(Database* owner, std::unique_ptr<Connection> connection)
        : owner_(owner), connection_(std::move(connection)) {}
    Lease(Lease&&) noexcept = default;
    // Returns the connection held so far to its pool first (a defaulted move assignment would
    // destroy it and leak its pool slot).
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    Database* owner_;
    std::unique_ptr<Connection> connection_;
  };

 protected:
  friend class Lease;
  virtual void Release(std::unique_ptr<Connection> connection) = 0;
};

// SQLite file (created if missing), WAL mode, foreign keys on, busy timeout 5 s.
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, int pool_size = 4);
// PostgreSQL by libpq connection URI / conninfo string.
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& conninfo, int pool_size = 8);
// "sqlite:PATH" / "postgresql://…" / "postgres://…" → the matching backend.
Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url, int pool_size = 8);

// Applies every migration not applied yet, in order, each in its own transaction, and
// records it in `schema_migrations`. Returns the schema version after the run. Safe to run
// from several processes at once (PostgreSQL: pg_advisory_xact_lock; SQLite: BEGIN
// IMMEDIATE); a database newer than this binary is kFailedPrecondition.
Result<int> Migrate(Database& db);
// The latest schema version this binary knows.
int LatestSchemaVersion();
// The version recorded in the database (0 for a fresh database).
Result<int> CurrentSchemaVersion(Database& db);

}  // namespace bulwark::storage

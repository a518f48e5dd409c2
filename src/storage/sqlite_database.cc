// The SQLite backend: one sqlite3 handle per pooled connection on the same file, WAL mode so
// readers never wait for the writer, BEGIN IMMEDIATE so writers queue (busy timeout 5 s)
// instead of failing on lock upgrade. Scopes are accepted and checked but change nothing:
// SQLite has no row-level security, the Store's WHERE clauses are the only wall.

#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>

#include "storage/database.h"
#include "storage/database_internal.h"

namespace bulwark::storage {
namespace {

constexpr int kBusyTimeoutMs = 5000;

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// The error of the last call on `db`. SQLite's messages name tables and columns, never the
// bound values.
Status SqliteError(sqlite3* db, int rc) {
  int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  std::string message = "sqlite: ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (extended) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return {StatusCode::kAlreadyExists, std::move(message)};
    case SQLITE_CONSTRAINT_TRIGGER:  // the audit table's append-only triggers
      return PermissionDeniedError(std::move(message));
    default:
      break;
  }
  switch (extended & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY:
      return UnavailableError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override { sqlite3_close_v2(db_); }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto connection = std::make_unique<SqliteConnection>(db);  // closes db on every path
    if (rc != SQLITE_OK) {
      Status error = SqliteError(db, rc);
      return UnavailableError("cannot open " + path + ": " + error.message());
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    BULWARK_RETURN_IF_ERROR(connection->ExecuteScript(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"));
    return connection;
  }

  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    std::string rewritten = internal::SqlitePlaceholders(sql);
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_, rewritten.data(), static_cast<int>(rewritten.size()), &raw,
                                nullptr);
    StatementPtr statement(raw);
    if (rc != SQLITE_OK) return SqliteError(db_, rc);
    if (statement == nullptr) return Rows{};  // empty statement
    int expected = sqlite3_bind_parameter_count(raw);
    if (expected != static_cast<int>(params.size())) {
      return InternalError("sqlite: statement takes " + std::to_string(expected) + " parameters, " +
                           std::to_string(params.size()) + " given");
    }
    for (int i = 0; i < expected; ++i) {
      const Value& value = params[static_cast<std::size_t>(i)];
      if (const auto* number = std::get_if<std::int64_t>(&value)) {
        rc = sqlite3_bind_int64(raw, i + 1, *number);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        rc = sqlite3_bind_text64(raw, i + 1, text->data(), text->size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(raw, i + 1);
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc);
    }
    Rows rows;
    int columns = sqlite3_column_count(raw);
    for (int c = 0; c < columns; ++c) rows.columns.emplace_back(sqlite3_column_name(raw, c));
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      Row row;
      row.values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(raw, c)) {
          case SQLITE_INTEGER:
            row.values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(raw, c)));
            break;
          case SQLITE_NULL:
            row.values.emplace_back(std::monostate());
            break;
          default: {  // text, blob, float: as text
            const auto* bytes = sqlite3_column_text(raw, c);
            int size = sqlite3_column_bytes(raw, c);
            row.values.emplace_back(
                std::string(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size)));
            break;
          }
        }
      }
      rows.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc);
    if (!sqlite3_stmt_readonly(raw)) rows.affected = sqlite3_changes64(db_);
    return rows;
  }

  Status ExecuteScript(std::string_view sql) override {
    std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc);
    return OkStatus();
  }

  Status Begin() override { return ExecuteScript("BEGIN IMMEDIATE"); }
  Status Commit() override { return ExecuteScript("COMMIT"); }
  Status Rollback() override { return ExecuteScript("ROLLBACK"); }
  Dialect dialect() const override { return Dialect::kSqlite; }

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  sqlite3* db_;  // owned
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, int pool_size) : path_(std::move(path)), pool_(pool_size) {}

  Result<Lease> Acquire(const Scope& scope, std::chrono::milliseconds wait) override {
    if (scope.tenant.has_value() && (scope.tenant->empty() || *scope.tenant == "*")) {
      return InvalidArgumentError("tenant scope needs a tenant id");
    }
    BULWARK_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, pool_.Take(wait));
    if (connection == nullptr) {
      auto opened = SqliteConnection::Open(path_);
      if (!opened.ok()) {
        pool_.Drop();
        return opened.status();
      }
      connection = std::move(opened).value();
    }
    return Lease(this, std::move(connection));
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string Describe() const override { return "sqlite:" + path_; }

  // Opens the first connection now, so that a bad path fails at open (and WAL is set).
  Status Warm() {
    BULWARK_ASSIGN_OR_RETURN(Lease lease, Acquire(Scope::Site(), std::chrono::seconds(5)));
    return OkStatus();
  }

 protected:
  void Release(std::unique_ptr<Connection> connection) override {
    auto* sqlite = static_cast<SqliteConnection*>(connection.get());
    if (sqlite->InTransaction() && !sqlite->Rollback().ok()) {
      connection.reset();
      pool_.Drop();
      return;
    }
    pool_.Put(std::move(connection));
  }

 private:
  const std::string path_;
  internal::ConnectionPool pool_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, int pool_size) {
  auto db = std::make_unique<SqliteDatabase>(path, pool_size);
  BULWARK_RETURN_IF_ERROR(db->Warm());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace bulwark::storage

// The PostgreSQL backend (libpq): text parameters through PQexecParams, and the tenant scope
// set as the session setting `bulwark.tenant` on every Acquire, which the row-level security
// policies of the tenant tables compare against (see migrations.cc).

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/database.h"
#include "storage/database_internal.h"

namespace bulwark::storage {
namespace {

// PostgreSQL type oids of the integer types (pg_type.h).
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// libpq's error message minus the trailing newline.
std::string ConnectionMessage(PGconn* conn) {
  std::string message = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// The Status for a failed command. Only the primary message is used: the DETAIL of a unique
// violation quotes the key value; data exceptions (class 22) quote the offending input even
// in the primary message, so for them only the SQLSTATE is reported.
Status PostgresError(PGconn* conn, const PGresult* result) {
  if (PQstatus(conn) == CONNECTION_BAD) {
    return UnavailableError("postgres: connection lost: " + ConnectionMessage(conn));
  }
  const char* state_field =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state_field == nullptr) return InternalError("postgres: " + ConnectionMessage(conn));
  std::string state = state_field;
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = "postgres: ";
  message += state.starts_with("22") ? "data exception" : (primary != nullptr ? primary : "error");
  message += " (SQLSTATE " + state + ")";
  if (state == "23505") return {StatusCode::kAlreadyExists, std::move(message)};
  if (state == "42501") return PermissionDeniedError(std::move(message));  // also RLS refusals
  if (state.starts_with("08") || state.starts_with("57P") || state.starts_with("53") ||
      state == "40001" || state == "40P01") {
    return UnavailableError(std::move(message));  // connection, shutdown, resources, retry
  }
  return InternalError(std::move(message));
}

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  static Result<std::unique_ptr<PostgresConnection>> Open(const std::string& conninfo) {
    auto connection = std::make_unique<PostgresConnection>(PQconnectdb(conninfo.c_str()));
    PGconn* conn = connection->conn_;
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      return UnavailableError("postgres: cannot connect: " + ConnectionMessage(conn));
    }
    PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);  // "already exists, skipping" etc.
    return connection;
  }

  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    std::string text(sql);
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
        storage[i] = std::to_string(*number);
        values[i] = storage[i].c_str();
      } else if (const auto* string = std::get_if<std::string>(&params[i])) {
        values[i] = string->c_str();
      }
    }
    ResultPtr result(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0));
    ExecStatusType status = result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return PostgresError(conn_, result.get());
    }
    Rows rows;
    PGresult* res = result.get();
    int columns = PQnfields(res);
    std::vector<bool> integer(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      rows.columns.emplace_back(PQfname(res, c));
      Oid type = PQftype(res, c);
      integer[static_cast<std::size_t>(c)] =
          type == kInt8Oid || type == kInt4Oid || type == kInt2Oid;
    }
    int count = PQntuples(res);
    rows.rows.reserve(static_cast<std::size_t>(count));
    for (int r = 0; r < count; ++r) {
      Row row;
      row.values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(res, r, c)) {
          row.values.emplace_back(std::monostate());
        } else if (integer[static_cast<std::size_t>(c)]) {
          row.values.emplace_back(
              static_cast<std::int64_t>(std::strtoll(PQgetvalue(res, r, c), nullptr, 10)));
        } else {
          row.values.emplace_back(
              std::string(PQgetvalue(res, r, c), static_cast<std::size_t>(PQgetlength(res, r, c))));
        }
      }
      rows.rows.push_back(std::move(row));
    }
    std::string_view command = PQcmdStatus(res);
    if (!command.starts_with("SELECT")) rows.affected = std::strtoll(PQcmdTuples(res), nullptr, 10);
    return rows;
  }

  Status ExecuteScript(std::string_view sql) override {
    std::string text(sql);
    ResultPtr result(PQexec(conn_, text.c_str()));
    ExecStatusType status = result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return PostgresError(conn_, result.get());
    }
    return OkStatus();
  }

  Status Begin() override { return ExecuteScript("BEGIN"); }
  Status Commit() override { return ExecuteScript("COMMIT"); }
  Status Rollback() override { return ExecuteScript("ROLLBACK"); }
  Dialect dialect() const override { return Dialect::kPostgres; }

  bool Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  bool Idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }

 private:
  PGconn* conn_;  // owned
};

// "postgresql://user@host:port/db" from a URI or key=value conninfo, without the password.
std::string DescribeConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return "postgresql://(unparsable conninfo)";
  std::string user, host, port, dbname;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    std::string_view keyword = option->keyword;
    if (keyword == "user") user = option->val;
    if (keyword == "host" || (keyword == "hostaddr" && host.empty())) host = option->val;
    if (keyword == "port") port = option->val;
    if (keyword == "dbname") dbname = option->val;
  }
  PQconninfoFree(options);
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  out += host;
  if (!port.empty()) out += ":" + port;
  out += "/" + dbname;
  return out;
}

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string conninfo, int pool_size)
      : conninfo_(std::move(conninfo)), pool_(pool_size) {}

  Result<Lease> Acquire(const Scope& scope, std::chrono::milliseconds wait) override {
    if (scope.tenant.has_value() && (scope.tenant->empty() || *scope.tenant == "*")) {
      return InvalidArgumentError("tenant scope needs a tenant id");
    }
    BULWARK_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, pool_.Take(wait));
    // An idle connection whose server went away (restart, failover) is replaced once.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = connection != nullptr;
      if (!reused) {
        auto opened = PostgresConnection::Open(conninfo_);
        if (!opened.ok()) {
          pool_.Drop();
          return opened.status();
        }
        connection = std::move(opened).value();
      }
      Value tenant = scope.tenant.value_or("*");
      auto set = connection->Query("SELECT set_config('bulwark.tenant', $1, false)",
                                   std::span<const Value>(&tenant, 1));
      if (set.ok()) return Lease(this, std::move(connection));
      connection.reset();
      if (!reused || set.status().code() != StatusCode::kUnavailable) {
        pool_.Drop();
        return set.status();
      }
    }
    pool_.Drop();
    return UnavailableError("postgres: cannot set the tenant scope");
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string Describe() const override { return DescribeConninfo(conninfo_); }

  Status Warm() {
    BULWARK_ASSIGN_OR_RETURN(Lease lease, Acquire(Scope::Site(), std::chrono::seconds(5)));
    return OkStatus();
  }

 protected:
  void Release(std::unique_ptr<Connection> connection) override {
    auto* postgres = static_cast<PostgresConnection*>(connection.get());
    if (postgres->Healthy() && !postgres->Idle()) (void)postgres->Rollback();
    if (!postgres->Healthy() || !postgres->Idle()) {
      connection.reset();
      pool_.Drop();
      return;
    }
    pool_.Put(std::move(connection));
  }

 private:
  const std::string conninfo_;
  internal::ConnectionPool pool_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& conninfo, int pool_size) {
  auto db = std::make_unique<PostgresDatabase>(conninfo, pool_size);
  BULWARK_RETURN_IF_ERROR(db->Warm());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace bulwark::storage

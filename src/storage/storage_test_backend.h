#pragma once
// Test backends for the storage suite: every value-parameterised test runs once on SQLite (a
// file in a fresh temporary directory) and once on PostgreSQL (a fresh database on the one
// throw-away server this test binary starts on first use). Test-only.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bulwark/common/result.h"
#include "storage/database.h"
#include "test/support/postgres_server.h"

namespace bulwark::storage {

enum class Backend { kSqlite, kPostgres };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

// One fresh, empty database (not migrated).
class TestDatabase {
 public:
  static Result<std::unique_ptr<TestDatabase>> Create(Backend backend, int pool_size = 8);
  ~TestDatabase();

  Database& db() { return *db_; }
  Backend backend() const { return backend_; }
  // Another pool on the same database (a second process).
  Result<std::unique_ptr<Database>> OpenAnother(int pool_size = 4);
  // Runs `sql` with the powers of someone who has the database itself, past the Store and the
  // audit triggers: SQLite drops the triggers; PostgreSQL runs as superuser with triggers off.
  Status Tamper(const std::string& sql);

 private:
  TestDatabase() = default;
  Backend backend_ = Backend::kSqlite;
  std::string url_;        // for OpenDatabase
  std::string admin_url_;  // PostgreSQL superuser URI
  std::string dir_;        // SQLite temp dir
  std::unique_ptr<Database> db_;
};

// The binary's PostgreSQL server, started on first use; an error when it cannot start.
Result<testing::PostgresServer*> SharedPostgres();

}  // namespace bulwark::storage

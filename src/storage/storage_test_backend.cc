#include "storage/storage_test_backend.h"

#include <stdlib.h>

#include <filesystem>
#include <mutex>

namespace bulwark::storage {

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

Result<testing::PostgresServer*> SharedPostgres() {
  // One server per test binary, stopped at exit. Not a mutable global in the code under test:
  // test scaffolding, like a gtest Environment.
  static std::mutex mu;
  static std::unique_ptr<testing::PostgresServer> server;
  static Status failure;
  std::lock_guard lock(mu);
  if (server == nullptr && failure.ok()) {
    auto started = testing::PostgresServer::Start();
    if (started.ok()) {
      server = std::move(started).value();
    } else {
      failure = started.status();
    }
  }
  if (server == nullptr) return failure;
  return server.get();
}

Result<std::unique_ptr<TestDatabase>> TestDatabase::Create(Backend backend, int pool_size) {
  std::unique_ptr<TestDatabase> test(new TestDatabase());
  test->backend_ = backend;
  if (backend == Backend::kSqlite) {
    char dir[] = "/tmp/bulwark-sqlite-XXXXXX";
    if (mkdtemp(dir) == nullptr) return InternalError("mkdtemp failed");
    test->dir_ = dir;
    test->url_ = "sqlite:" + test->dir_ + "/bulwark.db";
  } else {
    BULWARK_ASSIGN_OR_RETURN(testing::PostgresServer * server, SharedPostgres());
    BULWARK_ASSIGN_OR_RETURN(std::string name, server->CreateDatabase("t"));
    test->url_ = server->conninfo(name);
    test->admin_url_ = server->admin_conninfo(name);
  }
  BULWARK_ASSIGN_OR_RETURN(test->db_, OpenDatabase(test->url_, pool_size));
  return test;
}

TestDatabase::~TestDatabase() {
  db_.reset();
  if (!dir_.empty()) {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }
}

Result<std::unique_ptr<Database>> TestDatabase::OpenAnother(int pool_size) {
  return OpenDatabase(url_, pool_size);
}

Status TestDatabase::Tamper(const std::string& sql) {
  std::string script = sql;
  std::unique_ptr<Database> admin;
  if (backend_ == Backend::kSqlite) {
    script =
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; " + sql;
    BULWARK_ASSIGN_OR_RETURN(admin, OpenDatabase(url_, 1));
  } else {
    script = "SET session_replication_role = replica; " + sql;
    BULWARK_ASSIGN_OR_RETURN(admin, OpenDatabase(admin_url_, 1));
  }
  BULWARK_ASSIGN_OR_RETURN(Database::Lease lease, admin->Acquire(Scope::Site()));
  return lease->ExecuteScript(script);
}

}  // namespace bulwark::storage

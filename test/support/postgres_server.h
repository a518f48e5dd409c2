#pragma once
// PostgresServer: a throw-away PostgreSQL server for tests. Start() runs initdb into a fresh
// temporary directory and starts the newest server found in /usr/lib/postgresql/*/bin,
// listening on 127.0.0.1 only, on a free port, with its Unix socket inside that directory, so
// several test binaries can each run their own at once. When the test runs as root, the
// server runs as the `postgres` system user (initdb refuses root).
//
// The database `bulwark` is owned by the role `bulwark`, which is NOT a superuser (superusers
// bypass row-level security). Authentication is `trust`, on loopback only.

#include <memory>
#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"

namespace bulwark::testing {

class PostgresServer {
 public:
  // kUnavailable when PostgreSQL is not installed (the message says how to install it) or
  // the server does not start (the message carries the end of its log).
  static Result<std::unique_ptr<PostgresServer>> Start();

  // Stops the server (pg_ctl stop -m fast) and removes its directory.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // libpq URI of `database` as the role `bulwark`: postgresql://bulwark@127.0.0.1:PORT/DB.
  std::string conninfo(const std::string& database = "bulwark") const;
  // libpq URI of `database` as the superuser `postgres` (tampering, inspection).
  std::string admin_conninfo(const std::string& database = "bulwark") const;
  int port() const { return port_; }

  // A new empty database owned by `bulwark` (a fresh schema per test). Returns its name.
  Result<std::string> CreateDatabase(const std::string& prefix = "test");

 private:
  PostgresServer() = default;
  Status Run(const std::string& program, const std::vector<std::string>& args,
             const std::string& log) const;
  Status AdminExecute(const std::string& sql) const;

  std::string bin_dir_;  // /usr/lib/postgresql/N/bin
  std::string root_;     // the temporary directory (data/, socket, logs)
  int port_ = 0;
  bool started_ = false;
  bool as_postgres_ = false;  // running as root: drop to the postgres user
  unsigned uid_ = 0, gid_ = 0;
  int next_database_ = 0;
};

}  // namespace bulwark::testing

#include "test/support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace bulwark::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kInstallHint =
    "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run "
    "scripts/install-deps.sh --test, which installs the `postgresql` package";

// The newest /usr/lib/postgresql/<major>/bin that has initdb and pg_ctl; "" when none.
std::string FindBinDir() {
  std::error_code error;
  int best = -1;
  std::string best_dir;
  for (const fs::directory_entry& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
    std::string name = entry.path().filename().string();
    char* end = nullptr;
    long major = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '\0') continue;
    fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb", error) || !fs::exists(bin / "pg_ctl", error)) continue;
    if (major > best) {
      best = static_cast<int>(major);
      best_dir = bin.string();
    }
  }
  return best_dir;
}

// A port that was free a moment ago on 127.0.0.1 (the kernel picks it for port 0).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  int port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

std::string Tail(const std::string& path, std::size_t bytes = 2000) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bin_dir_ = FindBinDir();
  if (server->bin_dir_.empty()) return UnavailableError(std::string(kInstallHint));

  char root_template[] = "/tmp/bulwark-pg-XXXXXX";
  if (mkdtemp(root_template) == nullptr) return UnavailableError("cannot create a temp dir");
  server->root_ = root_template;

  if (geteuid() == 0) {
    passwd* user = getpwnam("postgres");
    if (user == nullptr) {
      return UnavailableError("running as root and there is no `postgres` system user");
    }
    server->as_postgres_ = true;
    server->uid_ = user->pw_uid;
    server->gid_ = user->pw_gid;
    if (chown(server->root_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      return UnavailableError("cannot chown " + server->root_ + " to postgres");
    }
  }

  const std::string data = server->root_ + "/data";
  const std::string init_log = server->root_ + "/initdb.log";
  Status initdb = server->Run(server->bin_dir_ + "/initdb",
                              {"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                               "--no-locale", "--no-sync", "--no-instructions"},
                              init_log);
  if (!initdb.ok()) {
    return UnavailableError("initdb failed: " + initdb.message() + "\n" + Tail(init_log));
  }

  // The port may be taken between FreePort() and the server's bind: try a few.
  const std::string server_log = server->root_ + "/server.log";
  Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    if (server->port_ == 0) return UnavailableError("cannot find a free port on 127.0.0.1");
    std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(server->port_) +
                          " -c unix_socket_directories=" + server->root_ +
                          " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                          " -c shared_buffers=16MB -c max_connections=60";
    started = server->Run(server->bin_dir_ + "/pg_ctl",
                          {"-D", data, "-l", server_log, "-w", "-t", "60", "-o", options, "start"},
                          server->root_ + "/pg_ctl.log");
    if (started.ok()) break;
  }
  if (!started.ok()) {
    return UnavailableError("PostgreSQL did not start: " + started.message() + "\n" +
                            Tail(server_log));
  }
  server->started_ = true;

  BULWARK_RETURN_IF_ERROR(server->AdminExecute("CREATE ROLE bulwark LOGIN NOSUPERUSER"));
  BULWARK_RETURN_IF_ERROR(server->AdminExecute("CREATE DATABASE bulwark OWNER bulwark"));
  return server;
}

PostgresServer::~PostgresServer() {
  if (started_) {
    (void)Run(bin_dir_ + "/pg_ctl", {"-D", root_ + "/data", "-m", "fast", "-w", "stop"},
              root_ + "/pg_ctl.log");
  }
  if (!root_.empty()) {
    std::error_code error;
    fs::remove_all(root_, error);
  }
}

std::string PostgresServer::conninfo(const std::string& database) const {
  return "postgresql://bulwark@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::admin_conninfo(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Result<std::string> PostgresServer::CreateDatabase(const std::string& prefix) {
  std::string name = prefix + "_" + std::to_string(++next_database_);
  BULWARK_RETURN_IF_ERROR(AdminExecute("CREATE DATABASE " + name + " OWNER bulwark"));
  return name;
}

Status PostgresServer::Run(const std::string& program, const std::vector<std::string>& args,
                           const std::string& log) const {
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> owned{program};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const bool drop = as_postgres_;
  const uid_t uid = uid_;
  const gid_t gid = gid_;

  pid_t pid = fork();
  if (pid < 0) return UnavailableError("fork failed");
  if (pid == 0) {
    if (drop && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) _exit(126);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int in = open("/dev/null", O_RDONLY);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    if (in >= 0) dup2(in, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return UnavailableError("waitpid failed");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError(fs::path(program).filename().string() + " exited with status " +
                            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  }
  return OkStatus();
}

Status PostgresServer::AdminExecute(const std::string& sql) const {
  PGconn* conn = PQconnectdb(admin_conninfo("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return UnavailableError("cannot connect to the test server: " + message);
  }
  PGresult* result = PQexec(conn, sql.c_str());
  Status status;
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    status = InternalError("`" + sql + "` failed: " + PQresultErrorMessage(result));
  }
  PQclear(result);
  PQfinish(conn);
  return status;
}

}  // namespace bulwark::testing

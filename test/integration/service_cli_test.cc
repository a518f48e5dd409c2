// `bulwark serve` and the administration commands as an operator runs them: the real binary
// on a data directory, exit codes and output.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "bulwark/common/unique_fd.h"
#include "http/client.h"
#include "storage/database.h"
#include "test/support/test_support.h"

namespace bulwark {
namespace {

using testing::CommandResult;
using testing::ReadAll;

class ServiceCliTest : public ::testing::Test {
 protected:
  std::string Data() const { return (dir_.path() / "data").string(); }

  CommandResult Bulwark(const std::string& args) {
    return testing::RunShell(std::string("'") + BULWARK_BINARY + "' " + args, dir_.path());
  }

  testing::ScratchDir dir_;
};

TEST_F(ServiceCliTest, AdministrationCommandsWorkOnTheEmbeddedDefault) {
  CommandResult tenant =
      Bulwark("tenant create Acme --admin-email root@acme.example --data " + Data());
  ASSERT_EQ(tenant.exit_code, 0) << tenant.err;
  EXPECT_EQ(tenant.out.rfind("t_", 0), 0u) << tenant.out;
  EXPECT_NE(tenant.out.find("one-time password (shown once)"), std::string::npos);

  CommandResult list = Bulwark("tenant list --json --data " + Data());
  ASSERT_EQ(list.exit_code, 0);
  auto line = nlohmann::json::parse(list.out);
  EXPECT_EQ(line["name"], "Acme");
  EXPECT_FALSE(line["disabled"].get<bool>());

  CommandResult token =
      Bulwark("token create --tenant Acme --name ci --scope scan --scope events:read --data " +
              Data());
  ASSERT_EQ(token.exit_code, 0) << token.err;
  EXPECT_EQ(token.out.rfind("bwk_local_", 0), 0u) << token.out;
  EXPECT_NE(token.err.find("shown once"), std::string::npos);

  CommandResult bad_scope =
      Bulwark("token create --tenant Acme --name x --scope everything --data " + Data());
  EXPECT_EQ(bad_scope.exit_code, 2);
  EXPECT_NE(bad_scope.err.find("unknown scope"), std::string::npos);
  CommandResult no_tenant = Bulwark("tenant disable Nope --data " + Data());
  EXPECT_EQ(no_tenant.exit_code, 2);
  EXPECT_NE(no_tenant.err.find("no tenant"), std::string::npos);
  EXPECT_EQ(Bulwark("tenant disable Acme --data " + Data()).exit_code, 0);
  EXPECT_EQ(Bulwark("user add ana@acme.example --tenant Acme --role analyst --data " + Data())
                .exit_code,
            0);
  EXPECT_EQ(Bulwark("user reset-mfa ana@acme.example --data " + Data()).exit_code, 0);

  CommandResult migrate = Bulwark("db migrate --data " + Data());
  ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
  EXPECT_NE(migrate.out.find("schema version"), std::string::npos);

  CommandResult syslog = Bulwark("audit export --format syslog --data " + Data());
  ASSERT_EQ(syslog.exit_code, 0);
  EXPECT_EQ(syslog.out.rfind("<85>1 ", 0), 0u) << syslog.out;
  EXPECT_NE(syslog.out.find("action=\"tenant.create\""), std::string::npos);
  CommandResult json_export = Bulwark("audit export --data " + Data());
  ASSERT_EQ(json_export.exit_code, 0);
  EXPECT_NE(json_export.out.find("\"action\":\"token.create\""), std::string::npos);
}

TEST_F(ServiceCliTest, AuditVerifyDetectsAChangedRecord) {
  ASSERT_EQ(Bulwark("tenant create Acme --data " + Data()).exit_code, 0);
  ASSERT_EQ(Bulwark("tenant create Globex --data " + Data()).exit_code, 0);
  ASSERT_EQ(Bulwark("tenant disable Acme --data " + Data()).exit_code, 0);
  CommandResult intact = Bulwark("audit verify --data " + Data());
  ASSERT_EQ(intact.exit_code, 0) << intact.out << intact.err;
  EXPECT_NE(intact.out.find("intact"), std::string::npos);

  {  // Someone with the database file rewrites history.
    auto db = storage::OpenSqlite(Data() + "/bulwark.db", 1);
    ASSERT_TRUE(db.ok());
    auto lease = (*db)->Acquire(storage::Scope::Site());
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)
                    ->ExecuteScript("DROP TRIGGER IF EXISTS audit_no_update;"
                                    "UPDATE audit SET actor = 'nobody' WHERE seq = 2;")
                    .ok());
  }
  CommandResult tampered = Bulwark("audit verify --data " + Data());
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_NE(tampered.out.find("TAMPERED"), std::string::npos) << tampered.out;
  EXPECT_NE(tampered.out.find("record 2"), std::string::npos) << tampered.out;
}

// The port printed after `prefix` in the start-up text, or 0.
int PortAfter(const std::string& text, const std::string& prefix) {
  std::size_t at = text.find(prefix);
  return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + prefix.size());
}

UniqueFd ConnectTcp(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return UniqueFd();
  }
  return fd;
}

UniqueFd ConnectUnix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return UniqueFd();
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return UniqueFd();
  }
  return fd;
}

// Sends `request`, half-closes, and returns everything the server answers until it closes.
std::string Exchange(UniqueFd fd, const std::string& request) {
  if (!fd.valid()) return "(connect failed)";
  timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return "(send failed)";
  }
  ::shutdown(fd.get(), SHUT_WR);
  std::string reply;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n <= 0) return reply;
    reply.append(buffer, static_cast<std::size_t>(n));
  }
}

TEST_F(ServiceCliTest, ServeStartsPrintsWhereToReachItAndStopsOnSigterm) {
  std::string ready = (dir_.path() / "port").string();
  std::string out = (dir_.path() / "serve.out").string();
  std::string err = (dir_.path() / "serve.err").string();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen(out.c_str(), "w", stdout);
    std::freopen(err.c_str(), "w", stderr);
    std::string data = Data();
    execl(BULWARK_BINARY, "bulwark", "serve", "--data", data.c_str(), "--port", "0",
          "--clamd-port", "0", "--icap-port", "0", "--milter-port", "0", "--smtp-port", "0",
          "--ready-file", ready.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(ready) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int port = std::atoi(ReadAll(ready).c_str());
  ASSERT_GT(port, 0) << ReadAll(err);
  std::string printed = ReadAll(out);
  EXPECT_NE(printed.find("https://127.0.0.1:" + std::to_string(port) + "/api/v1"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("First administrator (shown once"), std::string::npos);
  // The mail front-ends start with the embedded default, on loopback.
  EXPECT_NE(printed.find("  milter   inet:127.0.0.1:"), std::string::npos) << printed;
  EXPECT_NE(printed.find("  SMTP     127.0.0.1:"), std::string::npos) << printed;
  EXPECT_TRUE(std::filesystem::exists(Data() + "/tls/cert.pem"));
  EXPECT_EQ(std::filesystem::status(Data() + "/tls/key.pem").permissions() &
                (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);

  http::ClientOptions options;
  options.ca_file = Data() + "/tls/cert.pem";
  auto client = http::Client::Create(options);
  ASSERT_TRUE(client.ok());
  auto health = (*client)->Get("https://127.0.0.1:" + std::to_string(port) + "/healthz");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);

  // The protocol front-ends, where the start-up text says they are.
  int clamd_port = PortAfter(printed, "  clamd    127.0.0.1:");
  ASSERT_GT(clamd_port, 0) << printed;
  EXPECT_EQ(Exchange(ConnectTcp(clamd_port), std::string("zPING\0", 6)),
            std::string("PONG\0", 5));
  EXPECT_NE(printed.find("unix:" + Data() + "/clamd.sock"), std::string::npos) << printed;
  EXPECT_EQ(Exchange(ConnectUnix(Data() + "/clamd.sock"), "nPING\n"), "PONG\n");
  int icap_port = PortAfter(printed, "  ICAP     icap://127.0.0.1:");
  ASSERT_GT(icap_port, 0) << printed;
  std::string options_reply =
      Exchange(ConnectTcp(icap_port), "OPTIONS icap://127.0.0.1/respmod ICAP/1.0\r\n"
                                      "Host: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(options_reply.rfind("ICAP/1.0 200", 0), 0u) << options_reply;

  // SIGHUP reloads the signatures and the service goes on.
  kill(pid, SIGHUP);
  auto logged = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ReadAll(err).find("signatures reloaded") == std::string::npos &&
         std::chrono::steady_clock::now() < logged) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(ReadAll(err).find("\"msg\":\"signatures reloaded\""), std::string::npos);
  EXPECT_EQ(Exchange(ConnectTcp(clamd_port), std::string("zPING\0", 6)),
            std::string("PONG\0", 5));

  // A second instance cannot take the same clamd port: a clear error, exit 2.
  CommandResult clash = Bulwark("serve --data " + Data() + "-second --port 0 --icap-port 0 " +
                                "--milter-port 0 --smtp-port 0 --clamd-port " +
                                std::to_string(clamd_port));
  EXPECT_EQ(clash.exit_code, 2);
  EXPECT_NE(clash.err.find("clamd listener: 127.0.0.1:" + std::to_string(clamd_port)),
            std::string::npos)
      << clash.err;

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::string log = ReadAll(err);
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos);
  EXPECT_NE(log.find("\"msg\":\"request\",\"method\":\"GET\",\"route\":\"/healthz\","
                     "\"status\":200"),
            std::string::npos)
      << log;

  // A second start keeps the administrator and prints no password.
  CommandResult again = Bulwark("tenant list --data " + Data());
  EXPECT_EQ(again.exit_code, 0);
}

TEST_F(ServiceCliTest, ServeRefusesAConfigurationWithAnotherSitesSandbox) {
  std::string config = (dir_.path() / "bulwark.toml").string();
  std::ofstream(config) << "data_dir = \"" << Data() << "\"\n[site]\nid = \"eu\"\n"
                        << "[sandbox]\nurl = \"https://sandbox.us.example\"\nsite = \"us\"\n";
  CommandResult run = Bulwark("serve --config " + config);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("belongs to site \"us\""), std::string::npos) << run.err;
}

}  // namespace
}  // namespace bulwark

#include "detectors/senderauth/test_dns_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "detectors/senderauth/dns_resolver.h"

namespace bulwark::senderauth::testing {
namespace {

namespace fs = std::filesystem;

// A port free for both UDP and TCP on 127.0.0.1 right now (the kernel picks it).
int FreePort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (udp < 0 || bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(udp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (udp >= 0) close(udp);
      continue;
    }
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free =
        tcp >= 0 && bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (tcp >= 0) close(tcp);
    close(udp);
    if (tcp_free) return ntohs(addr.sin_port);
  }
  return 0;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

fs::path NsdBinary() {
  for (const char* p : {"/usr/sbin/nsd", "/usr/local/sbin/nsd"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return {};
}

std::string ZoneTxt(std::string_view name, std::string_view text) {
  std::string out = std::string(name) + " IN TXT";
  std::size_t at = 0;
  do {
    const std::string_view chunk = text.substr(at, 255);
    out += " \"";
    for (unsigned char c : chunk) {
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7F) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\%03u", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '"';
    at += 255;
  } while (at < text.size());
  return out + "\n";
}

Result<std::unique_ptr<TestDnsServer>> TestDnsServer::Start(std::string_view records) {
  const fs::path nsd = NsdBinary();
  if (nsd.empty()) return FailedPreconditionError("nsd is not installed (Debian package nsd)");
  char tmpl[] = "/tmp/bulwark-nsd-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return InternalError("mkdtemp failed");
  const fs::path dir = tmpl;
  const int port = FreePort();
  if (port == 0) return InternalError("no free port on 127.0.0.1");
  {
    std::ofstream zone(dir / "root.zone");
    zone << "$ORIGIN .\n$TTL 300\n"
         << ". IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n"
         << ". IN NS ns.test.\n"
         << "ns.test. IN A 127.0.0.1\n"
         << records << "\n";
    std::ofstream conf(dir / "nsd.conf");
    conf << "server:\n"
         << "  ip-address: 127.0.0.1@" << port << "\n"
         << "  port: " << port << "\n"
         << "  username: \"\"\n  chroot: \"\"\n  database: \"\"\n"
         << "  zonesdir: \"" << dir.string() << "\"\n"
         << "  zonelistfile: \"" << (dir / "zone.list").string() << "\"\n"
         << "  pidfile: \"" << (dir / "nsd.pid").string() << "\"\n"
         << "  xfrdfile: \"" << (dir / "xfrd.state").string() << "\"\n"
         << "  logfile: \"" << (dir / "nsd.log").string() << "\"\n"
         << "  server-count: 1\n  do-ip6: no\n  verbosity: 1\n  hide-version: yes\n"
         << "remote-control:\n  control-enable: no\n"
         << "zone:\n  name: \".\"\n  zonefile: \"root.zone\"\n";
  }
  const std::string conf_path = (dir / "nsd.conf").string();
  const pid_t pid = fork();
  if (pid < 0) return InternalError("fork failed");
  if (pid == 0) {
    execl(nsd.c_str(), "nsd", "-d", "-c", conf_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::unique_ptr<TestDnsServer> server(new TestDnsServer(dir, pid, port));
  auto resolver = CreateStubResolver({server->address(), std::chrono::seconds(1), 1});
  if (!resolver.ok()) return resolver.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = -1;
      return InternalError("nsd exited at start: " + ReadFile(dir / "nsd.log"));
    }
    if ((*resolver)->Lookup("ns.test", DnsType::kA).status == DnsStatus::kOk) return server;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return InternalError("nsd did not answer within 10 s: " + ReadFile(dir / "nsd.log"));
}

TestDnsServer::~TestDnsServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace bulwark::senderauth::testing

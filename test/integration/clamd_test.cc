// The clamd front-end end to end, on a real site (SQLite): Debian's clamdscan against it
// (INSTREAM, FILDES, MULTISCAN; exit codes), byte parity with a real clamd (Debian's
// clamav-daemon, same signatures, same raw commands), events for the listener's tenant,
// and tenant isolation on the TLS listener (AUTH with API tokens).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "clamd/clamd_codec.h"
#include "clamd/clamd_front_end.h"
#include "http/server.h"
#include "service/administration.h"
#include "test/support/test_support.h"

namespace bulwark::testing {
namespace {

using namespace std::string_literals;
namespace fs = std::filesystem;

constexpr std::uint64_t kStreamMax = 1 << 20;  // clamd's "StreamMaxLength 1M"

std::string Chunks(const std::string& data, std::size_t size = 8192) {
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += size) {
    std::string piece = data.substr(i, size);
    out += clamd::EncodeChunkLength(static_cast<std::uint32_t>(piece.size())) + piece;
  }
  return out + clamd::EncodeChunkLength(0);
}

int ConnectTcp(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{15, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends `input` (from a second thread, so a server that answers early does not block it),
// half-closes, and returns everything received until the server closes.
std::string Exchange(int fd, const std::string& input) {
  if (fd < 0) return "<connect failed>";
  std::thread writer([&] {
    std::size_t sent = 0;
    while (sent < input.size()) {
      ssize_t n = send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    shutdown(fd, SHUT_WR);
  });
  std::string out;
  char buffer[8192];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  writer.join();
  close(fd);
  return out;
}

std::string ExchangeTcp(std::uint16_t port, const std::string& input) {
  return Exchange(ConnectTcp(port), input);
}

// One TLS connection to the front-end's TLS listener, verified against the site's
// certificate: sends `input`, returns everything received until the server closes.
std::string ExchangeTls(std::uint16_t port, const std::string& ca_file, const std::string& input) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  int fd = ConnectTcp(port);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  std::string out;
  if (SSL_connect(ssl) == 1 && SSL_write(ssl, input.data(), static_cast<int>(input.size())) > 0) {
    char buffer[4096];
    for (;;) {
      int n = SSL_read(ssl, buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
  } else {
    out = "<tls failed>";
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return out;
}

// A real clamd from Debian's clamav-daemon, on loopback, as user nobody, with the same
// signature directory as the site. Stopped (SIGTERM to its pid) at the end.
class RealClamd {
 public:
  static constexpr const char* kBinary = "/usr/sbin/clamd";
  bool Start(const fs::path& dir, const fs::path& database_dir, std::string& error) {
    dir_ = dir;
    port_ = FreePort();
    std::ofstream(dir / "clamd.conf") << "Foreground no\n"
                                      << "LogFile " << (dir / "clamd.log").string() << "\n"
                                      << "PidFile " << (dir / "clamd.pid").string() << "\n"
                                      << "DatabaseDirectory " << database_dir.string() << "\n"
                                      << "TCPSocket " << port_ << "\nTCPAddr 127.0.0.1\n"
                                      << "StreamMaxLength 1M\nUser nobody\n";
    // clamd's parent waits for the daemon's "ready" SIGINT: a test started with SIGINT
    // ignored (a background job of a non-interactive shell) would pass that on and hang.
    std::signal(SIGINT, SIG_DFL);
    CommandResult started = RunShell(std::string(kBinary) + " -c " + (dir / "clamd.conf").string(), dir);
    if (started.exit_code != 0) {
      error = "clamd did not start: " + started.out + started.err + ReadAll(dir / "clamd.log");
      return false;
    }
    for (int i = 0; i < 300; ++i) {  // loading signatures: wait for PONG
      if (ExchangeTcp(port_, "zPING\0"s) == "PONG\0"s) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    error = "clamd did not answer PING: " + ReadAll(dir / "clamd.log");
    return false;
  }
  ~RealClamd() {
    std::string pid = ReadAll(dir_ / "clamd.pid");
    if (pid.empty()) return;
    pid_t p = static_cast<pid_t>(std::stol(pid));
    kill(p, SIGTERM);
    for (int i = 0; i < 100 && kill(p, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::uint16_t port() const { return port_; }

 private:
  fs::path dir_;
  std::uint16_t port_ = 0;
};

class ClamdFrontEndTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    fs::path root = scratch_->path();
    fs::permissions(root, fs::perms::all);  // clamd runs as nobody
    fs::create_directories(root / "db");
    // EICAR by MD5, under the name ClamAV's own databases once gave it.
    std::ofstream(root / "db/eicar.hdb") << "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n";
    fs::create_directories(root / "files/sub");
    std::ofstream(root / "files/clean.txt") << "nothing to see here\n";
    std::ofstream(root / "files/eicar.com", std::ios::binary) << Eicar();
    std::ofstream(root / "files/sub/eicar2.com", std::ios::binary) << Eicar();
    fs::create_directories(root / "outside");
    std::ofstream(root / "outside/other.txt") << "not for clamd\n";
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      fs::permissions(entry.path(), fs::perms::owner_all | fs::perms::group_read |
                                        fs::perms::group_exec | fs::perms::others_read |
                                        fs::perms::others_exec);
    }

    service::ServiceConfig config = service::EmbeddedDefaultConfig((root / "site").string());
    config.site.id = "test";
    config.clamav_db = "";
    config.signature_dirs = {(root / "db").string()};
    config.scan_threads = 2;
    auto site = service::Site::Open(config);
    ASSERT_TRUE(site.ok()) << site.status().ToString();
    site_ = site->release();
    ASSERT_TRUE(http::EnsureSelfSignedCertificate(config.certificate_file, config.private_key_file).ok());
    auto acme = service::CreateTenant(*site_, "test", "acme");
    auto globex = service::CreateTenant(*site_, "test", "globex");
    ASSERT_TRUE(acme.ok() && globex.ok());
    acme_ = new storage::Tenant(*acme);
    globex_ = new storage::Tenant(*globex);

    service::ClamdConfig clamd;
    clamd.tcp.port = 0;
    clamd.unix_socket = (root / "clamd.sock").string();
    clamd.tenant = "acme";  // by name
    clamd.tls_enabled = true;
    clamd.tls.port = 0;
    clamd.stream_max_length = kStreamMax;
    clamd.scan_directories = {(root / "files").string()};
    auto front = clamd::ClamdFrontEnd::Start(*site_, clamd, config.certificate_file,
                                             config.private_key_file, nullptr);
    ASSERT_TRUE(front.ok()) << front.status().ToString();
    front_ = front->release();
    for (const auto& endpoint : front_->bound()) {
      if (endpoint.transport == net::Transport::kTcp) tcp_port_ = endpoint.port;
      if (endpoint.transport == net::Transport::kTls) tls_port_ = endpoint.port;
    }
    certificate_ = new std::string(config.certificate_file);
  }

  static void TearDownTestSuite() {
    if (front_ != nullptr) front_->Stop(std::chrono::seconds(2));
    delete front_;
    delete site_;
    delete acme_;
    delete globex_;
    delete certificate_;
    delete scratch_;
  }

  static fs::path Root() { return scratch_->path(); }

  // A clamd.conf for clamdscan pointing at our TCP listener or our Unix socket.
  static fs::path ClientConfig(bool unix_socket) {
    fs::path conf = Root() / (unix_socket ? "client-unix.conf" : "client-tcp.conf");
    std::ofstream out(conf);
    if (unix_socket) {
      out << "LocalSocket " << (Root() / "clamd.sock").string() << "\n";
    } else {
      out << "TCPSocket " << tcp_port_ << "\nTCPAddr 127.0.0.1\n";
    }
    return conf;
  }

  static CommandResult Clamdscan(const std::string& args, bool unix_socket = false) {
    return RunShell("clamdscan --no-summary --config-file=" + ClientConfig(unix_socket).string() +
                        " " + args,
                    Root());
  }

  std::vector<storage::Event> Events(const storage::Tenant& tenant) {
    auto events = site_->store().QueryEvents(tenant.id, {.service = "clamd"});
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    return events.ok() ? *events : std::vector<storage::Event>{};
  }

  std::string Token(const storage::Tenant& tenant, std::vector<std::string> scopes,
                    std::string* id = nullptr) {
    service::TokenRequest request;
    request.tenant_id = tenant.id;
    request.name = "clamd";
    request.role = storage::Role::kAnalyst;
    request.scopes = std::move(scopes);
    auto token = service::CreateToken(*site_, "test", request);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    if (id != nullptr && token.ok()) *id = token->token.id;
    return token.ok() ? token->secret : "";
  }

  static inline ScratchDir* scratch_ = nullptr;
  static inline service::Site* site_ = nullptr;
  static inline clamd::ClamdFrontEnd* front_ = nullptr;
  static inline storage::Tenant* acme_ = nullptr;
  static inline storage::Tenant* globex_ = nullptr;
  static inline std::string* certificate_ = nullptr;
  static inline std::uint16_t tcp_port_ = 0, tls_port_ = 0;
};

bool HaveClamdscan() { return fs::exists("/usr/bin/clamdscan"); }

TEST_F(ClamdFrontEndTest, ClamdscanStreamsAndGetsClamdsAnswers) {
  if (!HaveClamdscan()) GTEST_SKIP() << "clamdscan is not installed (Debian package clamdscan)";
  std::string eicar = (Root() / "files/eicar.com").string();
  std::string clean = (Root() / "files/clean.txt").string();
  CommandResult found = Clamdscan("--stream " + eicar);
  EXPECT_EQ(found.exit_code, 1) << found.out << found.err;
  EXPECT_EQ(found.out, eicar + ": Eicar-Test-Signature.UNOFFICIAL FOUND\n") << found.err;
  CommandResult ok = Clamdscan("--stream " + clean);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out, clean + ": OK\n");
}

TEST_F(ClamdFrontEndTest, ClamdscanPassesDescriptorsOverTheUnixSocket) {
  if (!HaveClamdscan()) GTEST_SKIP() << "clamdscan is not installed (Debian package clamdscan)";
  std::string eicar = (Root() / "files/eicar.com").string();
  CommandResult found = Clamdscan("--fdpass " + eicar, /*unix_socket=*/true);
  EXPECT_EQ(found.exit_code, 1) << found.out << found.err;
  EXPECT_EQ(found.out, eicar + ": Eicar-Test-Signature.UNOFFICIAL FOUND\n") << found.err;
  CommandResult clean = Clamdscan("--fdpass " + (Root() / "files/clean.txt").string(), true);
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
}

TEST_F(ClamdFrontEndTest, ClamdscanMultiscanInsideAndOutsideTheAllowedDirectory) {
  if (!HaveClamdscan()) GTEST_SKIP() << "clamdscan is not installed (Debian package clamdscan)";
  CommandResult inside = Clamdscan("-m " + (Root() / "files").string());
  EXPECT_EQ(inside.exit_code, 1) << inside.out << inside.err;
  EXPECT_NE(inside.out.find((Root() / "files/eicar.com").string() +
                            ": Eicar-Test-Signature.UNOFFICIAL FOUND"),
            std::string::npos)
      << inside.out;
  EXPECT_NE(inside.out.find((Root() / "files/sub/eicar2.com").string() +
                            ": Eicar-Test-Signature.UNOFFICIAL FOUND"),
            std::string::npos)
      << inside.out;
  CommandResult outside = Clamdscan("-m " + (Root() / "outside").string());
  EXPECT_EQ(outside.exit_code, 2) << outside.out << outside.err;
  EXPECT_NE(outside.out.find("Access denied. ERROR"), std::string::npos) << outside.out;
}

TEST_F(ClamdFrontEndTest, ClamdscanDefaultModeSendsPaths) {
  if (!HaveClamdscan()) GTEST_SKIP() << "clamdscan is not installed (Debian package clamdscan)";
  std::string eicar = (Root() / "files/eicar.com").string();
  CommandResult found = Clamdscan(eicar);
  EXPECT_EQ(found.exit_code, 1) << found.out << found.err;
  EXPECT_EQ(found.out, eicar + ": Eicar-Test-Signature.UNOFFICIAL FOUND\n") << found.err;
  std::string outside = (Root() / "outside/other.txt").string();
  CommandResult refused = Clamdscan(outside);
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_EQ(refused.out, outside + ": Access denied. ERROR\n") << refused.err;
}

TEST_F(ClamdFrontEndTest, ByteParityWithRealClamd) {
  if (!fs::exists(RealClamd::kBinary)) {
    GTEST_SKIP() << "clamd is not installed (Debian package clamav-daemon)";
  }
  fs::path dir = Root() / "real-clamd";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::all);
  RealClamd real;
  std::string error;
  ASSERT_TRUE(real.Start(dir, Root() / "db", error)) << error;

  const std::string eicar = Eicar();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"PING z", "zPING\0"s},
      {"PING n", "nPING\n"},
      {"PING plain", "PING\n"},
      {"PING plain, ended by close", "PING"},
      {"unknown z", "zFOO\0"s},
      {"unknown n", "nHELLO WORLD\n"},
      {"unknown plain", "ping\n"},
      {"garbage", "\xff\xfe\x00\x01garbage\n"s},
      {"empty z", "z\0"s},
      {"END alone", "zEND\0"s},
      {"new command in the legacy form", "INSTREAM\n"},
      {"INSTREAM clean", "zINSTREAM\0"s + Chunks("just text\n")},
      {"INSTREAM empty", "zINSTREAM\0"s + clamd::EncodeChunkLength(0)},
      {"INSTREAM EICAR z", "zINSTREAM\0"s + Chunks(eicar, 10)},
      {"INSTREAM EICAR n", "nINSTREAM\n"s + Chunks(eicar)},
      {"INSTREAM at the limit", "zINSTREAM\0"s + Chunks(std::string(kStreamMax, 'A'))},
      {"INSTREAM over the limit", "zINSTREAM\0"s + Chunks(std::string(kStreamMax + 1, 'A'))},
      {"INSTREAM one huge chunk", "zINSTREAM\0"s + clamd::EncodeChunkLength(2 << 20) +
                                      std::string(2 << 20, 'A')},
      {"INSTREAM truncated", "zINSTREAM\0"s + clamd::EncodeChunkLength(100) + "abc"},
      {"IDSESSION", "zIDSESSION\0zPING\0zINSTREAM\0"s + Chunks(eicar) + "zEND\0"s},
      {"IDSESSION n", "nIDSESSION\nnPING\nnINSTREAM\n"s + Chunks("clean") + "nEND\n"},
      {"IDSESSION unknown", "zIDSESSION\0zPING\0zFOO\0zPING\0zEND\0"s},
      {"IDSESSION nested", "zIDSESSION\0zIDSESSION\0zPING\0zEND\0"s},
      {"IDSESSION oversize", "zIDSESSION\0zPING\0zINSTREAM\0"s +
                                 Chunks(std::string(kStreamMax + 1, 'A')) + "zPING\0zEND\0"s},
      {"IDSESSION without END", "zIDSESSION\0zPING\0"s},
      {"command at the length limit", "z" + std::string(clamd::kMaxCommandBytes, 'A') + "\0"s},
      {"command over the length limit", "z" + std::string(clamd::kMaxCommandBytes + 1, 'A') + "\0"s},
      {"FILDES over TCP", "zFILDES\0"s},
  };
  for (const auto& [name, input] : cases) {
    std::string theirs = ExchangeTcp(real.port(), input);
    std::string ours = ExchangeTcp(tcp_port_, input);
    EXPECT_EQ(ours, theirs) << name;
  }

  // The real client on a stream over StreamMaxLength: same output, same exit code.
  if (HaveClamdscan()) {
    fs::path big = dir / "big.bin";
    std::ofstream(big, std::ios::binary) << std::string(2 * kStreamMax, 'B');
    fs::path their_conf = dir / "client.conf";
    std::ofstream(their_conf) << "TCPSocket " << real.port() << "\nTCPAddr 127.0.0.1\n";
    CommandResult theirs = RunShell("clamdscan --no-summary --stream --config-file=" +
                                        their_conf.string() + " " + big.string(), dir);
    CommandResult ours = Clamdscan("--stream " + big.string());
    // Both servers answer the limit and close while clamdscan may still be sending: what
    // the client prints then depends on timing (the reply, or nothing when its send fails
    // first), with either server. Either form is clamdscan's, and the exit code is an error.
    auto client_saw = [](const std::string& out) {
      return out.empty() ||
             out == "Failed to parse reply: \"INSTREAM size limit exceeded. ERROR\"\n";
    };
    EXPECT_TRUE(client_saw(theirs.out)) << theirs.out;
    EXPECT_TRUE(client_saw(ours.out)) << ours.out;
    EXPECT_EQ(ours.exit_code, 2) << ours.out << ours.err;
    EXPECT_EQ(theirs.exit_code, 2) << theirs.out << theirs.err;
  }

  // VERSION differs in content (clamd without an official database prints no /DB/DATE);
  // both have clamd's form, and VERSIONCOMMANDS lists the same commands.
  std::regex version(R"(ClamAV \d+\.\d+\.\d+(/\d+/\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})?)");
  for (std::uint16_t port : {real.port(), tcp_port_}) {
    std::string reply = ExchangeTcp(port, "nVERSION\n");
    ASSERT_FALSE(reply.empty());
    EXPECT_TRUE(std::regex_match(reply.substr(0, reply.size() - 1), version)) << reply;
    std::string commands = ExchangeTcp(port, "zVERSIONCOMMANDS\0"s);
    EXPECT_EQ(commands.substr(commands.find('|')),
              "| COMMANDS:" + std::string(clamd::CommandList()) + "\0"s);
  }
  // Our VERSION is the three-part form c-icap parses.
  std::string ours = ExchangeTcp(tcp_port_, "nVERSION\n");
  EXPECT_NE(ours.find('/'), std::string::npos) << ours;
}

TEST_F(ClamdFrontEndTest, DetectionsBecomeEventsOfTheListenersTenant) {
  std::size_t before = Events(*acme_).size();
  EXPECT_EQ(ExchangeTcp(tcp_port_, "zINSTREAM\0"s + Chunks(Eicar())),
            "stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0"s);
  EXPECT_EQ(ExchangeTcp(tcp_port_, "zINSTREAM\0"s + Chunks("clean")), "stream: OK\0"s);
  auto events = Events(*acme_);
  ASSERT_EQ(events.size(), before + 1);
  EXPECT_EQ(events.back().object_name, "stream");
  EXPECT_EQ(events.back().service, "clamd");
  EXPECT_TRUE(Events(*globex_).empty());
}

TEST_F(ClamdFrontEndTest, TlsListenerScansForTheTokensTenantOnly) {
  std::string input = "zINSTREAM\0"s + Chunks(Eicar());
  std::size_t acme_before = Events(*acme_).size();
  std::string globex_token = Token(*globex_, {"scan"});
  EXPECT_EQ(ExchangeTls(tls_port_, *certificate_, "zAUTH " + globex_token + "\0"s + input),
            "AUTH OK\0stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0"s);
  auto globex_events = Events(*globex_);
  ASSERT_EQ(globex_events.size(), 1u);
  EXPECT_EQ(globex_events[0].tenant_id, globex_->id);
  EXPECT_EQ(Events(*acme_).size(), acme_before);  // nothing in the other tenant

  std::string token_id;
  std::string revoked = Token(*globex_, {"scan"}, &token_id);
  ASSERT_TRUE(service::RevokeToken(*site_, "test", globex_->id, token_id).ok());
  EXPECT_EQ(ExchangeTls(tls_port_, *certificate_, "zAUTH " + revoked + "\0"s + input),
            "AUTH FAILED: this token was revoked\0"s);
  std::string no_scan = Token(*globex_, {"events:read"});
  EXPECT_EQ(ExchangeTls(tls_port_, *certificate_, "nAUTH " + no_scan + "\n" + input),
            "AUTH FAILED: this token may not scan\n");
  EXPECT_EQ(ExchangeTls(tls_port_, *certificate_, input),
            "AUTH FAILED: authentication required (send AUTH <api-token> first)\0"s);
  EXPECT_EQ(ExchangeTls(tls_port_, *certificate_, "zAUTH not-a-token\0"s + input),
            "AUTH FAILED: credentials are not valid\0"s);
  EXPECT_EQ(Events(*globex_).size(), 1u);
}

TEST_F(ClamdFrontEndTest, StartErrorsNameTheirCause) {
  service::ClamdConfig clamd;
  clamd.tcp.port = 0;
  clamd.tenant = "no-such-tenant";
  auto front = clamd::ClamdFrontEnd::Start(*site_, clamd, "", "", nullptr);
  ASSERT_FALSE(front.ok());
  EXPECT_NE(front.status().message().find("no-such-tenant"), std::string::npos);
  clamd.tenant = "";
  clamd.scan_directories = {"/nonexistent/dir"};
  front = clamd::ClamdFrontEnd::Start(*site_, clamd, "", "", nullptr);
  ASSERT_FALSE(front.ok());
  EXPECT_NE(front.status().message().find("/nonexistent/dir"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::testing

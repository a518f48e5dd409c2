// The ICAP front-end against real peers on loopback: Debian's c-icap-client (OPTIONS,
// RESPMOD and REQMOD with and without preview and 204), and Squid configured with Bulwark
// as its ICAP service, fetching from a local web server through the proxy. A real site on
// SQLite records the events; a second tenant must see none of them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crypto/sha256.h"
#include "icap/icap_front_end.h"
#include "service/administration.h"
#include "test/support/service_harness.h"
#include "test/support/test_support.h"

extern char** environ;

namespace bulwark::testing {
namespace {

namespace fs = std::filesystem;

const std::string kCards = "Payment details: card 4111 1111 1111 1111, expiry 12/30, cvv 123\n";

class IcapIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceHarness::Options options;
    options.extra_signature_dir = signatures_.path().string();  // for the ISTag test
    auto started = ServiceHarness::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    harness_ = std::move(started).value();
    auto acme = service::CreateTenant(site(), "test", "acme");
    auto other = service::CreateTenant(site(), "test", "other");
    ASSERT_TRUE(acme.ok() && other.ok());
    acme_ = acme->id;
    other_ = other->id;
    // Uploads of card numbers through the proxy are refused; malware is quarantined.
    auto policy = site().store().AddPolicyVersion(acme_, R"({"mode": "enforce", "rules": [
        {"name": "no cards to the web", "protection": "dlp", "action": "reject",
         "scope": {"services": ["icap"]}},
        {"name": "malware", "protection": "malware", "action": "quarantine"}]})",
                                                  "test");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();

    service::IcapConfig config;
    config.listener = {"127.0.0.1", 0};
    config.tenants = {"acme"};
    config.preview_bytes = 1024;
    auto front = icap::IcapFrontEnd::Start(site(), config);
    ASSERT_TRUE(front.ok()) << front.status().ToString();
    icap_ = std::move(front).value();
    port_ = icap_->bound().at(0).port;

    files_.Write("clean.txt", std::string(50000, 'c') + "\nnothing to see here\n");
    files_.Write("eicar.com", Eicar());
    files_.Write("cards.txt", kCards);
  }

  void TearDown() override {
    if (icap_) icap_->Stop(std::chrono::milliseconds(1000));
  }

  service::Site& site() { return harness_->site(); }

  std::vector<storage::Event> Events(const std::string& tenant) {
    auto events = site().store().QueryEvents(tenant, storage::EventFilter{});
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    return events.ok() ? *events : std::vector<storage::Event>{};
  }

  // c-icap-client against our port; `args` add to the common ones.
  CommandResult CIcapClient(const std::string& args) {
    return RunShell("c-icap-client -i 127.0.0.1 -p " + std::to_string(port_) + " " + args,
                    scratch_.path());
  }

  // Sends `request` on a new connection and returns the reply up to the end of its head.
  std::string RawExchange(const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while (reply.find("\r\n\r\n") == std::string::npos &&
             (n = ::read(fd, buffer, sizeof buffer)) > 0) {
        reply.append(buffer, static_cast<std::size_t>(n));
      }
    }
    ::close(fd);
    return reply;
  }

  std::unique_ptr<ServiceHarness> harness_;
  std::unique_ptr<icap::IcapFrontEnd> icap_;
  std::uint16_t port_ = 0;
  std::string acme_, other_;
  ScratchDir files_;
  ScratchDir scratch_;
  ScratchDir signatures_;
};

std::string IstagOf(const std::string& reply) {
  std::size_t at = reply.find("\r\nISTag: ");
  if (at == std::string::npos) return "";
  std::size_t start = at + 9;
  return reply.substr(start, reply.find("\r\n", start) - start);
}

// RFC 3507 §4.7: the ISTag changes whenever the service would answer differently, here
// when the signatures reload; proxies drop their cached answers on a new tag.
TEST_F(IcapIntegrationTest, IstagChangesWhenSignaturesReload) {
  const std::string options = "OPTIONS icap://127.0.0.1/respmod ICAP/1.0\r\n\r\n";
  std::string before = IstagOf(RawExchange(options));
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(IstagOf(RawExchange(options)), before) << "stable while nothing changes";

  const std::string sample = "a download only the new signature knows\n";
  signatures_.Write("update.hsb", crypto::ToHex(crypto::Sha256(sample)) + ":" +
                                      std::to_string(sample.size()) + ":Bulwark.Test.Istag\n");
  auto reloaded = site().ReloadSignaturesIfChanged();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  ASSERT_TRUE(*reloaded);
  std::string after = IstagOf(RawExchange(options));
  EXPECT_FALSE(after.empty());
  EXPECT_NE(after, before);
}

TEST_F(IcapIntegrationTest, CIcapClient) {
  if (!HaveProgram("c-icap-client")) {
    GTEST_SKIP() << "c-icap-client is not installed (Debian package c-icap; "
                    "scripts/install-deps.sh --test)";
  }
  const fs::path dir = files_.path();
  const fs::path out = files_.path() / "reply";  // (RunShell keeps "out" for itself)

  CommandResult options = CIcapClient("-s acme/respmod -v");
  ASSERT_EQ(options.exit_code, 0) << options.out << options.err;
  std::string all = options.out + options.err;
  EXPECT_NE(all.find("ISTag"), std::string::npos) << all;
  EXPECT_NE(all.find("RESPMOD"), std::string::npos) << all;
  EXPECT_NE(all.find("Preview: 1024"), std::string::npos) << all;

  // A clean download: 204 with preview and Allow: 204; byte-identical echo without either.
  CommandResult clean = CIcapClient("-s acme/respmod -v -f " + (dir / "clean.txt").string() +
                                    " -resp http://files.example/clean.txt?token=x -o " +
                                    out.string());
  all = clean.out + clean.err;
  EXPECT_NE(all.find("204"), std::string::npos) << all;
  CommandResult echoed = CIcapClient("-s acme/respmod -nopreview -no204 -f " +
                                     (dir / "clean.txt").string() +
                                     " -resp http://files.example/clean.txt -o " + out.string());
  ASSERT_EQ(echoed.exit_code, 0) << echoed.out << echoed.err;
  EXPECT_EQ(ReadAll(out), ReadAll(dir / "clean.txt"));

  // EICAR: the block page, with and without preview.
  for (const std::string mode : {"", "-nopreview -no204 "}) {
    fs::remove(out);
    CommandResult eicar = CIcapClient("-s acme/respmod -v " + mode + "-f " +
                                      (dir / "eicar.com").string() +
                                      " -resp http://files.example/dl/eicar.com?token=secret -o " +
                                      out.string());
    all = eicar.out + eicar.err;
    EXPECT_NE(all.find("403"), std::string::npos) << mode << all;
    std::string page = ReadAll(out);
    EXPECT_NE(page.find("EICAR"), std::string::npos) << mode << page;
    EXPECT_NE(page.find("eicar.com"), std::string::npos) << page;
    EXPECT_EQ(page.find("secret"), std::string::npos) << page;  // never the query string
    EXPECT_EQ(page.find("EICAR-STANDARD"), std::string::npos) << page;  // never the content
  }

  // An upload with card numbers (REQMOD), with and without preview.
  for (const std::string mode : {"", "-nopreview -no204 "}) {
    fs::remove(out);
    CommandResult upload = CIcapClient("-s acme/reqmod -v " + mode + "-f " +
                                       (dir / "cards.txt").string() +
                                       " -req http://cloud.example/upload -o " + out.string());
    all = upload.out + upload.err;
    EXPECT_NE(all.find("403"), std::string::npos) << mode << all;
    EXPECT_NE(ReadAll(out).find("DLP"), std::string::npos) << ReadAll(out);
    EXPECT_EQ(ReadAll(out).find("4111"), std::string::npos);
  }

  // A tenant not configured for this listener, and an unknown one: 404, nothing recorded.
  for (const std::string service : {"other/respmod", "nobody/respmod"}) {
    CommandResult refused = CIcapClient("-s " + service + " -v -f " +
                                        (dir / "eicar.com").string() +
                                        " -resp http://files.example/eicar.com");
    // c-icap-client prints no status for a refusal; the reply itself is checked below.
    EXPECT_EQ(refused.out.find("403"), std::string::npos) << service << ": " << refused.out;
    std::string reply = RawExchange("OPTIONS icap://127.0.0.1/" + service + " ICAP/1.0\r\n\r\n");
    EXPECT_EQ(reply.rfind("ICAP/1.0 404 ", 0), 0u) << service << ": " << reply;
  }

  std::vector<storage::Event> events = Events(acme_);
  EXPECT_GE(events.size(), 4u);
  bool dlp = false, malware = false;
  for (const auto& e : events) {
    EXPECT_EQ(e.service, "icap");
    dlp |= e.threat_type == "dlp";
    malware |= e.threat_type == "malware";
  }
  EXPECT_TRUE(dlp && malware);
  EXPECT_TRUE(Events(other_).empty());
}

TEST_F(IcapIntegrationTest, SquidThroughTheProxy) {
  for (const std::string program : {"squid", "curl", "python3"}) {
    if (!HaveProgram(program)) {
      GTEST_SKIP() << program << " is not installed (scripts/install-deps.sh --test)";
    }
  }
  // Squid drops root privileges to `proxy`: its directory must be that user's to write.
  ScratchDir squid_dir;
  fs::permissions(squid_dir.path(), fs::perms::all);
  const std::uint16_t web_port = FreePort();
  const std::uint16_t proxy_port = FreePort();
  std::string icap = "icap://127.0.0.1:" + std::to_string(port_) + "/acme/";
  std::ofstream(squid_dir.path() / "squid.conf")
      << "http_port 127.0.0.1:" << proxy_port << "\n"
      << "pid_filename " << (squid_dir.path() / "squid.pid").string() << "\n"
      << "cache_effective_user proxy\n"
      << "cache deny all\n"
      << "cache_mem 8 MB\n"
      << "access_log stdio:" << (squid_dir.path() / "access.log").string() << "\n"
      << "cache_log " << (squid_dir.path() / "cache.log").string() << "\n"
      << "cache_store_log none\n"
      << "netdb_filename none\n"
      << "coredump_dir " << squid_dir.path().string() << "\n"
      << "shutdown_lifetime 0 seconds\n"
      << "http_access allow localhost\n"
      << "http_access deny all\n"
      << "icap_enable on\n"
      << "icap_preview_enable on\n"
      << "icap_preview_size 1024\n"
      << "icap_service bulwark_req reqmod_precache bypass=off " << icap << "reqmod\n"
      << "icap_service bulwark_resp respmod_precache bypass=off " << icap << "respmod\n"
      << "adaptation_access bulwark_req allow all\n"
      << "adaptation_access bulwark_resp allow all\n";
  ChildProcess web({"python3", "-m", "http.server", std::to_string(web_port), "--bind",
                    "127.0.0.1", "--directory", files_.path().string()},
                   scratch_.path() / "web.log");
  ChildProcess squid({"squid", "-N", "-f", (squid_dir.path() / "squid.conf").string()},
                     scratch_.path() / "squid.log");
  ASSERT_TRUE(WaitForPort(web_port, std::chrono::seconds(10))) << ReadAll(scratch_.path() / "web.log");
  ASSERT_TRUE(WaitForPort(proxy_port, std::chrono::seconds(20)))
      << ReadAll(scratch_.path() / "squid.log") << ReadAll(squid_dir.path() / "cache.log");

  const std::string base = "http://127.0.0.1:" + std::to_string(web_port) + "/";
  const std::string curl = "curl -s --max-time 20 -x http://127.0.0.1:" +
                           std::to_string(proxy_port) + " -o " +
                           (scratch_.path() / "body").string() + " -w '%{http_code}' ";
  CommandResult clean = RunShell(curl + base + "clean.txt", scratch_.path());
  EXPECT_EQ(clean.out, "200") << clean.err << ReadAll(squid_dir.path() / "cache.log");
  EXPECT_EQ(ReadAll(scratch_.path() / "body"), ReadAll(files_.path() / "clean.txt"));

  CommandResult eicar = RunShell(curl + base + "eicar.com", scratch_.path());
  EXPECT_EQ(eicar.out, "403") << eicar.err;
  std::string page = ReadAll(scratch_.path() / "body");
  EXPECT_NE(page.find("Blocked by"), std::string::npos) << page;
  EXPECT_NE(page.find("EICAR"), std::string::npos) << page;

  CommandResult upload = RunShell(curl + "-F 'file=@" + (files_.path() / "cards.txt").string() +
                                      "' -F comment=hello " + base + "upload",
                                  scratch_.path());
  EXPECT_EQ(upload.out, "403") << upload.err;
  EXPECT_NE(ReadAll(scratch_.path() / "body").find("cards.txt"), std::string::npos);

  std::vector<storage::Event> events = Events(acme_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].threat_type, "malware");
  EXPECT_EQ(events[0].object_name, "eicar.com");
  EXPECT_EQ(events[1].threat_type, "dlp");
  EXPECT_EQ(events[1].action, "reject");
  EXPECT_TRUE(Events(other_).empty());
}

}  // namespace
}  // namespace bulwark::testing

#include "service/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace bulwark::service {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/bulwark-config-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& text) {
    std::string path = dir_ + "/bulwark.toml";
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(ConfigTest, EmbeddedDefaultKeepsEverythingInTheDataDirectoryOnLoopback) {
  ServiceConfig c = EmbeddedDefaultConfig(dir_ + "/data");
  EXPECT_EQ(c.data_dir, dir_ + "/data");
  EXPECT_EQ(c.database_url, "sqlite:" + dir_ + "/data/bulwark.db");
  EXPECT_EQ(c.api.address, "127.0.0.1");
  EXPECT_EQ(c.api.port, 8443);
  EXPECT_TRUE(c.generate_certificate);
  EXPECT_EQ(c.kek_file, dir_ + "/data/keys/kek");
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST_F(ConfigTest, FrontEndsListenOnLoopbackInTheEmbeddedDefault) {
  ServiceConfig c = EmbeddedDefaultConfig(dir_ + "/data");
  EXPECT_TRUE(c.clamd.enabled);
  EXPECT_EQ(c.clamd.tcp.address, "127.0.0.1");
  EXPECT_EQ(c.clamd.tcp.port, 3310);
  EXPECT_EQ(c.clamd.unix_socket, dir_ + "/data/clamd.sock");
  EXPECT_FALSE(c.clamd.tls_enabled);
  EXPECT_FALSE(c.clamd.allow_shutdown);
  EXPECT_TRUE(c.clamd.scan_directories.empty());
  EXPECT_FALSE(c.sender_auth) << "no DNS unless asked for";
  EXPECT_TRUE(c.icap.enabled);
  EXPECT_EQ(c.icap.listener.address, "127.0.0.1");
  EXPECT_EQ(c.icap.listener.port, 1344);
}

TEST_F(ConfigTest, ReadsTheFrontEndSections) {
  auto config = LoadConfig(Write(R"(
data_dir = ")" + dir_ + R"("
[clamd]
port = 13310
unix_socket = "/run/bulwark/clamd.sock"
tenant = "acme"
tls = true
tls_address = "0.0.0.0"
tls_port = 13311
stream_max_length = 1048576
max_connections = 7
idle_timeout_seconds = 5
read_timeout_seconds = 9
scan_directories = ["/srv/share"]
allow_shutdown = true
[sender_auth]
enabled = true
nameserver = "127.0.0.1:5353"
trusted_authserv_ids = ["mx.example.org"]
trusted_arc_sealers = ["Lists.Example.ORG"]
[icap]
address = "0.0.0.0"
port = 11344
tenant = "acme"
tenants = ["acme", "globex"]
preview_bytes = 1024
max_object_bytes = 2048
block_oversize = true
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->clamd.tcp.port, 13310);
  EXPECT_EQ(config->clamd.unix_socket, "/run/bulwark/clamd.sock");
  EXPECT_EQ(config->clamd.tenant, "acme");
  EXPECT_TRUE(config->clamd.tls_enabled);
  EXPECT_EQ(config->clamd.tls.address, "0.0.0.0");
  EXPECT_EQ(config->clamd.tls.port, 13311);
  EXPECT_EQ(config->clamd.stream_max_length, 1048576u);
  EXPECT_EQ(config->clamd.max_connections, 7u);
  EXPECT_EQ(config->clamd.idle_timeout, std::chrono::seconds(5));
  EXPECT_EQ(config->clamd.read_timeout, std::chrono::seconds(9));
  EXPECT_EQ(config->clamd.scan_directories, std::vector<std::string>{"/srv/share"});
  EXPECT_TRUE(config->clamd.allow_shutdown);
  EXPECT_TRUE(config->sender_auth);
  EXPECT_EQ(config->sender_auth_nameserver, "127.0.0.1:5353");
  EXPECT_EQ(config->sender_auth_trusted_authserv_ids, std::vector<std::string>{"mx.example.org"});
  EXPECT_EQ(config->sender_auth_trusted_arc_sealers, std::vector<std::string>{"lists.example.org"});
  EXPECT_EQ(config->icap.listener.port, 11344);
  EXPECT_EQ(config->icap.tenants, (std::vector<std::string>{"acme", "globex"}));
  EXPECT_EQ(config->icap.preview_bytes, 1024u);
  EXPECT_EQ(config->icap.max_object_bytes, 2048u);
  EXPECT_TRUE(config->icap.block_oversize);
}

TEST_F(ConfigTest, RejectsBadFrontEndSettings) {
  auto relative = LoadConfig(Write("[clamd]\nscan_directories = [\"srv\"]\n"));
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.status().message().find("absolute"), std::string::npos);
  auto unknown = LoadConfig(Write("[icap]\nprevew_bytes = 1\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("prevew_bytes"), std::string::npos);
  auto same_port = LoadConfig(Write("[clamd]\nport = 3310\ntls = true\ntls_port = 3310\n"));
  ASSERT_FALSE(same_port.ok());
  auto zero = LoadConfig(Write("[clamd]\nidle_timeout_seconds = 0\n"));
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("clamd.idle_timeout_seconds"), std::string::npos);
}

TEST_F(ConfigTest, ReadsTheMailSectionsAndTheirDomains) {
  ServiceConfig d = EmbeddedDefaultConfig(dir_);
  EXPECT_EQ(d.smtp.listener.address, "127.0.0.1");
  EXPECT_EQ(d.smtp.listener.port, 2525);
  EXPECT_EQ(d.milter.listener.address, "127.0.0.1");
  EXPECT_EQ(d.milter.listener.port, 8891);
  EXPECT_TRUE(d.mail.domains.empty());  // the gateway relays nothing until told to

  auto config = LoadConfig(Write(R"(
[mail]
hostname = "mx1.example.org"
subject_tag = "[CHECK]"
[[mail.domains]]
domain = "Example.ORG"
include_subdomains = true
tenant = "acme"
next_hop = "10.0.0.25:25"
next_hop_tls = "required"
[[mail.domains]]
domain = "globex.example"
tenant = "globex"
[smtp]
port = 2526
max_recipients = 50
starttls = false
[milter]
port = 8892
tenant = "acme"
timeout_seconds = 60
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->mail.hostname, "mx1.example.org");
  EXPECT_EQ(config->mail.subject_tag, "[CHECK]");
  ASSERT_EQ(config->mail.domains.size(), 2u);
  EXPECT_EQ(config->mail.domains[0].domain, "example.org");  // lower-cased
  EXPECT_TRUE(config->mail.domains[0].include_subdomains);
  EXPECT_EQ(config->mail.domains[0].next_hop_tls, "required");
  EXPECT_EQ(config->mail.domains[1].next_hop_tls, "opportunistic");
  EXPECT_EQ(config->smtp.listener.port, 2526);
  EXPECT_EQ(config->smtp.max_recipients, 50u);
  EXPECT_FALSE(config->smtp.starttls);
  EXPECT_EQ(config->milter.listener.port, 8892);
  EXPECT_EQ(config->milter.tenant, "acme");
  EXPECT_EQ(config->milter.timeout, std::chrono::seconds(60));

  auto no_tenant = LoadConfig(Write("[[mail.domains]]\ndomain = \"a.example\"\n"));
  EXPECT_NE(no_tenant.status().message().find("needs a tenant"), std::string::npos);
  auto bad_tls = LoadConfig(Write(
      "[[mail.domains]]\ndomain = \"a.example\"\ntenant = \"t\"\nnext_hop_tls = \"maybe\"\n"));
  EXPECT_NE(bad_tls.status().message().find("next_hop_tls"), std::string::npos);
  auto typo = LoadConfig(Write("[[mail.domains]]\ndomian = \"a.example\"\n"));
  EXPECT_NE(typo.status().message().find("mail.domains[0].domian"), std::string::npos)
      << typo.status().message();
  auto not_tables = LoadConfig(Write("[mail]\ndomains = [\"a.example\"]\n"));
  EXPECT_FALSE(not_tables.ok());
}

TEST_F(ConfigTest, MailboxConnectorAndNoticeSettings) {
  ServiceConfig d = EmbeddedDefaultConfig(dir_);
  EXPECT_TRUE(d.mailbox.enabled);
  EXPECT_TRUE(d.mail.sign_verdicts);
  EXPECT_FALSE(d.mail.notify_recipients);
  EXPECT_EQ(d.mailbox.trust_signed_verdicts, std::chrono::seconds(7 * 86400));
  auto config = LoadConfig(Write(R"(
[mail]
notify_address = "soc@example.org"
notify_recipients = true
notify_relay = "127.0.0.1:25"
sign_verdicts = false
[mailbox]
max_connectors = 10
idle_interval_seconds = 600
lease_seconds = 30
tag_keyword = "$Phish"
trust_signed_verdicts_seconds = 0
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->mail.notify_address, "soc@example.org");
  EXPECT_TRUE(config->mail.notify_recipients);
  EXPECT_EQ(config->mail.notify_relay, "127.0.0.1:25");
  EXPECT_FALSE(config->mail.sign_verdicts);
  EXPECT_EQ(config->mailbox.max_connectors, 10u);
  EXPECT_EQ(config->mailbox.idle_interval, std::chrono::seconds(600));
  EXPECT_EQ(config->mailbox.lease, std::chrono::seconds(30));
  EXPECT_EQ(config->mailbox.tag_keyword, "$Phish");
  EXPECT_EQ(config->mailbox.trust_signed_verdicts, std::chrono::seconds(0));
  auto long_idle = LoadConfig(Write("[mailbox]\nidle_interval_seconds = 1800\n"));
  EXPECT_NE(long_idle.status().message().find("RFC 2177"), std::string::npos);
  auto typo = LoadConfig(Write("[mailbox]\nlease = 30\n"));
  EXPECT_FALSE(typo.ok());
}

TEST_F(ConfigTest, DataDirectoryComesFromTheEnvironment) {
  setenv("BULWARK_DATA", (dir_ + "/env-data").c_str(), 1);
  EXPECT_EQ(DefaultDataDir(), dir_ + "/env-data");
  unsetenv("BULWARK_DATA");
  EXPECT_EQ(DefaultDataDir(), (std::filesystem::current_path() / "bulwark-data").string());
}

TEST_F(ConfigTest, ReadsEverySection) {
  auto config = LoadConfig(Write(R"(
data_dir = ")" + dir_ + R"("
[site]
id = "eu-west"
name = "Frankfurt"
region = "eu"
[database]
url = "postgresql://bulwark@127.0.0.1:5432/bulwark"
[api]
address = "0.0.0.0"
port = 9443
[tls]
certificate = "/etc/bulwark/cert.pem"
private_key = "/etc/bulwark/key.pem"
[sandbox]
url = "https://sandbox.eu-west.example"
site = "eu-west"
[engine]
signature_dirs = ["/var/lib/bulwark/rules"]
threads = 3
[access]
login_failures_before_lockout = 3
require_mfa = false
[syslog]
host = "siem.example"
port = 1514
tls = false
[quarantine]
s3_endpoint = "http://127.0.0.1:4568"
s3_bucket = "q"
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->site.id, "eu-west");
  EXPECT_EQ(config->site.region, "eu");
  EXPECT_EQ(config->database_url, "postgresql://bulwark@127.0.0.1:5432/bulwark");
  EXPECT_EQ(config->api.port, 9443);
  EXPECT_FALSE(config->generate_certificate);
  EXPECT_EQ(config->certificate_file, "/etc/bulwark/cert.pem");
  EXPECT_EQ(config->quarantine_dir, dir_ + "/quarantine");
  EXPECT_EQ(config->signature_dirs, std::vector<std::string>{"/var/lib/bulwark/rules"});
  EXPECT_EQ(config->scan_threads, 3);
  EXPECT_EQ(config->login_failures_before_lockout, 3);
  EXPECT_FALSE(config->require_mfa);
  EXPECT_EQ(config->syslog_host, "siem.example");
  EXPECT_EQ(config->syslog_port, 1514);
  EXPECT_FALSE(config->syslog_tls);
  EXPECT_EQ(config->quarantine_s3_bucket, "q");
}

TEST_F(ConfigTest, ErrorsNameTheKeyAndTheLine) {
  auto unknown = LoadConfig(Write("[api]\nprot = 1\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("api.prot"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("line 2"), std::string::npos);

  auto type = LoadConfig(Write("[api]\nport = \"8443\"\n"));
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("api.port must be an integer"), std::string::npos);

  auto range = LoadConfig(Write("[api]\nport = 70000\n"));
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("between 0 and 65535"), std::string::npos);

  auto syntax = LoadConfig(Write("[api\n"));
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("line 1"), std::string::npos);
}

TEST_F(ConfigTest, RefusesASandboxOfAnotherSite) {
  auto config = LoadConfig(Write(
      "[site]\nid = \"eu\"\n[sandbox]\nurl = \"https://sandbox.us\"\nsite = \"us\"\n"));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("belongs to site \"us\""), std::string::npos);
}

TEST_F(ConfigTest, RefusesABadSiteIdAndHalfATlsPair) {
  EXPECT_FALSE(LoadConfig(Write("[site]\nid = \"Bad Site\"\n")).ok());
  EXPECT_FALSE(LoadConfig(Write("[tls]\ncertificate = \"/c.pem\"\n")).ok());
  EXPECT_FALSE(LoadConfig(Write("[database]\nurl = \"mysql://x\"\n")).ok());
}

}  // namespace
}  // namespace bulwark::service

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

// The mailbox connector (API mode) against a real Dovecot on loopback: connectors created
// through the HTTPS API, the worker threads of `bulwark serve` (MailboxService) picking up
// new mail with IDLE, the policy applied inside the mailbox (quarantine folder, tagged copy,
// cleaned copy), restore, sweeps with progress, the signed verdict header, refused
// credentials backed off, OAuth2 over STARTTLS, a rebuilt folder (new UIDVALIDITY), and
// tenant isolation of every route.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "crypto/sha256.h"
#include "mail/mail_scan.h"
#include "mail/verdict_seal.h"
#include "mailbox/mailbox_service.h"
#include "service/administration.h"
#include "test/support/dovecot_server.h"
#include "test/support/service_harness.h"
#include "test/support/test_support.h"

namespace bulwark::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kCards =
    "Payment details: card 4111 1111 1111 1111, expiry 12/30, cvv 123\r\n"
    "Second card 5500 0000 0000 0004, third 3400 000000 00009.\r\n";

// An ordinary message with a unique Message-ID.
std::string Plain(const std::string& id, const std::string& subject, const std::string& body) {
  return "From: Carol Example <carol@example.com>\r\nTo: alice@example.com\r\n"
         "Subject: " + subject + "\r\nDate: Tue, 14 Nov 2023 10:00:00 +0000\r\n"
         "Message-ID: <" + id + "@example.com>\r\n\r\n" + body;
}

std::string EicarZipMail(const std::string& subject) {
  return MakeMail(subject, "Please find the invoice attached.",
                  {{"invoice.zip", MakeArchive("zip", {{"invoice.com", Eicar()}})}});
}

bool HasFlag(const DovecotServer::StoredMessage& m, const std::string& flag) {
  return std::find(m.flags.begin(), m.flags.end(), flag) != m.flags.end();
}

class MailboxConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveProgram("doveadm") || !fs::exists("/usr/sbin/dovecot")) {
      if (const char* require = std::getenv("BULWARK_REQUIRE_DOVECOT"); require && *require == '1') {
        FAIL() << "Dovecot is required (BULWARK_REQUIRE_DOVECOT=1) but not installed";
      }
      GTEST_SKIP() << "Dovecot is not installed (apt install dovecot-imapd)";
    }
    DovecotOptions dovecot;
    dovecot.users = {{"alice@example.com", "alice-secret"}, {"bob@example.com", "bob-secret"}};
    dovecot.oauth_tokens = {{"bob-oauth-token", "bob@example.com"}};
    auto imap = DovecotServer::Start(dovecot);
    ASSERT_TRUE(imap.ok()) << imap.status().ToString();
    imap_ = std::move(imap).value();

    ServiceHarness::Options options;
    options.mailbox.refresh_interval = 1s;
    options.mailbox.idle_interval = 1s;
    options.mailbox.poll_interval = 1s;
    options.mailbox.lease = 6s;
    options.mailbox.timeout = 10s;
    auto started = ServiceHarness::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    harness_ = std::move(started).value();
    auto acme = service::CreateTenant(site(), "test", "acme");
    auto other = service::CreateTenant(site(), "test", "other");
    ASSERT_TRUE(acme.ok() && other.ok());
    acme_ = acme->id;
    other_ = other->id;
    SetPolicy(R"({"mode": "enforce", "rules": [
        {"name": "malware", "protection": "malware", "action": "quarantine"},
        {"name": "cards", "protection": "dlp", "action": "tag"}]})");
    acme_token_ = Token(acme_);
    other_token_ = Token(other_);
    // The operator places the server's CA where connectors may name it.
    fs::create_directories(fs::path(harness_->data_dir()) / "ca");
    ca_file_ = (fs::path(harness_->data_dir()) / "ca" / "dovecot.pem").string();
    fs::copy_file(imap_->ca_file(), ca_file_);
  }

  void TearDown() override {
    if (service_) service_->Stop();
  }

  service::Site& site() { return harness_->site(); }

  void SetPolicy(const std::string& body) {
    auto policy = site().store().AddPolicyVersion(acme_, body, "test");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  }

  Credentials Token(const std::string& tenant) {
    service::TokenRequest request;
    request.tenant_id = tenant;
    request.name = "mailbox admin";
    request.role = storage::Role::kTenantAdmin;
    request.scopes = {"mailboxes:read", "mailboxes:write", "quarantine:write", "events:read"};
    auto token = service::CreateToken(site(), "test", request);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return Credentials::Bearer(token.ok() ? token->secret : "");
  }

  // Creates a connector for alice over implicit TLS; its id.
  std::string CreateAliceConnector(const std::string& password = "alice-secret") {
    json body = {{"name", "alice@example.com"}, {"host", "127.0.0.1"},
                 {"port", imap_->imaps_port()}, {"tls", "implicit"},
                 {"ca_file", ca_file_},         {"username", "alice@example.com"},
                 {"secret", password}};
    ApiResponse created = harness_->Call("POST", "/api/v1/mailboxes", acme_token_, body.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.body.find(password), std::string::npos);  // never echoed
    return created.json.value("id", "");
  }

  void StartService() {
    service_ = std::make_unique<mailbox::MailboxService>(site());
    service_->Start();
  }

  json Connector(const std::string& id, const Credentials& who) {
    return harness_->Call("GET", "/api/v1/mailboxes/" + id, who).json;
  }

  // Waits until `done` holds for the connector's JSON (up to 30 s).
  bool WaitFor(const std::string& id, const std::function<bool(const json&)>& done) {
    for (int i = 0; i < 300; ++i) {
      json c = Connector(id, acme_token_);
      if (c.is_object() && done(c)) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  bool WaitForScanned(const std::string& id, std::int64_t messages) {
    return WaitFor(id, [&](const json& c) {
      return c["state"]["messages_scanned"].get<std::int64_t>() >= messages;
    });
  }
  bool WaitUntilWatching(const std::string& id) {
    return WaitFor(id, [](const json& c) {
      return c["state"]["status"] == "ok" && !c["folder_state"].empty();
    });
  }

  std::vector<DovecotServer::StoredMessage> Folder(const std::string& user, const std::string& f) {
    auto messages = imap_->Messages(user, f);
    return messages.ok() ? *messages : std::vector<DovecotServer::StoredMessage>{};
  }

  std::unique_ptr<DovecotServer> imap_;
  std::unique_ptr<ServiceHarness> harness_;
  std::unique_ptr<mailbox::MailboxService> service_;
  std::string acme_, other_, ca_file_;
  Credentials acme_token_, other_token_;
};

TEST_F(MailboxConnectorTest, NewMailIsScannedAndHandledInsideTheMailbox) {
  std::string id = CreateAliceConnector();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Connector(id, acme_token_)["state"]["status"], "pending");
  StartService();
  ASSERT_TRUE(WaitUntilWatching(id)) << Connector(id, acme_token_).dump() << imap_->log_text();

  const std::string clean = Plain("clean-1", "lunch", "See you at noon.\r\n");
  const std::string malware = EicarZipMail("invoice 42");
  const std::string cards = Plain("cards-1", "card numbers", kCards);
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", clean).ok());
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", malware).ok());
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", cards).ok());
  ASSERT_TRUE(WaitForScanned(id, 3)) << Connector(id, acme_token_).dump();
  // The tagged copy is appended after the last scan is counted: give it a moment.
  std::this_thread::sleep_for(1s);

  std::vector<DovecotServer::StoredMessage> inbox = Folder("alice@example.com", "INBOX");
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].text, clean);  // untouched, byte for byte
  const DovecotServer::StoredMessage& tagged = inbox[1];
  EXPECT_TRUE(HasFlag(tagged, "$Bulwark-Suspicious")) << ::testing::PrintToString(tagged.flags);
  EXPECT_TRUE(HasFlag(tagged, "$Bulwark-Scanned"));
  EXPECT_NE(tagged.text.find("Subject: [SUSPICIOUS] card numbers"), std::string::npos) << tagged.text;
  EXPECT_NE(tagged.text.find("X-Bulwark-Verdict: policy_violation; action=tag"), std::string::npos)
      << tagged.text;
  EXPECT_NE(tagged.text.find(kCards), std::string::npos);  // the body itself unchanged

  std::vector<DovecotServer::StoredMessage> held = Folder("alice@example.com", "Quarantine");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].text, malware);

  json c = Connector(id, acme_token_);
  EXPECT_EQ(c["state"]["detections"], 2);
  EXPECT_EQ(c["state"]["messages_scanned"], 3);
  EXPECT_GT(c["state"]["bytes_scanned"].get<std::int64_t>(),
            static_cast<std::int64_t>(clean.size() + malware.size()));
  ASSERT_EQ(c["folder_state"].size(), 1u);
  EXPECT_EQ(c["folder_state"][0]["folder"], "INBOX");
  EXPECT_EQ(c["state"]["watched_by"], service_->owner());
  auto events = site().store().QueryEvents(acme_, storage::EventFilter{.service = "imap"});
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u);

  // Restore: the message goes back to the inbox and stays there.
  ApiResponse list = harness_->Call("GET", "/api/v1/mailbox-quarantine?status=held", acme_token_);
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json["items"].size(), 1u);
  EXPECT_EQ(list.json["items"][0]["origin_folder"], "INBOX");
  EXPECT_EQ(list.json["items"][0]["sender"], "alice@example.com");
  std::string item = list.json["items"][0]["id"];
  ApiResponse restored =
      harness_->Call("POST", "/api/v1/mailbox-quarantine/" + item + "/restore", acme_token_);
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(restored.json["status"], "restored");
  EXPECT_EQ(harness_->Call("POST", "/api/v1/mailbox-quarantine/" + item + "/restore", acme_token_)
                .status,
            409);
  std::this_thread::sleep_for(3s);  // a few sync rounds
  EXPECT_TRUE(Folder("alice@example.com", "Quarantine").empty());
  inbox = Folder("alice@example.com", "INBOX");
  ASSERT_EQ(inbox.size(), 3u);
  EXPECT_EQ(inbox[2].text, malware);
  EXPECT_TRUE(HasFlag(inbox[2], "$Bulwark-Released"));
  EXPECT_EQ(Connector(id, acme_token_)["state"]["messages_scanned"], 3);  // not scanned again
  EXPECT_TRUE(harness_->openapi_violations().empty())
      << ::testing::PrintToString(harness_->openapi_violations());
}

TEST_F(MailboxConnectorTest, SignedVerdictsAreTrustedAndForgedOnesIgnored) {
  std::string id = CreateAliceConnector();
  StartService();
  ASSERT_TRUE(WaitUntilWatching(id));
  mail::VerdictSealKey key{site().verdict_key(), site().config().site.id,
                           site().engine().signature_version()};
  // Sealed "clean" by this site's gateway: not scanned again (even though a scan would
  // find EICAR: that is how the test tells a trusted verdict from a scan).
  std::string genuine = EicarZipMail("sealed");
  genuine = mail::FormatHeaderField(mail::SealVerdict(key, "clean", genuine, service::Site::Now())) +
            genuine;
  mail::VerdictSealKey wrong = key;
  wrong.key = std::string(32, 'x');
  std::string forged = EicarZipMail("forged");
  forged = mail::FormatHeaderField(mail::SealVerdict(wrong, "clean", forged, service::Site::Now())) +
           forged;
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", genuine).ok());
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", forged).ok());
  ASSERT_TRUE(WaitForScanned(id, 1));
  std::this_thread::sleep_for(2s);
  std::vector<DovecotServer::StoredMessage> inbox = Folder("alice@example.com", "INBOX");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].text, genuine);
  std::vector<DovecotServer::StoredMessage> held = Folder("alice@example.com", "Quarantine");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].text, forged);
  EXPECT_EQ(Connector(id, acme_token_)["state"]["messages_scanned"], 1);
}

TEST_F(MailboxConnectorTest, SweepsRescanExistingMailWithProgress) {
  // Mail that is there before the connector: left alone by new-mail pickup.
  const std::string old_malware = EicarZipMail("old invoice");
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", Plain("a", "one", "hello\r\n")).ok());
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", old_malware).ok());
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", Plain("b", "two", "hello\r\n")).ok());
  std::string id = CreateAliceConnector();
  StartService();
  ASSERT_TRUE(WaitUntilWatching(id));
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(Folder("alice@example.com", "INBOX").size(), 3u);
  EXPECT_EQ(Connector(id, acme_token_)["state"]["messages_scanned"], 0);

  // A sweep by the hash of the attachment finds the one message that carries it.
  const std::string zip_hash =
      crypto::ToHex(crypto::Sha256(MakeArchive("zip", {{"invoice.com", Eicar()}})));
  ApiResponse bad = harness_->Call("POST", "/api/v1/mailboxes/" + id + "/sweeps", acme_token_,
                                   json{{"sha256", "xyz"}}.dump());
  EXPECT_EQ(bad.status, 400);
  ApiResponse queued = harness_->Call("POST", "/api/v1/mailboxes/" + id + "/sweeps", acme_token_,
                                      json{{"sha256", zip_hash}, {"since", 0}}.dump());
  ASSERT_EQ(queued.status, 202) << queued.body;
  EXPECT_EQ(queued.json["status"], "queued");
  std::string sweep = queued.json["id"];
  json progress;
  for (int i = 0; i < 300; ++i) {
    progress = harness_->Call("GET", "/api/v1/mailboxes/" + id + "/sweeps/" + sweep, acme_token_).json;
    if (progress["status"] == "done" || progress["status"] == "failed") break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(progress["status"], "done") << progress.dump();
  EXPECT_EQ(progress["total"], 3);
  EXPECT_EQ(progress["done"], 3);
  EXPECT_EQ(progress["detections"], 1);
  EXPECT_EQ(progress["progress"], 1.0);
  EXPECT_EQ(Folder("alice@example.com", "INBOX").size(), 2u);
  std::vector<DovecotServer::StoredMessage> held = Folder("alice@example.com", "Quarantine");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].text, old_malware);
  ApiResponse listed = harness_->Call("GET", "/api/v1/mailboxes/" + id + "/sweeps", acme_token_);
  EXPECT_EQ(listed.json["sweeps"].size(), 1u);
  EXPECT_TRUE(harness_->openapi_violations().empty())
      << ::testing::PrintToString(harness_->openapi_violations());
}

TEST_F(MailboxConnectorTest, ASweepLeftRunningByAGoneWorkerStartsOver) {
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", EicarZipMail("old one")).ok());
  std::string id = CreateAliceConnector();
  ApiResponse queued = harness_->Call("POST", "/api/v1/mailboxes/" + id + "/sweeps", acme_token_,
                                      json{{"subject", "old one"}}.dump());
  ASSERT_EQ(queued.status, 202) << queued.body;
  // As if a process had died in the middle of it.
  auto sweep = site().store().GetMailboxSweep(acme_, queued.json["id"]);
  ASSERT_TRUE(sweep.ok());
  sweep->status = "running";
  sweep->total = 1;
  ASSERT_TRUE(site().store().UpdateMailboxSweep(*sweep).ok());
  StartService();
  json progress;
  for (int i = 0; i < 300; ++i) {
    progress = harness_->Call("GET", "/api/v1/mailboxes/" + id + "/sweeps/" + sweep->id,
                              acme_token_).json;
    if (progress["status"] == "done") break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(progress["status"], "done") << progress.dump();
  EXPECT_EQ(progress["detections"], 1);
  EXPECT_EQ(Folder("alice@example.com", "Quarantine").size(), 1u);
}

TEST_F(MailboxConnectorTest, DeleteActionLeavesACleanedCopy) {
  SetPolicy(R"({"mode": "enforce", "rules": [
      {"name": "malware", "protection": "malware", "action": "delete"}]})");
  std::string id = CreateAliceConnector();
  StartService();
  ASSERT_TRUE(WaitUntilWatching(id));
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", EicarZipMail("cleaned")).ok());
  ASSERT_TRUE(WaitForScanned(id, 1));
  std::this_thread::sleep_for(1s);
  std::vector<DovecotServer::StoredMessage> inbox = Folder("alice@example.com", "INBOX");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_NE(inbox[0].text.find("invoice.zip.removed.txt"), std::string::npos) << inbox[0].text;
  EXPECT_NE(inbox[0].text.find("Please find the invoice attached."), std::string::npos);
  EXPECT_EQ(inbox[0].text.find("UEsDB"), std::string::npos);  // no zip left (base64 "PK\3\4")
  EXPECT_TRUE(HasFlag(inbox[0], "$Bulwark-Scanned"));
  EXPECT_TRUE(Folder("alice@example.com", "Quarantine").empty());
}

TEST_F(MailboxConnectorTest, RefusedCredentialsAreReportedAndBackedOff) {
  std::string id = CreateAliceConnector("wrong-password");
  StartService();
  ASSERT_TRUE(WaitFor(id, [](const json& c) { return c["state"]["status"] == "auth_failed"; }))
      << Connector(id, acme_token_).dump();
  std::this_thread::sleep_for(3s);  // several worker rounds
  json c = Connector(id, acme_token_);
  EXPECT_EQ(c["state"]["failures"], 1);  // one attempt, not a tight loop
  EXPECT_GE(c["state"]["next_attempt_at"].get<std::int64_t>(), service::Site::Now() + 250);
  EXPECT_NE(c["state"]["last_error"].get<std::string>().find("credentials"), std::string::npos);

  // New credentials: tried at once.
  ApiResponse replaced = harness_->Call("PUT", "/api/v1/mailboxes/" + id + "/secret", acme_token_,
                                        json{{"secret", "alice-secret"}}.dump());
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_TRUE(WaitUntilWatching(id)) << Connector(id, acme_token_).dump();
}

TEST_F(MailboxConnectorTest, OAuth2OverStartTls) {
  json body = {{"name", "bob@example.com"}, {"host", "127.0.0.1"},
               {"port", imap_->imap_port()}, {"tls", "starttls"},
               {"ca_file", ca_file_},       {"username", "bob@example.com"},
               {"auth", "xoauth2"},         {"secret", "bob-oauth-token"},
               {"folders", {"INBOX"}},      {"quarantine_folder", "Quarant\xC3\xA4ne"}};
  ApiResponse created = harness_->Call("POST", "/api/v1/mailboxes", acme_token_, body.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json["id"];
  StartService();
  ASSERT_TRUE(WaitUntilWatching(id)) << Connector(id, acme_token_).dump();
  ASSERT_TRUE(imap_->Deliver("bob@example.com", "INBOX", EicarZipMail("to bob")).ok());
  ASSERT_TRUE(WaitForScanned(id, 1));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(Folder("bob@example.com", "Quarant\xC3\xA4ne").size(), 1u);  // a non-ASCII folder
  EXPECT_TRUE(Folder("bob@example.com", "INBOX").empty());
}

TEST_F(MailboxConnectorTest, ARebuiltFolderIsPickedUpFromItsNewState) {
  std::string id = CreateAliceConnector();
  StartService();
  ASSERT_TRUE(WaitUntilWatching(id));
  ASSERT_TRUE(imap_->SetUidValidity("alice@example.com", "INBOX", 424242).ok());
  ASSERT_TRUE(WaitFor(id, [](const json& c) {
    return !c["folder_state"].empty() && c["folder_state"][0]["uidvalidity"] == 424242;
  })) << Connector(id, acme_token_).dump();
  ASSERT_TRUE(imap_->Deliver("alice@example.com", "INBOX", EicarZipMail("after rebuild")).ok());
  ASSERT_TRUE(WaitForScanned(id, 1));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(Folder("alice@example.com", "Quarantine").size(), 1u);
}

TEST_F(MailboxConnectorTest, InvalidRequestsAndOtherTenantsAreRefused) {
  std::string id = CreateAliceConnector();
  auto post = [&](const json& body) {
    return harness_->Call("POST", "/api/v1/mailboxes", acme_token_, body.dump()).status;
  };
  json good = {{"name", "x"}, {"host", "127.0.0.1"}, {"username", "u"}, {"secret", "s"}};
  json bad = good;
  bad["tls"] = "sometimes";
  EXPECT_EQ(post(bad), 400);
  bad = good;
  bad["ca_file"] = "/etc/shadow";
  EXPECT_EQ(post(bad), 400);
  bad = good;
  bad["folders"] = {"INBOX", "Quarantine"};
  EXPECT_EQ(post(bad), 400);
  bad = good;
  bad.erase("secret");
  EXPECT_EQ(post(bad), 400);
  bad = good;
  bad["name"] = "alice@example.com";  // taken
  EXPECT_EQ(post(bad), 409);

  // Another tenant sees nothing of acme's connector and can change nothing.
  EXPECT_EQ(harness_->Call("GET", "/api/v1/mailboxes/" + id, other_token_).status, 404);
  EXPECT_TRUE(harness_->Call("GET", "/api/v1/mailboxes", other_token_).json["mailboxes"].empty());
  EXPECT_EQ(harness_->Call("DELETE", "/api/v1/mailboxes/" + id, other_token_).status, 404);
  EXPECT_EQ(harness_->Call("PUT", "/api/v1/mailboxes/" + id + "/secret", other_token_,
                           json{{"secret", "x"}}.dump())
                .status,
            404);
  EXPECT_EQ(harness_->Call("POST", "/api/v1/mailboxes/" + id + "/sweeps", other_token_, "{}").status,
            404);
  // A read-only token cannot create connectors.
  service::TokenRequest request;
  request.tenant_id = acme_;
  request.name = "reader";
  request.role = storage::Role::kAuditor;
  request.scopes = {"mailboxes:read"};
  auto reader = service::CreateToken(site(), "test", request);
  ASSERT_TRUE(reader.ok());
  Credentials reader_token = Credentials::Bearer(reader->secret);
  EXPECT_EQ(harness_->Call("GET", "/api/v1/mailboxes/" + id, reader_token).status, 200);
  EXPECT_EQ(harness_->Call("POST", "/api/v1/mailboxes", reader_token, good.dump()).status, 403);
  // The credential is stored sealed, never in clear.
  auto stored = site().store().GetMailboxConnector(acme_, id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->sealed_secret.find("alice-secret"), std::string::npos);
  EXPECT_FALSE(stored->sealed_secret.empty());
  auto opened = site().quarantine().OpenCredential(acme_, id, stored->sealed_secret);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "alice-secret");
  // Sealed for this tenant and this connector only.
  EXPECT_EQ(site().quarantine().OpenCredential(other_, id, stored->sealed_secret).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(site().quarantine().OpenCredential(acme_, "m_other", stored->sealed_secret).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(harness_->Call("DELETE", "/api/v1/mailboxes/" + id, acme_token_).status, 200);
  EXPECT_EQ(harness_->Call("GET", "/api/v1/mailboxes/" + id, acme_token_).status, 404);
  EXPECT_TRUE(harness_->openapi_violations().empty())
      << ::testing::PrintToString(harness_->openapi_violations());
}

}  // namespace
}  // namespace bulwark::testing

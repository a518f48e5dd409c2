// The milter front-end against a real Postfix on loopback: a private Postfix instance (its
// own config, queue and data directories under a scratch directory) whose smtpd asks
// Bulwark about every message (smtpd_milters, milter_protocol 6, milter_default_action
// tempfail) and relays what it accepts to an smtp-sink that dumps each message to a file.
// A real site on SQLite decides with three tenants' policies and records the events.
//
// Postfix's master must start as root: the test is skipped (and says why) when not run as
// root or when Postfix is not installed; BULWARK_REQUIRE_POSTFIX=1 (CI) turns the skip into
// a failure.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "milter/milter_front_end.h"
#include "service/administration.h"
#include "test/support/service_harness.h"
#include "test/support/test_support.h"

extern char** environ;

namespace bulwark::testing {
namespace {

namespace fs = std::filesystem;

const std::string kCards = "Payment details: card 4111 1111 1111 1111, expiry 12/30, cvv 123";

// Why the test cannot run here, or "" when it can.
std::string MissingPrerequisite() {
  if (::geteuid() != 0) return "not running as root (Postfix's master needs root to start)";
  for (const char* program : {"postfix", "postconf", "postqueue", "smtp-sink"}) {
    if (!HaveProgram(program) && !fs::exists(std::string("/usr/sbin/") + program)) {
      return std::string(program) + " is not installed (Debian package postfix)";
    }
  }
  if (::getpwnam("postfix") == nullptr) return "there is no 'postfix' user";
  return "";
}

std::string WithLf(std::string text) {
  for (std::size_t at; (at = text.find("\r\n")) != std::string::npos;) text.erase(at, 1);
  return text;
}

int ConnectTcp(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

// One SMTP reply: its code and its lines joined.
struct SmtpReply {
  int code = 0;
  std::string text;
};

// A minimal SMTP client: one transaction, the reply to each step. Stops at the first
// refusal; `data_reply` is the reply that ended the transaction (the end-of-DATA reply
// when everything was accepted).
struct SmtpTransaction {
  std::vector<SmtpReply> replies;
  SmtpReply final_reply;
};

class SmtpClient {
 public:
  explicit SmtpClient(std::uint16_t port) : fd_(ConnectTcp(port)) {}
  ~SmtpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // One transaction on a new connection, then QUIT.
  SmtpTransaction Send(const std::string& from, const std::vector<std::string>& to,
                       const std::string& message) {
    SmtpTransaction t;
    if (Greet(t)) Transaction(from, to, message, t);
    Write("QUIT\r\n");
    return t;
  }

  // The banner and EHLO; false when either was refused.
  bool Greet(SmtpTransaction& t) {
    return fd_ >= 0 && Step("", 2, t) && Step("EHLO client.test.example", 2, t);
  }

  // MAIL, RCPT, DATA and the message; stops at the first refusal.
  void Transaction(const std::string& from, const std::vector<std::string>& to,
                   const std::string& message, SmtpTransaction& t) {
    if (!Step("MAIL FROM:<" + from + ">", 2, t)) return;
    for (const auto& r : to) {
      if (!Step("RCPT TO:<" + r + ">", 2, t)) return;
    }
    if (!Step("DATA", 3, t)) return;
    std::string data;
    std::size_t pos = 0;
    while (pos < message.size()) {  // dot-stuffing
      std::size_t eol = message.find("\r\n", pos);
      std::size_t end = eol == std::string::npos ? message.size() : eol + 2;
      if (message[pos] == '.') data += '.';
      data += message.substr(pos, end - pos);
      pos = end;
    }
    if (!data.ends_with("\r\n")) data += "\r\n";
    Write(data);
    Step(".", 2, t);
  }

 private:
  bool Step(const std::string& line, int want, SmtpTransaction& t) {
    if (!line.empty()) Write(line + "\r\n");
    SmtpReply reply = Read();
    t.replies.push_back(reply);
    t.final_reply = reply;
    return reply.code / 100 == want;
  }
  void Write(const std::string& text) { (void)::send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }
  SmtpReply Read() {
    SmtpReply reply;
    for (;;) {
      std::size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        char chunk[4096];
        ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n <= 0) return reply;
        buffer_.append(chunk, static_cast<std::size_t>(n));
      }
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 2);
      reply.text += (reply.text.empty() ? "" : "\n") + line;
      if (line.size() >= 4 && line[3] == '-') continue;
      reply.code = std::atoi(line.substr(0, 3).c_str());
      return reply;
    }
  }

  int fd_;
  std::string buffer_;
};

// A private Postfix instance under `root`: smtpd on `smtpd_port` with Bulwark as its milter,
// relaying everything it accepts to 127.0.0.1:`relay_port`.
class PostfixInstance {
 public:
  PostfixInstance(const fs::path& root, std::uint16_t smtpd_port, std::uint16_t milter_port,
                  std::uint16_t relay_port)
      : root_(root) {
    fs::create_directories(root / "etc");
    fs::create_directories(root / "spool");
    fs::create_directories(root / "data");
    fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    passwd* postfix = ::getpwnam("postfix");
    if (postfix != nullptr) {
      (void)::chown((root / "data").c_str(), postfix->pw_uid, postfix->pw_gid);
    }
    const std::string r = root.string();
    std::ofstream(root / "etc/main.cf")
        << "compatibility_level = 3.6\n"
        << "queue_directory = " << r << "/spool\n"
        << "data_directory = " << r << "/data\n"
        << "meta_directory = /etc/postfix\n"
        << "maillog_file = " << r << "/maillog\n"
        << "maillog_file_prefixes = " << r << "\n"
        << "syslog_name = postfix-bulwark-test\n"
        << "inet_interfaces = 127.0.0.1\n"
        << "inet_protocols = ipv4\n"
        << "myhostname = mx.test.example\n"
        << "mydomain = test.example\n"
        << "mydestination =\n"
        << "relay_domains = acme.example, other.example, third.example, nobody.example\n"
        << "mynetworks = 127.0.0.0/8\n"
        << "smtpd_relay_restrictions = permit_mynetworks, reject\n"
        << "relayhost = [127.0.0.1]:" << relay_port << "\n"
        << "smtp_tls_security_level = none\n"
        << "smtpd_tls_security_level = none\n"
        << "alias_maps =\nalias_database =\nlocal_recipient_maps =\n"
        << "smtputf8_enable = no\nbiff = no\n"
        << "smtpd_milters = inet:127.0.0.1:" << milter_port << "\n"
        << "milter_protocol = 6\n"
        << "milter_default_action = tempfail\n"
        << "milter_connect_timeout = 5s\n";
    std::ofstream(root / "etc/master.cf") << "127.0.0.1:" << smtpd_port << " inet n - n - - smtpd\n"
                                          << "pickup unix n - n 60 1 pickup\n"
                                          << "cleanup unix n - n - 0 cleanup\n"
                                          << "qmgr unix n - n 300 1 qmgr\n"
                                          << "rewrite unix - - n - - trivial-rewrite\n"
                                          << "bounce unix - - n - 0 bounce\n"
                                          << "defer unix - - n - 0 bounce\n"
                                          << "trace unix - - n - 0 bounce\n"
                                          << "verify unix - - n - 1 verify\n"
                                          << "flush unix n - n 1000? 0 flush\n"
                                          << "proxymap unix - - n - - proxymap\n"
                                          << "smtp unix - - n - - smtp\n"
                                          << "relay unix - - n - - smtp\n"
                                          << "showq unix n - n - - showq\n"
                                          << "error unix - - n - - error\n"
                                          << "retry unix - - n - - error\n"
                                          << "discard unix - - n - - discard\n"
                                          << "anvil unix - - n - 1 anvil\n"
                                          << "scache unix - - n - 1 scache\n"
                                          << "postlog unix-dgram n - n - 1 postlogd\n";
    CommandResult started = Postfix("start");
    started_ = started.exit_code == 0;
    start_output_ = started.out + started.err;
  }
  ~PostfixInstance() {
    if (started_) (void)Postfix("stop");
  }
  PostfixInstance(const PostfixInstance&) = delete;
  PostfixInstance& operator=(const PostfixInstance&) = delete;

  bool started() const { return started_; }
  std::string log() const { return start_output_ + ReadAll(root_ / "maillog"); }

  // The queue as `postqueue -j` shows it: one JSON object per line.
  std::string QueueJson() {
    return RunShell("postqueue -c " + (root_ / "etc").string() + " -j", root_).out;
  }
  // The headers and body of a queued message (`postcat -h -b -q`).
  std::string QueuedMessage(const std::string& queue_id) {
    return RunShell("postcat -c " + (root_ / "etc").string() + " -h -b -q " + queue_id, root_).out;
  }

 private:
  CommandResult Postfix(const std::string& command) {
    return RunShell("postfix -c " + (root_ / "etc").string() + " " + command, root_);
  }

  fs::path root_;
  bool started_ = false;
  std::string start_output_;
};

// Everything the tests share: a site with three tenants, Bulwark's milter, the smtp-sink
// and Postfix. Built once for the suite (Postfix takes seconds to start).
struct MilterWorld {
  std::unique_ptr<ServiceHarness> harness;
  std::string acme, other, third;
  std::unique_ptr<milter::MilterFrontEnd> milter;
  ScratchDir scratch;
  fs::path sink_dir;
  std::unique_ptr<ChildProcess> sink;
  std::unique_ptr<PostfixInstance> postfix;
  std::uint16_t smtpd_port = 0;
  std::string failure;  // why the world could not be built
};

class MilterIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_reason_ = MissingPrerequisite();
    if (!skip_reason_.empty()) return;
    world_ = new MilterWorld();
    world_->failure = Build(*world_);
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }

  static std::string Build(MilterWorld& w) {
    auto started = ServiceHarness::Start(ServiceHarness::Options{});
    if (!started.ok()) return "site: " + started.status().ToString();
    w.harness = std::move(started).value();
    service::Site& site = w.harness->site();
    for (auto [name, id] :
         {std::pair{"acme", &w.acme}, std::pair{"other", &w.other}, std::pair{"third", &w.third}}) {
      auto tenant = service::CreateTenant(site, "test", name);
      if (!tenant.ok()) return "tenant: " + tenant.status().ToString();
      *id = tenant->id;
    }
    // acme rejects malware and tags card numbers; other quarantines malware; third deletes
    // it (attachments are stripped).
    const std::vector<std::pair<std::string, std::string>> policies = {
        {w.acme, R"({"mode": "enforce", "rules": [
            {"name": "malware", "protection": "malware", "action": "reject"},
            {"name": "cards", "protection": "dlp", "action": "tag"}]})"},
        {w.other, R"({"mode": "enforce", "rules": [
            {"name": "malware", "protection": "malware", "action": "quarantine"}]})"},
        {w.third, R"({"mode": "enforce", "rules": [
            {"name": "malware", "protection": "malware", "action": "delete"}]})"}};
    for (const auto& [tenant, policy] : policies) {
      auto added = site.store().AddPolicyVersion(tenant, policy, "test");
      if (!added.ok()) return "policy: " + added.status().ToString();
    }

    service::MilterConfig config;
    config.listener = {"127.0.0.1", 0};
    config.timeout = std::chrono::seconds(60);
    service::MailConfig mail;
    mail.hostname = "bulwark.test.example";
    mail.domains = {{"acme.example", false, "acme", "", "none", ""},
                    {"other.example", false, "other", "", "none", ""},
                    {"third.example", false, "third", "", "none", ""}};
    auto front = milter::MilterFrontEnd::Start(site, config, mail);
    if (!front.ok()) return "milter: " + front.status().ToString();
    w.milter = std::move(front).value();

    w.sink_dir = w.scratch.path() / "sink";
    fs::create_directories(w.sink_dir);
    fs::permissions(w.scratch.path(), fs::perms::owner_all | fs::perms::others_read |
                                          fs::perms::others_exec | fs::perms::group_read |
                                          fs::perms::group_exec);
    fs::permissions(w.sink_dir, fs::perms::all);
    std::uint16_t sink_port = FreePort();
    w.sink = std::make_unique<ChildProcess>(
        std::vector<std::string>{"smtp-sink", "-u", "postfix", "-d",
                                 (w.sink_dir / "%H%M%S.").string(),
                                 "127.0.0.1:" + std::to_string(sink_port), "10"},
        w.scratch.path() / "sink.log");
    if (!WaitForPort(sink_port, std::chrono::seconds(10))) {
      return "smtp-sink did not start: " + ReadAll(w.scratch.path() / "sink.log");
    }
    w.smtpd_port = FreePort();
    w.postfix = std::make_unique<PostfixInstance>(w.scratch.path() / "postfix", w.smtpd_port,
                                                  w.milter->bound().at(0).port, sink_port);
    if (!w.postfix->started() || !WaitForPort(w.smtpd_port, std::chrono::seconds(20))) {
      return "postfix did not start: " + w.postfix->log();
    }
    return "";
  }

  void SetUp() override {
    if (!skip_reason_.empty()) {
      if (std::getenv("BULWARK_REQUIRE_POSTFIX") != nullptr) {
        FAIL() << "BULWARK_REQUIRE_POSTFIX is set but " << skip_reason_;
      }
      GTEST_SKIP() << skip_reason_;
    }
    ASSERT_TRUE(world_->failure.empty()) << world_->failure;
  }

  MilterWorld& w() { return *world_; }

  SmtpTransaction Send(const std::string& to, const std::string& message) {
    SmtpClient client(w().smtpd_port);
    return client.Send("alice@example.com", {to}, message);
  }

  // The dumped message holding `marker` (smtp-sink writes LF line ends), waiting up to 30 s
  // for it; "" if none came.
  std::string Delivered(const std::string& marker,
                        std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& entry : fs::directory_iterator(w().sink_dir)) {
        std::string content = ReadAll(entry.path());
        if (content.find(marker) != std::string::npos) return content;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return "";
  }

  std::vector<storage::Event> Events(const std::string& tenant) {
    auto events = w().harness->site().store().QueryEvents(tenant, storage::EventFilter{});
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    return events.ok() ? *events : std::vector<storage::Event>{};
  }

  static std::string PlainMail(const std::string& subject, const std::string& body) {
    return "From: Alice <alice@example.com>\r\nTo: Bob <bob@acme.example>\r\n"
           "Subject: " +
           subject + "\r\nMessage-ID: <" + subject +
           "@example.com>\r\n"
           "\r\n" +
           body + "\r\n";
  }

  static inline MilterWorld* world_ = nullptr;
  static inline std::string skip_reason_;
};

TEST_F(MilterIntegrationTest, CleanMailIsDeliveredWithVerdictHeaderAndOtherwiseUnchanged) {
  const std::string body = "Hello Bob,\r\n\r\nthe minutes are attached in spirit.\r\n-- \r\nAlice";
  SmtpTransaction t = Send("bob@acme.example", PlainMail("clean-minutes", body));
  ASSERT_EQ(t.final_reply.code, 250) << t.final_reply.text << "\n" << w().postfix->log();
  std::string delivered = Delivered("clean-minutes");
  ASSERT_FALSE(delivered.empty()) << w().postfix->log();
  std::vector<storage::Event> events = Events(w().acme);
  EXPECT_NE(delivered.find("X-Bulwark-Verdict: clean"), std::string::npos)
      << delivered << (events.empty() ? "" : events.back().findings_json);
  EXPECT_NE(delivered.find("\nSubject: clean-minutes\n"), std::string::npos) << delivered;
  EXPECT_NE(delivered.find("\n\n" + WithLf(body) + "\n"), std::string::npos) << delivered;
  // Our field sits above Postfix's own Received field (inserted at the top).
  EXPECT_LT(delivered.find("X-Bulwark-Verdict:"), delivered.find("by mx.test.example"));
}

TEST_F(MilterIntegrationTest, MalwareIsRejectedAtEndOfDataWhenThePolicyRejects) {
  std::size_t before = Events(w().acme).size();
  std::string mail = MakeMail("eicar-reject", "see attachment", {{"eicar.com", Eicar()}});
  SmtpTransaction t = Send("bob@acme.example", mail);
  EXPECT_EQ(t.final_reply.code, 550) << t.final_reply.text;
  EXPECT_NE(t.final_reply.text.find("5.7.1"), std::string::npos) << t.final_reply.text;
  ASSERT_GE(t.replies.size(), 2u);
  EXPECT_EQ(t.replies[t.replies.size() - 2].code, 354);  // refused at end of DATA
  std::vector<storage::Event> events = Events(w().acme);
  ASSERT_EQ(events.size(), before + 1);
  EXPECT_EQ(events.back().service, "milter");
  EXPECT_EQ(events.back().action, "reject");
  EXPECT_EQ(events.back().threat_type, "malware");
  EXPECT_EQ(events.back().sender, "alice@example.com");
  EXPECT_TRUE(Delivered("eicar-reject", std::chrono::seconds(2)).empty());
}

TEST_F(MilterIntegrationTest, MalwareIsHeldByPostfixWhenThePolicyQuarantines) {
  std::string mail = MakeMail("eicar-hold", "see attachment", {{"eicar.com", Eicar()}});
  SmtpTransaction t = Send("carol@other.example", mail);
  ASSERT_EQ(t.final_reply.code, 250) << t.final_reply.text;
  std::string queue;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (queue.find("\"hold\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    queue = w().postfix->QueueJson();
  }
  EXPECT_NE(queue.find("\"queue_name\": \"hold\""), std::string::npos) << queue;
  EXPECT_NE(queue.find("carol@other.example"), std::string::npos) << queue;
  // The held copy carries the verdict fields, for whoever releases it.
  std::size_t id_at = queue.find("\"queue_id\": \"");
  ASSERT_NE(id_at, std::string::npos) << queue;
  id_at += 13;
  std::string held =
      w().postfix->QueuedMessage(queue.substr(id_at, queue.find('"', id_at) - id_at));
  EXPECT_NE(held.find("X-Bulwark-Verdict: malicious"), std::string::npos) << held;
  // Bulwark's quarantine holds the sealed copy.
  auto sealed = w().harness->site().store().ListQuarantine(w().other, "held");
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(sealed->size(), 1u);
  std::vector<storage::Event> events = Events(w().other);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().service, "milter");
  EXPECT_EQ(events.back().action, "quarantine");
  EXPECT_TRUE(Delivered("eicar-hold", std::chrono::seconds(2)).empty());
  // Isolation: nothing of it in the other tenants.
  for (const std::string& tenant : {w().acme, w().third}) {
    for (const auto& e : Events(tenant)) EXPECT_NE(e.recipients, "carol@other.example");
  }
}

// Postfix keeps one milter connection for a whole SMTP session: a rejected message must not
// leave anything behind for the next one.
TEST_F(MilterIntegrationTest, SeveralMessagesInOneSmtpSession) {
  SmtpClient client(w().smtpd_port);
  SmtpTransaction greeting;
  ASSERT_TRUE(client.Greet(greeting)) << greeting.final_reply.text;
  SmtpTransaction first;
  client.Transaction("alice@example.com", {"bob@acme.example"},
                     MakeMail("session-eicar", "see attachment", {{"eicar.com", Eicar()}}), first);
  EXPECT_EQ(first.final_reply.code, 550) << first.final_reply.text;
  SmtpTransaction second;
  client.Transaction("alice@example.com", {"bob@acme.example", "eve@acme.example"},
                     PlainMail("session-clean", "second message, clean"), second);
  EXPECT_EQ(second.final_reply.code, 250) << second.final_reply.text;
  std::string delivered = Delivered("session-clean@example.com");
  ASSERT_FALSE(delivered.empty()) << w().postfix->log();
  EXPECT_NE(delivered.find("X-Bulwark-Verdict: clean"), std::string::npos) << delivered;
  EXPECT_EQ(delivered.find("session-eicar"), std::string::npos) << delivered;
}

TEST_F(MilterIntegrationTest, SubjectIsTaggedForTheTagAction) {
  SmtpTransaction t = Send("bob@acme.example", PlainMail("cards-tag", kCards));
  ASSERT_EQ(t.final_reply.code, 250) << t.final_reply.text;
  std::string delivered = Delivered("cards-tag@example.com");
  ASSERT_FALSE(delivered.empty()) << w().postfix->log();
  EXPECT_NE(delivered.find("\nSubject: [SUSPICIOUS] cards-tag\n"), std::string::npos) << delivered;
  EXPECT_NE(delivered.find("action=tag"), std::string::npos) << delivered;
  std::vector<storage::Event> events = Events(w().acme);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().action, "tag");
}

TEST_F(MilterIntegrationTest, InfectedAttachmentIsStrippedForTheDeleteAction) {
  std::string mail = MakeMail("eicar-strip", "the report is attached",
                              {{"eicar.com", Eicar()}, {"notes.txt", "harmless notes\n"}});
  SmtpTransaction t = Send("dave@third.example", mail);
  ASSERT_EQ(t.final_reply.code, 250) << t.final_reply.text;
  std::string delivered = Delivered("eicar-strip");
  ASSERT_FALSE(delivered.empty()) << w().postfix->log();
  EXPECT_NE(delivered.find("the report is attached"), std::string::npos) << delivered;
  EXPECT_NE(delivered.find("eicar.com.removed.txt"), std::string::npos) << delivered;
  EXPECT_NE(delivered.find("notes.txt"), std::string::npos) << delivered;
  EXPECT_EQ(delivered.find("filename=\"eicar.com\""), std::string::npos) << delivered;
}

TEST_F(MilterIntegrationTest, MailOfNoTenantPassesUnscanned) {
  SmtpTransaction t = Send("someone@nobody.example", PlainMail("nobodys-mail", "hello"));
  ASSERT_EQ(t.final_reply.code, 250) << t.final_reply.text;
  std::string delivered = Delivered("nobodys-mail@example.com");
  ASSERT_FALSE(delivered.empty());
  EXPECT_EQ(delivered.find("X-Bulwark-"), std::string::npos) << delivered;
}

// Last: stops the milter. Postfix then applies milter_default_action = tempfail.
TEST_F(MilterIntegrationTest, ZzMilterDownMakesPostfixTempfail) {
  w().milter->Stop(std::chrono::milliseconds(0));
  SmtpTransaction t = Send("bob@acme.example", PlainMail("milter-down", "hello"));
  EXPECT_EQ(t.final_reply.code / 100, 4) << t.final_reply.text;
  EXPECT_NE(t.final_reply.text.find("4.7.1"), std::string::npos) << t.final_reply.text;
  EXPECT_TRUE(Delivered("milter-down", std::chrono::seconds(2)).empty());
}

}  // namespace
}  // namespace bulwark::testing

// The inline SMTP gateway against real peers on loopback: swaks as the sending client
// (plain and STARTTLS), Postfix's smtp-sink as the next hop (it dumps what it receives),
// and our own raw client for malformed commands. A real site on SQLite records the events
// under the tenant that owns the recipient domain.
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
#include <functional>
#include <thread>

#include "http/server.h"
#include "net/tls.h"
#include "service/administration.h"
#include "smtp/smtp_front_end.h"
#include "test/support/service_harness.h"
#include "test/support/test_support.h"

extern char** environ;

namespace bulwark::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kCards =
    "Payment details: card 4111 1111 1111 1111, expiry 12/30, cvv 123\r\n"
    "Second card 5500 0000 0000 0004, third 3400 000000 00009.\r\n";

// smtp-sink on a loopback port, dumping every message it accepts into `dir`.
class SmtpSink {
 public:
  SmtpSink(std::uint16_t port, const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir_);
    // It drops privileges to nobody, who must reach and write the dump directory.
    fs::permissions(dir_.parent_path(), fs::perms::others_exec | fs::perms::group_exec,
                    fs::perm_options::add);
    fs::permissions(dir_, fs::perms::all);
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/sbin/smtp-sink", "-u", "nobody", "-h", "sink.test", "-d",
                                 (dir_ / "msg.").string(), "127.0.0.1:" + std::to_string(port),
                                 "50"},
        dir_.parent_path() / ("sink-" + std::to_string(port) + ".log"));
    ready_ = WaitForPort(port, 10s);
  }
  bool ready() const { return ready_; }
  // The dumps so far, oldest first.
  std::vector<std::string> Messages() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir_)) files.push_back(entry.path());
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
      return fs::last_write_time(a) < fs::last_write_time(b);
    });
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(ReadAll(f));
    return out;
  }
  // The same, once no dump has been written to for `quiet`: smtp-sink writes a dump as the
  // message arrives, so a message relayed in the background (by Postfix) can be seen
  // half-written. Empty while one is still growing.
  std::vector<std::string> SettledMessages(std::chrono::milliseconds quiet = 500ms) const {
    const auto now = fs::file_time_type::clock::now();
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (now - fs::last_write_time(entry.path()) < quiet) return {};
    }
    return Messages();
  }

 private:
  fs::path dir_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

// A throw-away Postfix instance (its own config_directory and queue under `dir`, SMTP on a
// loopback port, no chroot, no DNS) relaying everything to `relayhost`, with short retry
// times so that a deferred message is retried within seconds.
class PostfixInstance {
 public:
  PostfixInstance(const fs::path& dir, std::uint16_t port, const std::string& relayhost)
      : dir_(dir) {
    fs::create_directories(dir_ / "queue");
    fs::create_directories(dir_ / "data");
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    std::ofstream(dir_ / "main.cf")
        << "compatibility_level = 3.6\n"
           "queue_directory = "
        << (dir_ / "queue").string()
        << "\n"
           "data_directory = "
        << (dir_ / "data").string()
        << "\n"
           "maillog_file = /dev/stdout\n"
           "mail_owner = postfix\nsetgid_group = postdrop\n"
           "myhostname = front.test\nmydomain = front.test\nmyorigin = front.test\n"
           "mydestination =\nrelay_domains =\nlocal_recipient_maps =\nalias_maps =\n"
           "alias_database =\nbiff = no\ninet_interfaces = 127.0.0.1\n"
           "inet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n"
           "smtpd_relay_restrictions = permit_mynetworks, reject\n"
           "relayhost = "
        << relayhost
        << "\n"
           "smtp_dns_support_level = disabled\nsmtp_tls_security_level = may\n"
           "smtputf8_enable = no\nqueue_run_delay = 1s\nminimal_backoff_time = 1s\n"
           "maximal_backoff_time = 2s\n";
    std::ofstream(dir_ / "master.cf")
        << "127.0.0.1:" << port << " inet n - n - - smtpd\n"
        << "cleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\n"
           "tlsmgr unix - - n 1000? 1 tlsmgr\nrewrite unix - - n - - trivial-rewrite\n"
           "bounce unix - - n - 0 bounce\ndefer unix - - n - 0 bounce\n"
           "trace unix - - n - 0 bounce\nverify unix - - n - 1 verify\n"
           "flush unix n - n 1000? 0 flush\nproxymap unix - - n - - proxymap\n"
           "smtp unix - - n - - smtp\nrelay unix - - n - - smtp\n"
           "showq unix n - n - - showq\nerror unix - - n - - error\n"
           "retry unix - - n - - error\ndiscard unix - - n - - discard\n"
           "anvil unix - - n - 1 anvil\nscache unix - - n - 1 scache\n"
           "postlog unix-dgram n - n - 1 postlogd\n";
    // The data directory is Postfix's own; in the foreground it logs to our log file.
    RunShell("chown postfix " + (dir_ / "data").string(), dir_);
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"postfix", "-c", dir_.string(), "start-fg"}, dir_ / "maillog");
    started_ = process_->running() && WaitForPort(port, 20s);
  }
  ~PostfixInstance() {
    RunShell("postfix -c " + dir_.string() + " stop", dir_);
    process_.reset();
  }
  bool started() const { return started_; }
  void Flush() { RunShell("postqueue -c " + dir_.string() + " -f", dir_); }
  std::string Log() const { return ReadAll(dir_ / "maillog"); }

 private:
  fs::path dir_;
  std::unique_ptr<ChildProcess> process_;
  bool started_ = false;
};

// An ordinary message, as a mail program writes one (the phishing scorer must see nothing
// odd in it).
std::string Mail(const std::string& subject, const std::string& body) {
  return "From: Alice Example <alice@example.org>\r\nTo: Bob Example <bob@example.com>\r\n"
         "Subject: " +
         subject +
         "\r\nDate: Tue, 14 Nov 2023 10:00:00 +0000\r\n"
         "Message-ID: <" +
         subject + "@example.org>\r\n\r\n" + body;
}

// `text` with CR LF line ends turned into LF (smtp-sink writes its dumps with LF).
std::string Lf(std::string text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

class SmtpGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveProgram("swaks") || !fs::exists("/usr/sbin/smtp-sink")) {
      GTEST_SKIP() << "swaks or smtp-sink is not installed";
    }
    auto started = ServiceHarness::Start(ServiceHarness::Options{});
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    harness_ = std::move(started).value();
    auto acme = service::CreateTenant(site(), "test", "acme");
    auto other = service::CreateTenant(site(), "test", "other");
    ASSERT_TRUE(acme.ok() && other.ok());
    acme_ = acme->id;
    other_ = other->id;
    auto policy = site().store().AddPolicyVersion(acme_, R"({"mode": "enforce", "rules": [
        {"name": "cards stay home", "protection": "dlp", "action": "quarantine",
         "scope": {"services": ["smtp"]}},
        {"name": "malware", "protection": "malware", "action": "reject"}]})",
                                                  "test");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();

    sink_port_ = FreePort();
    sink_ = std::make_unique<SmtpSink>(sink_port_, scratch_.path() / "sink");
    ASSERT_TRUE(sink_->ready()) << "smtp-sink did not start";
    down_port_ = FreePort();  // nothing listens there until a test starts a sink

    ASSERT_TRUE(
        http::EnsureSelfSignedCertificate(scratch_.path() / "cert.pem", scratch_.path() / "key.pem")
            .ok());
    service::MailConfig mail;
    mail.hostname = "gw.test";
    mail.domains.push_back({"example.com", true, "acme", "127.0.0.1:" + std::to_string(sink_port_),
                            "opportunistic", ""});
    mail.domains.push_back(
        {"down.test", false, "other", "127.0.0.1:" + std::to_string(down_port_), "none", ""});
    service::SmtpConfig smtp;
    smtp.listener = {"127.0.0.1", 0};
    smtp.max_message_bytes = 5 << 20;
    smtp.next_hop_timeout = 10s;
    smtp.max_connections_per_client = 3;
    auto front =
        smtp::SmtpFrontEnd::Start(site(), smtp, mail, (scratch_.path() / "cert.pem").string(),
                                  (scratch_.path() / "key.pem").string());
    ASSERT_TRUE(front.ok()) << front.status().ToString();
    gateway_ = std::move(front).value();
    port_ = gateway_->bound().at(0).port;
  }

  void TearDown() override {
    if (gateway_) gateway_->Stop(1000ms);
  }

  // Another gateway on this site with its own mail settings, on `port` (0 = any).
  std::unique_ptr<smtp::SmtpFrontEnd> StartGateway(const service::MailConfig& mail,
                                                   std::uint16_t port = 0) {
    service::SmtpConfig smtp;
    smtp.listener = {"127.0.0.1", port};
    smtp.next_hop_timeout = 10s;
    auto front =
        smtp::SmtpFrontEnd::Start(site(), smtp, mail, (scratch_.path() / "cert.pem").string(),
                                  (scratch_.path() / "key.pem").string());
    EXPECT_TRUE(front.ok()) << front.status().ToString();
    return front.ok() ? std::move(front).value() : nullptr;
  }

  // Sends `message` with swaks to the gateway on `port`.
  CommandResult SwaksTo(std::uint16_t port, const std::string& to, const std::string& message) {
    fs::path file = scratch_.Write("message-" + std::to_string(++sent_) + ".eml", message);
    return RunShell("swaks --server 127.0.0.1:" + std::to_string(port) +
                        " --helo client.test --from alice@sender.test --to " + to + " --data @" +
                        file.string() + " --timeout 30",
                    scratch_.path());
  }

  service::Site& site() { return harness_->site(); }

  std::vector<storage::Event> Events(const std::string& tenant) {
    auto events = site().store().QueryEvents(tenant, storage::EventFilter{});
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    return events.ok() ? *events : std::vector<storage::Event>{};
  }

  // Sends `message` with swaks; its whole transcript.
  CommandResult Swaks(const std::string& to, const std::string& message,
                      const std::string& extra = "") {
    fs::path file = scratch_.Write("message-" + std::to_string(++sent_) + ".eml", message);
    return RunShell("swaks --server 127.0.0.1:" + std::to_string(port_) +
                        " --helo client.test --from alice@sender.test --to " + to + " --data @" +
                        file.string() + " --timeout 30 " + extra,
                    scratch_.path());
  }

  ScratchDir scratch_;
  std::unique_ptr<ServiceHarness> harness_;
  std::string acme_, other_;
  std::uint16_t sink_port_ = 0, down_port_ = 0, port_ = 0;
  std::unique_ptr<SmtpSink> sink_;
  std::unique_ptr<smtp::SmtpFrontEnd> gateway_;
  int sent_ = 0;
};

TEST_F(SmtpGatewayTest, CleanMailArrivesUnchangedBehindTheAddedFields) {
  const std::string message =
      Mail("quarterly-numbers", "Hello Bob,\r\n.a line that starts with a dot\r\n\r\nsee you\r\n");
  CommandResult sent = Swaks("bob@example.com", message);
  EXPECT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_NE(sent.out.find("<-  250 2.0.0 Ok"), std::string::npos) << sent.out;

  std::vector<std::string> received = sink_->Messages();
  ASSERT_EQ(received.size(), 1u);
  const std::string& dump = received[0];
  // The message itself, byte for byte after the fields we put before it.
  std::size_t at = dump.find(Lf(message));
  ASSERT_NE(at, std::string::npos) << dump;
  std::string added = dump.substr(0, at);
  EXPECT_NE(added.find("Received: from client.test (unknown [127.0.0.1])"), std::string::npos)
      << added;
  EXPECT_NE(added.find("(Bulwark)"), std::string::npos) << added;
  EXPECT_NE(added.find("X-Bulwark-Verdict: clean"), std::string::npos) << added;
  EXPECT_NE(dump.find("X-Mail-Args: <alice@sender.test>"), std::string::npos) << dump;

  EXPECT_TRUE(Events(acme_).empty());  // clean mail records no event
}

TEST_F(SmtpGatewayTest, MalwareInAZipIsRejectedAndNeverDelivered) {
  std::string zip = MakeArchive("zip", {{"invoice.com", Eicar()}});
  std::string message = MakeMail("invoice", "please pay", {{"invoice.zip", zip}});
  CommandResult sent = Swaks("bob@example.com", message);
  EXPECT_NE(sent.exit_code, 0);
  EXPECT_NE(sent.out.find("<** 550 5.7.1 Message rejected"), std::string::npos) << sent.out;
  EXPECT_TRUE(sink_->Messages().empty());
  std::vector<storage::Event> events = Events(acme_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].threat_type, "malware");
  EXPECT_EQ(events[0].action, "reject");
  EXPECT_EQ(events[0].service, "smtp");
  EXPECT_EQ(events[0].sender, "alice@sender.test");
  EXPECT_TRUE(Events(other_).empty());
}

TEST_F(SmtpGatewayTest, CardNumbersAreQuarantinedAndTheClientIsToldSo) {
  CommandResult sent = Swaks("carol@sales.example.com", Mail("card-numbers", kCards));
  EXPECT_EQ(sent.exit_code, 0) << sent.out;
  EXPECT_NE(sent.out.find("<-  250 2.0.0 Message accepted and held"), std::string::npos)
      << sent.out;
  EXPECT_TRUE(sink_->Messages().empty());  // quarantined, not handed on
  std::vector<storage::Event> events = Events(acme_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].detectors.find("dlp"), std::string::npos) << events[0].detectors;
  EXPECT_EQ(events[0].action, "quarantine");
}

TEST_F(SmtpGatewayTest, RecipientsOfOtherDomainsAreRefused) {
  CommandResult sent = Swaks("victim@elsewhere.test", "Subject: relay?\r\n\r\nhi\r\n");
  EXPECT_NE(sent.exit_code, 0);
  EXPECT_NE(sent.out.find("<** 550 5.7.1 <victim@elsewhere.test>: Relay access denied"),
            std::string::npos)
      << sent.out;
  EXPECT_TRUE(sink_->Messages().empty());
}

TEST_F(SmtpGatewayTest, ANextHopThatIsDownDefersAndTheRetryArrives) {
  CommandResult deferred = Swaks("dave@down.test", Mail("retry-me", "later\r\n"));
  EXPECT_NE(deferred.exit_code, 0);
  EXPECT_NE(deferred.out.find("<** 451 4.4.1 Next hop 127.0.0.1:" + std::to_string(down_port_) +
                              " unavailable"),
            std::string::npos)
      << deferred.out;
  SmtpSink back(down_port_, scratch_.path() / "back");
  ASSERT_TRUE(back.ready());
  CommandResult retried = Swaks("dave@down.test", Mail("retry-me", "later\r\n"));
  EXPECT_EQ(retried.exit_code, 0) << retried.out;
  std::vector<std::string> arrived = back.Messages();
  ASSERT_EQ(arrived.size(), 1u);
  EXPECT_NE(arrived[0].find(Lf(Mail("retry-me", "later\r\n"))), std::string::npos) << arrived[0];
  EXPECT_NE(arrived[0].find("X-Bulwark-Verdict: clean"), std::string::npos);
}

TEST_F(SmtpGatewayTest, StartTlsWithSwaks) {
  CommandResult sent = Swaks("bob@example.com", Mail("secret", "over TLS\r\n"), "--tls");
  EXPECT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_NE(sent.out.find("TLS started"), std::string::npos) << sent.out;
  std::vector<std::string> received = sink_->Messages();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_NE(received[0].find("ESMTPS"), std::string::npos) << received[0];
}

TEST_F(SmtpGatewayTest, MalformedCommandsGetClearErrors) {
  auto connection = net::ConnectTcp("127.0.0.1", port_, 5s);
  ASSERT_TRUE(connection.ok());
  net::BufferedReader reader(**connection, 10s);
  auto exchange = [&](const std::string& line) {
    if (!line.empty()) {
      EXPECT_TRUE((*connection)->Write(line + "\r\n", 5s).ok());
    }
    std::string reply;
    for (;;) {
      Result<std::string> got = reader.ReadUntil("\r\n", 4096);
      if (!got.ok()) return reply + "<" + got.status().message() + ">";
      reply += *got + "|";
      if (got->size() < 4 || (*got)[3] != '-') return reply;
    }
  };
  EXPECT_EQ(exchange(""), "220 gw.test ESMTP Bulwark|");
  EXPECT_EQ(exchange("MAIL FROM:<a@b.test>"), "503 5.5.1 Error: send HELO/EHLO first|");
  std::string ehlo = exchange("EHLO client.test");
  EXPECT_NE(ehlo.find("250-SIZE 5242880|"), std::string::npos) << ehlo;
  EXPECT_NE(ehlo.find("250-STARTTLS|"), std::string::npos) << ehlo;
  EXPECT_EQ(exchange("MAIL FROM:<broken"),
            "501 5.1.7 Bad sender address syntax: unterminated <address>|");
  EXPECT_EQ(exchange("MAIL FROM:<a@b.test> SIZE=99999999"),
            "552 5.3.4 Message size exceeds fixed limit|");
  EXPECT_EQ(exchange("HELLO"), "500 5.5.2 Command not recognized|");
  EXPECT_EQ(exchange("MAIL FROM:<a@b.test>"), "250 2.1.0 Sender OK|");
  EXPECT_EQ(exchange("RCPT TO:bob"),
            "501 5.1.3 Bad recipient address syntax: address must be local-part@domain|");
  EXPECT_EQ(exchange("DATA"), "554 5.5.1 Error: no valid recipients|");
  EXPECT_EQ(exchange("QUIT"), "221 2.0.0 gw.test Bye|");
}

// Postfix in front (relayhost = the gateway), as a site would put Bulwark behind its relay:
// a clean message passes both, over STARTTLS between Postfix and the gateway; a message
// for a next hop that is down is deferred by the gateway (4xx), stays in Postfix's queue,
// and arrives once the next hop is back.
TEST_F(SmtpGatewayTest, PostfixInFrontRelaysAndRetriesDeferredMail) {
  if (!HaveProgram("postfix")) GTEST_SKIP() << "Postfix is not installed";
  std::uint16_t front_port = FreePort();
  PostfixInstance postfix(scratch_.path() / "postfix", front_port,
                          "[127.0.0.1]:" + std::to_string(port_));
  ASSERT_TRUE(postfix.started()) << postfix.Log();

  auto send = [&](const std::string& to, const std::string& subject) {
    fs::path file = scratch_.Write(subject + ".eml", Mail(subject, "body\r\n"));
    return RunShell("swaks --server 127.0.0.1:" + std::to_string(front_port) +
                        " --helo client.test --from alice@front.test --to " + to + " --data @" +
                        file.string(),
                    scratch_.path());
  };
  auto wait_for = [](const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); ++i) std::this_thread::sleep_for(100ms);
    return done();
  };

  CommandResult clean = send("bob@example.com", "through-postfix");
  ASSERT_EQ(clean.exit_code, 0) << clean.out;
  ASSERT_TRUE(wait_for([&] { return sink_->SettledMessages().size() == 1; })) << postfix.Log();
  std::string arrived = sink_->Messages()[0];
  EXPECT_NE(arrived.find("X-Helo-Args: gw.test"), std::string::npos) << arrived;
  EXPECT_NE(arrived.find("Received: from front.test (unknown [127.0.0.1])"), std::string::npos)
      << arrived;
  EXPECT_NE(arrived.find("ESMTPS"), std::string::npos) << arrived;  // Postfix used STARTTLS
  EXPECT_NE(arrived.find("by front.test (Postfix)"), std::string::npos) << arrived;
  EXPECT_NE(arrived.find("Subject: through-postfix\n"), std::string::npos) << arrived;
  EXPECT_NE(arrived.find("\n\nbody\n"), std::string::npos) << arrived;

  CommandResult deferred = send("dave@down.test", "deferred-then-delivered");
  ASSERT_EQ(deferred.exit_code, 0) << deferred.out;  // Postfix took it into its queue
  ASSERT_TRUE(wait_for([&] { return postfix.Log().find("status=deferred") != std::string::npos; }))
      << postfix.Log();
  EXPECT_NE(postfix.Log().find("451 4.4.1 Next hop 127.0.0.1:" + std::to_string(down_port_)),
            std::string::npos)
      << postfix.Log();
  SmtpSink back(down_port_, scratch_.path() / "back");
  ASSERT_TRUE(back.ready());
  postfix.Flush();
  ASSERT_TRUE(wait_for([&] { return back.SettledMessages().size() == 1; })) << postfix.Log();
  EXPECT_NE(back.Messages()[0].find("Subject: deferred-then-delivered"), std::string::npos);
}

TEST_F(SmtpGatewayTest, NoticesTellTheAdministratorAndTheRecipientWithoutTheMessage) {
  service::MailConfig mail;
  mail.hostname = "gw.test";
  mail.notify_address = "postmaster@example.com";
  mail.notify_recipients = true;
  mail.domains.push_back({"example.com", true, "acme", "127.0.0.1:" + std::to_string(sink_port_),
                          "none", ""});
  auto gateway = StartGateway(mail);
  ASSERT_TRUE(gateway);
  CommandResult sent =
      SwaksTo(gateway->bound().at(0).port, "carol@sales.example.com", Mail("card-numbers", kCards));
  EXPECT_EQ(sent.exit_code, 0) << sent.out;
  std::vector<std::string> notices;
  for (int i = 0; i < 100 && notices.size() < 2; ++i) {
    std::this_thread::sleep_for(100ms);
    notices = sink_->Messages();
  }
  gateway->Stop(1000ms);
  ASSERT_EQ(notices.size(), 2u);  // the message itself was quarantined, not handed on
  std::string both = notices[0] + notices[1];
  EXPECT_NE(both.find("X-Rcpt-Args: <postmaster@example.com>"), std::string::npos) << both;
  EXPECT_NE(both.find("X-Rcpt-Args: <carol@sales.example.com>"), std::string::npos) << both;
  for (const std::string& notice : notices) {
    EXPECT_NE(notice.find("X-Mail-Args: <>"), std::string::npos) << notice;  // null sender
    EXPECT_NE(notice.find("Auto-Submitted: auto-generated"), std::string::npos);
    EXPECT_NE(notice.find("Subject: [Bulwark] A message was quarantined (dlp)"),
              std::string::npos)
        << notice;
    EXPECT_NE(notice.find("Sender:      alice@sender.test"), std::string::npos) << notice;
    EXPECT_EQ(notice.find("4111"), std::string::npos);          // no content
    EXPECT_EQ(notice.find("card-numbers"), std::string::npos);  // not even the subject
  }
}

// Postfix behind the gateway (the tenant's own MTA as next hop, relaying on to the sink),
// and a restart of the gateway in the middle of a delivery: the message is not lost (the
// sending Postfix keeps it and retries) and arrives once.
TEST_F(SmtpGatewayTest, PostfixBehindAndARestartDuringDeliveryLosesNothing) {
  if (!HaveProgram("postfix") || !HaveProgram("python3")) {
    GTEST_SKIP() << "Postfix or python3 is not installed";
  }
  std::uint16_t behind_port = FreePort();
  PostfixInstance behind(scratch_.path() / "behind", behind_port,
                         "[127.0.0.1]:" + std::to_string(sink_port_));
  ASSERT_TRUE(behind.started()) << behind.Log();
  auto wait_for = [](const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); ++i) std::this_thread::sleep_for(100ms);
    return done();
  };
  service::MailConfig mail;
  mail.hostname = "gw.test";
  mail.domains.push_back({"example.com", false, "acme",
                          "127.0.0.1:" + std::to_string(behind_port), "opportunistic", ""});
  std::uint16_t gateway_port = FreePort();
  auto gateway = StartGateway(mail, gateway_port);
  ASSERT_TRUE(gateway);
  CommandResult through = SwaksTo(gateway_port, "bob@example.com", Mail("via-postfix", "hi\r\n"));
  EXPECT_EQ(through.exit_code, 0) << through.out;
  ASSERT_TRUE(wait_for([&] { return sink_->SettledMessages().size() == 1; })) << behind.Log();
  EXPECT_NE(sink_->Messages()[0].find("X-Bulwark-Verdict: clean"), std::string::npos);
  EXPECT_NE(sink_->Messages()[0].find("by front.test (Postfix)"), std::string::npos);
  gateway->Stop(1000ms);

  // A next hop that takes the message and never answers its end: the gateway is stopped
  // while it waits, as a restart of `bulwark serve` would.
  std::uint16_t stuck_port = FreePort();
  fs::path stuck_script = scratch_.Write("stuck.py", R"(import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
while True:
    c, _ = s.accept(); f = c.makefile("rb"); c.sendall(b"220 stuck ESMTP\r\n")
    for line in f:
        u = line.upper()
        if u.startswith(b"EHLO") or u.startswith(b"HELO"): c.sendall(b"250 stuck\r\n")
        elif u.startswith(b"DATA"): c.sendall(b"354 go on\r\n")
        elif line in (b".\r\n", b".\n"): pass  # never answer: the delivery hangs here
        elif u.startswith(b"MAIL") or u.startswith(b"RCPT"): c.sendall(b"250 ok\r\n")
)");

  ChildProcess stuck({"python3", stuck_script.string(), std::to_string(stuck_port)},
                     scratch_.path() / "stuck.log");
  ASSERT_TRUE(WaitForPort(stuck_port, 10s));
  service::MailConfig stuck_mail = mail;
  stuck_mail.domains[0].next_hop = "127.0.0.1:" + std::to_string(stuck_port);
  stuck_mail.domains[0].next_hop_tls = "none";
  std::uint16_t restart_port = FreePort();
  auto first = StartGateway(stuck_mail, restart_port);
  ASSERT_TRUE(first);
  std::uint16_t front_port = FreePort();
  PostfixInstance front(scratch_.path() / "front", front_port,
                        "[127.0.0.1]:" + std::to_string(restart_port));
  ASSERT_TRUE(front.started()) << front.Log();
  fs::path file = scratch_.Write("restart.eml", Mail("survives-restart", "body\r\n"));
  CommandResult queued = RunShell("swaks --server 127.0.0.1:" + std::to_string(front_port) +
                                      " --helo client.test --from alice@front.test"
                                      " --to bob@example.com --data @" + file.string(),
                                  scratch_.path());
  ASSERT_EQ(queued.exit_code, 0) << queued.out;  // in the front Postfix's queue
  std::this_thread::sleep_for(3s);  // the front Postfix is now in the middle of DATA
  first->Stop(500ms);               // "restart": the session is cut while it waits
  first.reset();
  ASSERT_TRUE(wait_for([&] { return front.Log().find("status=deferred") != std::string::npos; }))
      << front.Log();
  auto second = StartGateway(mail, restart_port);  // back, with the working next hop
  ASSERT_TRUE(second);
  front.Flush();
  ASSERT_TRUE(wait_for([&] {
    std::size_t n = 0;
    for (const std::string& m : sink_->Messages()) n += m.find("survives-restart") != std::string::npos;
    return n >= 1;
  })) << front.Log();
  std::this_thread::sleep_for(2s);
  std::size_t copies = 0;
  for (const std::string& m : sink_->Messages()) copies += m.find("Subject: survives-restart") != std::string::npos;
  EXPECT_EQ(copies, 1u);  // arrived, once
  second->Stop(1000ms);
}

// Broken MIME (a multipart that never ends, a base64 attachment that is not base64, a
// nested message cut short) is still scanned as far as it goes and answered clearly:
// never a crash, never a silent pass of what could not be read.
TEST_F(SmtpGatewayTest, MalformedMimeGetsAClearAnswer) {
  const std::string broken =
      "From: Alice Example <alice@example.org>\r\nTo: bob@example.com\r\n"
      "Subject: broken-mime\r\nMessage-ID: <broken-mime@example.org>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
      "Content-Type: text/plain\r\n\r\nhello\r\n--b1\r\n"
      "Content-Type: application/zip; name=\"a.zip\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64 at all!!!\r\n--b1\r\n"
      "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/"
      "mixed; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\ncut short\r\n";
  CommandResult sent = Swaks("bob@example.com", broken);
  // GMime reads it leniently, as mail clients do: what a recipient could open is what was
  // scanned — the text, the nested message as far as it goes, and the "attachment" whose
  // bytes decode to no archive at all. Nothing there is a finding, so it is delivered.
  EXPECT_EQ(sent.exit_code, 0) << sent.out;
  std::vector<std::string> received = sink_->Messages();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_NE(received[0].find("X-Bulwark-Verdict: clean"), std::string::npos) << received[0];
  EXPECT_NE(received[0].find("cut short"), std::string::npos);  // delivered whole
}

TEST_F(SmtpGatewayTest, AClientGetsAtMostItsShareOfConnections) {
  std::vector<std::unique_ptr<net::Connection>> open;
  for (int i = 0; i < 3; ++i) {
    auto connection = net::ConnectTcp("127.0.0.1", port_, 5s);
    ASSERT_TRUE(connection.ok());
    net::BufferedReader reader(**connection, 10s);
    EXPECT_EQ(*reader.ReadUntil("\r\n", 512), "220 gw.test ESMTP Bulwark");
    open.push_back(std::move(*connection));
  }
  auto fourth = net::ConnectTcp("127.0.0.1", port_, 5s);
  ASSERT_TRUE(fourth.ok());
  net::BufferedReader reader(**fourth, 10s);
  EXPECT_EQ(*reader.ReadUntil("\r\n", 512),
            "421 4.7.0 gw.test Too many connections from your address");
  open.pop_back();  // a slot frees up when a session ends
  std::this_thread::sleep_for(300ms);
  CommandResult sent = Swaks("bob@example.com", Mail("after-the-limit", "hello\r\n"));
  EXPECT_EQ(sent.exit_code, 0) << sent.out;
}

}  // namespace
}  // namespace bulwark::testing

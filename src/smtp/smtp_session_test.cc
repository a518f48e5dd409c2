// The SMTP session over a socketpair with a fake backend and a fake next hop: the dialogue,
// pipelining, every error reply, each decision's answer, limits, STARTTLS (and that plain
// text sent with it is dropped) and timeouts.

#include "smtp/smtp_session.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "http/server.h"

namespace bulwark::smtp {
namespace {

using namespace std::chrono_literals;

struct HopLog {
  std::mutex mu;
  std::vector<std::string> calls;  // "open a <from>", "rcpt x", "data", "abandon"
  std::string relayed;
  void Add(std::string call) {
    std::lock_guard lock(mu);
    calls.push_back(std::move(call));
  }
  std::vector<std::string> Calls() {
    std::lock_guard lock(mu);
    return calls;
  }
};

class FakeHop : public NextHop {
 public:
  FakeHop(HopLog& log, SmtpReply final_reply) : log_(log), final_(std::move(final_reply)) {}
  SmtpReply Recipient(const std::string& address) override {
    log_.Add("rcpt " + address);
    if (address.rfind("nobody@", 0) == 0) return MakeReply(550, "5.1.1", "User unknown");
    return MakeReply(250, "2.1.5", "Ok");
  }
  SmtpReply Data(std::string_view message) override {
    log_.Add("data");
    std::lock_guard lock(log_.mu);
    log_.relayed = std::string(message);
    return final_;
  }
  void Abandon() override { log_.Add("abandon"); }

 private:
  HopLog& log_;
  SmtpReply final_;
};

class FakeBackend : public SmtpBackend {
 public:
  std::optional<SmtpRoute> Route(const std::string& recipient) override {
    std::string domain = DomainOf(recipient);
    if (domain == "example.com") return SmtpRoute{"tenant-a", "mx.example.com:25", "none", ""};
    if (domain == "other.org") return SmtpRoute{"tenant-b", "mx.other.org:25", "none", ""};
    return std::nullopt;
  }
  NextHopOpening OpenNextHop(const SmtpRoute& route, const std::string& mail_from,
                             const MailParameters& parameters) override {
    log.Add("open " + route.next_hop + " <" + mail_from + ">" +
            (parameters.size ? " size=" + std::to_string(*parameters.size) : ""));
    if (hop_down) return {nullptr, MakeReply(451, "4.4.1", "Next hop unavailable")};
    return {std::make_unique<FakeHop>(log, final_reply), {}};
  }
  SmtpDecision Decide(const mail::Envelope& envelope, const SmtpRoute& route,
                      std::string_view message) override {
    std::lock_guard lock(mu);
    decided.push_back(envelope);
    tenants.push_back(route.tenant_id);
    SmtpDecision d = decision;
    if (d.action == SmtpDecision::Action::kRelay)
      d.message = "X-Scanned: yes\r\n" + std::string(message);
    return d;
  }

  HopLog log;
  bool hop_down = false;
  SmtpReply final_reply = MakeReply(250, "2.0.0", "Ok: queued as ABC123");
  SmtpDecision decision{SmtpDecision::Action::kRelay, MakeReply(250, "2.0.0", "OK"), "", "deliver"};
  std::mutex mu;
  std::vector<mail::Envelope> decided;
  std::vector<std::string> tenants;
};

class SmtpSessionTest : public ::testing::Test {
 protected:
  void Start(SmtpSessionOptions options = {}) {
    options_ = std::move(options);
    options_.hostname = "gw.test";
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    server_ = net::SocketConnection(UniqueFd(fds[0]),
                                    net::Peer{net::Transport::kTcp, "192.0.2.7:4000", false});
    client_ = net::SocketConnection(UniqueFd(fds[1]), net::Peer{});
    reader_ = std::make_unique<net::BufferedReader>(*client_, 5s);
    thread_ = std::thread([this] {
      RunSmtpSession(*server_, backend_, options_);
      server_->ShutdownWrite();
    });
    EXPECT_EQ(Reply(), "220 gw.test ESMTP Bulwark");
  }

  void TearDown() override {
    if (thread_.joinable()) {
      client_->ShutdownWrite();
      thread_.join();
    }
  }

  void Send(std::string_view data) { ASSERT_TRUE(client_->Write(data, 1s).ok()); }

  // One whole reply, its lines joined by "|".
  std::string Reply() {
    std::string out;
    for (;;) {
      Result<std::string> line = reader_->ReadUntil("\r\n", 10000);
      if (!line.ok()) return out + "<" + line.status().message() + ">";
      out += (out.empty() ? "" : "|") + *line;
      if (line->size() < 4 || (*line)[3] != '-') return out;
    }
  }

  std::string Command(std::string_view line) {
    Send(std::string(line) + "\r\n");
    return Reply();
  }

  void Greet() { ASSERT_EQ(Command("EHLO client.test").substr(0, 4), "250-"); }

  FakeBackend backend_;
  SmtpSessionOptions options_;
  std::unique_ptr<net::Connection> server_;
  std::unique_ptr<net::Connection> client_;
  std::unique_ptr<net::BufferedReader> reader_;
  std::thread thread_;
};

TEST_F(SmtpSessionTest, RelaysACleanMessageAndAnswersWithTheNextHopsReply) {
  SmtpSessionOptions options;
  options.max_message_bytes = 1000000;
  Start(options);
  EXPECT_EQ(Command("EHLO client.test"),
            "250-gw.test greets client.test|250-SIZE 1000000|250-8BITMIME|250-PIPELINING|"
            "250-ENHANCEDSTATUSCODES|250 SMTPUTF8");
  EXPECT_EQ(Command("MAIL FROM:<alice@sender.test> SIZE=200"), "250 2.1.0 Sender OK");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "250 2.1.5 Ok");
  EXPECT_EQ(Command("RCPT TO:<carol@Example.COM>"), "250 2.1.5 Ok");
  EXPECT_EQ(Command("DATA"), "354 End data with <CR><LF>.<CR><LF>");
  Send("Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n");
  EXPECT_EQ(Reply(), "250 2.0.0 Ok: queued as ABC123");
  EXPECT_EQ(Command("QUIT"), "221 2.0.0 gw.test Bye");
  thread_.join();

  EXPECT_EQ(backend_.log.relayed, "X-Scanned: yes\r\nSubject: hi\r\n\r\n.dot\r\nbody\r\n");
  EXPECT_EQ(backend_.log.Calls(),
            (std::vector<std::string>{"open mx.example.com:25 <alice@sender.test> size=200",
                                      "rcpt bob@example.com", "rcpt carol@Example.COM", "data",
                                      "abandon"}));
  ASSERT_EQ(backend_.decided.size(), 1u);
  const mail::Envelope& envelope = backend_.decided[0];
  EXPECT_EQ(envelope.helo, "client.test");
  EXPECT_EQ(envelope.client_ip, "192.0.2.7");
  EXPECT_EQ(envelope.mail_from, "alice@sender.test");
  EXPECT_EQ(envelope.recipients,
            (std::vector<std::string>{"bob@example.com", "carol@Example.COM"}));
  EXPECT_EQ(envelope.queue_id.size(), 12u);
  EXPECT_FALSE(envelope.tls);
  EXPECT_EQ(backend_.tenants[0], "tenant-a");
}

TEST_F(SmtpSessionTest, AnswersPipelinedCommandsInOrder) {
  Start();
  Send(
      "EHLO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<nobody@example.com>\r\n"
      "DATA\r\n");
  EXPECT_EQ(Reply().substr(0, 4), "250-");
  EXPECT_EQ(Reply(), "250 2.1.0 Sender OK");
  EXPECT_EQ(Reply(), "250 2.1.5 Ok");
  EXPECT_EQ(Reply(), "550 5.1.1 User unknown");  // the real server's answer, passed on
  EXPECT_EQ(Reply(), "354 End data with <CR><LF>.<CR><LF>");
  Send("x\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(Reply(), "250 2.0.0 Ok: queued as ABC123");
  EXPECT_EQ(Reply(), "221 2.0.0 gw.test Bye");
  ASSERT_EQ(backend_.decided.size(), 1u);
  EXPECT_EQ(backend_.decided[0].recipients, std::vector<std::string>{"a@example.com"});
}

TEST_F(SmtpSessionTest, RefusesBadSequencesSyntaxAndRelaying) {
  SmtpSessionOptions options;
  options.max_message_bytes = 100;
  options.max_recipients = 2;
  Start(options);
  EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "503 5.5.1 Error: send HELO/EHLO first");
  EXPECT_EQ(Command("EHLO"), "501 5.5.4 Syntax: EHLO hostname");
  EXPECT_EQ(Command("HELO client.test"), "250 gw.test");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "503 5.5.1 Error: need MAIL command");
  EXPECT_EQ(Command("DATA"), "503 5.5.1 Error: need MAIL command");
  EXPECT_EQ(Command("FROB"), "500 5.5.2 Command not recognized");
  EXPECT_EQ(Command("MAIL FROM:alice").substr(0, 10), "501 5.1.7 ");
  EXPECT_EQ(Command("MAIL FROM:<a@b.test> SIZE=101"), "552 5.3.4 Message size exceeds fixed limit");
  EXPECT_EQ(Command("MAIL FROM:<a@b.test> BODY=BINARYMIME"),
            "501 5.5.4 Bad BODY parameter (7BIT or 8BITMIME)");
  EXPECT_EQ(Command("MAIL FROM:<a@b.test> AUTH=<>"), "555 5.5.4 Unsupported MAIL parameter AUTH");
  EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "250 2.1.0 Sender OK");
  EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "503 5.5.1 Error: nested MAIL command");
  EXPECT_EQ(Command("DATA"), "554 5.5.1 Error: no valid recipients");
  EXPECT_EQ(Command("RCPT TO:<victim@elsewhere.test>"),
            "550 5.7.1 <victim@elsewhere.test>: Relay access denied");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com> NOTIFY=NEVER"),
            "555 5.5.4 Unsupported RCPT parameter NOTIFY");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "250 2.1.5 Ok");
  EXPECT_EQ(Command("RCPT TO:<eve@other.org>"),
            "452 4.5.3 Recipients for another destination: send them in a new transaction");
  EXPECT_EQ(Command("RCPT TO:<carol@example.com>"), "250 2.1.5 Ok");
  EXPECT_EQ(Command("RCPT TO:<dave@example.com>"), "452 4.5.3 Too many recipients");
  EXPECT_EQ(Command("VRFY bob"),
            "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
  EXPECT_EQ(Command("EXPN list"), "502 5.5.1 EXPN not available");
  EXPECT_EQ(Command("BDAT 10 LAST"), "502 5.5.1 BDAT not available (no CHUNKING)");
  EXPECT_EQ(Command("STARTTLS"), "503 5.5.1 STARTTLS not available");
  EXPECT_EQ(Command("NOOP"), "250 2.0.0 OK");
  EXPECT_EQ(Command("HELP").substr(0, 10), "214 2.0.0 ");
  EXPECT_EQ(Command("RSET"), "250 2.0.0 OK");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "503 5.5.1 Error: need MAIL command");
  EXPECT_EQ(Command(std::string(5000, 'A')), "500 5.5.6 Line too long");
  Send("NOOP\n");
  EXPECT_EQ(Reply(), "500 5.5.2 Bare <LF> received; SMTP line ends are <CR><LF>");
  EXPECT_EQ(Command("NOOP"), "250 2.0.0 OK");         // still in step after both
  EXPECT_EQ(backend_.log.Calls().back(), "abandon");  // RSET closed the next hop's transaction
}

TEST_F(SmtpSessionTest, OversizedAndBareLfMessagesAreRefusedWithoutAScan) {
  SmtpSessionOptions options;
  options.max_message_bytes = 50;
  Start(options);
  Greet();
  EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "250 2.1.0 Sender OK");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "250 2.1.5 Ok");
  EXPECT_EQ(Command("DATA").substr(0, 3), "354");
  Send(std::string(100, 'x') + "\r\n.\r\n");
  EXPECT_EQ(Reply(), "552 5.3.4 Message size exceeds fixed limit");
  EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "250 2.1.0 Sender OK");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "250 2.1.5 Ok");
  EXPECT_EQ(Command("DATA").substr(0, 3), "354");
  Send("a\n.\nMAIL FROM:<x@y.test>\r\n.\r\n");  // SMTP smuggling
  EXPECT_EQ(Reply(), "550 5.5.2 Message refused: bare <LF> line ends (use <CR><LF>)");
  EXPECT_EQ(Command("NOOP"), "250 2.0.0 OK");
  EXPECT_TRUE(backend_.decided.empty());
  EXPECT_EQ(backend_.log.Calls().back(), "abandon");
}

TEST_F(SmtpSessionTest, EachDecisionGetsItsAnswerAndNothingUnrelayedGetsA250) {
  Start();
  Greet();
  auto transaction = [&] {
    EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "250 2.1.0 Sender OK");
    EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "250 2.1.5 Ok");
    EXPECT_EQ(Command("DATA").substr(0, 3), "354");
    Send("Subject: x\r\n\r\nX5O!P\r\n.\r\n");
    return Reply();
  };
  backend_.decision = {SmtpDecision::Action::kReject,
                       MakeReply(550, "5.7.1", "Message rejected by policy: malware (Eicar)"), "",
                       "reject"};
  EXPECT_EQ(transaction(), "550 5.7.1 Message rejected by policy: malware (Eicar)");
  backend_.decision = {SmtpDecision::Action::kAccepted,
                       MakeReply(250, "2.0.0", "Message quarantined"), "", "quarantine"};
  std::string quarantined = transaction();
  EXPECT_EQ(quarantined.rfind("250 2.0.0 Message quarantined (queue id ", 0), 0u) << quarantined;
  backend_.decision = {SmtpDecision::Action::kTempFail, MakeReply(451, "4.3.0", "Try again later"),
                       "", "tempfail"};
  EXPECT_EQ(transaction(), "451 4.3.0 Try again later");
  // A next hop that refuses the message at the end: its answer, not ours.
  backend_.decision = {SmtpDecision::Action::kRelay, MakeReply(250, "2.0.0", "OK"), "", "deliver"};
  backend_.final_reply = MakeReply(554, "5.7.0", "Spam");
  EXPECT_EQ(transaction(), "554 5.7.0 Spam");
  backend_.final_reply = MakeReply(451, "4.4.2", "Next hop mx: connection lost");
  EXPECT_EQ(transaction(), "451 4.4.2 Next hop mx: connection lost");
  std::vector<std::string> calls = backend_.log.Calls();
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "data"), 2);
  // The next hop down: the recipient is deferred.
  backend_.hop_down = true;
  EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "250 2.1.0 Sender OK");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "451 4.4.1 Next hop unavailable");
  EXPECT_EQ(Command("DATA"), "554 5.5.1 Error: no valid recipients");
}

TEST_F(SmtpSessionTest, IdleClientsTimeOutAndErrorsAreLimited) {
  SmtpSessionOptions options;
  options.command_timeout = 300ms;
  options.max_errors = 3;
  Start(options);
  EXPECT_EQ(Reply(), "421 4.4.2 gw.test Error: timeout exceeded");
  thread_.join();

  Start(options);
  EXPECT_EQ(Command("A"), "500 5.5.2 Command not recognized");
  EXPECT_EQ(Command("B"), "500 5.5.2 Command not recognized");
  EXPECT_EQ(Command("C"), "500 5.5.2 Command not recognized");
  EXPECT_EQ(Reply(), "421 4.7.0 gw.test Too many errors, closing");
  EXPECT_EQ(Reply(), "<connection closed>");
}

TEST_F(SmtpSessionTest, ShutdownIsAnnouncedAtTheNextCommandBoundary) {
  auto stopping = std::make_shared<std::atomic<bool>>(true);
  SmtpSessionOptions options;
  options.stopping = [stopping] { return stopping->load(); };
  Start(options);  // the greeting goes out, then the session sees the flag
  EXPECT_EQ(Reply(), "421 4.3.2 gw.test Service shutting down");
  EXPECT_EQ(Reply(), "<connection closed>");
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/smtp_session_test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST_F(SmtpSessionTest, StartTlsUpgradesAndDropsPlainTextSentWithIt) {
  TempDir dir;
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(dir / "cert.pem", dir / "key.pem").ok());
  auto server_tls = net::TlsContext::Server(dir / "cert.pem", dir / "key.pem");
  auto client_tls = net::TlsContext::Client(true, dir / "cert.pem");
  ASSERT_TRUE(server_tls.ok() && client_tls.ok());
  SmtpSessionOptions options;
  options.tls = *server_tls;
  Start(options);
  std::string ehlo = Command("EHLO client.test");
  EXPECT_NE(ehlo.find("250-STARTTLS"), std::string::npos) << ehlo;
  // The command-injection attack (CVE-2011-0411): a command pipelined with STARTTLS in
  // plain text must not be executed after the upgrade.
  Send("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n");
  EXPECT_EQ(Reply(), "220 2.0.0 Ready to start TLS");
  ASSERT_TRUE(client_->StartTls(**client_tls, "127.0.0.1", 5s).ok());
  reader_ = std::make_unique<net::BufferedReader>(*client_, 5s);
  EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "503 5.5.1 Error: send HELO/EHLO first");
  std::string secure = Command("EHLO client.test");
  EXPECT_EQ(secure.find("STARTTLS"), std::string::npos) << secure;
  EXPECT_EQ(Command("STARTTLS"), "503 5.5.1 STARTTLS not available");
  EXPECT_EQ(Command("MAIL FROM:<a@b.test>"), "250 2.1.0 Sender OK");
  EXPECT_EQ(Command("RCPT TO:<bob@example.com>"), "250 2.1.5 Ok");
  EXPECT_EQ(Command("DATA").substr(0, 3), "354");
  Send("hi\r\n.\r\n");
  EXPECT_EQ(Reply(), "250 2.0.0 Ok: queued as ABC123");
  ASSERT_EQ(backend_.decided.size(), 1u);
  EXPECT_TRUE(backend_.decided[0].tls);
  EXPECT_EQ(backend_.decided[0].mail_from, "a@b.test");
}

}  // namespace
}  // namespace bulwark::smtp

// The milter session over a socketpair with a fake backend: a whole conversation as Postfix
// sends it, several messages per connection, abort, limits, protocol errors — no server, no
// site.
#include "milter/milter_session.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

namespace bulwark::milter {
namespace {

// Recipients at nobody.example are nobody's; at broken.example their tenant is missing.
// Messages containing "EVIL" are rejected, "HOLD" quarantined, "SLOW" take 300 ms.
class FakeBackend : public MilterBackend {
 public:
  Result<std::string> TenantFor(const std::vector<std::string>& recipients) override {
    if (recipients.empty()) return std::string("t_acme");
    if (recipients[0].ends_with("@nobody.example")) return std::string();
    if (recipients[0].ends_with("@broken.example")) return NotFoundError("no such tenant");
    return std::string("t_acme");
  }
  MilterDecision Decide(const MilterMessage& message) override {
    {
      std::lock_guard lock(mu);
      messages.push_back(message);
    }
    MilterDecision decision;
    mail::MailVerdict& verdict = decision.verdict;
    if (message.message.find("SLOW") != std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    if (message.message.find("EVIL") != std::string::npos) {
      verdict.disposition = mail::Disposition::kReject;
      verdict.reply_code = 550;
      verdict.enhanced_code = "5.7.1";
      verdict.reply_text = "Message rejected by policy: malware (Evil)";
    } else if (message.message.find("HOLD") != std::string::npos) {
      verdict.disposition = mail::Disposition::kQuarantine;
      verdict.reply_text = "quarantined";
    } else {
      verdict.add_headers = {{"X-Bulwark-Verdict", "clean"}};
    }
    return decision;
  }

  std::mutex mu;
  std::vector<MilterMessage> messages;
};

std::string Word(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string Z(std::string_view s) { return std::string(s) + '\0'; }

class MilterSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.timeout = std::chrono::milliseconds(3000);
    options_.progress_interval = std::chrono::milliseconds(100);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }

  void Start() {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    connection_ =
        net::SocketConnection(UniqueFd(fds[0]), net::Peer{net::Transport::kUnix, "unix", true});
    thread_ = std::thread([this] {
      MilterSession session(backend_, options_);
      session.Run(*connection_);
      connection_.reset();  // closes our end: the MTA sees EOF
    });
    fd_ = fds[1];
  }

  void Send(char code, std::string_view data) { SendRaw(EncodePacket(code, data)); }
  // Writes without SIGPIPE: a milter that closed makes the write fail, not the test die.
  void SendRaw(std::string_view bytes) {
    (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }

  // The next packet from the milter; code 0 when the milter closed or nothing came in 3 s.
  Packet Receive() {
    std::size_t consumed = 0;
    for (;;) {
      auto packet = DecodePacket(pending_, consumed);
      if (packet.ok() && packet->has_value()) {
        pending_.erase(0, consumed);
        return **packet;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 3000) <= 0) return {};
      char buffer[65536];
      ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) return {};
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }
  // Codes of the packets up to and including the first final answer of end of message.
  std::string ReceiveUntilFinal(std::vector<Packet>* out = nullptr) {
    std::string codes;
    for (;;) {
      Packet packet = Receive();
      codes += packet.code == 0 ? '-' : packet.code;
      if (out != nullptr) out->push_back(packet);
      if (std::string_view("acdrtyq-").find(packet.code == 0 ? '-' : packet.code) !=
              std::string_view::npos &&
          packet.code != 'q') {
        return codes;
      }
    }
  }

  // Negotiation as Postfix 3 does it (everything offered).
  Options Negotiate() {
    Send('O', Word(6) + Word(0x1ff) + Word(0x1fffff));
    Packet reply = Receive();
    EXPECT_EQ(reply.code, 'O');
    auto options = ParseOptions(reply.data);
    EXPECT_TRUE(options.ok());
    return options.ok() ? *options : Options{};
  }
  void Envelope(std::string_view rcpt = "<bob@acme.example>") {
    Send('D', "C" + Z("j") + Z("mx.acme.example") + Z("{daemon_name}") + Z("smtpd"));
    Send('C', Z("client.example") + "4" + std::string("\x30\x39", 2) + Z("192.0.2.7"));
    Send('D', "H" + Z("{tls_version}") + Z("TLSv1.3"));
    Send('H', Z("client.example"));
    Send('D', "M" + Z("i") + Z("4XyZ1"));
    Send('M', Z("<alice@sender.example>") + Z("SIZE=300"));
    Send('R', Z(rcpt));
  }
  void Headers(std::string_view subject = " Hello") {
    Send('L', Z("Received") + Z(" from client.example\n\tby mx.acme.example"));
    Send('L', Z("From") + Z(" alice@sender.example"));
    Send('L', Z("Subject") + Z(subject));
    Send('N', "");
  }

  FakeBackend backend_;
  MilterSessionOptions options_;
  std::unique_ptr<net::Connection> connection_;
  std::thread thread_;
  int fd_ = -1;
  std::string pending_;
};

TEST_F(MilterSessionTest, WholeConversationAsPostfixSendsIt) {
  Start();
  Options negotiated = Negotiate();
  EXPECT_EQ(negotiated.version, 6u);
  EXPECT_EQ(negotiated.actions, kWantedActions);
  EXPECT_EQ(negotiated.protocol, kWantedProtocol);
  Envelope();
  Headers();
  Send('B', "Hello Bob,\r\nall fine.\r\n");
  EXPECT_EQ(Receive().code, 'c');  // body chunks are answered
  Send('E', "");
  std::vector<Packet> packets;
  EXPECT_EQ(ReceiveUntilFinal(&packets), "ia");
  EXPECT_EQ(packets[0].data.substr(4), std::string("X-Bulwark-Verdict\0 clean\0", 25));
  Send('Q', "");
  EXPECT_EQ(Receive().code, 0);  // closed

  ASSERT_EQ(backend_.messages.size(), 1u);
  const MilterMessage& m = backend_.messages[0];
  EXPECT_EQ(m.tenant_id, "t_acme");
  EXPECT_EQ(m.envelope.client_ip, "192.0.2.7");
  EXPECT_EQ(m.envelope.client_name, "client.example");
  EXPECT_EQ(m.envelope.helo, "client.example");
  EXPECT_EQ(m.envelope.mail_from, "alice@sender.example");
  EXPECT_EQ(m.envelope.recipients, std::vector<std::string>{"bob@acme.example"});
  EXPECT_EQ(m.envelope.queue_id, "4XyZ1");
  EXPECT_TRUE(m.envelope.tls);
  EXPECT_EQ(m.macros.at("{daemon_name}"), "smtpd");
  EXPECT_EQ(m.message,
            "Received: from client.example\r\n\tby mx.acme.example\r\n"
            "From: alice@sender.example\r\nSubject: Hello\r\n\r\n"
            "Hello Bob,\r\nall fine.\r\n");
}

// The bytes Postfix 3.7 sent for one message to two recipients (recorded; the same file
// seeds the fuzzer): macros at every stage, a folded Subject, Postfix's own Date field, the
// body dot-unstuffed, then ABORT twice and QUIT.
TEST_F(MilterSessionTest, ReplaysARecordedPostfixConversation) {
  std::ifstream file(
      std::string(BULWARK_SOURCE_DIR) + "/fuzz/corpus/milter_protocol/postfix_3_7_session",
      std::ios::binary);
  std::string recorded((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ASSERT_GT(recorded.size(), 900u);
  Start();
  SendRaw(recorded);
  std::string codes;
  for (Packet p = Receive(); p.code != 0; p = Receive()) codes += p.code;
  EXPECT_EQ(codes, "Ocia");  // negotiation, the body chunk, the end of message
  ASSERT_EQ(backend_.messages.size(), 1u);
  const MilterMessage& m = backend_.messages[0];
  EXPECT_EQ(m.envelope.client_ip, "127.0.0.1");
  EXPECT_EQ(m.envelope.client_name, "localhost");
  EXPECT_EQ(m.envelope.helo, "vm");
  EXPECT_EQ(m.envelope.mail_from, "alice@sender.example");
  EXPECT_EQ(m.envelope.recipients,
            (std::vector<std::string>{"bob@acme.example", "carol@acme.example"}));
  EXPECT_EQ(m.envelope.queue_id, "64DECAA69A4");
  EXPECT_FALSE(m.envelope.tls);
  EXPECT_EQ(m.macros.at("v"), "Postfix 3.7.11");
  EXPECT_EQ(m.message,
            "From: Alice <alice@sender.example>\r\nTo: bob@acme.example\r\n"
            "Subject: Quarterly\r\n numbers\r\nMessage-ID: <q1@sender.example>\r\n"
            "Date: Sat, 28 Nov 2026 18:26:41 +0000 (UTC)\r\n\r\n"
            "Hello Bob,\r\n.. a dotted line\r\n\r\nregards\r\n\r\n");
}

TEST_F(MilterSessionTest, AnswersEveryStepWithoutNoReplyFlags) {
  Start();
  Send('O', Word(2) + Word(0x3f) + Word(0x7f));  // an old MTA: no "no reply" flags
  Packet reply = Receive();
  ASSERT_EQ(reply.code, 'O');
  auto options = ParseOptions(reply.data);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->version, 2u);
  EXPECT_EQ(options->protocol, 0u);
  Send('C', Z("client.example") + "4" + std::string("\0\x19", 2) + Z("192.0.2.7"));
  EXPECT_EQ(Receive().code, 'c');
  Send('H', Z("client.example"));
  EXPECT_EQ(Receive().code, 'c');
  Send('M', Z("<>"));
  EXPECT_EQ(Receive().code, 'c');
  Send('R', Z("<bob@acme.example>"));
  EXPECT_EQ(Receive().code, 'c');
  Send('L', Z("Subject") + Z("Hi"));
  EXPECT_EQ(Receive().code, 'c');
  Send('N', "");
  EXPECT_EQ(Receive().code, 'c');
  Send('E', "body in end of message\r\n");
  EXPECT_EQ(ReceiveUntilFinal(), "ia");
  ASSERT_EQ(backend_.messages.size(), 1u);
  EXPECT_EQ(backend_.messages[0].message, "Subject: Hi\r\n\r\nbody in end of message\r\n");
  EXPECT_EQ(backend_.messages[0].envelope.mail_from, "");
}

TEST_F(MilterSessionTest, SeveralMessagesRejectQuarantineAndAbort) {
  Start();
  Negotiate();
  Envelope();
  Headers();
  Send('B', "EVIL content\r\n");
  EXPECT_EQ(Receive().code, 'c');
  Send('E', "");
  std::vector<Packet> packets;
  EXPECT_EQ(ReceiveUntilFinal(&packets), "y");
  EXPECT_EQ(packets[0].data, Z("550 5.7.1 Message rejected by policy: malware (Evil)"));

  // Next message on the same SMTP session; it is aborted half-way.
  Send('M', Z("<carol@sender.example>"));
  Send('R', Z("<bob@acme.example>"));
  Send('L', Z("Subject") + Z(" part"));
  Send('A', "");
  // And another one that is held.
  Send('M', Z("<dave@sender.example>"));
  Send('R', Z("<bob@acme.example>"));
  Headers(" HOLD me");
  Send('E', "");
  packets.clear();
  EXPECT_EQ(ReceiveUntilFinal(&packets), "qa");
  EXPECT_EQ(packets[0].data, Z("Bulwark: quarantined"));
  ASSERT_EQ(backend_.messages.size(), 2u);
  EXPECT_EQ(backend_.messages[1].envelope.mail_from, "dave@sender.example");
  EXPECT_EQ(backend_.messages[1].envelope.recipients.size(), 1u);
  EXPECT_EQ(backend_.messages[1].message.find("part"), std::string::npos);
  // The client's address survives from the connect.
  EXPECT_EQ(backend_.messages[1].envelope.client_ip, "192.0.2.7");
}

TEST_F(MilterSessionTest, QuitNewConnectionStartsAFreshSmtpSession) {
  Start();
  Negotiate();
  Envelope();
  Send('K', "");
  Send('C', Z("other.example") + "6" + std::string("\0\x19", 2) + Z("IPv6:2001:db8::1"));
  Send('H', Z("other.example"));
  Send('M', Z("<x@y.example>"));
  Send('R', Z("<bob@acme.example>"));
  Headers();
  Send('E', "");
  EXPECT_EQ(ReceiveUntilFinal(), "ia");
  ASSERT_EQ(backend_.messages.size(), 1u);
  EXPECT_EQ(backend_.messages[0].envelope.client_ip, "2001:db8::1");
  EXPECT_EQ(backend_.messages[0].envelope.helo, "other.example");
  EXPECT_EQ(backend_.messages[0].macros.count("{daemon_name}"), 0u);
}

TEST_F(MilterSessionTest, NobodysMailIsAcceptedUnscannedAndMissingTenantTempfails) {
  Start();
  Negotiate();
  Envelope("<someone@nobody.example>");
  Headers();
  Send('B', "not ours\r\n");
  EXPECT_EQ(Receive().code, 'a');
  // A second message to a domain whose tenant is gone.
  Send('M', Z("<a@b.example>"));
  Send('R', Z("<x@broken.example>"));
  Headers();
  Send('E', "");
  Packet reply = Receive();
  EXPECT_EQ(reply.code, 'y');
  EXPECT_EQ(reply.data.substr(0, 9), "451 4.3.0");
  EXPECT_TRUE(backend_.messages.empty());
}

TEST_F(MilterSessionTest, MessageOverTheLimitIsRefusedWith552) {
  options_.max_message_bytes = 1000;
  Start();
  Negotiate();
  Envelope();
  Headers();
  Send('B', std::string(600, 'x'));
  EXPECT_EQ(Receive().code, 'c');
  Send('B', std::string(600, 'x'));
  Packet reply = Receive();
  EXPECT_EQ(reply.code, 'y');
  EXPECT_EQ(reply.data.substr(0, 9), "552 5.3.4");
  // An MTA that goes on regardless hears the same answer again.
  Send('B', std::string(10, 'x'));
  EXPECT_EQ(Receive().data.substr(0, 9), "552 5.3.4");
  Send('E', "");
  EXPECT_EQ(Receive().data.substr(0, 9), "552 5.3.4");
  // The session goes on with the next message.
  Send('M', Z("<a@b.example>"));
  Send('R', Z("<bob@acme.example>"));
  Headers();
  Send('E', "");
  EXPECT_EQ(ReceiveUntilFinal(), "ia");
  EXPECT_EQ(backend_.messages.size(), 1u);
}

TEST_F(MilterSessionTest, SlowDecisionSendsProgress) {
  Start();
  Negotiate();
  Envelope();
  Headers(" SLOW");
  Send('E', "");
  std::string codes = ReceiveUntilFinal();
  EXPECT_GE(codes.size(), 3u) << codes;
  EXPECT_EQ(codes.front(), 'p');
  EXPECT_EQ(codes.substr(codes.size() - 2), "ia");
}

TEST_F(MilterSessionTest, ProtocolErrorsCloseTheConnection) {
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::vector<Case> cases = {
      {"command before negotiation", EncodePacket('M', Z("<a@b>"))},
      {"unknown command", EncodePacket('O', Word(6) + Word(0) + Word(0)) + EncodePacket('z', "")},
      {"zero length", EncodePacket('O', Word(6) + Word(0) + Word(0)) + std::string(4, '\0')},
      {"oversize packet", EncodePacket('O', Word(6) + Word(0) + Word(0)) + Word(0x7fffffff) + "B"},
      {"header without NUL",
       EncodePacket('O', Word(6) + Word(0) + Word(0)) + EncodePacket('L', "Subject")},
      {"version 1", EncodePacket('O', Word(1) + Word(0) + Word(0))},
      {"short negotiation", EncodePacket('O', "abc")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Start();
    SendRaw(c.bytes);
    std::string codes;
    for (Packet p = Receive(); p.code != 0; p = Receive()) codes += p.code;
    EXPECT_TRUE(codes.empty() || codes == "O") << codes;
    thread_.join();  // the session ended by itself
    ::close(fd_);
    fd_ = -1;
    pending_.clear();
  }
  EXPECT_TRUE(backend_.messages.empty());
}

TEST_F(MilterSessionTest, StopsBetweenSmtpSessions) {
  std::atomic<bool> stopping{false};
  options_.stopping = [&stopping] { return stopping.load(); };
  Start();
  Negotiate();
  Envelope();
  Headers();
  Send('B', "body\r\n");
  EXPECT_EQ(Receive().code, 'c');  // the session is inside the message now
  stopping = true;                 // mid-message: the message is finished first
  Send('E', "");
  EXPECT_EQ(ReceiveUntilFinal(), "ia");
  Send('M', Z("<a@b.example>"));  // the session has ended before reading this
  EXPECT_EQ(Receive().code, 0);
}

}  // namespace
}  // namespace bulwark::milter

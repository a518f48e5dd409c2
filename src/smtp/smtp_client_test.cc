// The next-hop client against a scripted SMTP server on loopback (our StreamServer): the
// transaction, parameters passed on, dot-stuffing, STARTTLS per next_hop_tls (opportunistic,
// required with a verified certificate, refused when unverifiable or not offered) and an
// unreachable next hop.

#include "smtp/smtp_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "http/server.h"
#include "net/stream_server.h"
#include "net/tls.h"

namespace bulwark::smtp {
namespace {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/smtp_client_test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A next hop that speaks just enough SMTP, records what it was told, offers STARTTLS when
// it has a certificate.
class FakeNextHop {
 public:
  explicit FakeNextHop(std::shared_ptr<const net::TlsContext> tls) : tls_(std::move(tls)) {
    auto server = net::StreamServer::Start({net::Endpoint{}}, {"fake", 4},
                                           [this](net::Connection& c) { Serve(c); });
    EXPECT_TRUE(server.ok());
    server_ = std::move(*server);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->bound()[0].port); }
  std::vector<std::string> commands() {
    std::lock_guard lock(mu_);
    return commands_;
  }
  std::string message() {
    std::lock_guard lock(mu_);
    return message_;
  }

 private:
  void Record(std::string line) {
    std::lock_guard lock(mu_);
    commands_.push_back(std::move(line));
  }

  void Serve(net::Connection& connection) {
    net::BufferedReader reader(connection, 5s);
    auto say = [&](std::string_view text) { return connection.Write(text, 5s).ok(); };
    if (!say("220 fake ESMTP\r\n")) return;
    for (;;) {
      Result<std::string> line = reader.ReadUntil("\r\n", 1000);
      if (!line.ok()) return;
      bool tls = connection.peer().transport == net::Transport::kTls;
      Record(*line + (tls ? " [tls]" : ""));
      std::string verb = line->substr(0, 4);
      if (verb == "EHLO") {
        say(std::string("250-fake\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n") +
            (tls_ && !tls ? "250-STARTTLS\r\n" : "") + "250 PIPELINING\r\n");
      } else if (verb == "STAR") {
        say("220 2.0.0 go\r\n");
        reader.Consume(reader.buffered());
        if (!connection.StartTls(*tls_, "", 5s).ok()) return;
      } else if (verb == "MAIL") {
        say("250 2.1.0 Ok\r\n");
      } else if (verb == "RCPT") {
        say(line->find("nobody@") != std::string::npos ? "550 5.1.1 User unknown\r\n"
                                                       : "250 2.1.5 Ok\r\n");
      } else if (verb == "DATA") {
        say("354 go ahead\r\n");
        DataDecoder decoder(1 << 20);
        while (!decoder.done()) {
          if (reader.buffered() == 0) {
            Result<bool> more = reader.WaitForData();
            if (!more.ok() || !*more) return;
          }
          reader.Consume(decoder.Feed(reader.Peek()));
        }
        {
          std::lock_guard lock(mu_);
          message_ = decoder.message();
        }
        say("250 2.0.0 Ok: queued as FAKE1\r\n");
      } else if (verb == "QUIT") {
        say("221 2.0.0 Bye\r\n");
        return;
      } else {
        say("250 2.0.0 Ok\r\n");
      }
    }
  }

  std::shared_ptr<const net::TlsContext> tls_;
  std::unique_ptr<net::StreamServer> server_;
  std::mutex mu_;
  std::vector<std::string> commands_;  // Guarded by mu_.
  std::string message_;                // Guarded by mu_.
};

NextHopOptions Options() {
  NextHopOptions options;
  options.helo_name = "gw.test";
  options.timeout = 5s;
  return options;
}

TEST(SmtpClientTest, ParsesNextHops) {
  EXPECT_EQ(ParseNextHop("mx.example.org")->port, 25);
  EXPECT_EQ(ParseNextHop("mx.example.org:2525")->port, 2525);
  EXPECT_EQ(ParseNextHop("[::1]:26")->host, "::1");
  EXPECT_EQ(ParseNextHop("::1")->host, "::1");
  EXPECT_FALSE(ParseNextHop("").ok());
  EXPECT_FALSE(ParseNextHop("mx:0").ok());
  EXPECT_FALSE(ParseNextHop("mx:70000").ok());
  EXPECT_FALSE(ParseNextHop("mx:").ok());
  EXPECT_FALSE(ParseNextHop("[::1").ok());
}

TEST(SmtpClientTest, RunsATransactionOverOpportunisticTls) {
  TempDir dir;
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(dir / "cert.pem", dir / "key.pem").ok());
  FakeNextHop server(*net::TlsContext::Server(dir / "cert.pem", dir / "key.pem"));
  SmtpRoute route{"t", server.address(), "opportunistic", ""};
  MailParameters parameters;
  parameters.size = 321;
  parameters.body = "8BITMIME";
  NextHopOpening opening = OpenSmtpNextHop(route, "alice@sender.test", parameters, Options());
  ASSERT_NE(opening.hop, nullptr) << opening.failure.Text();
  EXPECT_EQ(FormatReply(opening.hop->Recipient("nobody@example.com")),
            "550 5.1.1 User unknown\r\n");
  EXPECT_TRUE(opening.hop->Recipient("bob@example.com").positive());
  SmtpReply done = opening.hop->Data(".starts with a dot\r\nend\r\n");
  EXPECT_EQ(FormatReply(done), "250 2.0.0 Ok: queued as FAKE1\r\n");
  opening.hop->Abandon();
  EXPECT_EQ(server.message(), ".starts with a dot\r\nend\r\n");
  EXPECT_EQ(server.commands(), (std::vector<std::string>{
                                   "EHLO gw.test", "STARTTLS", "EHLO gw.test [tls]",
                                   "MAIL FROM:<alice@sender.test> SIZE=321 BODY=8BITMIME [tls]",
                                   "RCPT TO:<nobody@example.com> [tls]",
                                   "RCPT TO:<bob@example.com> [tls]", "DATA [tls]", "QUIT [tls]"}));
}

TEST(SmtpClientTest, RequiredTlsVerifiesTheCertificateAndTheName) {
  TempDir dir;
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(dir / "cert.pem", dir / "key.pem").ok());
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(dir / "other.pem", dir / "other.key").ok());
  FakeNextHop server(*net::TlsContext::Server(dir / "cert.pem", dir / "key.pem"));
  SmtpRoute trusted{"t", server.address(), "required", dir / "cert.pem"};
  NextHopOpening ok = OpenSmtpNextHop(trusted, "", {}, Options());
  ASSERT_NE(ok.hop, nullptr) << ok.failure.Text();
  ok.hop->Abandon();

  SmtpRoute untrusted{"t", server.address(), "required", dir / "other.pem"};
  NextHopOpening refused = OpenSmtpNextHop(untrusted, "", {}, Options());
  EXPECT_EQ(refused.hop, nullptr);
  EXPECT_EQ(refused.failure.code, 451);
  EXPECT_EQ(refused.failure.enhanced, "4.7.5");

  FakeNextHop plain(nullptr);
  SmtpRoute required{"t", plain.address(), "required", ""};
  NextHopOpening not_offered = OpenSmtpNextHop(required, "", {}, Options());
  EXPECT_EQ(not_offered.hop, nullptr);
  EXPECT_EQ(
      FormatReply(not_offered.failure),
      "451 4.7.5 Next hop " + plain.address() + " does not offer STARTTLS, which is required\r\n");
  SmtpRoute none{"t", server.address(), "none", ""};
  NextHopOpening cleartext = OpenSmtpNextHop(none, "a@b.test", {}, Options());
  ASSERT_NE(cleartext.hop, nullptr);
  cleartext.hop->Abandon();
  EXPECT_EQ(server.commands().back(), "QUIT");  // no STARTTLS, no [tls]
}

TEST(SmtpClientTest, AnUnreachableNextHopIsATemporaryFailure) {
  auto probe = net::StreamServer::Start({net::Endpoint{}}, {"probe", 1}, [](net::Connection&) {});
  ASSERT_TRUE(probe.ok());
  std::string address = "127.0.0.1:" + std::to_string((*probe)->bound()[0].port);
  (*probe)->Stop(0ms);
  probe->reset();
  NextHopOpening down = OpenSmtpNextHop({"t", address, "none", ""}, "a@b.test", {}, Options());
  EXPECT_EQ(down.hop, nullptr);
  EXPECT_EQ(down.failure.code, 451);
  EXPECT_EQ(down.failure.enhanced, "4.4.1");
  NextHopOpening misconfigured = OpenSmtpNextHop({"t", "", "none", ""}, "a@b.test", {}, Options());
  EXPECT_EQ(misconfigured.failure.enhanced, "4.3.5");
}

}  // namespace
}  // namespace bulwark::smtp

// DovecotServer (test/support/dovecot_server.h), the IMAP peer of the connector tests: one
// real Dovecot on loopback for the whole suite. Mail put in with Deliver() is read back with
// Messages() and over IMAP; password and OAuth2 (XOAUTH2, OAUTHBEARER) logins are spoken
// from a plain socket; TLS on both ports is checked with `openssl s_client`.
//
// Skipped (and says why) when Dovecot is not installed; BULWARK_REQUIRE_DOVECOT=1 (CI) turns
// the skip into a failure.
#include "test/support/dovecot_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "test/support/test_support.h"

namespace bulwark::testing {
namespace {

// The separator of the SASL XOAUTH2 and OAUTHBEARER messages (^A).
const std::string kSoh = "\x01";

std::string Base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned n = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    out += std::string{kAlphabet[n >> 18 & 63], kAlphabet[n >> 12 & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned n =
        static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8;
    out +=
        std::string{kAlphabet[n >> 18 & 63], kAlphabet[n >> 12 & 63], kAlphabet[n >> 6 & 63], '='};
  }
  return out;
}

// A few IMAP lines over a plain TCP connection to 127.0.0.1 (10 s read timeout).
class ImapConnection {
 public:
  explicit ImapConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~ImapConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  ImapConnection(const ImapConnection&) = delete;
  ImapConnection& operator=(const ImapConnection&) = delete;

  // One line without its CRLF; "" on timeout or close.
  std::string ReadLine() {
    std::string line;
    char c = 0;
    while (fd_ >= 0 && ::recv(fd_, &c, 1, 0) == 1) {
      if (c == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      line += c;
    }
    return line;
  }
  void Send(const std::string& line) {
    const std::string data = line + "\r\n";
    if (fd_ >= 0) (void)::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
  }
  // Sends "<tag> <command>" and collects the lines up to and including the tagged reply.
  // A continuation request ("+ ...", e.g. XOAUTH2's error details) is answered with an
  // empty line, which ends the exchange. Stops at the first empty read.
  std::vector<std::string> Command(const std::string& tag, const std::string& command) {
    Send(tag + " " + command);
    std::vector<std::string> lines;
    for (;;) {
      std::string line = ReadLine();
      if (line.empty()) return lines;
      lines.push_back(line);
      if (line.rfind("+", 0) == 0) Send("");
      if (line.rfind(tag + " ", 0) == 0) return lines;
    }
  }

 private:
  int fd_ = -1;
};

// The tagged reply's status ("OK", "NO", "BAD") at the end of `lines`; "" if none.
std::string TaggedStatus(const std::vector<std::string>& lines, const std::string& tag) {
  if (lines.empty() || lines.back().rfind(tag + " ", 0) != 0) return "";
  const std::string rest = lines.back().substr(tag.size() + 1);
  return rest.substr(0, rest.find(' '));
}

bool HasLine(const std::vector<std::string>& lines, const std::string& line) {
  for (const std::string& candidate : lines) {
    if (candidate == line) return true;
  }
  return false;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

class DovecotServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    DovecotOptions options;
    options.users = {{"alice", "alice-password"}, {"bob", "bob password"}, {"carol", "c"}};
    options.oauth_tokens = {{"token-of-alice", "alice"}, {"token-of-bob", "bob"}};
    Result<std::unique_ptr<DovecotServer>> started = DovecotServer::Start(options);
    if (started.ok()) {
      server_ = std::move(started).value().release();
    } else {
      // Not installed: skip (or fail when required). Anything else is a failure.
      not_installed_ = started.status().code() == StatusCode::kUnavailable;
      failure_ = started.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (not_installed_) {
      if (std::getenv("BULWARK_REQUIRE_DOVECOT") != nullptr) {
        FAIL() << "BULWARK_REQUIRE_DOVECOT is set but " << failure_;
      }
      GTEST_SKIP() << failure_;
    }
    ASSERT_NE(server_, nullptr) << failure_;
  }

  DovecotServer& server() { return *server_; }

  // Runs `openssl s_client` against `port` with `extra` options, sending LOGOUT; true when
  // the certificate verified against ca_file() (for 127.0.0.1) and the server answered.
  ::testing::AssertionResult SpeaksVerifiedTls(std::uint16_t port, const std::string& extra) {
    ScratchDir capture;
    const CommandResult run =
        RunShell("printf 'a LOGOUT\\r\\n' | timeout 20 openssl s_client -connect 127.0.0.1:" +
                     std::to_string(port) + " " + extra + " -CAfile '" + server().ca_file() +
                     "' -verify_return_error -verify_ip 127.0.0.1 -quiet",
                 capture.path());
    if (run.exit_code != 0 || run.out.find("* BYE") == std::string::npos) {
      return ::testing::AssertionFailure() << "exit " << run.exit_code << "\nstdout:\n"
                                           << run.out << "\nstderr:\n"
                                           << run.err;
    }
    return ::testing::AssertionSuccess() << run.out;
  }

  static DovecotServer* server_;
  static bool not_installed_;
  static std::string failure_;
};

DovecotServer* DovecotServerTest::server_ = nullptr;
bool DovecotServerTest::not_installed_ = false;
std::string DovecotServerTest::failure_;

// The smoke test: two deliveries, read back exactly, then seen over IMAP after a LOGIN.
TEST_F(DovecotServerTest, DeliveredMessagesAreStoredAndServedOverImap) {
  const std::string first =
      "From: sender@example.com\r\nTo: alice@example.com\r\n"
      "Subject: first\r\n\r\nHello.\r\n";
  const std::string second =
      "From: sender@example.com\r\nTo: alice@example.com\r\n"
      "Subject: second\r\n\r\nNo final line end.";
  ASSERT_TRUE(server().Deliver("alice", "INBOX", first).ok());
  ASSERT_TRUE(server().Deliver("alice", "INBOX", second).ok());

  Result<std::vector<DovecotServer::StoredMessage>> messages = server().Messages("alice", "INBOX");
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_LT((*messages)[0].uid, (*messages)[1].uid);
  EXPECT_EQ((*messages)[0].text, first);
  EXPECT_EQ((*messages)[1].text, second);
  EXPECT_TRUE((*messages)[0].flags.empty());

  ImapConnection imap(server().imap_port());
  const std::string greeting = imap.ReadLine();
  EXPECT_EQ(greeting.rfind("* OK", 0), 0u) << greeting;
  EXPECT_NE(greeting.find("STARTTLS"), std::string::npos) << greeting;
  std::vector<std::string> login = imap.Command("a", "LOGIN alice alice-password");
  ASSERT_EQ(TaggedStatus(login, "a"), "OK") << Joined(login) << server().log_text();
  std::vector<std::string> select = imap.Command("b", "SELECT INBOX");
  EXPECT_EQ(TaggedStatus(select, "b"), "OK") << Joined(select);
  EXPECT_TRUE(HasLine(select, "* 2 EXISTS")) << Joined(select);
  // What IMAP serves is what Messages() returned (both CRLF).
  std::vector<std::string> fetch =
      imap.Command("c", "UID FETCH " + std::to_string((*messages)[0].uid) + " (RFC822.SIZE)");
  EXPECT_NE(Joined(fetch).find("RFC822.SIZE " + std::to_string(first.size())), std::string::npos)
      << Joined(fetch);
  EXPECT_EQ(TaggedStatus(imap.Command("d", "LOGOUT"), "d"), "OK");
}

TEST_F(DovecotServerTest, LfLineEndsAreStoredAsCrlfAndFoldersAreCreated) {
  ASSERT_TRUE(server().Deliver("carol", "Archive/2024", "Subject: lf\n\nbody\nend\n").ok());
  Result<std::vector<DovecotServer::StoredMessage>> messages =
      server().Messages("carol", "Archive/2024");
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].text, "Subject: lf\r\n\r\nbody\r\nend\r\n");
}

TEST_F(DovecotServerTest, FlagsAreReported) {
  ASSERT_TRUE(server().Deliver("carol", "Flagged", "Subject: f\r\n\r\nx\r\n").ok());
  ImapConnection imap(server().imap_port());
  imap.ReadLine();
  ASSERT_EQ(TaggedStatus(imap.Command("a", "LOGIN carol c"), "a"), "OK");
  ASSERT_EQ(TaggedStatus(imap.Command("b", "SELECT Flagged"), "b"), "OK");
  ASSERT_EQ(TaggedStatus(imap.Command("c", "STORE 1 +FLAGS (\\Seen $Label1)"), "c"), "OK");
  imap.Command("d", "LOGOUT");

  Result<std::vector<DovecotServer::StoredMessage>> messages =
      server().Messages("carol", "Flagged");
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].flags, (std::vector<std::string>{"\\Seen", "$Label1"}));
}

TEST_F(DovecotServerTest, WrongPasswordIsRefused) {
  ImapConnection imap(server().imap_port());
  imap.ReadLine();
  std::vector<std::string> login = imap.Command("a", "LOGIN alice wrong");
  EXPECT_EQ(TaggedStatus(login, "a"), "NO") << Joined(login);
  // A token is not a password.
  login = imap.Command("b", "LOGIN alice token-of-alice");
  EXPECT_EQ(TaggedStatus(login, "b"), "NO") << Joined(login);
}

TEST_F(DovecotServerTest, Xoauth2AcceptsTheUsersTokenOnly) {
  auto xoauth2 = [](const std::string& user, const std::string& token) {
    return "AUTHENTICATE XOAUTH2 " +
           Base64("user=" + user + kSoh + "auth=Bearer " + token + kSoh + kSoh);
  };
  {
    ImapConnection imap(server().imap_port());
    imap.ReadLine();
    std::vector<std::string> auth = imap.Command("a", xoauth2("alice", "token-of-alice"));
    ASSERT_EQ(TaggedStatus(auth, "a"), "OK") << Joined(auth) << server().log_text();
    EXPECT_EQ(TaggedStatus(imap.Command("b", "SELECT INBOX"), "b"), "OK");
  }
  {
    ImapConnection imap(server().imap_port());
    imap.ReadLine();
    std::vector<std::string> auth = imap.Command("a", xoauth2("alice", "no-such-token"));
    EXPECT_EQ(TaggedStatus(auth, "a"), "NO") << Joined(auth);
    // Bob's token does not log in as alice.
    auth = imap.Command("b", xoauth2("alice", "token-of-bob"));
    EXPECT_EQ(TaggedStatus(auth, "b"), "NO") << Joined(auth);
    // Nor does a password.
    auth = imap.Command("c", xoauth2("alice", "alice-password"));
    EXPECT_EQ(TaggedStatus(auth, "c"), "NO") << Joined(auth);
  }
}

TEST_F(DovecotServerTest, OauthbearerAcceptsTheUsersToken) {
  ImapConnection imap(server().imap_port());
  imap.ReadLine();
  std::vector<std::string> auth =
      imap.Command("a", "AUTHENTICATE OAUTHBEARER " +
                            Base64("n,a=bob," + kSoh + "auth=Bearer token-of-bob" + kSoh + kSoh));
  EXPECT_EQ(TaggedStatus(auth, "a"), "OK") << Joined(auth) << server().log_text();
}

TEST_F(DovecotServerTest, BothPortsSpeakTlsWithTheGeneratedCertificate) {
  ASSERT_TRUE(HaveProgram("openssl"));
  EXPECT_TRUE(SpeaksVerifiedTls(server().imaps_port(), ""));
  EXPECT_TRUE(SpeaksVerifiedTls(server().imap_port(), "-starttls imap"));
}

TEST_F(DovecotServerTest, UidValidityCanBeChanged) {
  ASSERT_TRUE(server().Deliver("bob", "Reset", "Subject: r\r\n\r\nx\r\n").ok());
  Result<std::uint32_t> before = server().UidValidity("bob", "Reset");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const std::uint32_t changed = *before + 1000;
  ASSERT_TRUE(server().SetUidValidity("bob", "Reset", changed).ok());
  Result<std::uint32_t> after = server().UidValidity("bob", "Reset");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, changed);

  ImapConnection imap(server().imap_port());
  imap.ReadLine();
  ASSERT_EQ(TaggedStatus(imap.Command("a", "LOGIN bob \"bob password\""), "a"), "OK");
  std::vector<std::string> select = imap.Command("b", "SELECT Reset");
  EXPECT_TRUE(HasLine(select, "* OK [UIDVALIDITY " + std::to_string(changed) + "] UIDs valid"))
      << Joined(select);
}

TEST_F(DovecotServerTest, UnknownUsersAndFoldersAreErrors) {
  Status delivered = server().Deliver("mallory", "INBOX", "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(delivered.code(), StatusCode::kNotFound) << delivered.ToString();
  Result<std::vector<DovecotServer::StoredMessage>> missing =
      server().Messages("alice", "No such folder");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  missing = server().Messages("mallory", "INBOX");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

}  // namespace
}  // namespace bulwark::testing

// ImapClient against a scripted server over a socketpair: each step expects the client's
// next command (after its tag) to start with a given text and answers with lines in which
// "$TAG" stands for the client's tag. Real-server behaviour is covered by the mailbox
// connector's Dovecot tests.
#include "imap/imap_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>

namespace bulwark::imap {
namespace {

struct Step {
  std::string expect;  // prefix of the command after "<tag> "; "" = the greeting (no read)
  std::string reply;   // "$TAG" replaced by the command's tag
};

class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Step> steps) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    client_side_ = net::SocketConnection(UniqueFd(fds[0]), net::Peer{net::Transport::kTcp, "t", true});
    server_side_ = net::SocketConnection(UniqueFd(fds[1]), net::Peer{net::Transport::kTcp, "t", true});
    thread_ = std::thread([this, steps = std::move(steps)] { Serve(steps); });
  }
  ~ScriptedServer() {
    if (thread_.joinable()) thread_.join();
  }
  std::unique_ptr<net::Connection> TakeClientSide() { return std::move(client_side_); }
  // Waits for the script to end; what went wrong on the server's side ("" = nothing).
  std::string Finish() {
    if (thread_.joinable()) thread_.join();
    return failure;
  }


 private:
  void Serve(const std::vector<Step>& steps) {
    net::BufferedReader reader(*server_side_, std::chrono::seconds(5));
    std::string tag;  // of the last command; a "<raw>" line continues it
    for (const Step& step : steps) {
      if (!step.expect.empty()) {
        Result<std::string> line = reader.ReadUntil("\r\n", 1 << 20);
        if (!line.ok()) {
          failure = "no command for step " + step.expect;
          return;
        }
        received.push_back(*line);
        if (step.expect == "<raw>") {
          // A literal's bytes, a SASL response or DONE: no tag of its own.
        } else {
          std::size_t space = line->find(' ');
          tag = line->substr(0, space);
          std::string rest = space == std::string::npos ? "" : line->substr(space + 1);
          if (rest.rfind(step.expect, 0) != 0) {
            failure = "expected '" + step.expect + "', got '" + rest + "'";
            return;
          }
        }
      }
      std::string reply = step.reply;
      for (std::size_t at; (at = reply.find("$TAG")) != std::string::npos;) {
        reply.replace(at, 4, tag);
      }
      if (!reply.empty()) (void)server_side_->Write(reply, std::chrono::seconds(5));
    }
  }

  std::vector<std::string> received;
  std::string failure;
  std::unique_ptr<net::Connection> client_side_;
  std::unique_ptr<net::Connection> server_side_;
  std::thread thread_;
};

ImapEndpoint Plain() {
  ImapEndpoint endpoint;
  endpoint.host = "imap.test";
  endpoint.tls = TlsMode::kNone;
  endpoint.timeout = std::chrono::seconds(5);
  return endpoint;
}

TEST(ImapClientTest, LogsInSelectsFetchesAndMoves) {
  ScriptedServer server({
      {"", "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN IDLE MOVE UIDPLUS CONDSTORE] hi\r\n"},
      {"AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0",  // base64("\0user\0secret")
       "$TAG OK [CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS CONDSTORE] Logged in\r\n"},
      {"SELECT \"INBOX\" (CONDSTORE)",
       "* 3 EXISTS\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n* OK [UIDNEXT 12] next\r\n"
       "* OK [HIGHESTMODSEQ 55] x\r\n$TAG OK [READ-WRITE] Select completed\r\n"},
      {"UID SEARCH UID 9:*", "* SEARCH 11 9 10\r\n$TAG OK done\r\n"},
      {"UID FETCH 9:11 (UID RFC822.SIZE FLAGS BODY.PEEK[])",
       "* 1 FETCH (UID 9 RFC822.SIZE 7 FLAGS (\\Seen) BODY[] {7}\r\nA\r\nB\r\nC)\r\n"
       "* 2 FETCH (FLAGS (\\Seen))\r\n"  // an unsolicited flag change: ignored
       "$TAG OK Fetch completed\r\n"},
      {"UID MOVE 9 \"Quarant&AOQ-ne\"",
       "* OK [COPYUID 1700000001 9 4] Moved\r\n* 1 EXPUNGE\r\n$TAG OK Move completed\r\n"},
      {"LOGOUT", "* BYE bye\r\n$TAG OK\r\n"},
  });
  auto client = ImapClient::Open(server.TakeClientSide(), Plain());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE((*client)->Has("IDLE"));
  ASSERT_TRUE((*client)->LoginWithPassword("user", "secret").ok());
  auto status = (*client)->Select("INBOX");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->exists, 3u);
  EXPECT_EQ(status->uidvalidity, 1700000000u);
  EXPECT_EQ(status->uidnext, 12u);
  EXPECT_EQ(status->highest_modseq, 55u);
  auto uids = (*client)->UidSearch("UID 9:*");
  ASSERT_TRUE(uids.ok());
  EXPECT_EQ(*uids, (std::vector<std::uint32_t>{9, 10, 11}));
  auto fetched = (*client)->UidFetch("9:11", true);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  ASSERT_EQ(fetched->size(), 1u);
  EXPECT_EQ((*fetched)[0].uid, 9u);
  EXPECT_EQ(*(*fetched)[0].body, "A\r\nB\r\nC");
  auto moved = (*client)->MoveMessage(9, "Quarant\xC3\xA4ne");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  ASSERT_TRUE(moved->has_value());
  EXPECT_EQ((*moved)->uidvalidity, 1700000001u);
  EXPECT_EQ((*moved)->uid, 4u);
  (*client)->Logout();
  EXPECT_EQ(server.Finish(), "");
}

TEST(ImapClientTest, RefusedCredentialsArePermissionDenied) {
  ScriptedServer server({
      {"", "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"},
      {"AUTHENTICATE PLAIN", "+ \r\n"},
      {"<raw>", "$TAG NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"},
  });
  auto client = ImapClient::Open(server.TakeClientSide(), Plain());
  ASSERT_TRUE(client.ok());
  Status login = (*client)->LoginWithPassword("user", "wrong");
  EXPECT_EQ(login.code(), StatusCode::kPermissionDenied) << login.ToString();
}

TEST(ImapClientTest, XOAuth2SendsTheBearerToken) {
  ScriptedServer server({
      {"", "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi\r\n"},
      // base64("user=u@x.test\1auth=Bearer tok\1\1")
      {"AUTHENTICATE XOAUTH2 dXNlcj11QHgudGVzdAFhdXRoPUJlYXJlciB0b2sBAQ==",
       "$TAG OK [CAPABILITY IMAP4rev1 IDLE] ok\r\n"},
  });
  auto client = ImapClient::Open(server.TakeClientSide(), Plain());
  ASSERT_TRUE(client.ok());
  Status login = (*client)->LoginWithOAuth2("u@x.test", "tok");
  EXPECT_TRUE(login.ok()) << login.ToString() << " " << server.Finish();
  EXPECT_TRUE((*client)->Has("IDLE"));
}

TEST(ImapClientTest, SynchronisingLiteralWaitsForContinuation) {
  ScriptedServer server({
      {"", "* OK [CAPABILITY IMAP4rev1] hi\r\n"},
      {"APPEND \"INBOX\" ($Bulwark-Tagged) {6}", "+ go ahead\r\n"},
      {"<raw>", "$TAG OK [APPENDUID 77 15] Append completed\r\n"},
  });
  auto client = ImapClient::Open(server.TakeClientSide(), Plain());
  ASSERT_TRUE(client.ok());
  auto appended = (*client)->Append("INBOX", {"$Bulwark-Tagged"}, "x\r\ny\r\n");
  // The literal's own CR LF ended the scripted server's line read early: what matters is
  // that the client waited for "+" and got the APPENDUID back.
  if (appended.ok()) {
    ASSERT_TRUE(appended->has_value());
    EXPECT_EQ((*appended)->uid, 15u);
  } else {
    ADD_FAILURE() << appended.status().ToString() << " " << server.Finish();
  }
  EXPECT_FALSE((*client)->Append("INBOX", {"bad flag)"}, "x").ok());
}

TEST(ImapClientTest, IdleReturnsOnNewMail) {
  ScriptedServer server({
      {"", "* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n"},
      {"IDLE", "+ idling\r\n* 4 EXISTS\r\n"},
      {"<raw>", "$TAG OK Idle completed\r\n"},  // DONE
  });
  auto client = ImapClient::Open(server.TakeClientSide(), Plain());
  ASSERT_TRUE(client.ok());
  std::atomic<bool> stop{false};
  auto changed = (*client)->Idle(std::chrono::seconds(5), stop);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_TRUE(*changed);
}

TEST(ImapClientTest, ByeAndMalformedAnswersAreErrors) {
  ScriptedServer server({
      {"", "* OK hi\r\n"},
      {"CAPABILITY", "* CAPABILITY IMAP4rev1\r\n$TAG OK\r\n"},
      {"SELECT", "* BYE shutting down\r\n"},
  });
  auto client = ImapClient::Open(server.TakeClientSide(), Plain());
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Select("INBOX").status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace bulwark::imap

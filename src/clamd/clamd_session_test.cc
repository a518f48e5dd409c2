// ClamdSession over a socketpair with a fake backend: every command form, INSTREAM framing
// and its limits, IDSESSION, AUTH, path scans inside and outside the allowed directories,
// FILDES, and garbage.
#include "clamd/clamd_session.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "clamd/clamd_codec.h"

namespace bulwark::clamd {
namespace {

using namespace std::string_literals;

// Finds "EVIL" in content; records what it was asked. Content with "SLOW" takes 50 ms, and
// the most scans under way at once is kept.
class FakeBackend : public ClamdBackend {
 public:
  Result<ClamdScanResult> Scan(const std::string& tenant_id, std::string_view data,
                               const std::string& name) override {
    {
      std::lock_guard lock(mu);
      scans.push_back({tenant_id, std::string(data), name});
    }
    const int now = ++in_flight;
    for (int seen = most_in_flight;
         now > seen && !most_in_flight.compare_exchange_weak(seen, now);) {
    }
    if (data.find("SLOW") != std::string_view::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    --in_flight;
    if (data.find("FAIL") != std::string_view::npos) return InternalError("store down");
    ClamdScanResult r;
    if (data.find("EVIL") != std::string_view::npos) {
      r.found = true;
      r.names = {"Test.Evil", "YARA.Evil"};
    }
    return r;
  }
  std::string Version() override { return "ClamAV 1.4.6/1/Thu Jan  1 00:00:00 1970"; }
  void Reload() override { ++reloads; }
  bool Shutdown() override {
    ++shutdowns;
    return allow_shutdown;
  }
  ClamdAuthentication Authenticate(std::string_view secret) override {
    if (secret == "good") return {true, "tenant-a", ""};
    return {false, "", "credentials are not valid"};
  }
  std::string Stats() override { return "POOLS: 1\n\nEND"; }

  struct ScanCall {
    std::string tenant, data, name;
  };
  std::mutex mu;
  std::vector<ScanCall> scans;
  std::atomic<int> reloads{0}, shutdowns{0};
  std::atomic<int> in_flight{0}, most_in_flight{0};
  bool allow_shutdown = false;
};

std::string Chunks(const std::string& data, std::size_t size = 1000) {
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += size) {
    std::string piece = data.substr(i, size);
    out += EncodeChunkLength(static_cast<std::uint32_t>(piece.size())) + piece;
  }
  return out + EncodeChunkLength(0);
}

class ClamdSessionTest : public ::testing::Test {
 protected:
  ClamdSessionTest() {
    options_.tenant_id = "tenant-legacy";
    options_.stream_max_length = 1 << 20;
    options_.idle_timeout = std::chrono::milliseconds(2000);
    options_.read_timeout = std::chrono::milliseconds(2000);
  }

  // Sends `input`, half-closes, and returns every byte the session wrote until it closed.
  // `before_close` may use the client socket (to pass descriptors) before the half-close.
  std::string Converse(const std::string& input, net::Transport transport = net::Transport::kTcp,
                       const std::function<void(int)>& before_close = nullptr) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    net::Peer peer{transport, transport == net::Transport::kUnix ? "unix" : "127.0.0.1:1", true};
    auto connection = net::SocketConnection(UniqueFd(fds[0]), peer);
    std::thread server([&] {
      ClamdSession session(backend_, options_);
      session.Run(*connection);
      connection.reset();  // closes the server side: the client sees EOF
    });
    std::thread writer([&, client = fds[1]] {
      std::size_t sent = 0;
      while (sent < input.size()) {
        ssize_t n = send(client, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      if (before_close) before_close(client);
      shutdown(client, SHUT_WR);
    });
    std::string out;
    char buffer[4096];
    for (;;) {
      ssize_t n = recv(fds[1], buffer, sizeof buffer, 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    writer.join();
    server.join();
    close(fds[1]);
    return out;
  }

  FakeBackend backend_;
  ClamdSessionOptions options_;
};

TEST_F(ClamdSessionTest, PingInEveryForm) {
  EXPECT_EQ(Converse("zPING\0"s), "PONG\0"s);
  EXPECT_EQ(Converse("nPING\n"), "PONG\n");
  EXPECT_EQ(Converse("PING\n"), "PONG\n");
}

TEST_F(ClamdSessionTest, OneCommandPerConnectionOutsideASession) {
  EXPECT_EQ(Converse("zPING\0zPING\0"s), "PONG\0"s);
}

TEST_F(ClamdSessionTest, VersionAndCommands) {
  EXPECT_EQ(Converse("nVERSION\n"), "ClamAV 1.4.6/1/Thu Jan  1 00:00:00 1970\n");
  EXPECT_EQ(Converse("zVERSIONCOMMANDS\0"s),
            "ClamAV 1.4.6/1/Thu Jan  1 00:00:00 1970| COMMANDS: SCAN QUIT RELOAD PING CONTSCAN "
            "VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN FILDES STATS IDSESSION INSTREAM "
            "DETSTATSCLEAR DETSTATS ALLMATCHSCAN\0"s);
  EXPECT_EQ(Converse("VERSIONCOMMANDS\n"), "UNKNOWN COMMAND\n");  // z/n only, as clamd
}

TEST_F(ClamdSessionTest, UnknownAndGarbage) {
  EXPECT_EQ(Converse("zFOO\0"s), "UNKNOWN COMMAND\0"s);
  EXPECT_EQ(Converse("nping\n"), "UNKNOWN COMMAND\n");
  EXPECT_EQ(Converse("\xff\xfe\x00\x01garbage\n"s), "UNKNOWN COMMAND\n");
  EXPECT_EQ(Converse("z\0"s), "UNKNOWN COMMAND\0"s);
  EXPECT_EQ(Converse("\n"), "UNKNOWN COMMAND\n");
  EXPECT_EQ(Converse("zEND\0"s), "UNKNOWN COMMAND\0"s);
  EXPECT_EQ(Converse("zAUTH good\0"s), "UNKNOWN COMMAND\0"s);  // not on legacy listeners
  EXPECT_EQ(Converse("zDETSTATS\0"s), "");  // clamd 1.4 lists it and closes silently
}

TEST_F(ClamdSessionTest, CommandsTooLongAreDroppedWithoutReply) {
  EXPECT_EQ(Converse("z" + std::string(kMaxCommandBytes, 'A') + "\0"s), "UNKNOWN COMMAND\0"s);
  EXPECT_EQ(Converse("z" + std::string(kMaxCommandBytes + 1, 'A') + "\0"s), "");
  EXPECT_EQ(Converse(std::string(20000, 'A')), "");
}

TEST_F(ClamdSessionTest, UnterminatedCommandIsDropped) {
  EXPECT_EQ(Converse("nPING"), "");
  EXPECT_EQ(Converse("zPING\n"), "");
  // The legacy form ended by the client's close is answered, as clamd does.
  EXPECT_EQ(Converse("PING"), "PONG\n");
}

TEST_F(ClamdSessionTest, InstreamCleanAndFound) {
  EXPECT_EQ(Converse("zINSTREAM\0"s + Chunks("hello world")), "stream: OK\0"s);
  EXPECT_EQ(Converse("nINSTREAM\n"s + Chunks("xxEVILxx", 3)), "stream: Test.Evil FOUND\n");
  ASSERT_EQ(backend_.scans.size(), 2u);
  EXPECT_EQ(backend_.scans[1].data, "xxEVILxx");  // reassembled across chunks
  EXPECT_EQ(backend_.scans[1].tenant, "tenant-legacy");
  EXPECT_EQ(backend_.scans[1].name, "stream");
  EXPECT_EQ(Converse("zINSTREAM\0"s + EncodeChunkLength(0)), "stream: OK\0"s);
  EXPECT_EQ(Converse("INSTREAM\n"s + Chunks("EVIL")), "UNKNOWN COMMAND\n");
}

TEST_F(ClamdSessionTest, InstreamAtTheLimitPassesOverItIsRefused) {
  std::string exact(options_.stream_max_length, 'A');
  EXPECT_EQ(Converse("zINSTREAM\0"s + Chunks(exact, 65536)), "stream: OK\0"s);
  std::string over(options_.stream_max_length + 1, 'A');
  EXPECT_EQ(Converse("zINSTREAM\0"s + Chunks(over, 65536)),
            "INSTREAM size limit exceeded. ERROR\0"s);
  // One chunk that claims more than the limit is refused before it is read.
  EXPECT_EQ(Converse("zINSTREAM\0"s + EncodeChunkLength(0xffffffff) + "abc"),
            "INSTREAM size limit exceeded. ERROR\0"s);
}

TEST_F(ClamdSessionTest, TruncatedStreamsCloseWithoutReply) {
  EXPECT_EQ(Converse("zINSTREAM\0"s + EncodeChunkLength(100) + "abc"), "");
  EXPECT_EQ(Converse("zINSTREAM\0"s + EncodeChunkLength(3) + "abc"), "");  // no end chunk
  EXPECT_EQ(Converse("zINSTREAM\0\0\0"s), "");                            // half a length
  EXPECT_TRUE(backend_.scans.empty());
}

TEST_F(ClamdSessionTest, ScanErrorIsAnErrorReply) {
  EXPECT_EQ(Converse("zINSTREAM\0"s + Chunks("FAIL")), "stream: Scan failed. ERROR\0"s);
}

TEST_F(ClamdSessionTest, IdSessionPipelined) {
  std::string input = "zIDSESSION\0zPING\0zVERSION\0zINSTREAM\0"s + Chunks("EVIL") +
                      "zINSTREAM\0"s + Chunks("x") + "nPING\n" + "zEND\0"s + "zPING\0"s;
  EXPECT_EQ(Converse(input), "1: PONG\0"s
                             "2: ClamAV 1.4.6/1/Thu Jan  1 00:00:00 1970\0"s
                             "3: stream: Test.Evil FOUND\0"s
                             "4: stream: OK\0"s
                             "5: PONG\n"s);
}

TEST_F(ClamdSessionTest, IdSessionEndsOnInvalidCommands) {
  EXPECT_EQ(Converse("zIDSESSION\0zPING\0zFOO\0zPING\0"s),
            "1: PONG\0" "2: Command invalid inside IDSESSION. ERROR\0"s);
  EXPECT_EQ(Converse("zIDSESSION\0zIDSESSION\0zPING\0"s),
            "1: Command invalid inside IDSESSION. ERROR\0"s);
  EXPECT_EQ(Converse("zIDSESSION\0zRELOAD\0"s), "1: Command invalid inside IDSESSION. ERROR\0"s);
  EXPECT_EQ(Converse("zIDSESSION\0PING\nzPING\0"s), "");  // legacy form: dropped
  EXPECT_EQ(Converse("zIDSESSION\0zPING\0zINSTREAM\0"s + EncodeChunkLength(2 << 20) + "zPING\0"s),
            "1: PONG\0" "2: INSTREAM size limit exceeded. ERROR\0"s);
  EXPECT_EQ(backend_.reloads.load(), 0);
}

TEST_F(ClamdSessionTest, ReloadAndShutdown) {
  EXPECT_EQ(Converse("zRELOAD\0"s), "RELOADING\0"s);
  EXPECT_EQ(backend_.reloads.load(), 1);
  EXPECT_EQ(Converse("zSHUTDOWN\0"s), "SHUTDOWN is disabled on this server. ERROR\0"s);
  backend_.allow_shutdown = true;
  EXPECT_EQ(Converse("QUIT\n"), "");
  EXPECT_EQ(backend_.shutdowns.load(), 2);
}

TEST_F(ClamdSessionTest, Stats) {
  EXPECT_EQ(Converse("zSTATS\0"s), "POOLS: 1\n\nEND\0"s);
  EXPECT_EQ(Converse("zIDSESSION\0zSTATS\0zEND\0"s), "1: POOLS: 1\n\nEND\0"s);
}

TEST_F(ClamdSessionTest, TlsListenerNeedsAuthFirst) {
  options_.require_auth = true;
  options_.tenant_id.clear();
  EXPECT_EQ(Converse("zAUTH good\0zINSTREAM\0"s + Chunks("EVIL")),
            "AUTH OK\0stream: Test.Evil FOUND\0"s);
  ASSERT_EQ(backend_.scans.size(), 1u);
  EXPECT_EQ(backend_.scans[0].tenant, "tenant-a");
  EXPECT_EQ(Converse("nAUTH bad\nnPING\n"), "AUTH FAILED: credentials are not valid\n");
  EXPECT_EQ(Converse("zPING\0"s),
            "AUTH FAILED: authentication required (send AUTH <api-token> first)\0"s);
  EXPECT_EQ(Converse("AUTH good\nzIDSESSION\0zPING\0zEND\0"s), "AUTH OK\n1: PONG\0"s);
}

class ClamdPathScanTest : public ClamdSessionTest {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/clamd-session-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    std::filesystem::create_directories(root_ / "allowed/sub");
    std::filesystem::create_directories(root_ / "outside");
    Write("allowed/a.txt", "clean");
    Write("allowed/b.txt", "EVIL one");
    Write("allowed/sub/c.txt", "EVIL two");
    Write("outside/secret.txt", "EVIL");
    std::filesystem::create_symlink(root_ / "outside/secret.txt", root_ / "allowed/link.txt");
    options_.scan_directories = {std::filesystem::canonical(root_ / "allowed").string()};
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(root_ / name, std::ios::binary) << bytes;
  }
  std::string P(const std::string& name) { return (root_ / name).string(); }

  std::filesystem::path root_;
};

TEST_F(ClamdPathScanTest, ScanStopsAtTheFirstFoundContscanGoesOn) {
  EXPECT_EQ(Converse("zSCAN " + P("allowed") + "\0"s), P("allowed/b.txt") + ": Test.Evil FOUND\0"s);
  EXPECT_EQ(Converse("zCONTSCAN " + P("allowed/") + "\0"s),
            P("allowed/b.txt") + ": Test.Evil FOUND\0"s + P("allowed/sub/c.txt") +
                ": Test.Evil FOUND\0"s);
  EXPECT_EQ(Converse("zMULTISCAN " + P("allowed/sub") + "\0"s),
            P("allowed/sub/c.txt") + ": Test.Evil FOUND\0"s);
  EXPECT_EQ(Converse("zALLMATCHSCAN " + P("allowed/b.txt") + "\0"s),
            P("allowed/b.txt") + ": Test.Evil FOUND\0"s + P("allowed/b.txt") +
                ": YARA.Evil FOUND\0"s);
  EXPECT_EQ(Converse("zSCAN " + P("allowed/a.txt") + "\0"s), P("allowed/a.txt") + ": OK\0"s);
  EXPECT_EQ(Converse("SCAN " + P("allowed/a.txt") + "\n"), P("allowed/a.txt") + ": OK\n");
  for (const auto& scan : backend_.scans) EXPECT_NE(scan.data, "EVIL");  // no symlink out
}

TEST_F(ClamdPathScanTest, MultiscanScansFilesAtOnceAndRepliesAsEachEnds) {
  std::filesystem::create_directories(root_ / "allowed/many");
  for (int i = 0; i < 8; ++i) {
    Write("allowed/many/f" + std::to_string(i), i % 3 == 0 ? "EVIL SLOW" : "SLOW");
  }
  options_.multiscan_threads = 4;
  std::string replies = Converse("zMULTISCAN " + P("allowed/many") + "\0"s);
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = replies.find('\0', start)) != std::string::npos;
       start = end + 1) {
    lines.push_back(replies.substr(start, end - start));
  }
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{P("allowed/many/f0") + ": Test.Evil FOUND",
                                             P("allowed/many/f3") + ": Test.Evil FOUND",
                                             P("allowed/many/f6") + ": Test.Evil FOUND"}));
  EXPECT_EQ(backend_.scans.size(), 8u);
  EXPECT_GE(backend_.most_in_flight.load(), 2);  // not one after the other
  EXPECT_LE(backend_.most_in_flight.load(), 4);

  // CONTSCAN keeps to one file at a time, in name order.
  backend_.most_in_flight = 0;
  EXPECT_EQ(Converse("zCONTSCAN " + P("allowed/many") + "\0"s),
            P("allowed/many/f0") + ": Test.Evil FOUND\0"s + P("allowed/many/f3") +
                ": Test.Evil FOUND\0"s + P("allowed/many/f6") + ": Test.Evil FOUND\0"s);
  EXPECT_EQ(backend_.most_in_flight.load(), 1);
}

TEST_F(ClamdPathScanTest, EverythingElseIsRefused) {
  EXPECT_EQ(Converse("zSCAN " + P("outside/secret.txt") + "\0"s),
            P("outside/secret.txt") + ": Access denied. ERROR\0"s);
  EXPECT_EQ(Converse("zSCAN " + P("allowed/link.txt") + "\0"s),  // resolves outside
            P("allowed/link.txt") + ": Access denied. ERROR\0"s);
  EXPECT_EQ(Converse("zSCAN " + P("allowed/../outside") + "\0"s),
            P("allowed/../outside") + ": Access denied. ERROR\0"s);
  EXPECT_EQ(Converse("zSCAN /nonexistent\0"s), "/nonexistent: Access denied. ERROR\0"s);
  EXPECT_EQ(Converse("zSCAN relative\0"s), "relative: Access denied. ERROR\0"s);
  EXPECT_EQ(Converse("zSCAN " + P("allowed/missing") + "\0"s),
            P("allowed/missing") + ": File path check failure: No such file or directory. ERROR\0"s);
  options_.scan_directories.clear();
  EXPECT_EQ(Converse("zSCAN " + P("allowed/a.txt") + "\0"s),
            P("allowed/a.txt") + ": Access denied. ERROR\0"s);
  EXPECT_TRUE(backend_.scans.empty());
}

TEST_F(ClamdPathScanTest, FildesOnTheUnixSocket) {
  int file = open(P("allowed/b.txt").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  auto pass = [file](int socket) {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &file, sizeof(int));
    ASSERT_EQ(sendmsg(socket, &msg, 0), 1);
  };
  std::string reply = Converse("zFILDES\0"s, net::Transport::kUnix, pass);
  EXPECT_TRUE(reply.rfind("fd[", 0) == 0) << reply;
  EXPECT_NE(reply.find("]: Test.Evil FOUND\0"s), std::string::npos) << reply;
  close(file);
  // Over TCP, or without a descriptor, clamd closes without a word.
  EXPECT_EQ(Converse("zFILDES\0"s, net::Transport::kTcp), "");
  EXPECT_EQ(Converse("zFILDES\0"s, net::Transport::kUnix), "");
}

}  // namespace
}  // namespace bulwark::clamd

// The ICAP session over a socketpair with a fake backend: every reply form, preview, tenants,
// limits and persistent connections, without a server or a site.
#include "icap/icap_session.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <thread>

namespace bulwark::icap {
namespace {

// Blocks anything containing "EVIL"; knows one tenant, "acme".
class FakeBackend : public IcapBackend {
 public:
  Result<std::string> UriTenant(std::string_view name) override {
    if (name == "acme") return std::string("t_acme");
    if (name == "broken") return InternalError("store down");
    return NotFoundError("no");
  }
  Result<IcapVerdict> Scan(const IcapScanJob& job) override {
    std::lock_guard lock(mu);
    jobs.push_back({job.tenant_id, std::string(job.data), job.name, job.user});
    IcapVerdict verdict;
    verdict.blocked = job.data.find("EVIL") != std::string_view::npos;
    verdict.notice.verdict = "malicious";
    verdict.notice.findings = {"test: Evil-Marker"};
    verdict.notice.object = job.name;
    return verdict;
  }
  std::string ISTag() override { return "\"tag-1\""; }
  void CountOversize(bool blocked) override { (blocked ? oversize_blocked : oversize_passed)++; }

  struct Job {
    std::string tenant, data, name, user;
  };
  std::mutex mu;
  std::vector<Job> jobs;
  int oversize_passed = 0, oversize_blocked = 0;
};

class IcapSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.read_timeout = std::chrono::milliseconds(2000);
    options_.idle_timeout = std::chrono::milliseconds(2000);
  }

  // Starts a session on one end of a socketpair; returns the other end.
  int StartSession() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    connection_ = net::SocketConnection(UniqueFd(fds[0]), net::Peer{net::Transport::kUnix, "unix", true});
    thread_ = std::thread([this] { RunIcapSession(*connection_, backend_, options_); });
    return fds[1];
  }
  // Waits for the session to end, then closes both ends.
  void Join(int fd) {
    if (thread_.joinable()) thread_.join();
    connection_.reset();
    ::close(fd);
  }
  static void WriteAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      ASSERT_GT(n, 0);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  static std::string ReadUntil(int fd, std::string_view marker) {
    std::string out;
    char buffer[4096];
    while (out.find(marker) == std::string::npos) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }
  // Sends `input`, closes the sending side and returns everything the session wrote.
  std::string Exchange(const std::string& input) {
    int fd = StartSession();
    WriteAll(fd, input);
    ::shutdown(fd, SHUT_WR);
    thread_.join();  // the session ends at the end of input
    connection_.reset();
    std::string out = ReadUntil(fd, "\x01never");
    ::close(fd);
    return out;
  }

  FakeBackend backend_;
  IcapSessionOptions options_;
  std::unique_ptr<net::Connection> connection_;
  std::thread thread_;
};

const std::string kReqHdr = "GET http://files.example/dl/report.pdf?token=secret HTTP/1.1\r\nHost: files.example\r\n\r\n";

std::string Chunked(std::string_view body, bool ieof = false) {
  std::string out;
  AppendChunk(out, body);
  out += ieof ? "0; ieof\r\n\r\n" : "0\r\n\r\n";
  return out;
}

std::string Respmod(std::string_view body, std::string_view extra_headers = "Allow: 204\r\n",
                    std::string_view uri = "icap://127.0.0.1/respmod") {
  std::string res_hdr = "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n";
  return "RESPMOD " + std::string(uri) + " ICAP/1.0\r\nHost: 127.0.0.1\r\n" +
         std::string(extra_headers) + "Encapsulated: req-hdr=0, res-hdr=" +
         std::to_string(kReqHdr.size()) +
         ", res-body=" + std::to_string(kReqHdr.size() + res_hdr.size()) + "\r\n\r\n" + kReqHdr +
         res_hdr + Chunked(body);
}

int StatusOf(const std::string& reply) {
  if (reply.rfind("ICAP/1.0 ", 0) != 0 || reply.size() < 12) return -1;
  return std::stoi(reply.substr(9, 3));
}

TEST_F(IcapSessionTest, OptionsAnnouncesTheService) {
  options_.max_connections = 7;
  std::string reply = Exchange("OPTIONS icap://127.0.0.1/respmod ICAP/1.0\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(reply), 200) << reply;
  for (std::string_view expected : {"Methods: RESPMOD\r\n", "ISTag: \"tag-1\"\r\n",
                                    "Max-Connections: 7\r\n", "Allow: 204\r\n", "Preview: 4096\r\n",
                                    "Options-TTL: ", "Transfer-Preview: *\r\n",
                                    "Encapsulated: null-body=0\r\n"}) {
    EXPECT_NE(reply.find(expected), std::string::npos) << expected;
  }
  std::string both = Exchange("OPTIONS icap://127.0.0.1/avscan ICAP/1.0\r\n\r\n");
  EXPECT_NE(both.find("Methods: REQMOD, RESPMOD\r\n"), std::string::npos) << both;
}

TEST_F(IcapSessionTest, CleanDownloadIs204WhenAllowed) {
  std::string reply = Exchange(Respmod("a clean document"));
  EXPECT_EQ(StatusOf(reply), 204) << reply;
  ASSERT_EQ(backend_.jobs.size(), 1u);
  EXPECT_EQ(backend_.jobs[0].data, "a clean document");
  EXPECT_EQ(backend_.jobs[0].name, "report.pdf");  // never the query string
  EXPECT_EQ(backend_.jobs[0].tenant, "");
}

TEST_F(IcapSessionTest, CleanDownloadIsEchoedWithout204) {
  std::string reply = Exchange(Respmod("a clean document", ""));
  ASSERT_EQ(StatusOf(reply), 200) << reply;
  std::size_t blank = reply.find("\r\n\r\n");
  std::string rest = reply.substr(blank + 4);
  EXPECT_EQ(rest.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << rest;
  std::size_t body_offset = std::stoul(reply.substr(reply.find("res-body=") + 9));
  auto body = DecodeChunkedBody(rest.substr(body_offset), 1 << 20);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->data, "a clean document");
}

TEST_F(IcapSessionTest, BlockedDownloadGetsTheBlockPage) {
  std::string reply = Exchange(Respmod("xxEVILxx"));
  EXPECT_EQ(StatusOf(reply), 200) << reply;
  EXPECT_NE(reply.find("HTTP/1.1 403 Forbidden"), std::string::npos);
  EXPECT_NE(reply.find("Evil-Marker"), std::string::npos);
  EXPECT_EQ(reply.find("xxEVILxx"), std::string::npos);  // names the finding, not the content
}

TEST_F(IcapSessionTest, PreviewWithIeofIsAnsweredAtOnce) {
  std::string request = Respmod("small", "Preview: 4096\r\n");
  request.replace(request.rfind("0\r\n\r\n"), 5, "0; ieof\r\n\r\n");
  std::string reply = Exchange(request);
  EXPECT_EQ(StatusOf(reply), 204) << reply;  // 204 answers a preview even without Allow: 204
  EXPECT_EQ(reply.find("100 Continue"), std::string::npos);
}

TEST_F(IcapSessionTest, PreviewWithoutIeofGetsContinueThenTheVerdict) {
  std::string full = Respmod("0123456789EVIL", "Preview: 10\r\nAllow: 204\r\n");
  std::size_t body_at = full.find("e\r\n0123456789EVIL");
  std::string head = full.substr(0, body_at);
  int fd = StartSession();
  WriteAll(fd, head + "a\r\n0123456789\r\n0\r\n\r\n");
  std::string first = ReadUntil(fd, "\r\n\r\n");
  EXPECT_EQ(first, "ICAP/1.0 100 Continue\r\n\r\n");
  WriteAll(fd, "4\r\nEVIL\r\n0\r\n\r\n");
  std::string reply = ReadUntil(fd, "</html>");
  EXPECT_NE(reply.find("HTTP/1.1 403 Forbidden"), std::string::npos) << reply;
  ::shutdown(fd, SHUT_WR);
  Join(fd);
  ASSERT_EQ(backend_.jobs.size(), 1u);
  EXPECT_EQ(backend_.jobs[0].data, "0123456789EVIL");
}

TEST_F(IcapSessionTest, PersistentConnectionServesSeveralRequests) {
  std::string reply = Exchange(Respmod("one") + Respmod("EVIL two") + Respmod("three"));
  EXPECT_EQ(StatusOf(reply), 204);
  EXPECT_NE(reply.find("403 Forbidden"), std::string::npos);
  EXPECT_EQ(reply.rfind("ICAP/1.0 204"), reply.size() - reply.substr(reply.rfind("ICAP/1.0 204")).size());
  EXPECT_EQ(backend_.jobs.size(), 3u);
}

TEST_F(IcapSessionTest, TenantComesFromTheUri) {
  options_.tenant_id = "t_listener";
  std::string reply = Exchange(Respmod("x", "Allow: 204\r\nX-Client-Username: Alice@Example.COM\r\n",
                                       "icap://127.0.0.1:1344/acme/respmod"));
  EXPECT_EQ(StatusOf(reply), 204) << reply;
  reply = Exchange(Respmod("y"));
  ASSERT_EQ(backend_.jobs.size(), 2u);
  EXPECT_EQ(backend_.jobs[0].tenant, "t_acme");
  EXPECT_EQ(backend_.jobs[0].user, "alice@example.com");
  EXPECT_EQ(backend_.jobs[1].tenant, "t_listener");
  reply = Exchange(Respmod("z", "Allow: 204\r\n", "icap://127.0.0.1/other/respmod"));
  EXPECT_EQ(StatusOf(reply), 404) << reply;
  reply = Exchange(Respmod("z", "Allow: 204\r\n", "icap://127.0.0.1/broken/respmod"));
  EXPECT_EQ(StatusOf(reply), 500) << reply;
  EXPECT_EQ(backend_.jobs.size(), 2u);
}

TEST_F(IcapSessionTest, UploadsAreScannedPartByPart) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nhello\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nEVIL inside\r\n--XyZ--\r\n";
  std::string req_hdr =
      "POST http://cloud.example/upload?sid=1 HTTP/1.1\r\nHost: cloud.example\r\n"
      "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  std::string request = "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nAllow: 204\r\n"
                        "Encapsulated: req-hdr=0, req-body=" +
                        std::to_string(req_hdr.size()) + "\r\n\r\n" + req_hdr + Chunked(body);
  std::string reply = Exchange(request);
  EXPECT_NE(reply.find("HTTP/1.1 403 Forbidden"), std::string::npos) << reply;
  EXPECT_NE(reply.find("notes.txt"), std::string::npos);
  ASSERT_EQ(backend_.jobs.size(), 2u);
  EXPECT_EQ(backend_.jobs[0].name, "notes.txt");
  EXPECT_EQ(backend_.jobs[0].data, "EVIL inside");
  EXPECT_EQ(backend_.jobs[1].data, "comment: hello\n");

  std::string form = "card=4111+1111+1111+1111&x=%45VIL";
  req_hdr = "POST /f HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n";
  request = "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nEncapsulated: req-hdr=0, req-body=" +
            std::to_string(req_hdr.size()) + "\r\n\r\n" + req_hdr + Chunked(form);
  reply = Exchange(request);
  EXPECT_NE(reply.find("HTTP/1.1 403 Forbidden"), std::string::npos) << reply;
  EXPECT_EQ(backend_.jobs.back().data, "card=4111 1111 1111 1111\nx=EVIL");
}

TEST_F(IcapSessionTest, RequestWithoutBodyIsNotScanned) {
  std::string request = "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nAllow: 204\r\n"
                        "Encapsulated: req-hdr=0, null-body=" +
                        std::to_string(kReqHdr.size()) + "\r\n\r\n" + kReqHdr;
  EXPECT_EQ(StatusOf(Exchange(request)), 204);
  request = "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nEncapsulated: req-hdr=0, null-body=" +
            std::to_string(kReqHdr.size()) + "\r\n\r\n" + kReqHdr;
  std::string reply = Exchange(request);
  EXPECT_EQ(StatusOf(reply), 200);
  EXPECT_NE(reply.find("Encapsulated: req-hdr=0, null-body=" + std::to_string(kReqHdr.size())),
            std::string::npos)
      << reply;
  EXPECT_NE(reply.find(kReqHdr), std::string::npos);
  EXPECT_TRUE(backend_.jobs.empty());
}

TEST_F(IcapSessionTest, BadInputGetsIcapErrors) {
  struct Case {
    std::string request;
    int status;
  };
  std::string good = Respmod("x");
  std::string bad_offsets = good;
  bad_offsets.replace(bad_offsets.find("res-hdr="), 8, "res-hdr=1");  // one digit more: garbage
  std::string out_of_order = good;
  out_of_order.replace(out_of_order.find("req-hdr=0, "), 11, "");
  out_of_order.insert(out_of_order.find("res-body="), "req-hdr=0, ");
  std::string bad_chunk = good;
  bad_chunk.replace(bad_chunk.rfind("1\r\nx"), 1, "zz");
  std::string huge_header = "OPTIONS icap://h/respmod ICAP/1.0\r\nX: " + std::string(20000, 'a') + "\r\n\r\n";
  for (const Case& c : std::vector<Case>{
           {"OPTIONS icap://h/respmod ICAP/2.0\r\n\r\n", 505},
           {"PATCH icap://h/respmod ICAP/1.0\r\n\r\n", 501},
           {"OPTIONS icap://h/nothing ICAP/1.0\r\n\r\n", 404},
           {"OPTIONS icap://h/a/b/respmod ICAP/1.0\r\n\r\n", 404},
           {"REQMOD icap://h/respmod ICAP/1.0\r\nEncapsulated: req-hdr=0, null-body=4\r\n\r\nxxxx", 405},
           {"RESPMOD icap://h/respmod ICAP/1.0\r\n\r\n", 400},  // no Encapsulated
           {"garbage\r\n\r\n", 400},
           {huge_header, 413},
           {bad_offsets, 400},
           {out_of_order, 400},
           {bad_chunk, 400},
           {Respmod("x", "Preview: many\r\n"), 400},
       }) {
    std::string reply = Exchange(c.request);
    EXPECT_EQ(StatusOf(reply), c.status) << c.request.substr(0, 80) << "\n→ " << reply;
    if (StatusOf(reply) >= 400) {
      EXPECT_NE(reply.find("Connection: close"), std::string::npos);
    }
  }
  EXPECT_TRUE(backend_.jobs.empty());
}

TEST_F(IcapSessionTest, TruncatedMessageGetsNoVerdict) {
  std::string request = Respmod("a whole body");
  for (std::size_t cut : {request.size() / 3, request.size() - 10, request.size() - 3}) {
    std::string reply = Exchange(request.substr(0, cut));
    EXPECT_TRUE(reply.empty() || StatusOf(reply) == 400) << reply;
  }
  EXPECT_TRUE(backend_.jobs.empty());
}

TEST_F(IcapSessionTest, OversizeObjectsPassUnscannedOrAreBlocked) {
  options_.max_object_bytes = 10;
  std::string big(100, 'a');
  EXPECT_EQ(StatusOf(Exchange(Respmod(big))), 204);
  EXPECT_EQ(backend_.oversize_passed, 1);

  // Without Allow: 204 the message goes back unchanged as it arrives.
  std::string reply = Exchange(Respmod(big, ""));
  ASSERT_EQ(StatusOf(reply), 200) << reply;
  std::string rest = reply.substr(reply.find("\r\n\r\n") + 4);
  std::size_t body_offset = std::stoul(reply.substr(reply.find("res-body=") + 9));
  auto body = DecodeChunkedBody(rest.substr(body_offset), 1 << 20);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->data, big);
  EXPECT_EQ(backend_.oversize_passed, 2);

  // A preview of a declared-oversize object is answered before the rest is sent.
  std::string preview = Respmod(big, "Preview: 4\r\n");
  preview.replace(preview.find("64\r\n"), preview.size() - preview.find("64\r\n"),
                  "4\r\naaaa\r\n0\r\n\r\n");
  EXPECT_EQ(StatusOf(Exchange(preview)), 204);

  options_.block_oversize = true;
  reply = Exchange(Respmod(big));
  EXPECT_NE(reply.find("HTTP/1.1 403 Forbidden"), std::string::npos) << reply;
  EXPECT_NE(reply.find("larger than the scan limit"), std::string::npos);
  EXPECT_EQ(backend_.oversize_blocked, 1);
  EXPECT_TRUE(backend_.jobs.empty());
}

TEST_F(IcapSessionTest, IdleConnectionIsClosed) {
  options_.idle_timeout = std::chrono::milliseconds(100);
  auto started = std::chrono::steady_clock::now();
  int fd = StartSession();
  thread_.join();  // the session ends by itself
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  Join(fd);
}

TEST_F(IcapSessionTest, ServicePaths) {
  ServicePath p;
  ASSERT_TRUE(ParseServicePath("/acme/respmod", p));
  EXPECT_EQ(p.tenant, "acme");
  EXPECT_TRUE(p.respmod);
  EXPECT_FALSE(p.reqmod);
  ASSERT_TRUE(ParseServicePath("/SRV_CLAMAV", p));
  EXPECT_TRUE(p.reqmod && p.respmod);
  EXPECT_FALSE(ParseServicePath("/", p));
  EXPECT_FALSE(ParseServicePath("/x/y/reqmod", p));
  EXPECT_FALSE(ParseServicePath("/echo", p));
}

}  // namespace
}  // namespace bulwark::icap

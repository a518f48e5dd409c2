#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include "http/server.h"
#include "net/connection.h"
#include "net/stream_server.h"
#include "net/tls.h"

namespace bulwark::net {
namespace {

using namespace std::chrono_literals;

struct Pair {
  std::unique_ptr<Connection> server;
  UniqueFd client;
};

Pair SocketPair(Transport transport = Transport::kUnix) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Peer peer;
  peer.transport = transport;
  peer.address = "unix";
  return {SocketConnection(UniqueFd(fds[0]), peer), UniqueFd(fds[1])};
}

void Send(int fd, std::string_view data) {
  ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

std::string ReceiveAll(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

TEST(BufferedReaderTest, ReadsDelimitedRecordsAndExactCounts) {
  Pair pair = SocketPair();
  Send(pair.client.get(), std::string("zPING\0nVERSION\nabcdef", 21));
  BufferedReader reader(*pair.server, 1s);
  EXPECT_EQ(*reader.ReadUntil(std::string_view("\0", 1), 100), "zPING");
  EXPECT_EQ(*reader.ReadUntil("\n", 100), "nVERSION");
  std::string out;
  ASSERT_TRUE(reader.ReadExactly(4, out).ok());
  EXPECT_EQ(out, "abcd");
  EXPECT_EQ(reader.Peek(), "ef");
}

TEST(BufferedReaderTest, DelimiterSplitAcrossReadsIsFound) {
  Pair pair = SocketPair();
  BufferedReader reader(*pair.server, 2s);
  std::thread writer([&] {
    Send(pair.client.get(), "OPTIONS icap://x ICAP/1.0\r");
    std::this_thread::sleep_for(50ms);
    Send(pair.client.get(), "\nHost: x\r\n");
  });
  EXPECT_EQ(*reader.ReadUntil("\r\n", 1000), "OPTIONS icap://x ICAP/1.0");
  EXPECT_EQ(*reader.ReadUntil("\r\n", 1000), "Host: x");
  writer.join();
}

TEST(BufferedReaderTest, LimitsTimeoutsAndCloseAreErrors) {
  Pair pair = SocketPair();
  BufferedReader reader(*pair.server, 100ms);
  Send(pair.client.get(), std::string(64, 'a'));
  Result<std::string> too_long = reader.ReadUntil("\n", 10);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), StatusCode::kResourceExhausted);

  Pair idle = SocketPair();
  BufferedReader idle_reader(*idle.server, 100ms);
  Result<std::string> timed_out = idle_reader.ReadUntil("\n", 10);
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.status().code(), StatusCode::kDeadlineExceeded);

  Pair closing = SocketPair();
  BufferedReader closing_reader(*closing.server, 1s);
  Send(closing.client.get(), "partial");
  closing.client = UniqueFd();
  Result<std::string> closed = closing_reader.ReadUntil("\n", 100);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().code(), StatusCode::kFailedPrecondition);
  std::string body;
  EXPECT_FALSE(closing_reader.ReadExactly(100, body).ok());
}

TEST(BufferedReaderTest, LargeExactReadsBypassTheBuffer) {
  Pair pair = SocketPair();
  std::string big(1 << 20, 'x');
  big[12345] = 'y';
  std::thread writer([&] {
    Send(pair.client.get(), big);
  });
  BufferedReader reader(*pair.server, 2s);
  std::string out;
  ASSERT_TRUE(reader.ReadExactly(big.size(), out).ok());
  writer.join();
  EXPECT_EQ(out, big);
}

TEST(BufferedReaderTest, WaitForDataEndsWhenTheServerStops) {
  Pair pair = SocketPair();
  std::atomic<bool> stopping{false};
  pair.server->set_stop_flag(&stopping);
  BufferedReader reader(*pair.server, 5s);
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    stopping = true;
  });
  auto started = std::chrono::steady_clock::now();
  Result<bool> data = reader.WaitForData();
  stopper.join();
  ASSERT_TRUE(data.ok());
  EXPECT_FALSE(*data);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

// Sends one descriptor with a one-byte message, as clamdscan --fdpass does.
void PassDescriptor(int socket, int fd) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  cmsghdr* c = CMSG_FIRSTHDR(&message);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ASSERT_EQ(::sendmsg(socket, &message, 0), 1);
}

TEST(ConnectionTest, ReceivesPassedDescriptorsWithoutLosingBytes) {
  Pair pair = SocketPair();
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_EQ(::write(pipe_fds[1], "hello", 5), 5);
  ::close(pipe_fds[1]);
  Send(pair.client.get(), std::string("zFILDES\0", 8));
  PassDescriptor(pair.client.get(), pipe_fds[0]);
  ::close(pipe_fds[0]);
  Send(pair.client.get(), std::string("zPING\0", 6));

  BufferedReader reader(*pair.server, 1s);
  EXPECT_EQ(*reader.ReadUntil(std::string_view("\0", 1), 100), "zFILDES");
  Result<UniqueFd> fd = pair.server->ReceiveDescriptor(1s);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  char buffer[16] = {};
  EXPECT_EQ(::read(fd->get(), buffer, sizeof(buffer)), 5);
  EXPECT_STREQ(buffer, "hello");
  // The carrier byte and the next command are still in the stream, in order.
  std::string carrier;
  ASSERT_TRUE(reader.ReadExactly(1, carrier).ok());
  EXPECT_EQ(carrier, std::string(1, '\0'));
  EXPECT_EQ(*reader.ReadUntil(std::string_view("\0", 1), 100), "zPING");
}

TEST(ConnectionTest, DescriptorsOnlyOverUnixSockets) {
  Pair pair = SocketPair(Transport::kTcp);
  Result<UniqueFd> fd = pair.server->ReceiveDescriptor(100ms);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), StatusCode::kFailedPrecondition);
}

// --- StreamServer ---------------------------------------------------------------------

UniqueFd ConnectTcp(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

UniqueFd ConnectUnix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

// Answers each line with "echo: <line>\n" until the peer closes.
void EchoLines(Connection& connection) {
  BufferedReader reader(connection, 5s);
  for (;;) {
    Result<bool> more = reader.WaitForData();
    if (!more.ok() || !*more) return;
    Result<std::string> line = reader.ReadUntil("\n", 1024);
    if (!line.ok()) return;
    std::string reply = "echo: " + *line + " via " +
                        (connection.peer().loopback ? "loopback" : "remote") + "\n";
    if (!connection.Write(reply, 5s).ok()) return;
  }
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bulwark-net-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(StreamServerTest, ServesTcpAndUnixListeners) {
  TempDir dir;
  std::vector<Endpoint> endpoints(2);
  endpoints[1].transport = Transport::kUnix;
  endpoints[1].path = dir / "echo.sock";
  auto server = StreamServer::Start(endpoints, {"echo", 8}, EchoLines);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::uint16_t port = (*server)->bound()[0].port;
  ASSERT_NE(port, 0);
  EXPECT_EQ(Describe((*server)->bound()[0]), "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(Describe((*server)->bound()[1]), "unix:" + (dir / "echo.sock"));

  UniqueFd tcp = ConnectTcp(port);
  Send(tcp.get(), "one\ntwo\n");
  ::shutdown(tcp.get(), SHUT_WR);
  EXPECT_EQ(ReceiveAll(tcp.get()), "echo: one via loopback\necho: two via loopback\n");

  UniqueFd unix_client = ConnectUnix(dir / "echo.sock");
  Send(unix_client.get(), "three\n");
  ::shutdown(unix_client.get(), SHUT_WR);
  EXPECT_EQ(ReceiveAll(unix_client.get()), "echo: three via loopback\n");

  (*server)->Stop(1s);
  EXPECT_FALSE(std::filesystem::exists(dir / "echo.sock"));
}

TEST(StreamServerTest, BindFailureNamesTheEndpoint) {
  auto first = StreamServer::Start({Endpoint{}}, {"first", 8}, EchoLines);
  ASSERT_TRUE(first.ok());
  Endpoint taken;
  taken.port = (*first)->bound()[0].port;
  auto second = StreamServer::Start({taken}, {"clamd", 8}, EchoLines);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("clamd listener: 127.0.0.1:" +
                                           std::to_string(taken.port)),
            std::string::npos)
      << second.status().message();

  TempDir dir;
  std::filesystem::create_directory(dir / "not-a-socket");
  Endpoint unix_endpoint;
  unix_endpoint.transport = Transport::kUnix;
  unix_endpoint.path = dir / "not-a-socket";
  auto third = StreamServer::Start({unix_endpoint}, {"clamd", 8}, EchoLines);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.status().message().find("not a socket"), std::string::npos);
}

TEST(StreamServerTest, ReplacesAStaleUnixSocketButNotALiveOne) {
  TempDir dir;
  Endpoint endpoint;
  endpoint.transport = Transport::kUnix;
  endpoint.path = dir / "s.sock";
  {
    // A socket file left behind by a process that is gone.
    UniqueFd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, endpoint.path.c_str(), endpoint.path.size() + 1);
    ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  }
  auto live = StreamServer::Start({endpoint}, {"one", 8}, EchoLines);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  auto second = StreamServer::Start({endpoint}, {"two", 8}, EchoLines);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another server"), std::string::npos);
}

TEST(StreamServerTest, TurnsAwayConnectionsBeyondTheCap) {
  std::atomic<bool> release{false};
  auto hold = [&](Connection& connection) {
    (void)connection.Write("busy\n", 1s);
    while (!release.load() && !connection.stopping()) std::this_thread::sleep_for(10ms);
  };
  auto overloaded = [](Connection& connection) { (void)connection.Write("overloaded\n", 1s); };
  auto server = StreamServer::Start({Endpoint{}}, {"cap", 1}, hold, overloaded);
  ASSERT_TRUE(server.ok());
  std::uint16_t port = (*server)->bound()[0].port;
  UniqueFd first = ConnectTcp(port);
  char buffer[16];
  ASSERT_EQ(::recv(first.get(), buffer, 5, MSG_WAITALL), 5);  // "busy\n": it is being served
  UniqueFd second = ConnectTcp(port);
  EXPECT_EQ(ReceiveAll(second.get()), "overloaded\n");
  // The turned-away connection's thread ends just after closing it.
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while ((*server)->active_connections() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ((*server)->active_connections(), 1u);
  release = true;
}

TEST(StreamServerTest, StopEndsIdleSessionsAndCutsStuckOnesAfterTheGrace) {
  std::atomic<int> ended{0};
  auto stuck = [&](Connection& connection) {
    BufferedReader reader(connection, 60s);
    // Reads without WaitForData: only the cut after the grace period ends this.
    std::string data;
    (void)reader.ReadExactly(10, data);
    ++ended;
  };
  auto server = StreamServer::Start({Endpoint{}}, {"stuck", 8}, stuck);
  ASSERT_TRUE(server.ok());
  UniqueFd client = ConnectTcp((*server)->bound()[0].port);
  while ((*server)->active_connections() == 0) std::this_thread::sleep_for(5ms);
  auto started = std::chrono::steady_clock::now();
  (*server)->Stop(200ms);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(ended.load(), 1);
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 5s);

  auto idle_server = StreamServer::Start({Endpoint{}}, {"echo", 8}, EchoLines);
  ASSERT_TRUE(idle_server.ok());
  UniqueFd idle = ConnectTcp((*idle_server)->bound()[0].port);
  while ((*idle_server)->active_connections() == 0) std::this_thread::sleep_for(5ms);
  started = std::chrono::steady_clock::now();
  (*idle_server)->Stop(10s);  // the idle session ends at once, not after the grace
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(StreamServerTest, TlsListenerRequiresTls12AndServes) {
  TempDir dir;
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(dir / "cert.pem", dir / "key.pem").ok());
  Endpoint endpoint;
  endpoint.transport = Transport::kTls;
  endpoint.certificate_file = dir / "cert.pem";
  endpoint.private_key_file = dir / "key.pem";
  auto server = StreamServer::Start({endpoint}, {"tls", 8}, EchoLines);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ(Describe((*server)->bound()[0]).rfind("tls 127.0.0.1:", 0), 0u);

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, (dir / "cert.pem").c_str(), nullptr), 1);
  UniqueFd fd = ConnectTcp((*server)->bound()[0].port);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd.get());
  SSL_set_tlsext_host_name(ssl, "localhost");
  ASSERT_EQ(SSL_connect(ssl), 1);
  ASSERT_EQ(SSL_write(ssl, "secure\n", 7), 7);
  char buffer[64] = {};
  int n = SSL_read(ssl, buffer, sizeof(buffer) - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "echo: secure via loopback\n");
  SSL_free(ssl);

  // TLS 1.1 is refused.
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  UniqueFd old_fd = ConnectTcp((*server)->bound()[0].port);
  SSL* old = SSL_new(ctx);
  SSL_set_fd(old, old_fd.get());
  EXPECT_NE(SSL_connect(old), 1);
  SSL_free(old);
  SSL_CTX_free(ctx);
}

// STARTTLS (RFC 3207): both ends of a plain socket upgrade in place; the client verifies the
// server's certificate and name; encrypted bytes flow both ways afterwards.
TEST(StartTlsTest, UpgradesBothSidesInPlaceAndVerifiesTheServer) {
  TempDir dir;
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(dir / "cert.pem", dir / "key.pem").ok());
  auto server_tls = TlsContext::Server(dir / "cert.pem", dir / "key.pem");
  ASSERT_TRUE(server_tls.ok()) << server_tls.status().ToString();
  auto client_tls = TlsContext::Client(true, dir / "cert.pem");
  ASSERT_TRUE(client_tls.ok()) << client_tls.status().ToString();

  Pair pair = SocketPair(Transport::kTcp);
  std::unique_ptr<Connection> client = SocketConnection(std::move(pair.client), Peer{});
  std::thread server([&] {
    BufferedReader reader(*pair.server, 5s);
    ASSERT_EQ(*reader.ReadUntil("\n", 100), "STARTTLS");
    ASSERT_TRUE(pair.server->Write("220 go\n", 1s).ok());
    ASSERT_TRUE(pair.server->StartTls(**server_tls, "", 5s).ok());
    EXPECT_EQ(pair.server->peer().transport, Transport::kTls);
    BufferedReader secure(*pair.server, 5s);
    std::string line = *secure.ReadUntil("\n", 100);
    ASSERT_TRUE(pair.server->Write("secret: " + line + "\n", 1s).ok());
    EXPECT_EQ(pair.server->StartTls(**server_tls, "", 1s).code(),
              StatusCode::kFailedPrecondition);
  });
  ASSERT_TRUE(client->Write("STARTTLS\n", 1s).ok());
  BufferedReader reader(*client, 5s);
  EXPECT_EQ(*reader.ReadUntil("\n", 100), "220 go");
  Status upgraded = client->StartTls(**client_tls, "127.0.0.1", 5s);
  ASSERT_TRUE(upgraded.ok()) << upgraded.ToString();
  ASSERT_TRUE(client->Write("hello\n", 1s).ok());
  BufferedReader secure(*client, 5s);
  EXPECT_EQ(*secure.ReadUntil("\n", 100), "secret: hello");
  server.join();
}

TEST(StartTlsTest, VerifyingClientRefusesAWrongNameAndPlainBytesBlockTheUpgrade) {
  TempDir dir;
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(dir / "cert.pem", dir / "key.pem").ok());
  auto server_tls = TlsContext::Server(dir / "cert.pem", dir / "key.pem");
  auto client_tls = TlsContext::Client(true, dir / "cert.pem");
  ASSERT_TRUE(server_tls.ok() && client_tls.ok());
  EXPECT_EQ(TlsContext::Server(dir / "none.pem", dir / "key.pem").status().code(),
            StatusCode::kInvalidArgument);

  Pair pair = SocketPair(Transport::kTcp);
  std::unique_ptr<Connection> client = SocketConnection(std::move(pair.client), Peer{});
  std::thread server([&] { EXPECT_FALSE(pair.server->StartTls(**server_tls, "", 5s).ok()); });
  EXPECT_FALSE(client->StartTls(**client_tls, "mail.example.org", 5s).ok());
  client.reset();  // the server's handshake ends too
  server.join();

  // Bytes read but not consumed (a Unix socket keeps them while waiting for a descriptor)
  // must not be carried into TLS.
  Pair unix_pair = SocketPair(Transport::kUnix);
  Send(unix_pair.client.get(), "x");
  EXPECT_FALSE(unix_pair.server->ReceiveDescriptor(200ms).ok());
  EXPECT_EQ(unix_pair.server->StartTls(**server_tls, "", 1s).code(),
            StatusCode::kFailedPrecondition);
}

TEST(ConnectTcpTest, ConnectsToAListenerAndNamesARefusal) {
  auto server = StreamServer::Start({Endpoint{}}, {"tcp", 8}, EchoLines);
  ASSERT_TRUE(server.ok());
  std::uint16_t port = (*server)->bound()[0].port;
  auto connection = bulwark::net::ConnectTcp("127.0.0.1", port, 2s);
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  ASSERT_TRUE((*connection)->Write("hi\n", 1s).ok());
  BufferedReader reader(**connection, 5s);
  EXPECT_EQ(reader.ReadUntil("\n", 100)->rfind("echo: hi", 0), 0u);
  (*server)->Stop(0ms);
  auto refused = bulwark::net::ConnectTcp("127.0.0.1", port, 2s);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::net

// End-to-end tests of HttpsServer over TLS on 127.0.0.1, port 0, using http::Client and,
// where the client would not misbehave on purpose, OpenSSL directly.

#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"
#include "http/metrics.h"

namespace bulwark::http {
namespace {

using std::chrono::milliseconds;

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bulwark_http_server_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Slow handlers wait at the gate until the test opens it.
class Gate {
 public:
  void Arrive() {
    std::lock_guard lock(mu_);
    ++arrived_;
    cv_.notify_all();
  }
  void WaitOpen() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitArrived(int count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return arrived_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool open_ = false;
};

template <typename Predicate>
bool Eventually(Predicate predicate) {
  for (int i = 0; i < 200; ++i) {
    if (predicate()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return predicate();
}

int ConnectTcp(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// A TLS connection made with OpenSSL directly, with chosen protocol versions.
class RawTls {
 public:
  RawTls(std::uint16_t port, int min_version, int max_version) {
    ERR_clear_error();
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx_, 0);  // let the client really offer TLS 1.0/1.1
    SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx_, min_version);
    SSL_CTX_set_max_proto_version(ctx_, max_version);
    fd_ = ConnectTcp(port);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    connected_ = fd_ >= 0 && SSL_connect(ssl_) == 1;
    if (!connected_) error_ = ERR_peek_error();
  }
  ~RawTls() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  unsigned long error() const { return error_; }
  void Write(const std::string& data) {
    SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
  }
  // Sends close_notify: the server sees the end of input at once; reading stays possible.
  void ShutdownWrite() { SSL_shutdown(ssl_); }
  // Everything until the server closes (or 5 s pass).
  std::string ReadAll() {
    std::string out;
    char buffer[4096];
    while (true) {
      int n = SSL_read(ssl_, buffer, sizeof(buffer));
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
  unsigned long error_ = 0;
};

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certificate_file_ = dir_.path() + "/cert.pem";
    key_file_ = dir_.path() + "/key.pem";
    ASSERT_TRUE(EnsureSelfSignedCertificate(certificate_file_, key_file_).ok());
    router_ = std::make_shared<Router>();
    router_->Add(
        "GET", "/health",
        [](const Request&, const PathParams&) {
          return Response::Json(200, "{\"status\":\"ok\"}");
        },
        /*inline_handler=*/true);
    router_->Add("GET", "/api/echo/{name}", [](const Request& request, const PathParams& params) {
      return Response::Json(200, "{\"name\":\"" + params.at("name") + "\",\"q\":\"" +
                                     request.Query("q") + "\",\"remote\":\"" +
                                     request.remote_address + "\",\"agent\":\"" +
                                     request.Header("user-agent") + "\"}");
    });
    router_->Add("POST", "/api/echo", [](const Request& request, const PathParams&) {
      Response response = Response::Json(201, request.body);
      response.content_type = "application/octet-stream";
      response.headers.emplace_back("Set-Cookie", "a=1");
      response.headers.emplace_back("X-Evil", "x\r\nInjected: yes");
      return response;
    });
    router_->Add("GET", "/api/slow", [this](const Request&, const PathParams&) {
      gate_.Arrive();
      gate_.WaitOpen();
      return Response::Json(200, "{\"slow\":true}");
    });
    router_->Add("GET", "/api/throws", [](const Request&, const PathParams&) -> Response {
      throw std::runtime_error("secret internal detail");
    });
  }

  void TearDown() override {
    gate_.Open();
    for (std::thread& thread : threads_) thread.join();
    if (server_) server_->Stop(std::chrono::seconds(1));
  }

  ServerOptions Options() {
    ServerOptions options;
    options.port = 0;
    options.certificate_file = certificate_file_;
    options.private_key_file = key_file_;
    options.worker_threads = 2;
    options.metrics = &metrics_;
    return options;
  }

  void StartServer(const ServerOptions& options) {
    auto server = HttpsServer::Create(options, router_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    server_->Start();
    base_ = "https://127.0.0.1:" + std::to_string(server_->port());
  }

  std::unique_ptr<Client> NewClient(bool keep_alive = true) {
    ClientOptions options;
    options.ca_file = certificate_file_;  // verifies the chain and the IP SAN for real
    options.keep_alive = keep_alive;
    options.timeout = milliseconds(5000);
    auto client = Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  // Starts a GET in a background thread; the response lands in `*out`.
  void GetInBackground(const std::string& path, Result<ClientResponse>* out) {
    threads_.emplace_back([this, path, out] {
      auto client = NewClient();
      *out = client->Get(base_ + path);
    });
  }

  double QueueDepth() { return metrics_.GetGauge("bulwark_http_queue_depth", "").Value(); }

  TempDir dir_;
  std::string certificate_file_;
  std::string key_file_;
  Metrics metrics_;
  Gate gate_;
  std::shared_ptr<Router> router_;
  std::unique_ptr<HttpsServer> server_;
  std::string base_;
  std::vector<std::thread> threads_;
};

void ExpectSecurityHeaders(const ClientResponse& response) {
  EXPECT_EQ(response.Header("strict-transport-security"), "max-age=31536000");
  EXPECT_EQ(response.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(response.Header("x-frame-options"), "DENY");
  EXPECT_EQ(response.Header("cache-control"), "no-store");
  EXPECT_EQ(response.Header("content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(response.Header("server"), "bulwark");
  EXPECT_TRUE(response.Header("date").ends_with(" GMT")) << response.Header("date");
  EXPECT_EQ(response.Header("content-length"), std::to_string(response.body.size()));
}

TEST_F(HttpsServerTest, ServesJsonRouteWithParamsQueryAndSecurityHeaders) {
  StartServer(Options());
  auto client = NewClient();
  auto response = client->Get(base_ + "/api/echo/a%20b?q=x%26y+z");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(response->body,
            "{\"name\":\"a b\",\"q\":\"x&y z\",\"remote\":\"127.0.0.1\",\"agent\":\"bulwark\"}");
  ExpectSecurityHeaders(*response);
}

TEST_F(HttpsServerTest, KeepAliveReusesOneConnection) {
  StartServer(Options());
  auto client = NewClient();
  auto first = client->Get(base_ + "/api/echo/one");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = client->Post(base_ + "/api/echo", "payload", "text/plain");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto third = client->Get(base_ + "/health");
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 201);
  EXPECT_EQ(second->body, "payload");
  EXPECT_EQ(second->Header("content-type"), "application/octet-stream");
  EXPECT_EQ(second->Header("set-cookie"), "a=1");
  EXPECT_EQ(second->Header("x-evil"), "");  // CR/LF in a value: dropped
  EXPECT_EQ(second->Header("injected"), "");
  EXPECT_EQ(third->status, 200);
  EXPECT_EQ(client->connections_opened(), 1u);

  auto closing = NewClient(/*keep_alive=*/false);
  ASSERT_TRUE(closing->Get(base_ + "/health").ok());
  ASSERT_TRUE(closing->Get(base_ + "/health").ok());
  EXPECT_EQ(closing->connections_opened(), 2u);
}

TEST_F(HttpsServerTest, BodyOverLimitIs413) {
  ServerOptions options = Options();
  options.max_body_bytes = 1024;
  StartServer(options);
  auto client = NewClient();
  auto small = client->Post(base_ + "/api/echo", std::string(1024, 'a'));
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->status, 201);
  auto large = client->Post(base_ + "/api/echo", std::string(4096, 'a'));
  ASSERT_TRUE(large.ok()) << large.status().ToString();
  EXPECT_EQ(large->status, 413);
  EXPECT_NE(large->body.find("\"code\":\"payload_too_large\""), std::string::npos);
  EXPECT_EQ(large->Header("connection"), "close");
  ExpectSecurityHeaders(*large);
}

TEST_F(HttpsServerTest, OversizedHeadersAre431) {
  ServerOptions options = Options();
  options.max_header_bytes = 2048;
  StartServer(options);
  auto client = NewClient();
  auto response = client->Get(base_ + "/health", {{"X-Big", std::string(8192, 'b')}});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 431);
}

TEST_F(HttpsServerTest, UnknownPathIs404AndWrongMethodIs405) {
  StartServer(Options());
  auto client = NewClient();
  auto missing = client->Get(base_ + "/api/nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->Header("content-type"), "application/json");
  EXPECT_EQ(missing->body.find("{\"error\":{\"code\":\"not_found\""), 0u);
  ExpectSecurityHeaders(*missing);

  auto wrong = client->Send("DELETE", base_ + "/api/echo");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->Header("allow"), "POST");
  EXPECT_NE(wrong->body.find("\"code\":\"method_not_allowed\""), std::string::npos);
  EXPECT_EQ(client->connections_opened(), 1u);  // errors keep the connection
}

TEST_F(HttpsServerTest, DotSegmentsNulAndBadEscapesAre400) {
  StartServer(Options());
  auto client = NewClient();
  for (const char* path :
       {"/api/echo/%2e%2e", "/api/../health", "/api/echo/a%00b", "/api/echo/%zz"}) {
    auto response = client->Get(base_ + path);
    ASSERT_TRUE(response.ok()) << path << ": " << response.status().ToString();
    EXPECT_EQ(response->status, 400) << path;
    EXPECT_NE(response->body.find("\"code\":\"bad_request\""), std::string::npos);
  }
}

TEST_F(HttpsServerTest, ThrowingHandlerIs500WithoutDetails) {
  StartServer(Options());
  auto client = NewClient();
  auto response = client->Get(base_ + "/api/throws");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body.find("secret"), std::string::npos);
  EXPECT_NE(response->body.find("\"code\":\"internal\""), std::string::npos);
}

TEST_F(HttpsServerTest, MalformedHttpIs400AndClosed) {
  StartServer(Options());
  RawTls tls(server_->port(), TLS1_2_VERSION, 0);
  ASSERT_TRUE(tls.connected());
  tls.Write("THIS IS NOT HTTP\r\n\r\n");
  tls.ShutdownWrite();
  std::string reply = tls.ReadAll();  // returns at close
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
}

TEST_F(HttpsServerTest, PlainHttpToTlsPortIsClosed) {
  StartServer(Options());
  auto client = NewClient();
  auto response = client->Get("http://127.0.0.1:" + std::to_string(server_->port()) + "/health");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().ToString();
}

TEST_F(HttpsServerTest, RefusesTls11AndAcceptsTls12) {
  StartServer(Options());
  {
    RawTls old(server_->port(), TLS1_VERSION, TLS1_1_VERSION);
    EXPECT_FALSE(old.connected());
    // The server's protocol_version alert, not a client-side refusal to offer TLS 1.1.
    EXPECT_EQ(ERR_GET_REASON(old.error()), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)
        << ERR_reason_error_string(old.error());
  }
  RawTls modern(server_->port(), TLS1_2_VERSION, TLS1_2_VERSION);
  EXPECT_TRUE(modern.connected());
}

TEST_F(HttpsServerTest, ClientVerifiesCertificate) {
  StartServer(Options());
  ClientOptions options;  // system trust store: our self-signed certificate is unknown
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  auto refused = (*client)->Get(base_ + "/health");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);

  options.insecure_skip_verify = true;
  auto insecure = Client::Create(options);
  ASSERT_TRUE(insecure.ok());
  auto accepted = (*insecure)->Get(base_ + "/health");
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->status, 200);
}

TEST_F(HttpsServerTest, FullQueueAnswers503WithoutRunningTheHandler) {
  ServerOptions options = Options();
  options.worker_threads = 1;
  options.max_queued = 1;
  StartServer(options);
  Result<ClientResponse> running = UnavailableError("not run");
  Result<ClientResponse> queued = UnavailableError("not run");
  GetInBackground("/api/slow", &running);
  ASSERT_TRUE(gate_.WaitArrived(1));
  GetInBackground("/api/slow", &queued);
  ASSERT_TRUE(Eventually([&] { return QueueDepth() == 1; }));

  auto client = NewClient();
  auto rejected = client->Get(base_ + "/api/slow");
  ASSERT_TRUE(rejected.ok()) << rejected.status().ToString();
  EXPECT_EQ(rejected->status, 503);
  EXPECT_EQ(rejected->Header("retry-after"), "1");
  EXPECT_NE(rejected->body.find("\"code\":\"overloaded\""), std::string::npos);

  gate_.Open();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  EXPECT_EQ(running->status, 200);
  EXPECT_EQ(queued->status, 200);
  EXPECT_EQ(metrics_.GetCounter("bulwark_http_rejected_total", "").Value(), 1u);
}

TEST_F(HttpsServerTest, InlineRouteAnswersWhileWorkersAreBusy) {
  ServerOptions options = Options();
  options.worker_threads = 1;
  StartServer(options);
  Result<ClientResponse> slow = UnavailableError("not run");
  GetInBackground("/api/slow", &slow);
  ASSERT_TRUE(gate_.WaitArrived(1));
  auto client = NewClient();
  auto start = std::chrono::steady_clock::now();
  auto health = client->Get(base_ + "/health");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
  gate_.Open();
  // `slow` lives in this scope: the request writing it must end before the scope does.
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_EQ(slow->status, 200);
}

TEST_F(HttpsServerTest, GracefulStopFinishesInFlightAndClosesIdle) {
  StartServer(Options());
  auto idle = NewClient();
  ASSERT_TRUE(idle->Get(base_ + "/health").ok());  // leaves a kept-alive idle connection
  Result<ClientResponse> slow = UnavailableError("not run");
  GetInBackground("/api/slow", &slow);
  ASSERT_TRUE(gate_.WaitArrived(1));
  Gauge& connections = metrics_.GetGauge("bulwark_http_connections", "");
  EXPECT_EQ(connections.Value(), 2);

  auto start = std::chrono::steady_clock::now();
  std::thread stopper([this] { server_->Stop(std::chrono::seconds(5)); });
  // The idle connection goes at once; the busy one stays until its response is written.
  EXPECT_TRUE(Eventually([&] { return connections.Value() == 1; }));
  gate_.Open();
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->Header("connection"), "close");
  EXPECT_EQ(connections.Value(), 0);

  auto after = NewClient()->Get(base_ + "/health");
  EXPECT_FALSE(after.ok());
}

TEST_F(HttpsServerTest, SilentConnectionTimesOut) {
  ServerOptions options = Options();
  options.header_timeout = std::chrono::seconds(1);
  StartServer(options);
  RawTls tls(server_->port(), TLS1_2_VERSION, 0);
  ASSERT_TRUE(tls.connected());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(tls.ReadAll(), "");  // closed by the server, no response
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GT(waited, milliseconds(800));
  EXPECT_LT(waited, milliseconds(4000));
}

TEST_F(HttpsServerTest, RecordsRequestMetricsByRoutePattern) {
  StartServer(Options());
  auto client = NewClient();
  ASSERT_TRUE(client->Get(base_ + "/api/echo/a").ok());
  ASSERT_TRUE(client->Get(base_ + "/api/echo/b").ok());
  ASSERT_TRUE(client->Get(base_ + "/nowhere/at/all").ok());
  // A response is counted right after it is written, so the client may be a little ahead.
  auto text = [&] { return metrics_.RenderPrometheus(); };
  EXPECT_TRUE(Eventually([&] {
    return text().find(
               "bulwark_http_requests_total{method=\"GET\",route=\"unmatched\","
               "status=\"404\"} 1\n") != std::string::npos;
  })) << text();
  std::string rendered = text();
  EXPECT_NE(rendered.find("bulwark_http_requests_total{method=\"GET\",route=\"/api/echo/{name}\","
                          "status=\"200\"} 2\n"),
            std::string::npos)
      << rendered;
  EXPECT_NE(rendered.find("bulwark_http_request_duration_seconds_count{route=\"/api/echo/{name}\"}"
                          " 2\n"),
            std::string::npos);
  EXPECT_NE(rendered.find("# TYPE bulwark_http_request_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_NE(rendered.find("bulwark_http_queue_depth 0\n"), std::string::npos);
  EXPECT_NE(rendered.find("bulwark_http_rejected_total 0\n"), std::string::npos);
}

TEST_F(HttpsServerTest, CreateReportsBadCertificateAndTakenPort) {
  ServerOptions options = Options();
  options.certificate_file = dir_.path() + "/missing.pem";
  auto bad = HttpsServer::Create(options, router_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);

  StartServer(Options());
  options = Options();
  options.port = server_->port();
  auto taken = HttpsServer::Create(options, router_);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), StatusCode::kUnavailable);

  options.port = 0;
  options.address = "not-an-address";
  auto bad_address = HttpsServer::Create(options, router_);
  EXPECT_EQ(bad_address.status().code(), StatusCode::kInvalidArgument);
}

TEST(ClientTest, RejectsBadUrlsAndHeaders) {
  auto client = Client::Create();
  ASSERT_TRUE(client.ok());
  for (const char* url : {"ftp://x/", "http://", "http://user@host/", "http://host:99999/",
                          "http://[::1/", "http://host:12a/"}) {
    auto response = (*client)->Get(url);
    EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument) << url;
  }
  auto response = (*client)->Get("http://127.0.0.1:1/", {{"X-A", "b\r\nc: d"}});
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  ClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(Client::Create(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bulwark::http

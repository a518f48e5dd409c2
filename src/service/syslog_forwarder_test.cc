#include "service/syslog_forwarder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "service/audit_export.h"
#include "storage/database.h"
#include "storage/store.h"

namespace bulwark::service {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bulwark_syslog_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A syslog receiver for the tests: octet-counted frames (RFC 5425/6587) over TLS or plain TCP
// on 127.0.0.1, served by one I/O thread. Destroying it closes every connection abruptly.
class SyslogReceiver {
 public:
  // certificate_file empty = plain TCP. port 0 = any free port.
  SyslogReceiver(std::uint16_t port, const std::string& certificate_file,
                 const std::string& key_file)
      : acceptor_(io_) {
    if (!certificate_file.empty()) {
      tls_.emplace(ssl::context::tls_server);
      tls_->use_certificate_chain_file(certificate_file);
      tls_->use_private_key_file(key_file, ssl::context::pem);
    }
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SyslogReceiver() {
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }

  std::vector<std::string> Messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  int handshake_failures() const {
    std::lock_guard lock(mu_);
    return handshake_failures_;
  }
  std::vector<std::string> framing_errors() const {
    std::lock_guard lock(mu_);
    return framing_errors_;
  }
  // Waits until at least `count` messages arrived; false after `timeout`.
  bool WaitFor(std::size_t count, std::chrono::milliseconds timeout = 10s) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(SyslogReceiver& receiver, tcp::socket socket) : owner(receiver) {
      if (receiver.tls_) {
        tls.emplace(std::move(socket), *receiver.tls_);
      } else {
        plain.emplace(std::move(socket));
      }
    }
    void Begin() {
      if (!tls) return Read();
      tls->async_handshake(ssl::stream_base::server,
                           [self = shared_from_this()](const ErrorCode& ec) {
                             if (ec) {
                               std::lock_guard lock(self->owner.mu_);
                               ++self->owner.handshake_failures_;
                               return;
                             }
                             self->Read();
                           });
    }
    void Read() {
      auto handler = [self = shared_from_this()](const ErrorCode& ec, std::size_t n) {
        if (ec) return;
        self->pending.append(self->chunk, n);
        self->Parse();
        self->Read();
      };
      if (tls) {
        tls->async_read_some(asio::buffer(chunk), handler);
      } else {
        plain->async_read_some(asio::buffer(chunk), handler);
      }
    }
    // MSGLEN SP SYSLOG-MSG, MSGLEN = NONZERO-DIGIT *DIGIT.
    void Parse() {
      for (;;) {
        std::size_t space = pending.find(' ');
        if (space == std::string::npos) return;
        std::string length_text = pending.substr(0, space);
        bool valid = !length_text.empty() && length_text.size() <= 9 && length_text[0] != '0' &&
                     length_text.find_first_not_of("0123456789") == std::string::npos;
        std::lock_guard lock(owner.mu_);
        if (!valid) {
          owner.framing_errors_.push_back(pending.substr(0, 40));
          pending.clear();
          return;
        }
        std::size_t length = std::stoul(length_text);
        if (pending.size() < space + 1 + length) return;
        owner.messages_.push_back(pending.substr(space + 1, length));
        pending.erase(0, space + 1 + length);
        owner.cv_.notify_all();
      }
    }

    SyslogReceiver& owner;
    std::optional<ssl::stream<tcp::socket>> tls;
    std::optional<tcp::socket> plain;
    char chunk[4096];
    std::string pending;
  };

  void Accept() {
    acceptor_.async_accept([this](const ErrorCode& ec, tcp::socket socket) {
      if (ec) return;
      std::make_shared<Session>(*this, std::move(socket))->Begin();
      Accept();
    });
  }

  std::optional<ssl::context> tls_;  // outlives the sessions' streams
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  // Guarded by mu_.
  std::vector<std::string> messages_;
  std::vector<std::string> framing_errors_;
  int handshake_failures_ = 0;
};

// A port nobody listens on (taken from a receiver that is gone again).
std::uint16_t FreePort() { return SyslogReceiver(0, "", "").port(); }

// The parsed RFC 5424 message (only what EventToSyslog writes).
struct Parsed {
  int pri = 0;
  std::string timestamp, hostname, msgid;
  std::map<std::string, std::string> params;  // unescaped
  std::string msg;
};

std::optional<Parsed> Parse(const std::string& line) {
  static const std::regex header(R"(^<(\d{1,3})>1 (\S+) (\S+) bulwark - (\S+) \[bulwark@32473)");
  std::smatch m;
  if (!std::regex_search(line, m, header)) return std::nullopt;
  Parsed p;
  p.pri = std::stoi(m[1]);
  p.timestamp = m[2];
  p.hostname = m[3];
  p.msgid = m[4];
  std::size_t i = m.length(0);
  // *(SP PARAM-NAME "=" %d34 PARAM-VALUE %d34) "]"
  while (i < line.size() && line[i] == ' ') {
    std::size_t eq = line.find('=', i + 1);
    if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
      return std::nullopt;
    }
    std::string name = line.substr(i + 1, eq - i - 1);
    std::string value;
    std::size_t j = eq + 2;
    for (; j < line.size() && line[j] != '"'; ++j) {
      if (line[j] == '\\' && j + 1 < line.size() &&
          (line[j + 1] == '"' || line[j + 1] == '\\' || line[j + 1] == ']')) {
        ++j;
      } else if (line[j] == ']') {
        return std::nullopt;  // an unescaped ']' inside a value
      }
      value += line[j];
    }
    if (j >= line.size()) return std::nullopt;
    p.params[name] = value;
    i = j + 1;
  }
  if (line.compare(i, 2, "] ") != 0) return std::nullopt;
  p.msg = line.substr(i + 2);
  return p;
}

storage::Event MakeEvent(const std::string& tenant_id, int n) {
  storage::Event e;
  e.tenant_id = tenant_id;
  e.time = 1795852800 + n;  // 2026-11-28T08:00:00Z + n
  e.service = "smtp";
  e.object_name = "invoice \"" + std::to_string(n) + "\"].exe";
  e.sender = "a@example.com";
  e.recipients = "b@example.com, c@example.com";
  e.sha256 = std::string(64, 'a');
  e.verdict = n % 2 == 0 ? "malicious" : "clean";
  e.threat_type = "mal\"ware]\\";
  e.detectors = "clamav,yara";
  e.action = "quarantined";
  e.findings_json = R"([{"detector":"clamav","name":"Eicar-Test-Signature"}])";
  return e;
}

TEST(EventToSyslogTest, FollowsRfc5424AndEscapes) {
  storage::Event e = MakeEvent("t_1", 0);
  e.seq = 42;
  std::string line = EventToSyslog(e, "mail gw", "eu");
  EXPECT_EQ(line.rfind("<36>1 2026-11-28T08:00:00Z mailgw bulwark - event [bulwark@32473 ", 0), 0u)
      << line;
  EXPECT_NE(line.find(R"(threat_type="mal\"ware\]\\")"), std::string::npos) << line;
  std::optional<Parsed> p = Parse(line);
  ASSERT_TRUE(p) << line;
  EXPECT_EQ(p->params["site"], "eu");
  EXPECT_EQ(p->params["tenant"], "t_1");
  EXPECT_EQ(p->params["seq"], "42");
  EXPECT_EQ(p->params["service"], "smtp");
  EXPECT_EQ(p->params["verdict"], "malicious");
  EXPECT_EQ(p->params["threat_type"], "mal\"ware]\\");
  EXPECT_EQ(p->params["action"], "quarantined");
  EXPECT_EQ(p->params["sha256"], std::string(64, 'a'));
  EXPECT_EQ(p->params["detectors"], "clamav,yara");
  nlohmann::json body = nlohmann::json::parse(p->msg);
  EXPECT_EQ(body["object"], "invoice \"0\"].exe");
  EXPECT_EQ(body["recipients"], nlohmann::json::array({"b@example.com", "c@example.com"}));
  EXPECT_EQ(body["findings"][0]["name"], "Eicar-Test-Signature");
}

TEST(EventToSyslogTest, SeverityByVerdictAndSafeBody) {
  storage::Event e = MakeEvent("t_1", 0);
  auto pri = [&](const std::string& verdict) {
    e.verdict = verdict;
    return Parse(EventToSyslog(e, "h", "s"))->pri;
  };
  EXPECT_EQ(pri("malicious"), 36);
  EXPECT_EQ(pri("suspicious"), 37);
  EXPECT_EQ(pri("policy"), 37);
  EXPECT_EQ(pri("unscannable"), 37);
  EXPECT_EQ(pri("clean"), 38);
  // Invalid UTF-8 and newlines in a name, findings that are not JSON: one ASCII line.
  e.object_name = std::string("a\xff\nb");
  e.findings_json = "not json";
  std::string line = EventToSyslog(e, "", "s");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  for (char c : line) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  std::optional<Parsed> p = Parse(line);
  ASSERT_TRUE(p) << line;
  EXPECT_EQ(p->hostname, "-");
  nlohmann::json body = nlohmann::json::parse(p->msg);
  EXPECT_EQ(body["findings"], "not json");
  EXPECT_EQ(body["object"], "a\xEF\xBF\xBD\nb");
}

class SyslogForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::OpenSqlite(dir_.File("site.db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(storage::Migrate(*db_).ok());
    store_ = std::make_unique<storage::Store>(*db_);
    auto a = store_->CreateTenant("alpha", "eu");
    auto b = store_->CreateTenant("beta", "eu");
    ASSERT_TRUE(a.ok() && b.ok());
    alpha_ = a->id;
    beta_ = b->id;
    certificate_ = dir_.File("receiver.crt");
    key_ = dir_.File("receiver.key");
    ASSERT_TRUE(http::EnsureSelfSignedCertificate(certificate_, key_).ok());
  }

  std::int64_t Append(const std::string& tenant_id, int n) {
    auto seq = store_->AppendEvent(MakeEvent(tenant_id, n));
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  SyslogTarget TlsTarget(std::uint16_t port) {
    return {
        .host = "127.0.0.1", .port = port, .tls = true, .ca_file = certificate_, .server_name = ""};
  }

  SyslogForwarderOptions FastOptions() {
    SyslogForwarderOptions options;
    options.batch_size = 2;  // several batches per tenant
    options.poll_interval = 20ms;
    options.backoff_min = 10ms;
    options.backoff_max = 80ms;
    options.io_timeout = 5s;
    options.hostname = "gw1";
    return options;
  }

  std::unique_ptr<SyslogReceiver> TlsReceiver(std::uint16_t port = 0) {
    return std::make_unique<SyslogReceiver>(port, certificate_, key_);
  }

  // tenant id → seqs in arrival order; every message must parse.
  std::map<std::string, std::vector<std::int64_t>> SeqsByTenant(
      const std::vector<std::string>& messages) {
    std::map<std::string, std::vector<std::int64_t>> out;
    for (const std::string& message : messages) {
      std::optional<Parsed> p = Parse(message);
      EXPECT_TRUE(p) << message;
      if (!p) continue;
      out[p->params["tenant"]].push_back(std::stoll(p->params["seq"]));
    }
    return out;
  }

  std::optional<std::string> Cursor(const std::string& tenant_id) {
    auto value = store_->GetMeta(SyslogForwarder::CursorKey(tenant_id));
    EXPECT_TRUE(value.ok());
    return value.ok() ? *value : std::nullopt;
  }

  TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::Store> store_;
  std::string alpha_, beta_;
  std::string certificate_, key_;
};

TEST_F(SyslogForwarderTest, DeliversEveryTenantOnceInSeqOrderOverTls) {
  auto receiver = TlsReceiver();
  for (int i = 0; i < 5; ++i) Append(alpha_, i);
  for (int i = 0; i < 3; ++i) Append(beta_, i);
  SyslogForwarder forwarder(*store_, TlsTarget(receiver->port()), "eu", FastOptions());

  Result<int> sent = forwarder.DeliverOnce();
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, 8);
  ASSERT_TRUE(receiver->WaitFor(8));
  Result<int> again = forwarder.DeliverOnce();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0);
  std::this_thread::sleep_for(50ms);

  std::vector<std::string> messages = receiver->Messages();
  EXPECT_EQ(messages.size(), 8u);
  EXPECT_TRUE(receiver->framing_errors().empty());
  auto seqs = SeqsByTenant(messages);
  EXPECT_EQ(seqs[alpha_], (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(seqs[beta_], (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(Cursor(alpha_), "5");
  EXPECT_EQ(Cursor(beta_), "3");

  std::optional<Parsed> first = Parse(messages[0]);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->pri, 36);  // security/authorization, warning (malicious)
  EXPECT_EQ(first->hostname, "gw1");
  EXPECT_EQ(first->msgid, "event");
  EXPECT_EQ(first->timestamp, "2026-11-28T08:00:00Z");
  EXPECT_EQ(first->params["site"], "eu");
  EXPECT_EQ(first->params["threat_type"], "mal\"ware]\\");
  EXPECT_EQ(nlohmann::json::parse(first->msg)["object"], "invoice \"0\"].exe");

  SyslogForwarderStats stats = forwarder.stats();
  EXPECT_EQ(stats.delivered, 8);
  EXPECT_EQ(stats.failures, 0);
  EXPECT_TRUE(stats.connected);
  EXPECT_EQ(stats.last_error, "");
}

TEST_F(SyslogForwarderTest, BuffersInTheDatabaseWhileTheReceiverIsDown) {
  std::uint16_t port = FreePort();
  for (int i = 0; i < 3; ++i) Append(alpha_, i);
  SyslogForwarder forwarder(*store_, TlsTarget(port), "eu", FastOptions());
  forwarder.Start();
  for (int i = 0; i < 200 && forwarder.stats().failures < 3; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  SyslogForwarderStats down = forwarder.stats();
  EXPECT_GE(down.failures, 3);
  EXPECT_FALSE(down.connected);
  EXPECT_NE(down.last_error.find("UNAVAILABLE"), std::string::npos) << down.last_error;
  EXPECT_EQ(down.delivered, 0);
  EXPECT_FALSE(Cursor(alpha_).has_value());

  for (int i = 3; i < 6; ++i) Append(alpha_, i);
  for (int i = 0; i < 2; ++i) Append(beta_, i);
  auto receiver = TlsReceiver(port);
  ASSERT_TRUE(receiver->WaitFor(8)) << receiver->Messages().size();
  for (int i = 0; i < 3; ++i) Append(beta_, 10 + i);  // while running
  ASSERT_TRUE(receiver->WaitFor(11)) << receiver->Messages().size();
  std::this_thread::sleep_for(100ms);  // a few more passes: nothing repeats
  forwarder.Stop();

  auto seqs = SeqsByTenant(receiver->Messages());
  EXPECT_EQ(seqs[alpha_], (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(seqs[beta_], (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(forwarder.stats().delivered, 11);
}

TEST_F(SyslogForwarderTest, ReconnectsWhenTheReceiverRestarts) {
  auto receiver = TlsReceiver();
  std::uint16_t port = receiver->port();
  SyslogForwarder forwarder(*store_, TlsTarget(port), "eu", FastOptions());
  Append(alpha_, 0);
  ASSERT_TRUE(forwarder.DeliverOnce().ok());
  ASSERT_TRUE(receiver->WaitFor(1));
  receiver.reset();  // closes the connection
  receiver = TlsReceiver(port);
  std::this_thread::sleep_for(50ms);
  Append(alpha_, 1);
  Append(alpha_, 2);
  Result<int> sent = forwarder.DeliverOnce();
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, 2);
  ASSERT_TRUE(receiver->WaitFor(2));
  EXPECT_EQ(SeqsByTenant(receiver->Messages())[alpha_], (std::vector<std::int64_t>{2, 3}));
}

TEST_F(SyslogForwarderTest, ContinuesFromThePersistedCursor) {
  auto receiver = TlsReceiver();
  for (int i = 0; i < 3; ++i) Append(alpha_, i);
  {
    // Destroyed right after the write: the close must be graceful, or a reset (unread TLS 1.3
    // session tickets) can make the receiver's kernel drop what it has not read yet.
    SyslogForwarder first(*store_, TlsTarget(receiver->port()), "eu", FastOptions());
    ASSERT_TRUE(first.DeliverOnce().ok());
  }
  ASSERT_TRUE(receiver->WaitFor(3));
  Append(alpha_, 3);
  Append(beta_, 0);
  SyslogForwarder second(*store_, TlsTarget(receiver->port()), "eu", FastOptions());
  Result<int> sent = second.DeliverOnce();
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, 2);
  ASSERT_TRUE(receiver->WaitFor(5));
  std::this_thread::sleep_for(50ms);
  auto seqs = SeqsByTenant(receiver->Messages());
  EXPECT_EQ(seqs[alpha_], (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(seqs[beta_], (std::vector<std::int64_t>{1}));
}

TEST_F(SyslogForwarderTest, RefusesACertificateNotSignedByTheConfiguredCa) {
  std::string other_certificate = dir_.File("other.crt");
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(other_certificate, dir_.File("other.key")).ok());
  auto receiver = TlsReceiver();
  Append(alpha_, 0);
  SyslogTarget target = TlsTarget(receiver->port());
  target.ca_file = other_certificate;
  SyslogForwarder forwarder(*store_, target, "eu", FastOptions());
  Result<int> sent = forwarder.DeliverOnce();
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(sent.status().message().find("certificate verification failed"), std::string::npos)
      << sent.status().ToString();
  SyslogForwarderStats stats = forwarder.stats();
  EXPECT_EQ(stats.failures, 1);
  EXPECT_EQ(stats.delivered, 0);
  EXPECT_FALSE(stats.connected);
  EXPECT_NE(stats.last_error.find("certificate verification failed"), std::string::npos);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(receiver->Messages().empty());
  EXPECT_FALSE(Cursor(alpha_).has_value());
}

TEST_F(SyslogForwarderTest, RefusesACertificateForAnotherName) {
  auto receiver = TlsReceiver();
  Append(alpha_, 0);
  SyslogTarget target = TlsTarget(receiver->port());
  target.server_name = "siem.example";  // the certificate names localhost and 127.0.0.1
  SyslogForwarder forwarder(*store_, target, "eu", FastOptions());
  Result<int> sent = forwarder.DeliverOnce();
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.status().message().find("certificate verification failed"), std::string::npos)
      << sent.status().ToString();
  EXPECT_TRUE(receiver->Messages().empty());

  target.server_name = "localhost";  // a DNS name in the certificate: accepted
  SyslogForwarder by_name(*store_, target, "eu", FastOptions());
  Result<int> ok = by_name.DeliverOnce();
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, 1);
}

TEST_F(SyslogForwarderTest, BadCaFileIsAFailedPass) {
  Append(alpha_, 0);
  SyslogTarget target = TlsTarget(FreePort());
  target.ca_file = dir_.File("missing.pem");
  SyslogForwarder forwarder(*store_, target, "eu", FastOptions());
  Result<int> sent = forwarder.DeliverOnce();
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), StatusCode::kInvalidArgument) << sent.status().ToString();
}

TEST_F(SyslogForwarderTest, PlainTcpWorks) {
  SyslogReceiver receiver(0, "", "");
  for (int i = 0; i < 3; ++i) Append(beta_, i);
  SyslogTarget target{
      .host = "127.0.0.1", .port = receiver.port(), .tls = false, .ca_file = "", .server_name = ""};
  SyslogForwarder forwarder(*store_, target, "eu", FastOptions());
  Result<int> sent = forwarder.DeliverOnce();
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, 3);
  ASSERT_TRUE(receiver.WaitFor(3));
  EXPECT_TRUE(receiver.framing_errors().empty());
  EXPECT_EQ(SeqsByTenant(receiver.Messages())[beta_], (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_F(SyslogForwarderTest, StopIsPromptAndRestartable) {
  auto receiver = TlsReceiver();
  SyslogForwarderOptions options = FastOptions();
  options.poll_interval = 1h;
  options.backoff_min = 1h;
  options.backoff_max = 1h;
  SyslogForwarder forwarder(*store_, TlsTarget(receiver->port()), "eu", options);
  Append(alpha_, 0);
  forwarder.Start();
  ASSERT_TRUE(receiver->WaitFor(1));
  auto begin = std::chrono::steady_clock::now();
  forwarder.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  forwarder.Stop();  // idempotent
  Append(alpha_, 1);
  forwarder.Start();  // the first pass runs at once
  ASSERT_TRUE(receiver->WaitFor(2));
  forwarder.Stop();
  EXPECT_EQ(SeqsByTenant(receiver->Messages())[alpha_], (std::vector<std::int64_t>{1, 2}));
}

}  // namespace
}  // namespace bulwark::service

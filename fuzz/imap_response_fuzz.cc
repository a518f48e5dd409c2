// libFuzzer target for the mailbox connector's IMAP client: the input is what a (hostile)
// IMAP server sends. First the framer and parser on the raw bytes, then a whole client
// session over an in-memory connection that serves the input in small reads — greeting,
// login, SELECT, SEARCH, FETCH with literals, MOVE, APPEND, IDLE — with the client's own
// commands discarded.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "imap/imap_client.h"
#include "imap/imap_response.h"

namespace {

using namespace bulwark;

class InputConnection : public net::Connection {
 public:
  explicit InputConnection(std::string_view input)
      : Connection(net::Peer{net::Transport::kTcp, "127.0.0.1:993", true}), input_(input) {}
  Result<std::size_t> Read(std::span<char> out, std::chrono::milliseconds) override {
    if (input_.empty()) return UnavailableError("end of input");
    std::size_t n = std::min({out.size(), input_.size(), std::size_t{11}});
    std::copy_n(input_.data(), n, out.data());
    input_.remove_prefix(n);
    return n;
  }
  Status Write(std::string_view, std::chrono::milliseconds) override { return OkStatus(); }
  Result<UniqueFd> ReceiveDescriptor(std::chrono::milliseconds) override {
    return FailedPreconditionError("not a Unix socket");
  }
  void ShutdownWrite() override {}

 private:
  std::string_view input_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  imap::ImapLimits limits;
  limits.max_line = 4096;
  limits.max_literal = 65536;
  limits.max_response = 131072;

  imap::ImapResponseFramer framer(limits);
  framer.Feed(input);
  for (int i = 0; i < 1000; ++i) {
    auto next = framer.Next();
    if (!next.ok() || !next->has_value()) break;
    (void)imap::ParseResponse(**next, limits);
  }
  (void)imap::DecodeMailboxName(input.substr(0, 256));
  (void)imap::EncodeMailboxName(input.substr(0, 256));

  imap::ImapEndpoint endpoint;
  endpoint.host = "imap.example.com";
  endpoint.tls = imap::TlsMode::kNone;
  endpoint.timeout = std::chrono::milliseconds(1);
  endpoint.limits = limits;
  auto client = imap::ImapClient::Open(std::make_unique<InputConnection>(input), endpoint);
  if (!client.ok()) return 0;
  imap::ImapClient& c = **client;
  (void)c.LoginWithPassword("user", "secret");
  (void)c.Select("INBOX");
  (void)c.UidSearch("UID 1:*");
  (void)c.UidFetch("1:*", true);
  (void)c.MoveMessage(7, "Quarantäne");
  (void)c.Append("INBOX", {"$Bulwark"}, "Subject: x\r\n\r\nbody\r\n");
  std::atomic<bool> stop{false};
  (void)c.Idle(std::chrono::milliseconds(1), stop);
  c.Logout();
  return 0;
}

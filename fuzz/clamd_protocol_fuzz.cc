// The clamd session (command framing, IDSESSION, INSTREAM chunks, AUTH, path checks) on
// arbitrary client bytes, over an in-memory connection with a backend that scans nothing.
// The first input byte picks the listener: legacy TCP, Unix socket, or TLS (AUTH first).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "clamd/clamd_session.h"

namespace {

using namespace bulwark;

class MemoryConnection : public net::Connection {
 public:
  MemoryConnection(std::string_view input, net::Transport transport)
      : net::Connection(net::Peer{transport, "fuzz", true}), input_(input) {}
  Result<std::size_t> Read(std::span<char> out, std::chrono::milliseconds) override {
    // Small, uneven pieces exercise the reassembly of commands and chunks.
    std::size_t n = std::min({out.size(), input_.size(), std::size_t{7} + (calls_++ % 61)});
    input_.copy(out.data(), n);
    input_.remove_prefix(n);
    return n;
  }
  Status Write(std::string_view data, std::chrono::milliseconds) override {
    if (written_ > (1u << 20)) return UnavailableError("peer stopped reading");
    written_ += data.size();
    return OkStatus();
  }
  Result<UniqueFd> ReceiveDescriptor(std::chrono::milliseconds) override {
    return DeadlineExceededError("no descriptor");
  }
  void ShutdownWrite() override {}

 private:
  std::string_view input_;
  std::size_t calls_ = 0;
  std::size_t written_ = 0;
};

class NullBackend : public clamd::ClamdBackend {
 public:
  Result<clamd::ClamdScanResult> Scan(const std::string&, std::string_view data,
                                      const std::string&) override {
    clamd::ClamdScanResult r;
    r.found = data.find("EVIL") != std::string_view::npos;
    if (r.found) r.names = {"Fuzz.Evil", "Fuzz.Other"};
    return r;
  }
  std::string Version() override { return "ClamAV 1.4.6/0/Thu Jan  1 00:00:00 1970"; }
  void Reload() override {}
  bool Shutdown() override { return false; }
  clamd::ClamdAuthentication Authenticate(std::string_view secret) override {
    if (secret == "token") return {true, "t", ""};
    return {false, "", "credentials are not valid"};
  }
  std::string Stats() override { return "POOLS: 1\n\nEND"; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static NullBackend backend;
  clamd::ClamdSessionOptions options;
  options.stream_max_length = 1 << 16;
  // The memory connection never waits: a timeout only has to be positive.
  options.idle_timeout = std::chrono::milliseconds(1000);
  options.read_timeout = std::chrono::milliseconds(1000);
  options.scan_directories = {"/nonexistent-clamd-fuzz"};  // path checks run; nothing is read
  net::Transport transport = net::Transport::kTcp;
  switch (data[0] % 3) {
    case 1: transport = net::Transport::kUnix; break;
    case 2: transport = net::Transport::kTls; options.require_auth = true; break;
    default: break;
  }
  MemoryConnection connection(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), transport);
  clamd::ClamdSession session(backend, options);
  session.Run(connection);
  return 0;
}

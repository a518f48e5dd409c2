// libFuzzer target for the ICAP front-end: the codec's parsers on the input, then a whole
// session over an in-memory connection that serves the input as the client's bytes (with a
// backend that blocks anything containing "EVIL"), so framing, preview and limits are
// exercised as a proxy would drive them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "icap/icap_codec.h"
#include "icap/icap_session.h"

namespace {

using namespace bulwark;

// Client bytes from the fuzz input, in reads of at most 7 bytes so that every parser sees
// its input split at odd places; replies are discarded.
class InputConnection : public net::Connection {
 public:
  explicit InputConnection(std::string_view input)
      : Connection(net::Peer{net::Transport::kUnix, "unix", true}), input_(input) {}
  Result<std::size_t> Read(std::span<char> out, std::chrono::milliseconds) override {
    std::size_t n = std::min({out.size(), input_.size(), std::size_t{7}});
    std::copy_n(input_.data(), n, out.data());
    input_.remove_prefix(n);
    return n;
  }
  Status Write(std::string_view, std::chrono::milliseconds) override { return OkStatus(); }
  Result<UniqueFd> ReceiveDescriptor(std::chrono::milliseconds) override {
    return FailedPreconditionError("no descriptors");
  }
  void ShutdownWrite() override {}

 private:
  std::string_view input_;
};

class FuzzBackend : public icap::IcapBackend {
 public:
  Result<std::string> UriTenant(std::string_view name) override {
    if (name == "acme") return std::string("t_acme");
    return NotFoundError("no");
  }
  Result<icap::IcapVerdict> Scan(const icap::IcapScanJob& job) override {
    icap::IcapVerdict verdict;
    verdict.blocked = job.data.find("EVIL") != std::string_view::npos;
    verdict.notice.object = job.name;
    return verdict;
  }
  std::string ISTag() override { return "\"fuzz\""; }
  void CountOversize(bool) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t head_end = input.find("\r\n\r\n");
  if (head_end != std::string_view::npos) {
    auto head = icap::ParseRequestHead(input.substr(0, head_end));
    if (head.ok() && head->method) {
      if (auto value = head->headers.Get("Encapsulated")) {
        auto enc = icap::ParseEncapsulated(*value, *head->method);
        std::string_view rest = input.substr(head_end + 4);
        if (enc.ok() && enc->headers_length <= rest.size()) {
          std::size_t offset = 0;
          for (auto length : {enc->req_hdr_length, enc->res_hdr_length}) {
            if (!length) continue;
            (void)icap::ParseHttpHead(rest.substr(offset, *length));
            offset += *length;
          }
          (void)icap::DecodeChunkedBody(rest.substr(enc->headers_length), 1 << 20);
        }
      }
    }
  }
  InputConnection connection(input);
  FuzzBackend backend;
  icap::IcapSessionOptions options;
  options.max_object_bytes = 4096;  // reach the oversize paths with small inputs
  options.preview_bytes = 64;
  icap::RunIcapSession(connection, backend, options);
  return 0;
}

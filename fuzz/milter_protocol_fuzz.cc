// libFuzzer target for the milter front-end: the codec's parsers on every packet of the
// input, then a whole session over an in-memory connection that serves the input as the
// MTA's bytes (with a backend that rejects anything containing "EVIL", holds "HOLD" and
// strips attachments from "STRIP"), so framing, negotiation, macros, message assembly,
// limits and every end-of-message reply are exercised as an MTA would drive them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "milter/milter_codec.h"
#include "milter/milter_session.h"

namespace {

using namespace bulwark;

// MTA bytes from the fuzz input, in reads of at most 7 bytes so that the framing sees
// packets split at odd places; replies are discarded.
class InputConnection : public net::Connection {
 public:
  explicit InputConnection(std::string_view input)
      : Connection(net::Peer{net::Transport::kTcp, "127.0.0.1:1", true}), input_(input) {}
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

class FuzzBackend : public milter::MilterBackend {
 public:
  Result<std::string> TenantFor(const std::vector<std::string>& recipients) override {
    if (!recipients.empty() && recipients[0].find("nobody") != std::string::npos) {
      return std::string();
    }
    if (!recipients.empty() && recipients[0].find("broken") != std::string::npos) {
      return NotFoundError("no");
    }
    return std::string("t_acme");
  }
  milter::MilterDecision Decide(const milter::MilterMessage& message) override {
    milter::MilterDecision decision;
    mail::MailVerdict& verdict = decision.verdict;
    verdict.add_headers = {{"X-Bulwark-Verdict", "clean"}};
    if (message.message.find("EVIL") != std::string::npos) {
      verdict.disposition = mail::Disposition::kReject;
      verdict.reply_code = 550;
      verdict.reply_text = message.message.substr(0, 40);  // hostile text in the reply
    } else if (message.message.find("HOLD") != std::string::npos) {
      verdict.disposition = mail::Disposition::kQuarantine;
      verdict.reply_text = message.message.substr(0, 40);
    } else if (message.message.find("STRIP") != std::string::npos) {
      verdict.subject_prefix = "[SUSPICIOUS]";
      milter::BodyReplacement replacement =
          milter::SplitRewrittenMessage(message.message, message.message);
      decision.replacement_body = replacement.body;
      decision.changed_headers = replacement.changed_headers;
    }
    return decision;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view rest = input;
  for (;;) {
    std::size_t consumed = 0;
    auto packet = milter::DecodePacket(rest, consumed, 1 << 16);
    if (!packet.ok() || !packet->has_value()) break;
    const std::string& payload = (*packet)->data;
    (void)milter::ParseOptions(payload);
    (void)milter::ParseMacros(payload);
    (void)milter::ParseConnect(payload);
    (void)milter::ParseStrings(payload);
    (void)milter::ParseHeader(payload);
    rest.remove_prefix(consumed);
  }
  InputConnection connection(input);
  FuzzBackend backend;
  milter::MilterSessionOptions options;
  options.max_message_bytes = 4096;  // reach the oversize paths with small inputs
  options.max_packet_bytes = 1 << 16;
  milter::MilterSession session(backend, options);
  session.Run(connection);
  return 0;
}

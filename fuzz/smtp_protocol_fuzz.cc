// libFuzzer target for the SMTP gateway: the codec's parsers on each input line, then a
// whole session over an in-memory connection that serves the input as the client's bytes
// (a fake backend routes example.com, relays everything except messages containing "EVIL",
// and a fake next hop refuses "nobody@"), so command framing, paths, DATA and limits are
// exercised as a mail client would drive them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "smtp/smtp_codec.h"
#include "smtp/smtp_session.h"

namespace {

using namespace bulwark;

// Client bytes from the fuzz input, in reads of at most 7 bytes; replies are discarded.
class InputConnection : public net::Connection {
 public:
  explicit InputConnection(std::string_view input)
      : Connection(net::Peer{net::Transport::kTcp, "127.0.0.1:2525", true}), input_(input) {}
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

class FuzzHop : public smtp::NextHop {
 public:
  smtp::SmtpReply Recipient(const std::string& address) override {
    if (address.rfind("nobody@", 0) == 0) return smtp::MakeReply(550, "5.1.1", "unknown");
    return smtp::MakeReply(250, "2.1.5", "Ok");
  }
  smtp::SmtpReply Data(std::string_view message) override {
    (void)smtp::DotStuff(message);
    return smtp::MakeReply(250, "2.0.0", "Ok");
  }
  void Abandon() override {}
};

class FuzzBackend : public smtp::SmtpBackend {
 public:
  std::optional<smtp::SmtpRoute> Route(const std::string& recipient) override {
    if (smtp::DomainOf(recipient) != "example.com") return std::nullopt;
    return smtp::SmtpRoute{"t_acme", "127.0.0.1:25", "none", ""};
  }
  smtp::NextHopOpening OpenNextHop(const smtp::SmtpRoute&, const std::string& mail_from,
                                   const smtp::MailParameters&) override {
    if (mail_from == "down@example.org") {
      return {nullptr, smtp::MakeReply(451, "4.4.1", "down")};
    }
    return {std::make_unique<FuzzHop>(), {}};
  }
  smtp::SmtpDecision Decide(const mail::Envelope&, const smtp::SmtpRoute&,
                            std::string_view message) override {
    smtp::SmtpDecision decision;
    if (message.find("EVIL") != std::string_view::npos) {
      decision.action = smtp::SmtpDecision::Action::kReject;
      decision.reply = smtp::MakeReply(550, "5.7.1", "rejected");
    } else {
      decision.action = smtp::SmtpDecision::Action::kRelay;
      decision.message = std::string(message);
    }
    return decision;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The parsers on every line of the input.
  std::string_view rest = input;
  while (!rest.empty()) {
    std::size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    smtp::SmtpCommand command = smtp::ParseCommand(line);
    if (command.verb == smtp::SmtpVerb::kMail)
      (void)smtp::ParsePath(command.argument, "FROM", true);
    if (command.verb == smtp::SmtpVerb::kRcpt) (void)smtp::ParsePath(command.argument, "TO", false);
    (void)smtp::ParseReplyLine(line);
    (void)smtp::FormatReply(smtp::MakeReply(250, "2.0.0", std::string(line)));
  }
  smtp::DataDecoder decoder(1 << 16);
  (void)decoder.Feed(input);

  InputConnection connection(input);
  FuzzBackend backend;
  smtp::SmtpSessionOptions options;
  options.hostname = "fuzz.test";
  options.max_message_bytes = 1 << 16;
  options.max_recipients = 5;
  options.max_line_bytes = 512;
  smtp::RunSmtpSession(connection, backend, options);
  return 0;
}

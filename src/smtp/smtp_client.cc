#include "smtp/smtp_client.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "net/tls.h"

namespace bulwark::smtp {
namespace {

constexpr std::size_t kMaxReplyLine = 4096;
constexpr std::size_t kMaxReplyLines = 100;

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  return text;
}

class SmtpNextHop final : public NextHop {
 public:
  SmtpNextHop(std::unique_ptr<net::Connection> connection, std::string name,
              std::chrono::milliseconds timeout)
      : connection_(std::move(connection)),
        reader_(*connection_, timeout),
        name_(std::move(name)),
        timeout_(timeout) {}

  ~SmtpNextHop() override { Abandon(); }

  // Sends `command` (without its end) and reads the reply. Failures make a 451 4.4.2.
  SmtpReply Command(const std::string& command) {
    if (broken_) return Broken("connection lost");
    Status written = connection_->Write(command + "\r\n", timeout_);
    if (!written.ok()) return Broken(written.message());
    return ReadReply();
  }

  SmtpReply ReadReply() {
    if (broken_) return Broken("connection lost");
    SmtpReply reply;
    reply.lines.clear();
    for (std::size_t i = 0; i < kMaxReplyLines; ++i) {
      Result<std::string> line = reader_.ReadUntil("\n", kMaxReplyLine);
      if (!line.ok()) return Broken(line.status().message());
      std::optional<ReplyLine> parsed = ParseReplyLine(*line);
      if (!parsed || (i > 0 && parsed->code != reply.code)) return Broken("malformed reply");
      reply.code = parsed->code;
      reply.enhanced = parsed->enhanced;
      reply.lines.push_back(parsed->text);
      if (parsed->last) return reply;
    }
    return Broken("reply too long");
  }

  SmtpReply Broken(std::string_view why) {
    broken_ = true;
    return MakeReply(451, "4.4.2", "Next hop " + name_ + ": " + std::string(why));
  }

  // EHLO (HELO when refused); the extension keywords on success.
  Result<std::set<std::string>> Hello(const std::string& helo_name, SmtpReply& reply) {
    reply = Command("EHLO " + helo_name);
    std::set<std::string> keywords;
    if (!reply.positive()) {
      if (broken_) return UnavailableError(reply.Text());
      reply = Command("HELO " + helo_name);
      if (!reply.positive()) return UnavailableError(reply.Text());
      return keywords;
    }
    for (std::size_t i = 1; i < reply.lines.size(); ++i) {
      std::string line = Upper(reply.lines[i]);
      keywords.insert(line.substr(0, line.find(' ')));
      if (line.rfind("SIZE", 0) == 0) keywords.insert("SIZE");
    }
    return keywords;
  }

  SmtpReply Recipient(const std::string& address) override {
    return Command("RCPT TO:<" + address + ">");
  }

  SmtpReply Data(std::string_view message) override {
    SmtpReply go = Command("DATA");
    if (go.code != 354) {
      if (go.positive()) return Broken("DATA answered " + std::to_string(go.code));
      return go;
    }
    // Large messages: the timeout grows with their size (at least 1 MB per timeout).
    auto budget = timeout_ * static_cast<long>(1 + message.size() / (1u << 20));
    Status written = connection_->Write(DotStuff(message), budget);
    if (!written.ok()) return Broken(written.message());
    SmtpReply done = ReadReply();
    in_transaction_ = false;
    return done;
  }

  void Abandon() override {
    if (broken_ || closed_) return;
    closed_ = true;
    std::chrono::milliseconds brief = std::min(timeout_, std::chrono::milliseconds(10000));
    reader_.set_timeout(brief);
    timeout_ = brief;
    if (in_transaction_) (void)Command("RSET");
    (void)Command("QUIT");
    connection_->ShutdownWrite();
  }

  void set_in_transaction() { in_transaction_ = true; }
  net::Connection& connection() { return *connection_; }
  net::BufferedReader& reader() { return reader_; }

 private:
  std::unique_ptr<net::Connection> connection_;
  net::BufferedReader reader_;
  std::string name_;
  std::chrono::milliseconds timeout_;
  bool broken_ = false;
  bool closed_ = false;
  bool in_transaction_ = false;
};

NextHopOpening Fail(SmtpReply reply) { return NextHopOpening{nullptr, std::move(reply)}; }

// STARTTLS per `mode` and EHLO again; OK also when TLS was skipped as allowed.
SmtpReply NegotiateTls(SmtpNextHop& hop, const SmtpRoute& route, const NextHopAddress& address,
                       const NextHopOptions& options, std::set<std::string>& keywords,
                       std::chrono::milliseconds timeout) {
  const std::string& mode = route.next_hop_tls;
  if (mode == "none") return MakeReply(250, "2.0.0", "plain");
  bool required = mode == "required";
  if (keywords.count("STARTTLS") == 0) {
    if (required)
      return MakeReply(
          451, "4.7.5",
          "Next hop " + route.next_hop + " does not offer STARTTLS, which is required");
    return MakeReply(250, "2.0.0", "plain");
  }
  Result<std::shared_ptr<const net::TlsContext>> context =
      net::TlsContext::Client(required, route.next_hop_ca_file);
  if (!context.ok()) return MakeReply(451, "4.7.5", "TLS setup: " + context.status().message());
  SmtpReply go = hop.Command("STARTTLS");
  if (go.code != 220) {
    if (required || go.code == 451)
      return MakeReply(451, "4.7.5", "Next hop refused STARTTLS: " + go.Text());
    return MakeReply(250, "2.0.0", "plain");
  }
  hop.reader().Consume(hop.reader().buffered());
  Status tls = hop.connection().StartTls(**context, address.host, timeout);
  if (!tls.ok()) {
    return MakeReply(451, "4.7.5",
                     "TLS with next hop " + route.next_hop + " failed: " + tls.message());
  }
  SmtpReply hello;
  Result<std::set<std::string>> again = hop.Hello(options.helo_name, hello);
  if (!again.ok())
    return MakeReply(451, "4.4.2",
                     "Next hop " + route.next_hop + ": EHLO after STARTTLS: " + hello.Text());
  keywords = std::move(*again);
  return MakeReply(250, "2.0.0", "TLS");
}

std::string MailCommand(const std::string& mail_from, const MailParameters& parameters,
                        const std::set<std::string>& keywords) {
  std::string command = "MAIL FROM:<" + mail_from + ">";
  if (parameters.size && keywords.count("SIZE"))
    command += " SIZE=" + std::to_string(*parameters.size);
  if (!parameters.body.empty() && keywords.count("8BITMIME"))
    command += " BODY=" + Upper(parameters.body);
  if (parameters.smtputf8) command += " SMTPUTF8";
  return command;
}

}  // namespace

Result<NextHopAddress> ParseNextHop(std::string_view text) {
  NextHopAddress out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("unterminated [address]");
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return InvalidArgumentError("expected :port after ]");
      port = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    std::size_t colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  } else {
    out.host = std::string(text);  // a name, or a bare IPv6 address
  }
  if (out.host.empty())
    return InvalidArgumentError("next hop \"" + std::string(text) + "\" has no host");
  if (!port.empty() || (text.size() > 0 && text.back() == ':')) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgumentError("next hop \"" + std::string(text) + "\": bad port");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

NextHopOpening OpenSmtpNextHop(const SmtpRoute& route, const std::string& mail_from,
                               const MailParameters& parameters, const NextHopOptions& options) {
  Result<NextHopAddress> address = ParseNextHop(route.next_hop);
  if (!address.ok())
    return Fail(MakeReply(451, "4.3.5", "Next hop misconfigured: " + address.status().message()));
  Result<std::unique_ptr<net::Connection>> connection =
      net::ConnectTcp(address->host, address->port, options.timeout);
  if (!connection.ok()) {
    return Fail(
        MakeReply(451, "4.4.1",
                  "Next hop " + route.next_hop + " unavailable: " + connection.status().message()));
  }
  auto hop = std::make_unique<SmtpNextHop>(std::move(*connection), route.next_hop, options.timeout);
  SmtpReply banner = hop->ReadReply();
  if (banner.code != 220) {
    return Fail(
        banner.transient() && banner.enhanced == "4.4.2"
            ? banner
            : MakeReply(451, "4.4.1", "Next hop " + route.next_hop + " refused: " + banner.Text()));
  }
  SmtpReply hello;
  Result<std::set<std::string>> keywords = hop->Hello(options.helo_name, hello);
  if (!keywords.ok())
    return Fail(
        MakeReply(451, "4.4.1", "Next hop " + route.next_hop + " refused EHLO: " + hello.Text()));
  SmtpReply tls = NegotiateTls(*hop, route, *address, options, *keywords, options.timeout);
  if (!tls.positive()) return Fail(tls);
  if (parameters.smtputf8 && keywords->count("SMTPUTF8") == 0) {
    return Fail(MakeReply(553, "5.6.7", "The next hop does not support SMTPUTF8"));
  }
  SmtpReply mail = hop->Command(MailCommand(mail_from, parameters, *keywords));
  if (!mail.positive()) return Fail(mail);
  hop->set_in_transaction();
  return NextHopOpening{std::move(hop), {}};
}

}  // namespace bulwark::smtp

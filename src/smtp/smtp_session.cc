#include "smtp/smtp_session.h"

#include <charconv>
#include <random>

namespace bulwark::smtp {
namespace {

using Clock = std::chrono::steady_clock;

// The client's IP address from "1.2.3.4:5678" or "[::1]:5678"; "" for a Unix socket.
std::string ClientIp(const net::Peer& peer) {
  std::string_view address = peer.address;
  if (!address.empty() && address.front() == '[') {
    std::size_t close = address.find(']');
    return close == std::string_view::npos ? "" : std::string(address.substr(1, close - 1));
  }
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return "";
  return std::string(address.substr(0, colon));
}

class Session {
 public:
  Session(net::Connection& connection, SmtpBackend& backend, const SmtpSessionOptions& options)
      : connection_(connection),
        backend_(backend),
        options_(options),
        reader_(connection, options.command_timeout),
        random_(std::random_device{}()) {}

  void Run() {
    if (!Send(MakeReply(220, "", options_.hostname + " ESMTP Bulwark"))) return;
    while (open_) {
      if (options_.stopping && options_.stopping()) {
        Send(MakeReply(421, "4.3.2", options_.hostname + " Service shutting down"));
        break;
      }
      std::optional<std::string> line = ReadCommandLine();
      if (!line) break;
      Dispatch(ParseCommand(*line));
      if (errors_ >= options_.max_errors) {
        Send(MakeReply(421, "4.7.0", options_.hostname + " Too many errors, closing"));
        break;
      }
    }
    EndTransaction();
  }

 private:
  // --- I/O ---------------------------------------------------------------------------

  bool Send(const SmtpReply& reply) {
    if (!connection_.Write(FormatReply(reply), options_.command_timeout).ok()) open_ = false;
    return open_;
  }

  // Answers a client error and counts it.
  void Error(int code, std::string enhanced, std::string text) {
    ++errors_;
    Send(MakeReply(code, std::move(enhanced), std::move(text)));
  }

  // The next command line without its end; nullopt when the session is to end (the reply
  // for a timeout or shutdown has then been sent). Long and bare-LF lines are answered here
  // and skipped.
  std::optional<std::string> ReadCommandLine() {
    for (;;) {
      reader_.set_timeout(options_.command_timeout);
      Result<bool> more = reader_.WaitForData();
      if (!more.ok()) {
        EndOnReadError(more.status());
        return std::nullopt;
      }
      if (!*more) {
        if (connection_.stopping()) {
          Send(MakeReply(421, "4.3.2", options_.hostname + " Service shutting down"));
        }
        return std::nullopt;
      }
      Result<std::string> line = reader_.ReadUntil("\n", options_.max_line_bytes);
      if (!line.ok()) {
        if (line.status().code() != StatusCode::kResourceExhausted) {
          EndOnReadError(line.status());
          return std::nullopt;
        }
        if (!SkipRestOfLine()) return std::nullopt;
        Error(500, "5.5.6", "Line too long");
        if (errors_ >= options_.max_errors || !open_) return std::nullopt;
        continue;
      }
      if (line->empty() || line->back() != '\r') {
        Error(500, "5.5.2", "Bare <LF> received; SMTP line ends are <CR><LF>");
        if (errors_ >= options_.max_errors || !open_) return std::nullopt;
        continue;
      }
      line->pop_back();
      return std::move(*line);
    }
  }

  // Ends the session after a failed read: a timeout is answered (421 4.4.2), a broken
  // connection is not.
  void EndOnReadError(const Status& status) {
    if (status.code() == StatusCode::kDeadlineExceeded) {
      Send(MakeReply(421, "4.4.2", options_.hostname + " Error: timeout exceeded"));
    }
    open_ = false;
  }

  // Drops input up to and including the next LF. False when the connection ended first.
  bool SkipRestOfLine() {
    for (;;) {
      std::string_view data = reader_.Peek();
      std::size_t newline = data.find('\n');
      if (newline != std::string_view::npos) {
        reader_.Consume(newline + 1);
        return true;
      }
      reader_.Consume(data.size());
      Result<std::string> rest = reader_.ReadUntil("\n", options_.max_line_bytes);
      if (rest.ok()) return true;
      if (rest.status().code() != StatusCode::kResourceExhausted) {
        EndOnReadError(rest.status());
        return false;
      }
    }
  }

  // --- commands ----------------------------------------------------------------------

  void Dispatch(const SmtpCommand& command) {
    switch (command.verb) {
      case SmtpVerb::kEhlo:
        return Hello(command.argument, true);
      case SmtpVerb::kHelo:
        return Hello(command.argument, false);
      case SmtpVerb::kStartTls:
        return StartTls(command.argument);
      case SmtpVerb::kMail:
        return Mail(command.argument);
      case SmtpVerb::kRcpt:
        return Rcpt(command.argument);
      case SmtpVerb::kData:
        return Data(command.argument);
      case SmtpVerb::kRset:
        if (!command.argument.empty()) return Error(501, "5.5.4", "Syntax: RSET");
        EndTransaction();
        Send(MakeReply(250, "2.0.0", "OK"));
        return;
      case SmtpVerb::kNoop:
        Send(MakeReply(250, "2.0.0", "OK"));
        return;
      case SmtpVerb::kQuit:
        Send(MakeReply(221, "2.0.0", options_.hostname + " Bye"));
        open_ = false;
        return;
      case SmtpVerb::kVrfy:
        if (command.argument.empty()) return Error(501, "5.5.4", "Syntax: VRFY <address>");
        Send(MakeReply(252, "2.5.0",
                       "Cannot VRFY user, but will accept message and attempt delivery"));
        return;
      case SmtpVerb::kExpn:
        return Error(502, "5.5.1", "EXPN not available");
      case SmtpVerb::kHelp:
        Send(MakeReply(214, "2.0.0",
                       "Commands: EHLO HELO STARTTLS MAIL RCPT DATA RSET NOOP VRFY HELP QUIT"));
        return;
      case SmtpVerb::kBdat:
        return Error(502, "5.5.1", "BDAT not available (no CHUNKING)");
      case SmtpVerb::kAuth:
        return Error(502, "5.5.1", "AUTH not available");
      case SmtpVerb::kUnknown:
        return Error(500, "5.5.2", "Command not recognized");
    }
  }

  void Hello(const std::string& argument, bool extended) {
    if (!IsValidHeloName(argument)) {
      return Error(501, "5.5.4", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
    }
    EndTransaction();  // RFC 5321 §4.1.4: a new EHLO resets the state
    helo_ = argument;
    if (!extended) {
      Send(MakeReply(250, "", options_.hostname));
      return;
    }
    SmtpReply reply;
    reply.code = 250;
    reply.lines = {options_.hostname + " greets " + argument,
                   "SIZE " + std::to_string(options_.max_message_bytes), "8BITMIME", "PIPELINING",
                   "ENHANCEDSTATUSCODES"};
    if (options_.tls && connection_.peer().transport != net::Transport::kTls) {
      reply.lines.push_back("STARTTLS");
    }
    reply.lines.push_back("SMTPUTF8");
    Send(reply);
  }

  void StartTls(const std::string& argument) {
    if (!options_.tls || connection_.peer().transport == net::Transport::kTls) {
      return Error(503, "5.5.1", "STARTTLS not available");
    }
    if (!argument.empty()) return Error(501, "5.5.4", "Syntax: STARTTLS");
    if (transaction_) return Error(503, "5.5.1", "STARTTLS not allowed within a transaction");
    if (!Send(MakeReply(220, "2.0.0", "Ready to start TLS"))) return;
    // RFC 3207 §4.2 and CVE-2011-0411: whatever came with the command in plain text is
    // dropped, never executed as if it had been sent under TLS.
    reader_.Consume(reader_.buffered());
    if (!connection_.StartTls(*options_.tls, "", options_.command_timeout).ok()) {
      open_ = false;  // nothing can be said any more, in plain text or TLS
      return;
    }
    helo_.clear();  // the client must say EHLO again (RFC 3207 §4.2)
  }

  void Mail(const std::string& argument) {
    if (helo_.empty()) return Error(503, "5.5.1", "Error: send HELO/EHLO first");
    if (transaction_) return Error(503, "5.5.1", "Error: nested MAIL command");
    Result<PathArgument> path = ParsePath(argument, "FROM", true);
    if (!path.ok())
      return Error(501, "5.1.7", "Bad sender address syntax: " + path.status().message());
    MailParameters parameters;
    for (const auto& [key, value] : path->parameters) {
      if (key == "SIZE") {
        std::uint64_t size = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
        if (ec != std::errc() || end != value.data() + value.size()) {
          return Error(501, "5.5.4", "Bad SIZE parameter");
        }
        if (size > options_.max_message_bytes) {
          return Error(552, "5.3.4", "Message size exceeds fixed limit");
        }
        parameters.size = size;
      } else if (key == "BODY") {
        if (value != "7BIT" && value != "8BITMIME" && value != "7bit" && value != "8bitmime") {
          return Error(501, "5.5.4", "Bad BODY parameter (7BIT or 8BITMIME)");
        }
        parameters.body = value;
      } else if (key == "SMTPUTF8") {
        if (!value.empty()) return Error(501, "5.5.4", "SMTPUTF8 takes no value");
        parameters.smtputf8 = true;
      } else {
        return Error(555, "5.5.4", "Unsupported MAIL parameter " + key);
      }
    }
    transaction_.emplace();
    transaction_->envelope.mail_from = path->address;
    transaction_->parameters = parameters;
    Send(MakeReply(250, "2.1.0", "Sender OK"));
  }

  void Rcpt(const std::string& argument) {
    if (!transaction_) return Error(503, "5.5.1", "Error: need MAIL command");
    Result<PathArgument> path = ParsePath(argument, "TO", false);
    if (!path.ok())
      return Error(501, "5.1.3", "Bad recipient address syntax: " + path.status().message());
    if (!path->parameters.empty()) {
      return Error(555, "5.5.4", "Unsupported RCPT parameter " + path->parameters[0].first);
    }
    Transaction& t = *transaction_;
    if (t.envelope.recipients.size() >= options_.max_recipients) {
      Send(MakeReply(452, "4.5.3", "Too many recipients"));
      return;
    }
    std::optional<SmtpRoute> route = backend_.Route(path->address);
    if (!route) return Error(550, "5.7.1", "<" + path->address + ">: Relay access denied");
    if (t.route && !t.route->SameDestination(*route)) {
      Send(MakeReply(452, "4.5.3",
                     "Recipients for another destination: send them in a new transaction"));
      return;
    }
    if (!t.hop) {
      NextHopOpening opening = backend_.OpenNextHop(*route, t.envelope.mail_from, t.parameters);
      if (!opening.hop) {
        Send(opening.failure);
        return;
      }
      t.hop = std::move(opening.hop);
      t.route = route;
    }
    SmtpReply reply = t.hop->Recipient(path->address);
    if (reply.code < 400 && !reply.positive()) {
      reply = MakeReply(451, "4.4.2", "Next hop gave an invalid answer");
    }
    if (reply.positive()) t.envelope.recipients.push_back(path->address);
    Send(reply);
  }

  void Data(const std::string& argument) {
    if (!argument.empty()) return Error(501, "5.5.4", "Syntax: DATA");
    if (!transaction_) return Error(503, "5.5.1", "Error: need MAIL command");
    if (transaction_->envelope.recipients.empty()) {
      return Error(554, "5.5.1", "Error: no valid recipients");
    }
    if (!Send(MakeReply(354, "", "End data with <CR><LF>.<CR><LF>"))) return;
    DataDecoder decoder(options_.max_message_bytes);
    if (!ReadData(decoder)) {
      EndTransaction();
      return;
    }
    if (decoder.too_big()) {
      EndTransaction();
      Send(MakeReply(552, "5.3.4", "Message size exceeds fixed limit"));
      return;
    }
    if (decoder.bare_lf()) {
      EndTransaction();
      ++errors_;
      Send(MakeReply(550, "5.5.2", "Message refused: bare <LF> line ends (use <CR><LF>)"));
      return;
    }
    Send(Deliver(decoder.message()));
  }

  // Reads the message into `decoder`. False when the session is over (the client went away,
  // or timed out and was told).
  bool ReadData(DataDecoder& decoder) {
    Clock::time_point deadline = Clock::now() + options_.data_timeout;
    while (!decoder.done()) {
      if (reader_.buffered() == 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
          EndOnReadError(DeadlineExceededError("DATA"));
          return false;
        }
        reader_.set_timeout(left);
        Result<bool> more = reader_.WaitForData();
        if (!more.ok()) {
          EndOnReadError(more.status());
          return false;
        }
        if (!*more) {
          if (connection_.stopping()) {
            Send(MakeReply(421, "4.3.2", options_.hostname + " Service shutting down"));
          }
          open_ = false;
          return false;
        }
      }
      reader_.Consume(decoder.Feed(reader_.Peek()));
    }
    return true;
  }

  // Scans the message and hands it on; the reply for the client.
  SmtpReply Deliver(std::string& message) {
    Transaction& t = *transaction_;
    t.envelope.helo = helo_;
    t.envelope.client_ip = ClientIp(connection_.peer());
    t.envelope.tls = connection_.peer().transport == net::Transport::kTls;
    t.envelope.queue_id = QueueId();
    SmtpDecision decision = backend_.Decide(t.envelope, *t.route, message);
    SmtpReply reply = decision.reply;
    if (decision.action == SmtpDecision::Action::kRelay) {
      reply = t.hop->Data(decision.message);
      if (!reply.positive() && !reply.transient() && reply.code < 500) {  // 1xx, 3xx
        reply = MakeReply(451, "4.4.2", "Next hop gave an invalid answer");
      }
      t.hop->Abandon();  // its transaction is over either way: QUIT
      t.hop.reset();
    } else if (decision.action == SmtpDecision::Action::kAccepted && !reply.positive()) {
      reply = MakeReply(250, "2.0.0", "Accepted");
    } else if (decision.action == SmtpDecision::Action::kReject && reply.code < 500) {
      reply = MakeReply(550, "5.7.1", "Message rejected by policy");
    } else if (decision.action == SmtpDecision::Action::kTempFail && !reply.transient()) {
      reply = MakeReply(451, "4.3.0", "Message could not be checked; try again later");
    }
    if (decision.action != SmtpDecision::Action::kRelay && reply.positive()) {
      reply.lines.back() += " (queue id " + t.envelope.queue_id + ")";
    }
    EndTransaction();
    return reply;
  }

  std::string QueueId() {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string id;
    std::uint64_t value = random_();
    for (int i = 0; i < 12; ++i, value >>= 4) id += kDigits[value & 0xf];
    return id;
  }

  void EndTransaction() {
    if (transaction_ && transaction_->hop) transaction_->hop->Abandon();
    transaction_.reset();
  }

  struct Transaction {
    mail::Envelope envelope;
    MailParameters parameters;
    std::optional<SmtpRoute> route;  // set with the first accepted recipient
    std::unique_ptr<NextHop> hop;    // open from the first accepted recipient
  };

  net::Connection& connection_;
  SmtpBackend& backend_;
  const SmtpSessionOptions& options_;
  net::BufferedReader reader_;
  std::mt19937_64 random_;
  bool open_ = true;
  std::size_t errors_ = 0;
  std::string helo_;  // "" until HELO/EHLO (again after STARTTLS)
  std::optional<Transaction> transaction_;
};

}  // namespace

void RunSmtpSession(net::Connection& connection, SmtpBackend& backend,
                    const SmtpSessionOptions& options) {
  Session(connection, backend, options).Run();
}

}  // namespace bulwark::smtp

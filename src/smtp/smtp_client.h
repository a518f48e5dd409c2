#pragma once
// The gateway's side of the conversation with a next hop (the real mail server behind
// it): connect, EHLO, STARTTLS per the domain's next_hop_tls, MAIL FROM — then the session
// drives RCPT and DATA through the NextHop it gets.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"
#include "smtp/smtp_session.h"

namespace bulwark::smtp {

struct NextHopAddress {
  std::string host;
  std::uint16_t port = 25;
};
// "host", "host:port", "[v6]:port", "[v6]" or a bare IPv6 address. kInvalidArgument otherwise.
Result<NextHopAddress> ParseNextHop(std::string_view text);

struct NextHopOptions {
  std::string helo_name = "localhost";        // our EHLO argument
  std::chrono::milliseconds timeout{120000};  // connecting, each reply, each write
};

// Opens a transaction with route.next_hop. Failures become the client's reply: 451 4.4.1
// (cannot connect, refused greeting), 451 4.7.5 (TLS required and not offered, or the
// certificate does not verify), 451 4.4.2 (the next hop broke off or was too slow), or the
// next hop's own answer to MAIL FROM.
NextHopOpening OpenSmtpNextHop(const SmtpRoute& route, const std::string& mail_from,
                               const MailParameters& parameters, const NextHopOptions& options);

}  // namespace bulwark::smtp

#pragma once
// The header parsing sender authentication needs, over untrusted bytes: the header fields of
// a message, the address of From/Return-Path, the connecting client in a Received field,
// Authentication-Results fields (RFC 8601) — and rendering one. No I/O; every function is
// linear in its input and bounded (see the k* limits). Fuzzed by fuzz/senderauth_fuzz.cc.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::senderauth {

// Header fields read from one message, and the longest value kept (longer ones are cut).
constexpr std::size_t kMaxHeaderFields = 1000;
constexpr std::size_t kMaxHeaderValue = 16 * 1024;

struct HeaderField {
  std::string name;   // as written, e.g. "Received"
  std::string value;  // unfolded (CR LF + white space → the white space), trimmed
};

// The header fields of an RFC 5322 message, top to bottom, up to the first empty line (LF
// or CR LF line ends). Lines that are not fields (no colon) end the header. At most
// kMaxHeaderFields fields.
std::vector<HeaderField> ParseHeaderFields(std::string_view message);

// Case-insensitive ASCII comparison of header and method names.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// The domain of the one mailbox in an address field value (`"Name" <a@Example.COM>` →
// `example.com`, lower-case, without a trailing dot). Empty when there is no address, the
// address has no domain, or the field names several mailboxes (RFC 7489 §6.6.1: such
// messages are not DMARC-evaluated here).
std::string AddressDomain(std::string_view field_value);
// The address itself (`a@Example.COM`, domain lower-cased); "<>" gives "" (null sender).
std::string AddressOf(std::string_view field_value);

// The connecting client as a receiving MTA recorded it in its Received field:
//   from mail.example.net (mail.example.net [192.0.2.1]) by mx.example.org …   (Postfix)
//   from [192.0.2.1] (helo=mail.example.net) by mx.example.org …               (Exim)
//   from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])   (Google)
struct ReceivedFrom {
  std::string helo;  // what the client said in HELO/EHLO (may be empty)
  std::string ip;    // its address, IPv4 or IPv6, in canonical text form
  std::string by;    // the receiving host, when named
};
// nullopt when the field has no `from` clause with a bracketed IPv4/IPv6 address.
std::optional<ReceivedFrom> ParseReceived(std::string_view value);

// One Authentication-Results field (RFC 8601 §2.2).
struct AuthResultsProperty {
  std::string ptype;     // "smtp", "header", "body", "policy"
  std::string property;  // "mailfrom", "d", "s", "from", …
  std::string value;
};
struct AuthResultsEntry {
  std::string method;  // "spf", "dkim", "dmarc", "arc", … (lower-case)
  std::string result;  // "pass", "fail", … (lower-case)
  std::string reason;  // the reason= value, if any
  std::vector<AuthResultsProperty> properties;

  // The value of `ptype.property`, or "" when absent.
  std::string_view Property(std::string_view ptype, std::string_view property) const;
};
struct AuthResults {
  std::string authserv_id;  // lower-case
  std::vector<AuthResultsEntry> results;  // empty for "authserv-id; none"
};
// Comments are dropped. nullopt when the field has no authserv-id. At most 64 results.
std::optional<AuthResults> ParseAuthenticationResults(std::string_view value);

// Renders `results` as an Authentication-Results field value (without the field name):
//   mx.example.org; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com …
// Values that are not RFC 2045 tokens (or, for properties, domains and addresses) are
// quoted; control bytes are dropped. With no results, `authserv-id; none`.
std::string RenderAuthenticationResults(const AuthResults& results);

}  // namespace bulwark::senderauth

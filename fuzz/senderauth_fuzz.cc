// libFuzzer target for the header parsing of sender authentication (no DNS, no network):
// arbitrary bytes as a message header (ParseHeaderFields, From/Return-Path addresses), as a
// Received value, as an Authentication-Results value (parsed, rendered, parsed again), and
// as a DNS response message (ParseDnsResponse, for each record type the checks ask).
// The same bytes as a message through ARC chain validation (keys: one fixed 1024-bit RSA
// key for every selector, so signature checks run). Invariant checked: rendering a parsed Authentication-Results and parsing it again gives
// the same results whenever its names are plain tokens and nothing was cut.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/senderauth/arc_check.h"
#include "detectors/senderauth/auth_headers.h"
#include "detectors/senderauth/dns_resolver.h"

namespace {

using namespace bulwark::senderauth;

// Every key lookup answers the same RSA key (the ValiMail ARC suite's test key).
class OneKeyResolver : public Resolver {
 public:
  DnsAnswer Lookup(std::string_view, DnsType type) const override {
    DnsAnswer answer;
    answer.status = type == DnsType::kTxt ? DnsStatus::kOk : DnsStatus::kNxDomain;
    if (type == DnsType::kTxt) {
      answer.records.push_back(
          {DnsType::kTxt, 300,
           "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3id"
           "Y6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lx"
           "j+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
           0});
    }
    return answer;
  }
};

bool Plain(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '-' || c == '_')) return false;
  }
  return true;
}

bool NoControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < ' ' || c == 127) return false;
  }
  return true;
}

bool RoundTrips(const AuthResults& ar) {
  if (!Plain(ar.authserv_id)) return false;
  for (const auto& e : ar.results) {
    if (!Plain(e.method) || !Plain(e.result) || !NoControl(e.reason)) return false;
    for (const auto& p : e.properties) {
      if (!Plain(p.ptype) || !Plain(p.property) || !NoControl(p.value)) return false;
    }
  }
  return true;
}

void CheckAuthResults(std::string_view value) {
  const auto ar = ParseAuthenticationResults(value);
  if (!ar) return;
  const std::string rendered = RenderAuthenticationResults(*ar);
  const auto again = ParseAuthenticationResults(rendered);
  if (!again) __builtin_trap();  // our own output always parses
  if (rendered.size() >= kMaxHeaderValue || !RoundTrips(*ar)) return;
  if (again->authserv_id != ar->authserv_id || again->results.size() != ar->results.size()) {
    __builtin_trap();
  }
  for (std::size_t i = 0; i < ar->results.size(); ++i) {
    const auto& a = ar->results[i];
    const auto& b = again->results[i];
    if (a.method != b.method || a.result != b.result || a.reason != b.reason ||
        a.properties.size() != b.properties.size()) {
      __builtin_trap();
    }
    for (std::size_t k = 0; k < a.properties.size(); ++k) {
      if (a.properties[k].value != b.properties[k].value) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const HeaderField& field : ParseHeaderFields(input)) {
    if (field.name.size() > 1000 || field.value.size() > kMaxHeaderValue) __builtin_trap();
    (void)AddressDomain(field.value);
    (void)AddressOf(field.value);
    if (EqualsIgnoreCase(field.name, "Received")) (void)ParseReceived(field.value);
    if (EqualsIgnoreCase(field.name, "Authentication-Results")) CheckAuthResults(field.value);
  }
  (void)ParseReceived(input);
  CheckAuthResults(input);
  static const OneKeyResolver resolver;
  const ArcCheck arc = VerifyArc(input, resolver);
  if (arc.instances < 0 || arc.instances > 50) __builtin_trap();
  for (DnsType type : {DnsType::kA, DnsType::kAaaa, DnsType::kTxt, DnsType::kMx, DnsType::kPtr}) {
    const DnsAnswer answer = ParseDnsResponse(input, type);
    for (const DnsRecord& r : answer.records) {
      if (type == DnsType::kA && r.data.size() != 4) __builtin_trap();
      if (type == DnsType::kAaaa && r.data.size() != 16) __builtin_trap();
    }
  }
  return 0;
}

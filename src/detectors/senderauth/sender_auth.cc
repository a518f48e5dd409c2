#include "detectors/senderauth/sender_auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "detectors/senderauth/arc_check.h"

namespace bulwark::senderauth {
namespace {

// Addresses of internal relays (RFC 1918, loopback, link-local, CGNAT, ULA): a Received
// field naming one was added inside the receiving organisation, not at its edge.
bool IsInternalAddress(const std::string& ip) {
  in_addr v4;
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    const std::uint32_t a = ntohl(v4.s_addr);
    return (a >> 24) == 10 || (a >> 24) == 127 || (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8 ||
           (a >> 16) == 0xA9FE || (a >> 22) == (0x6440 >> 6) || a == 0;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    const unsigned char b0 = v6.s6_addr[0];
    return IN6_IS_ADDR_LOOPBACK(&v6) || (b0 & 0xFE) == 0xFC ||
           (b0 == 0xFE && (v6.s6_addr[1] & 0xC0) == 0x80);
  }
  return true;
}

AuthResult FromName(std::string_view name) {
  for (AuthResult r :
       {AuthResult::kNone, AuthResult::kPass, AuthResult::kFail, AuthResult::kSoftFail,
        AuthResult::kNeutral, AuthResult::kTempError, AuthResult::kPermError}) {
    if (EqualsIgnoreCase(AuthResultName(r), name)) return r;
  }
  return AuthResult::kNone;
}

std::string DomainPart(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return std::string(at == std::string_view::npos ? address : address.substr(at + 1));
}

}  // namespace

std::string_view AuthResultName(AuthResult result) {
  switch (result) {
    case AuthResult::kNone:
      return "none";
    case AuthResult::kPass:
      return "pass";
    case AuthResult::kFail:
      return "fail";
    case AuthResult::kSoftFail:
      return "softfail";
    case AuthResult::kNeutral:
      return "neutral";
    case AuthResult::kTempError:
      return "temperror";
    case AuthResult::kPermError:
      return "permerror";
  }
  return "none";
}

std::string_view DmarcPolicyName(DmarcPolicy policy) {
  switch (policy) {
    case DmarcPolicy::kAbsent:
      return "absent";
    case DmarcPolicy::kNone:
      return "none";
    case DmarcPolicy::kQuarantine:
      return "quarantine";
    case DmarcPolicy::kReject:
      return "reject";
  }
  return "absent";
}

AuthResult SenderAuthResult::DkimSummary() const {
  if (dkim.empty()) return AuthResult::kNone;
  for (const DkimSignature& sig : dkim) {
    if (sig.result == AuthResult::kPass) return AuthResult::kPass;
  }
  return dkim.front().result;
}

SenderAuthResult Authenticate(const MessageView& message, const Envelope& envelope,
                              const Resolver& resolver, const SenderAuthOptions& options) {
  SenderAuthResult out;
  const std::vector<HeaderField> fields = ParseHeaderFields(message.bytes);

  // RFC5322.From: exactly one field with one mailbox, else no DMARC evaluation.
  int from_fields = 0;
  for (const HeaderField& f : fields) {
    if (EqualsIgnoreCase(f.name, "From")) {
      ++from_fields;
      out.from_domain = AddressDomain(f.value);
    }
  }
  if (from_fields != 1) out.from_domain.clear();

  // Inputs: the envelope when the session was seen, else the message's own trail.
  std::string source;
  if (!envelope.client_ip.empty()) {
    out.client_ip = envelope.client_ip;
    out.helo = envelope.helo;
    out.mail_from = envelope.mail_from;
    source = "envelope";
  } else {
    // A trusted receiver's verdict, from the topmost Authentication-Results it wrote.
    for (const HeaderField& f : fields) {
      if (!EqualsIgnoreCase(f.name, "Authentication-Results")) continue;
      const auto ar = ParseAuthenticationResults(f.value);
      if (!ar || std::find(options.trusted_authserv_ids.begin(), options.trusted_authserv_ids.end(),
                           ar->authserv_id) == options.trusted_authserv_ids.end()) {
        continue;
      }
      for (const AuthResultsEntry& e : ar->results) {
        if (e.method != "spf") continue;
        out.spf.result = FromName(e.result);
        out.spf.source = "trusted:" + ar->authserv_id;
        std::string_view id = e.Property("smtp", "mailfrom");
        out.spf.scope = "mailfrom";
        if (id.empty()) {
          id = e.Property("smtp", "helo");
          out.spf.scope = "helo";
        }
        out.spf.domain = DomainPart(id);
        for (char& c : out.spf.domain)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        break;
      }
      break;
    }
    if (out.spf.source.empty() && options.use_received) {
      for (const HeaderField& f : fields) {
        if (!EqualsIgnoreCase(f.name, "Received")) continue;
        const auto received = ParseReceived(f.value);
        if (!received || IsInternalAddress(received->ip)) continue;
        out.client_ip = received->ip;
        out.helo = received->helo;
        source = "received";
        break;
      }
      for (const HeaderField& f : fields) {
        if (EqualsIgnoreCase(f.name, "Return-Path")) {
          out.mail_from = AddressOf(f.value);
          break;
        }
      }
    }
  }
  if (out.spf.source.empty() && !out.client_ip.empty()) {
    out.spf = CheckSpf(out.client_ip, out.helo, out.mail_from, resolver);
    out.spf.source = source;
  }
  out.dkim = VerifyDkim(message.bytes, resolver, options.max_dkim_signatures);
  out.dmarc = EvaluateDmarc(out.from_domain, out.spf, out.dkim, resolver);
  out.arc = VerifyArc(message.bytes, resolver);
  out.dmarc.overridden_by_arc = ArcOverride(out.dmarc, out.arc, options.trusted_arc_sealers);
  return out;
}

std::string ArcOverride(const DmarcCheck& dmarc, const ArcCheck& arc,
                        const std::vector<std::string>& trusted_sealers) {
  if (dmarc.result != AuthResult::kFail || arc.result != AuthResult::kPass) return "";
  // From the latest seal back, as long as the sealers are trusted: a trusted hop's record
  // of what it saw is only as good as the hops after it that carried it here.
  for (auto hop = arc.hops.rbegin(); hop != arc.hops.rend(); ++hop) {
    if (std::find(trusted_sealers.begin(), trusted_sealers.end(), hop->sealer) ==
        trusted_sealers.end()) {
      return "";
    }
    if (hop->dmarc == "pass") return hop->sealer;
  }
  return "";
}

std::string RenderAuthenticationResults(const SenderAuthResult& result,
                                        std::string_view authserv_id) {
  AuthResults ar;
  ar.authserv_id = std::string(authserv_id);
  if (!result.spf.scope.empty() && !result.spf.source.empty()) {
    AuthResultsEntry spf{"spf", std::string(AuthResultName(result.spf.result)), "", {}};
    if (result.spf.scope == "helo") {
      spf.properties.push_back({"smtp", "helo", result.spf.domain});
    } else {
      spf.properties.push_back(
          {"smtp", "mailfrom", result.mail_from.empty() ? result.spf.domain : result.mail_from});
    }
    ar.results.push_back(std::move(spf));
  }
  if (result.dkim.empty()) {
    ar.results.push_back({"dkim", "none", "", {}});
  }
  for (const DkimSignature& sig : result.dkim) {
    AuthResultsEntry dkim{"dkim", std::string(AuthResultName(sig.result)), sig.error, {}};
    if (!sig.domain.empty()) dkim.properties.push_back({"header", "d", sig.domain});
    if (!sig.selector.empty()) dkim.properties.push_back({"header", "s", sig.selector});
    if (!sig.algorithm.empty()) dkim.properties.push_back({"header", "a", sig.algorithm});
    ar.results.push_back(std::move(dkim));
  }
  if (!result.dmarc.from_domain.empty()) {
    AuthResultsEntry dmarc{
        "dmarc",
        std::string(AuthResultName(result.dmarc.result)),
        result.dmarc.overridden_by_arc.empty()
            ? ""
            : "overridden: ARC sealed by trusted " + result.dmarc.overridden_by_arc,
        {}};
    if (result.dmarc.policy != DmarcPolicy::kAbsent) {
      dmarc.properties.push_back(
          {"policy", "dmarc", std::string(DmarcPolicyName(result.dmarc.policy))});
    }
    dmarc.properties.push_back({"header", "from", result.dmarc.from_domain});
    ar.results.push_back(std::move(dmarc));
  }
  if (result.arc.instances > 0) {
    ar.results.push_back({"arc",
                          std::string(AuthResultName(result.arc.result)),
                          result.arc.result == AuthResult::kFail ? result.arc.reason : "",
                          {}});
  }
  return RenderAuthenticationResults(ar);
}

}  // namespace bulwark::senderauth

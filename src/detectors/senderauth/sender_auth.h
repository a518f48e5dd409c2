#pragma once
// Sender authentication of one message: SPF (libspf2), DKIM (libopendkim), DMARC alignment
// and policy (libopendmarc). Every DNS question goes to the Resolver given; nothing here
// opens a socket of its own. See docs/sender-auth.md.

#include <string>
#include <string_view>
#include <vector>

#include "detectors/senderauth/auth_headers.h"
#include "detectors/senderauth/dns_resolver.h"

namespace bulwark::senderauth {

// RFC 8601 result values (SPF uses all; DKIM and DMARC pass/fail/none/temperror/permerror).
enum class AuthResult { kNone, kPass, kFail, kSoftFail, kNeutral, kTempError, kPermError };
std::string_view AuthResultName(AuthResult result);  // "pass", "softfail", …

// The policy a DMARC record asks for; kAbsent when there is no (usable) record.
enum class DmarcPolicy { kAbsent, kNone, kQuarantine, kReject };
std::string_view DmarcPolicyName(DmarcPolicy policy);  // "absent", "none", …

// The raw RFC 5322 message (header and body; LF or CR LF line ends). Not owned.
struct MessageView {
  std::string_view bytes;
};

// What the SMTP session said, when Bulwark saw it (inline gateway, milter). In API mode all
// is empty and Authenticate() derives what it can from the message (see Options).
struct Envelope {
  std::string client_ip;         // IPv4 or IPv6 text; "" when unknown
  std::string helo;              // HELO/EHLO name
  std::string mail_from;         // MAIL FROM address without <>; "" for the null sender
  bool mail_from_known = false;  // false: unknown (API mode), not the null sender
};

struct SenderAuthOptions {
  // Our authserv-id, the first word of the Authentication-Results we render.
  std::string authserv_id = "bulwark";
  // Authentication-Results fields whose authserv-id is in this list (lower-case host names:
  // the organisation's own receiving MTAs, e.g. "mx.example.org", or its mail provider's)
  // are believed: their SPF result is adopted when the envelope is unknown. All others are
  // ignored — anyone can write an Authentication-Results field into a message.
  std::vector<std::string> trusted_authserv_ids;
  // In API mode, take the client address and HELO from the topmost Received field that
  // names one (the one the receiving MTA added) and the envelope sender from Return-Path.
  bool use_received = true;
  // DKIM signatures verified per message (more are not looked at).
  std::size_t max_dkim_signatures = 8;
  // Domains whose ARC seals are believed (lower-case; the mailing lists and forwarders the
  // organisation's mail passes through, e.g. "lists.example.org"). A DMARC failure is
  // overridden when the ARC chain validates and an unbroken run of trusted sealers, from the
  // latest seal back, recorded dmarc=pass (RFC 8617 §7.2). Empty: ARC never overrides.
  std::vector<std::string> trusted_arc_sealers;
};

struct SpfCheck {
  AuthResult result = AuthResult::kNone;
  std::string domain;   // the domain whose policy was checked (MAIL FROM's, or HELO's)
  std::string scope;    // "mailfrom" or "helo"; "" when not checked
  std::string source;   // "envelope", "received", "trusted:<authserv-id>", or "" (not checked)
  std::string comment;  // libspf2's explanation, e.g. "192.0.2.9 is not permitted"
};

struct DkimSignature {
  AuthResult result = AuthResult::kNone;  // pass, fail, temperror, permerror
  std::string domain;                     // d=
  std::string selector;                   // s=
  std::string algorithm;                  // "rsa-sha256", "ed25519-sha256", …
  std::string error;                      // libopendkim's reason when not pass
};

struct DmarcCheck {
  AuthResult result = AuthResult::kNone;      // none (no record / no From domain), pass, fail,
                                              // temperror, permerror (unusable record)
  std::string from_domain;                    // RFC5322.From domain
  std::string record_domain;                  // where the record was found (From's or its org's)
  DmarcPolicy policy = DmarcPolicy::kAbsent;  // the one that applies (p, or sp for subdomains)
  bool spf_aligned = false;                   // SPF passed for a domain aligned with From
  bool dkim_aligned = false;   // a DKIM signature passed for a domain aligned with From
  std::string aligned_domain;  // the identifier that aligned (DKIM d= first, else SPF)
  bool strict_spf = false;     // aspf=s
  bool strict_dkim = false;    // adkim=s
  int pct = 100;
  // The failure is overridden by the ARC chain (SenderAuthOptions::trusted_arc_sealers):
  // the trusted sealer whose ARC-Authentication-Results recorded dmarc=pass. `result`
  // stays fail; nothing acts on it.
  std::string overridden_by_arc;
};

// The ARC chain (RFC 8617) of forwarders and lists that handled the message: arc_check.h.
struct ArcCheck {
  AuthResult result = AuthResult::kNone;  // none (no ARC sets), pass or fail
  int instances = 0;                      // sets found (the highest i=)
  std::string reason;                     // why it failed, e.g. "ARC-Seal i=2: …"
  // When the chain passed: per instance, i=1 first, who sealed it and the DMARC result its
  // ARC-Authentication-Results recorded.
  struct Hop {
    std::string sealer;  // ARC-Seal d=, lower-case
    std::string dmarc;   // "pass", "fail", … (lower-case); "" when not recorded
  };
  std::vector<Hop> hops;
};

struct SenderAuthResult {
  std::string client_ip, helo, mail_from;  // the inputs used (after derivation)
  std::string from_domain;
  SpfCheck spf;
  std::vector<DkimSignature> dkim;
  DmarcCheck dmarc;
  ArcCheck arc;

  // pass when any signature passed; else the first signature's result; none without any.
  AuthResult DkimSummary() const;
};

// Authenticates `message`. Never fails as a call: DNS trouble is temperror in the results.
// Thread-safe (libspf2 and libopendkim state is per call; libopendmarc's suffix table is
// loaded once).
SenderAuthResult Authenticate(const MessageView& message, const Envelope& envelope,
                              const Resolver& resolver, const SenderAuthOptions& options = {});

// The Authentication-Results field value for `result`, under `authserv_id`.
std::string RenderAuthenticationResults(const SenderAuthResult& result,
                                        std::string_view authserv_id);

// The individual checks (Authenticate() runs them in order).
SpfCheck CheckSpf(std::string_view client_ip, std::string_view helo, std::string_view mail_from,
                  const Resolver& resolver);
std::vector<DkimSignature> VerifyDkim(std::string_view message, const Resolver& resolver,
                                      std::size_t max_signatures);
DmarcCheck EvaluateDmarc(std::string_view from_domain, const SpfCheck& spf,
                         const std::vector<DkimSignature>& dkim, const Resolver& resolver);

// The trusted ARC sealer that overrides a DMARC failure (SenderAuthOptions::
// trusted_arc_sealers), or "" when none does.
std::string ArcOverride(const DmarcCheck& dmarc, const ArcCheck& arc,
                        const std::vector<std::string>& trusted_sealers);

// The organisational domain (RFC 7489 §3.2) of `domain`, from the Public Suffix List:
// "mail.example.co.uk" → "example.co.uk". Returns `domain` itself when it has none.
std::string OrganizationalDomain(std::string_view domain);

}  // namespace bulwark::senderauth

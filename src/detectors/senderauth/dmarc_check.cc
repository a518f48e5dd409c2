// DMARC (RFC 7489): we look the record up through our Resolver (at the From domain, then at
// its organisational domain from the Public Suffix List) and libopendmarc parses it (p, sp,
// adkim, aspf, pct); alignment of the SPF and DKIM identifiers is checked here.

#include <libpsl.h>

#include <mutex>

#include "detectors/senderauth/sender_auth.h"

extern "C" {
#include <opendmarc/dmarc.h>
}

namespace bulwark::senderauth {
namespace {

u_char* U(const std::string& s) { return reinterpret_cast<u_char*>(const_cast<char*>(s.c_str())); }

// libopendmarc's library state is process-wide. Its organisational-domain table is not
// loaded: we only ask it to parse records (organisational domains come from libpsl).
void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    static OPENDMARC_LIB_T lib{};
    opendmarc_policy_library_init(&lib);
  });
}

const psl_ctx_t* Psl() {
  static const psl_ctx_t* const psl = [] {
    const psl_ctx_t* p = psl_latest(nullptr);
    return p != nullptr ? p : psl_builtin();
  }();
  return psl;
}

bool StartsWithDmarc1(std::string_view txt) {
  while (!txt.empty() && (txt.front() == ' ' || txt.front() == '\t')) txt.remove_prefix(1);
  if (txt.size() < 8 || !EqualsIgnoreCase(txt.substr(0, 8), "v=DMARC1")) return false;
  txt.remove_prefix(8);
  while (!txt.empty() && (txt.front() == ' ' || txt.front() == '\t')) txt.remove_prefix(1);
  return txt.empty() || txt.front() == ';';
}

// The one DMARC record at _dmarc.<domain>: kOk with `record`, kNoData when there is none
// (or several: RFC 7489 §6.6.3 says to ignore them), kTempFail on DNS trouble.
DnsStatus FindRecord(const Resolver& resolver, const std::string& domain, std::string& record) {
  const DnsAnswer answer = resolver.Lookup("_dmarc." + domain, DnsType::kTxt);
  if (answer.status == DnsStatus::kTempFail) return DnsStatus::kTempFail;
  int found = 0;
  for (const DnsRecord& r : answer.records) {
    if (StartsWithDmarc1(r.data)) {
      record = r.data;
      ++found;
    }
  }
  return found == 1 ? DnsStatus::kOk : DnsStatus::kNoData;
}

bool Aligned(std::string_view identifier, std::string_view from, bool strict) {
  if (identifier.empty()) return false;
  if (EqualsIgnoreCase(identifier, from)) return true;
  return !strict && EqualsIgnoreCase(OrganizationalDomain(identifier), OrganizationalDomain(from));
}

DmarcPolicy PolicyOf(int p) {
  switch (p) {
    case DMARC_RECORD_P_NONE: return DmarcPolicy::kNone;
    case DMARC_RECORD_P_QUARANTINE: return DmarcPolicy::kQuarantine;
    case DMARC_RECORD_P_REJECT: return DmarcPolicy::kReject;
    default: return DmarcPolicy::kAbsent;
  }
}

}  // namespace

std::string OrganizationalDomain(std::string_view domain) {
  std::string d(domain);
  for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!d.empty() && d.back() == '.') d.pop_back();
  const char* registrable = psl_registrable_domain(Psl(), d.c_str());
  return registrable != nullptr ? std::string(registrable) : d;
}

DmarcCheck EvaluateDmarc(std::string_view from_domain, const SpfCheck& spf,
                         const std::vector<DkimSignature>& dkim, const Resolver& resolver) {
  InitLibrary();
  DmarcCheck check;
  check.from_domain = std::string(from_domain);
  if (check.from_domain.empty()) return check;

  std::string record;
  DnsStatus status = FindRecord(resolver, check.from_domain, record);
  std::string org;
  if (status == DnsStatus::kOk) {
    check.record_domain = check.from_domain;
  } else if (status == DnsStatus::kNoData) {
    org = OrganizationalDomain(check.from_domain);
    if (org != check.from_domain) {
      status = FindRecord(resolver, org, record);
      if (status == DnsStatus::kOk) check.record_domain = org;
    }
  }
  if (status == DnsStatus::kTempFail) {
    check.result = AuthResult::kTempError;
    return check;
  }
  if (status != DnsStatus::kOk) return check;  // no record: none

  DMARC_POLICY_T* pctx = opendmarc_policy_connect_init(U(std::string("0.0.0.0")), 0);
  if (pctx == nullptr) {
    check.result = AuthResult::kTempError;
    return check;
  }
  const bool at_org = check.record_domain != check.from_domain;
  OPENDMARC_STATUS_T st = opendmarc_policy_store_from_domain(pctx, U(check.from_domain));
  if (st == DMARC_PARSE_OKAY) {
    st = opendmarc_policy_store_dmarc(pctx, U(record), U(check.from_domain),
                                      at_org ? U(check.record_domain) : nullptr);
  }
  if (st != DMARC_PARSE_OKAY) {
    check.result = AuthResult::kPermError;
    opendmarc_policy_connect_shutdown(pctx);
    return check;
  }
  int p = 0, sp = 0, adkim = 0, aspf = 0;
  opendmarc_policy_fetch_p(pctx, &p);
  opendmarc_policy_fetch_sp(pctx, &sp);
  opendmarc_policy_fetch_adkim(pctx, &adkim);
  opendmarc_policy_fetch_aspf(pctx, &aspf);
  opendmarc_policy_fetch_pct(pctx, &check.pct);
  opendmarc_policy_connect_shutdown(pctx);
  check.strict_dkim = adkim == DMARC_RECORD_A_STRICT;
  check.strict_spf = aspf == DMARC_RECORD_A_STRICT;
  // sp= applies to subdomains when the record came from the organisational domain.
  check.policy = PolicyOf(at_org && sp != DMARC_RECORD_P_UNSPECIFIED ? sp : p);
  // Alignment (RFC 7489 §3.1) is ours, not libopendmarc's: its check_alignment() in 1.4.2
  // counts a subdomain identifier (d=mail.example.net) as strictly aligned with From
  // example.net, which adkim=s/aspf=s exist to forbid.
  for (const DkimSignature& sig : dkim) {
    if (sig.result == AuthResult::kPass && Aligned(sig.domain, check.from_domain, check.strict_dkim)) {
      check.dkim_aligned = true;
      check.aligned_domain = sig.domain;
      break;
    }
  }
  check.spf_aligned = spf.result == AuthResult::kPass &&
                      Aligned(spf.domain, check.from_domain, check.strict_spf);
  if (check.aligned_domain.empty() && check.spf_aligned) check.aligned_domain = spf.domain;
  check.result = (check.dkim_aligned || check.spf_aligned) ? AuthResult::kPass : AuthResult::kFail;
  return check;
}

}  // namespace bulwark::senderauth

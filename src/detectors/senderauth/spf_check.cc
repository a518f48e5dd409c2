// SPF (RFC 7208) with libspf2, its DNS questions answered by our Resolver through a custom
// libspf2 DNS layer (an SPF_dns_server_t whose lookup() calls Resolver::Lookup).

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>
#include <mutex>

#include "detectors/senderauth/sender_auth.h"

extern "C" {
#include <spf2/spf.h>
}

namespace bulwark::senderauth {
namespace {

void QuietLog(const char*, int, const char*) {}

void SilenceLibspf2() {
  static std::once_flag once;
  std::call_once(once, [] {
    SPF_warning_handler = QuietLog;
    SPF_info_handler = QuietLog;
    SPF_debug_handler = QuietLog;
  });
}

// Fills one RR set from `answer`. libspf2 keeps the strings NUL-terminated.
SPF_dns_rr_t* ToSpfRr(SPF_dns_server_t* server, const char* domain, ns_type type,
                      const DnsAnswer& answer) {
  SPF_dns_stat_t herrno = NETDB_SUCCESS;
  switch (answer.status) {
    case DnsStatus::kOk: herrno = NETDB_SUCCESS; break;
    case DnsStatus::kNoData: herrno = NO_DATA; break;
    case DnsStatus::kNxDomain: herrno = HOST_NOT_FOUND; break;
    case DnsStatus::kTempFail: herrno = TRY_AGAIN; break;
  }
  std::uint32_t ttl = 0;
  for (const DnsRecord& r : answer.records) ttl = r.ttl;
  SPF_dns_rr_t* rr = SPF_dns_rr_new_init(server, domain, type, static_cast<int>(ttl), herrno);
  if (rr == nullptr || answer.status != DnsStatus::kOk) return rr;
  int count = 0;
  for (const DnsRecord& r : answer.records) {
    const std::size_t need = std::max(r.data.size() + 1, sizeof(SPF_dns_rr_data_t));
    if (SPF_dns_rr_buf_realloc(rr, count, need) != SPF_E_SUCCESS) break;
    SPF_dns_rr_data_t* data = rr->rr[count];
    switch (type) {
      case ns_t_a:
        std::memcpy(&data->a, r.data.data(), sizeof data->a);
        break;
      case ns_t_aaaa:
        std::memcpy(&data->aaaa, r.data.data(), sizeof data->aaaa);
        break;
      default:  // TXT, SPF, MX, PTR: text
        std::memcpy(data->txt, r.data.c_str(), r.data.size() + 1);
        break;
    }
    ++count;
  }
  rr->num_rr = count;
  return rr;
}

SPF_dns_rr_t* LookupThroughResolver(SPF_dns_server_t* server, const char* domain, ns_type type,
                                    int /*should_cache*/) {
  const auto* resolver = static_cast<const Resolver*>(server->hook);
  // RFC 7208 §3.1 retired the SPF RR type: libspf2 asks for it first and falls back to TXT
  // on "no data", so answer that without asking DNS.
  if (type == ns_t_spf) return ToSpfRr(server, domain, type, DnsAnswer{DnsStatus::kNoData, {}});
  std::string name(domain);
  while (!name.empty() && name.back() == '.') name.pop_back();
  return ToSpfRr(server, domain, type,
                 resolver->Lookup(name, static_cast<DnsType>(static_cast<int>(type))));
}

AuthResult FromSpfResult(SPF_result_t result) {
  switch (result) {
    case SPF_RESULT_PASS: return AuthResult::kPass;
    case SPF_RESULT_FAIL: return AuthResult::kFail;
    case SPF_RESULT_SOFTFAIL: return AuthResult::kSoftFail;
    case SPF_RESULT_NEUTRAL: return AuthResult::kNeutral;
    case SPF_RESULT_NONE: return AuthResult::kNone;
    case SPF_RESULT_TEMPERROR: return AuthResult::kTempError;
    case SPF_RESULT_PERMERROR:
    case SPF_RESULT_INVALID: break;
  }
  return AuthResult::kPermError;
}

std::string DomainOf(std::string_view address) {
  const std::size_t at = address.rfind('@');
  std::string domain(at == std::string_view::npos ? address : address.substr(at + 1));
  for (char& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  return domain;
}

}  // namespace

SpfCheck CheckSpf(std::string_view client_ip, std::string_view helo, std::string_view mail_from,
                  const Resolver& resolver) {
  SilenceLibspf2();
  SpfCheck check;
  check.scope = mail_from.empty() ? "helo" : "mailfrom";
  check.domain = DomainOf(mail_from.empty() ? helo : mail_from);
  if (client_ip.empty()) return check;

  // The layer lives on this stack frame: SPF_server_new_dns does not take ownership.
  SPF_dns_server_t layer;
  std::memset(&layer, 0, sizeof layer);
  layer.lookup = LookupThroughResolver;
  layer.name = "bulwark";
  layer.hook = const_cast<Resolver*>(&resolver);
  SPF_server_t* server = SPF_server_new_dns(&layer, 0);
  if (server == nullptr) {
    check.result = AuthResult::kTempError;
    return check;
  }
  SPF_request_t* request = SPF_request_new(server);
  const std::string ip(client_ip);
  const std::string helo_s(helo);
  const std::string from_s(mail_from);
  SPF_errcode_t err = ip.find(':') == std::string::npos ? SPF_request_set_ipv4_str(request, ip.c_str())
                                                        : SPF_request_set_ipv6_str(request, ip.c_str());
  if (err == SPF_E_SUCCESS && !helo_s.empty()) SPF_request_set_helo_dom(request, helo_s.c_str());
  if (err == SPF_E_SUCCESS && !from_s.empty()) {
    if (SPF_request_set_env_from(request, from_s.c_str()) != 0) err = SPF_E_INVALID_CHAR;
  }
  if (err != SPF_E_SUCCESS) {
    check.result = AuthResult::kPermError;
    check.comment = "invalid client address or sender";
  } else {
    SPF_response_t* response = nullptr;
    const SPF_errcode_t query_err = SPF_request_query_mailfrom(request, &response);
    if (response == nullptr) {
      check.result = AuthResult::kTempError;
    } else {
      const SPF_result_t result = SPF_response_result(response);
      if (result == SPF_RESULT_INVALID && query_err == SPF_E_DNS_ERROR) {
        // libspf2 leaves the result unset when the record lookup itself failed.
        check.result = AuthResult::kTempError;
      } else if (result == SPF_RESULT_INVALID && query_err == SPF_E_NOT_SPF) {
        // "No SPF record" alone, or a record that did not compile (its syntax errors come
        // first in the response).
        check.result = SPF_response_errors(response) > 1 ? AuthResult::kPermError
                                                         : AuthResult::kNone;
      } else {
        check.result = FromSpfResult(result);
      }
      if (const char* comment = SPF_response_get_header_comment(response)) {
        check.comment = comment;
      }
      SPF_response_free(response);
    }
  }
  SPF_request_free(request);
  SPF_server_free(server);
  return check;
}

}  // namespace bulwark::senderauth

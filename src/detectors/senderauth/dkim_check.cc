// DKIM verification (RFC 6376) with libopendkim. Keys are fetched through our Resolver by a
// key-lookup callback (dkim_set_key_lookup), so libopendkim's own DNS code is never used.

#include <cstring>
#include <mutex>

#include "detectors/senderauth/sender_auth.h"

// dkim.h is C99 and spells bool `_Bool`, which C++ lacks.
#define _Bool bool
extern "C" {
#include <opendkim/dkim.h>
}
#undef _Bool

namespace bulwark::senderauth {
namespace {

// Messages with more DKIM-Signature fields than this are not verified at all (each costs a
// DNS lookup and a public-key operation): they get one permerror entry.
constexpr std::size_t kMaxSignatureFields = 32;

DKIM_CBSTAT KeyLookup(DKIM* dkim, DKIM_SIGINFO* sig, u_char* buf, size_t buflen) {
  const auto* resolver = static_cast<const Resolver*>(dkim_get_user_context(dkim));
  const u_char* selector = dkim_sig_getselector(sig);
  const u_char* domain = dkim_sig_getdomain(sig);
  if (resolver == nullptr || selector == nullptr || domain == nullptr || buflen == 0) {
    return DKIM_CBSTAT_ERROR;
  }
  const std::string name = std::string(reinterpret_cast<const char*>(selector)) + "._domainkey." +
                           reinterpret_cast<const char*>(domain);
  const DnsAnswer answer = resolver->Lookup(name, DnsType::kTxt);
  switch (answer.status) {
    case DnsStatus::kTempFail: return DKIM_CBSTAT_TRYAGAIN;
    case DnsStatus::kNxDomain:
    case DnsStatus::kNoData: return DKIM_CBSTAT_NOTFOUND;
    case DnsStatus::kOk: break;
  }
  const std::string& key = answer.records.front().data;
  const std::size_t n = std::min(key.size(), buflen - 1);
  std::memcpy(buf, key.data(), n);
  buf[n] = '\0';
  return DKIM_CBSTAT_CONTINUE;
}

// One library handle for the process: options are set once, and handles made from it are
// independent (libopendkim's own milter shares one the same way).
DKIM_LIB* Library() {
  static DKIM_LIB* const lib = [] {
    DKIM_LIB* l = dkim_init(nullptr, nullptr);
    if (l == nullptr) return l;
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
    dkim_options(l, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
    dkim_set_key_lookup(l, KeyLookup);
    return l;
  }();
  return lib;
}

std::string AlgorithmName(dkim_alg_t alg) {
  switch (alg) {
    case DKIM_SIGN_RSASHA1: return "rsa-sha1";
    case DKIM_SIGN_RSASHA256: return "rsa-sha256";
    case DKIM_SIGN_ED25519SHA256: return "ed25519-sha256";
    default: return "unknown";
  }
}

DkimSignature Describe(DKIM_SIGINFO* sig) {
  DkimSignature out;
  if (const u_char* d = dkim_sig_getdomain(sig)) out.domain = reinterpret_cast<const char*>(d);
  for (char& c : out.domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (const u_char* s = dkim_sig_getselector(sig)) out.selector = reinterpret_cast<const char*>(s);
  dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
  if (dkim_sig_getsignalg(sig, &alg) == DKIM_STAT_OK) out.algorithm = AlgorithmName(alg);
  const unsigned int flags = dkim_sig_getflags(sig);
  const int bh = dkim_sig_getbh(sig);
  const int error = dkim_sig_geterror(sig);
  if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH) {
    out.result = AuthResult::kPass;
    return out;
  }
  if (error == DKIM_SIGERROR_KEYFAIL) {
    out.result = AuthResult::kTempError;
  } else if (error == DKIM_SIGERROR_BADSIG || error == DKIM_SIGERROR_OK ||
             error == DKIM_SIGERROR_EXPIRED || bh == DKIM_SIGBH_MISMATCH) {
    out.result = AuthResult::kFail;
  } else {
    out.result = AuthResult::kPermError;
  }
  if (bh == DKIM_SIGBH_MISMATCH && (error == DKIM_SIGERROR_OK || error == DKIM_SIGERROR_BADSIG)) {
    out.error = "body hash did not verify";
  } else if (const char* text = dkim_sig_geterrorstr(error)) {
    out.error = text;
  }
  return out;
}

std::size_t CountSignatureFields(std::string_view message) {
  std::size_t n = 0;
  for (const HeaderField& field : ParseHeaderFields(message)) {
    if (EqualsIgnoreCase(field.name, "DKIM-Signature")) ++n;
  }
  return n;
}

}  // namespace

std::vector<DkimSignature> VerifyDkim(std::string_view message, const Resolver& resolver,
                                      std::size_t max_signatures) {
  std::vector<DkimSignature> out;
  const std::size_t fields = CountSignatureFields(message);
  if (fields == 0) return out;
  if (fields > kMaxSignatureFields) {
    DkimSignature too_many;
    too_many.result = AuthResult::kPermError;
    too_many.error = std::to_string(fields) + " signatures (over " +
                     std::to_string(kMaxSignatureFields) + "): not verified";
    out.push_back(std::move(too_many));
    return out;
  }
  DKIM_LIB* lib = Library();
  if (lib == nullptr) return out;
  DKIM_STAT status = DKIM_STAT_OK;
  DKIM* dkim = dkim_verify(lib, reinterpret_cast<const u_char*>("bulwark"), nullptr, &status);
  if (dkim == nullptr) return out;
  dkim_set_user_context(dkim, const_cast<Resolver*>(&resolver));
  status = dkim_chunk(dkim, reinterpret_cast<u_char*>(const_cast<char*>(message.data())),
                      message.size());
  if (status == DKIM_STAT_OK) status = dkim_chunk(dkim, nullptr, 0);
  if (status == DKIM_STAT_OK || status == DKIM_STAT_NOSIG) {
    status = dkim_eom(dkim, nullptr);
  }
  DKIM_SIGINFO** sigs = nullptr;
  int count = 0;
  if (dkim_getsiglist(dkim, &sigs, &count) == DKIM_STAT_OK) {
    for (int i = 0; i < count && out.size() < max_signatures; ++i) {
      if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_PROCESSED) == 0) {
        dkim_sig_process(dkim, sigs[i]);
      }
      out.push_back(Describe(sigs[i]));
    }
  }
  if (out.empty()) {
    // Signature fields libopendkim could not even parse.
    DkimSignature broken;
    broken.result = AuthResult::kPermError;
    broken.error = dkim_getresultstr(status);
    out.push_back(std::move(broken));
  }
  dkim_free(dkim);
  return out;
}

}  // namespace bulwark::senderauth

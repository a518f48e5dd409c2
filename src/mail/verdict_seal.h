#pragma once
// The signed verdict header: mail that passed the inline gateway or the milter carries
//   X-Bulwark-Signature: v=1; s=<site>; t=<unix time>; e=<signature version>;
//     r=<verdict>; b=<SHA-256 of the body>; m=<HMAC-SHA256>
// so that the mailbox connector (API mode) does not scan it a second time. The HMAC, with
// a key derived from the site's KEK, covers every tag plus the From and Message-ID fields,
// so a header copied onto another message, another sender or another site does not verify.
// The body is hashed with line ends normalised (CR LF → LF) and trailing empty lines
// dropped, as mail stores and MTAs commonly rewrite those. A verdict is trusted only when
// it was made with the signature set loaded now and is younger than the configured age:
// after a signature update the message is scanned again.

#include <cstdint>
#include <string>
#include <string_view>

#include "mail/mail_scan.h"

namespace bulwark::mail {

struct VerdictSealKey {
  std::string key;                // service::Site::verdict_key()
  std::string site_id;
  std::string signature_version;  // engine::Engine::signature_version()
};

inline constexpr std::string_view kVerdictSealField = "X-Bulwark-Signature";

// The field for `message` (the bytes as they will be delivered, with or without this
// field) and its verdict name ("clean", "suspicious", …) at `now`.
HeaderField SealVerdict(const VerdictSealKey& key, std::string_view verdict,
                        std::string_view message, std::int64_t now);

enum class SealCheck {
  kAbsent,   // no X-Bulwark-Signature field
  kValid,    // ours, intact, current signatures, young enough
  kForged,   // does not verify (another key, another message, edited)
  kStale,    // verifies, but older than max_age or made with other signatures
};
std::string_view SealCheckName(SealCheck check);

struct SealVerification {
  SealCheck check = SealCheck::kAbsent;
  std::string verdict;  // the signed verdict when kValid
};

// Checks every X-Bulwark-Signature field of `message`; the best result wins (valid over
// stale over forged). `max_age_seconds` 0 = never trusted (kStale).
SealVerification VerifyVerdictSeal(const VerdictSealKey& key, std::string_view message,
                                   std::int64_t now, std::int64_t max_age_seconds);

}  // namespace bulwark::mail

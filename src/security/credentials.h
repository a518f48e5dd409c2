#pragma once
// Credentials: password hashing (Argon2id via libsodium), TOTP (RFC 6238), random secrets.
// Nothing here logs or keeps a secret beyond the call; temporary copies are wiped.
//
// Thread safety: every function is thread-safe (no state of ours; libsodium's own one-time
// initialisation is thread-safe and idempotent).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"

namespace bulwark::security {

// Password length policy, in bytes.
inline constexpr std::size_t kMinPasswordBytes = 12;
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// Argon2id (libsodium crypto_pwhash_str_alg, "interactive" limits), encoded string
// "$argon2id$v=19$m=…". kInvalidArgument for a password shorter than kMinPasswordBytes or
// longer than kMaxPasswordBytes; kResourceExhausted when the memory for Argon2 is not there.
Result<std::string> HashPassword(std::string_view password);
// Constant-time verification. False for a wrong password, a malformed hash, or a password
// longer than kMaxPasswordBytes (the minimum is not applied, so a policy change never locks
// anyone out).
bool VerifyPassword(std::string_view encoded_hash, std::string_view password);

// `bytes` random bytes from the OS CSPRNG (libsodium randombytes), lower-case hex.
std::string RandomHex(std::size_t bytes);
// A human-typable one-time password: 20 characters from an alphabet without look-alikes
// (no 0/O/o, 1/l/I/i). About 115 bits; satisfies the password length policy.
std::string RandomPassword();

// RFC 4648 base32 (upper case, no padding on output). Input: case-insensitive; trailing
// '=' padding tolerated (then the length must be a multiple of 8). nullopt for any other
// character, an impossible length, or non-zero unused trailing bits.
std::string Base32Encode(std::string_view bytes);
std::optional<std::string> Base32Decode(std::string_view text);

// kInvalidArgument from TotpCode unless digits is 6–8, period_seconds 1–3600 and
// allowed_drift_steps 0–10.
struct TotpParameters {
  int digits = 6;
  int period_seconds = 30;
  int allowed_drift_steps = 1;  // accept codes of the neighbouring steps
};

// A new 160-bit TOTP secret, base32 (32 characters, no padding).
std::string NewTotpSecret();
// The code for `unix_time` (HMAC-SHA1, RFC 6238 / RFC 4226 dynamic truncation), zero-padded
// to params.digits. kInvalidArgument for a secret that is not base32 or is empty, a negative
// time, or parameters out of range.
Result<std::string> TotpCode(std::string_view base32_secret, std::int64_t unix_time,
                             const TotpParameters& params = {});
// Checks `code` against the steps around `unix_time` (± allowed_drift_steps). A step at or
// before `last_used_step` is refused (replay); pass -1 when no code was used yet, and store
// the returned step as the new last_used_step. Returns the matched step, or nullopt (also for
// a malformed code or secret, or bad parameters). The comparison is constant-time.
std::optional<std::int64_t> VerifyTotp(std::string_view base32_secret, std::string_view code,
                                       std::int64_t unix_time, std::int64_t last_used_step,
                                       const TotpParameters& params = {});
// otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&digits=6&period=30: issuer and account
// percent-encoded (all but RFC 3986 unreserved characters), the secret upper-cased without
// padding, digits and period from `params`.
std::string TotpProvisioningUri(std::string_view issuer, std::string_view account,
                                std::string_view base32_secret, const TotpParameters& params = {});

// API token secrets: "bwk_" + site id + "_" + 32 random bytes as lower-case hex. The site id
// must be non-empty and printable without whitespace (it may contain '_'). The store keeps
// only TokenSecretHash(secret).
std::string NewTokenSecret(std::string_view site_id);
std::string TokenSecretHash(std::string_view secret);  // SHA-256 hex, lower case
// The site id embedded in a token secret (for the clear "token of another site" error);
// nullopt when `secret` does not have the token shape. Not a verification: compare hashes.
std::optional<std::string> TokenSite(std::string_view secret);

// Constant-time comparison of two strings of equal length (false when lengths differ; the
// length itself is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace bulwark::security

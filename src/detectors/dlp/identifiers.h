#pragma once
// The identifiers the "dlp" detector recognises, their validators and their masks.
// Validators are pure functions over a candidate span found by the Hyperscan pass; they
// never allocate more than the candidate's size and never look further than a small,
// fixed window around it.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::detectors::dlp {

enum class Identifier {
  kPaymentCard,
  kIban,
  kUsSsn,
  kUkNino,
  kEmail,
  kPhone,
  kIpv4,
  kIpv6,
  kDateOfBirth,
  kAwsAccessKey,
  kAwsSecretKey,
  kGithubToken,
  kGitlabToken,
  kSlackToken,
  kSlackWebhook,
  kStripeKey,
  kGoogleApiKey,
  kPrivateKey,
  kJwt,
  kConnectionPassword,
  kSecretAssignment,  // KEY=value where the key name says password/secret/token/api key
  kCustomKeyword,
  kCustomRegex,
};
inline constexpr int kIdentifierCount = static_cast<int>(Identifier::kCustomRegex) + 1;

// "payment-card", "iban", … — stable: appears in finding details and tests.
std::string_view IdentifierName(Identifier id);
// True for identifiers whose samples are secrets (type and at most the last 4 characters).
bool IsSecret(Identifier id);

// A candidate occurrence: [begin, end) in `text`.
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Validates the candidate `span` of `text` for `id`. On success returns the span of the
// identifier itself (a validator may trim separators or context it had to match); on
// failure std::nullopt. `text` is the whole scanned text so validators can look at the
// characters just around the candidate.
std::optional<Span> Validate(Identifier id, std::string_view text, Span span);

// A masked rendering of a validated `value` that keeps only what a reviewer needs to
// recognise it (card: last 4; IBAN: country, check digits, last 4; e-mail: first letter
// and domain; secrets: type and last 4 when long enough). Never returns `value` itself.
std::string Mask(Identifier id, std::string_view value);

// Validators, exposed for tests. Each takes the candidate text alone.
bool LuhnValid(std::string_view digits);
// `compact`: upper-case letters and digits without separators.
bool IbanValid(std::string_view compact);
// The registered IBAN length of a country, or 0 when the country has no IBAN.
int IbanLength(std::string_view country);
bool SsnValid(std::string_view area, std::string_view group, std::string_view serial);
// True when `value`, assigned to a key whose name says it is a secret, looks like one
// rather than a placeholder, a reference or prose (docs/dlp.md, "Secret assignments").
// `quoted`: the value was written between quotes (it may then hold up to 2 spaces).
bool SecretValueLike(std::string_view value, bool quoted);
// True when `key` (a key name: letters, digits, "_", "-", ".") ends with a word that says
// its value is a secret: password, passwd, passphrase, pass, pwd, secret, token, api key,
// access key, secret key (any case; "pass"/"pwd" only as a whole part of the name).
bool SecretKeyName(std::string_view key);
// Card brand by prefix and length ("visa", "mastercard", …), or "" when none fits.
std::string_view CardBrand(std::string_view digits);

}  // namespace bulwark::detectors::dlp

#include "security/credentials.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "crypto/sha256.h"
#include "security/internal.h"

namespace bulwark::security {
namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr char kHexDigits[] = "0123456789abcdef";
// No 0/O/o, 1/l/I/i.
constexpr std::string_view kPasswordAlphabet =
    "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
constexpr std::size_t kPasswordLength = 20;
constexpr std::size_t kTotpSecretBytes = 20;
constexpr std::size_t kTokenRandomBytes = 32;
constexpr std::string_view kTokenPrefix = "bwk_";

// A byte buffer wiped when it goes out of scope.
template <std::size_t N>
struct WipedBytes {
  std::array<unsigned char, N> bytes{};
  WipedBytes() = default;
  WipedBytes(const WipedBytes&) = delete;
  WipedBytes& operator=(const WipedBytes&) = delete;
  ~WipedBytes() { sodium_memzero(bytes.data(), bytes.size()); }
};

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

Status CheckTotpParameters(const TotpParameters& params) {
  if (params.digits < 6 || params.digits > 8) {
    return InvalidArgumentError("TOTP digits must be 6 to 8");
  }
  if (params.period_seconds < 1 || params.period_seconds > 3600) {
    return InvalidArgumentError("TOTP period must be 1 to 3600 seconds");
  }
  if (params.allowed_drift_steps < 0 || params.allowed_drift_steps > 10) {
    return InvalidArgumentError("TOTP drift must be 0 to 10 steps");
  }
  return OkStatus();
}

// RFC 4226 HOTP of `counter` under the decoded `key`, as `digits` decimal digits.
Result<std::string> Hotp(std::string_view key, std::uint64_t counter, int digits) {
  if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return InvalidArgumentError("TOTP secret too long");
  }
  WipedBytes<8> message;
  for (int i = 7; i >= 0; --i) {
    message.bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  WipedBytes<EVP_MAX_MD_SIZE> mac;
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.bytes.data(),
           message.bytes.size(), mac.bytes.data(), &mac_size) == nullptr ||
      mac_size != 20) {
    return InternalError("HMAC-SHA1 failed");
  }
  // Dynamic truncation (RFC 4226 section 5.3).
  const std::size_t offset = mac.bytes[19] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac.bytes[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac.bytes[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac.bytes[offset + 2]) << 8) |
                               static_cast<std::uint32_t>(mac.bytes[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::uint32_t value = binary % modulus;
  std::string code(static_cast<std::size_t>(digits), '0');
  for (std::size_t i = code.size(); i > 0 && value > 0; --i) {
    code[i - 1] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return code;
}

// Percent-encodes all but RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view text) {
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() < kMinPasswordBytes) {
    return InvalidArgumentError("password must be at least " + std::to_string(kMinPasswordBytes) +
                                " bytes");
  }
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgumentError("password must be at most " + std::to_string(kMaxPasswordBytes) +
                                " bytes");
  }
  if (!internal::SodiumReady()) return InternalError("libsodium initialisation failed");
  std::array<char, crypto_pwhash_STRBYTES> encoded{};
  if (crypto_pwhash_str_alg(encoded.data(), password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhaustedError("Argon2id could not get its memory");
  }
  return std::string(encoded.data());
}

bool VerifyPassword(std::string_view encoded_hash, std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return false;
  // crypto_pwhash_str_verify wants a NUL-terminated string of fewer than STRBYTES bytes.
  if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (encoded_hash.find('\0') != std::string_view::npos) return false;
  if (!internal::SodiumReady()) return false;
  std::array<char, crypto_pwhash_STRBYTES> hash{};
  encoded_hash.copy(hash.data(), encoded_hash.size());
  return crypto_pwhash_str_verify(hash.data(), password.data(), password.size()) == 0;
}

std::string RandomHex(std::size_t bytes) {
  internal::SodiumReady();
  std::string out;
  out.reserve(2 * bytes);  // no reallocation: no stray copies of the secret
  WipedBytes<64> chunk;
  while (bytes > 0) {
    const std::size_t n = std::min(bytes, chunk.bytes.size());
    randombytes_buf(chunk.bytes.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(kHexDigits[chunk.bytes[i] >> 4]);
      out.push_back(kHexDigits[chunk.bytes[i] & 0xf]);
    }
    bytes -= n;
  }
  return out;
}

std::string RandomPassword() {
  internal::SodiumReady();
  std::string out;
  out.reserve(kPasswordLength);
  for (std::size_t i = 0; i < kPasswordLength; ++i) {
    out.push_back(kPasswordAlphabet[randombytes_uniform(
        static_cast<std::uint32_t>(kPasswordAlphabet.size()))]);
  }
  return out;
}

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
    buffer &= (1u << bits) - 1;  // keep only the bits not yet written
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '=') --end;
  if (end != text.size() && text.size() % 8 != 0) return std::nullopt;
  std::string_view data = text.substr(0, end);
  // Lengths an encoder can produce: a final group of 0, 2, 4, 5 or 7 characters.
  switch (data.size() % 8) {
    case 1:
    case 3:
    case 6:
      return std::nullopt;
    default:
      break;
  }
  if (end != text.size() && text.size() - end >= 8) return std::nullopt;  // a group of '='
  std::string out;
  out.reserve(data.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : data) {
    int value = Base32Value(ch);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
      buffer &= (1u << bits) - 1;
    }
  }
  if (buffer != 0) return std::nullopt;  // non-zero unused trailing bits
  return out;
}

std::string NewTotpSecret() {
  internal::SodiumReady();
  WipedBytes<kTotpSecretBytes> secret;
  randombytes_buf(secret.bytes.data(), secret.bytes.size());
  return Base32Encode(
      std::string_view(reinterpret_cast<const char*>(secret.bytes.data()), secret.bytes.size()));
}

Result<std::string> TotpCode(std::string_view base32_secret, std::int64_t unix_time,
                             const TotpParameters& params) {
  BULWARK_RETURN_IF_ERROR(CheckTotpParameters(params));
  if (unix_time < 0) return InvalidArgumentError("TOTP time before 1970");
  std::optional<std::string> decoded = Base32Decode(base32_secret);
  if (!decoded.has_value() || decoded->empty()) {
    return InvalidArgumentError("TOTP secret is not base32");
  }
  internal::WipedString key(std::move(*decoded));
  const auto step = static_cast<std::uint64_t>(unix_time / params.period_seconds);
  return Hotp(key.value, step, params.digits);
}

std::optional<std::int64_t> VerifyTotp(std::string_view base32_secret, std::string_view code,
                                       std::int64_t unix_time, std::int64_t last_used_step,
                                       const TotpParameters& params) {
  if (!CheckTotpParameters(params).ok() || unix_time < 0) return std::nullopt;
  if (code.size() != static_cast<std::size_t>(params.digits)) return std::nullopt;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::optional<std::string> decoded = Base32Decode(base32_secret);
  if (!decoded.has_value() || decoded->empty()) return std::nullopt;
  internal::WipedString key(std::move(*decoded));

  const std::int64_t current = unix_time / params.period_seconds;
  if (current > std::numeric_limits<std::int64_t>::max() - params.allowed_drift_steps) {
    return std::nullopt;
  }
  std::optional<std::int64_t> matched;
  // Every candidate step is computed and compared, so timing says nothing about which one
  // matched; the newest acceptable match wins.
  for (std::int64_t step = current - params.allowed_drift_steps;
       step <= current + params.allowed_drift_steps; ++step) {
    if (step < 0) continue;
    Result<std::string> expected = Hotp(key.value, static_cast<std::uint64_t>(step), params.digits);
    if (!expected.ok()) return std::nullopt;
    internal::WipedString expected_code(std::move(expected).value());
    if (ConstantTimeEquals(expected_code.value, code) && step > last_used_step) matched = step;
  }
  return matched;
}

std::string TotpProvisioningUri(std::string_view issuer, std::string_view account,
                                std::string_view base32_secret, const TotpParameters& params) {
  std::string secret;
  secret.reserve(base32_secret.size());
  for (char c : base32_secret) {
    if (c == '=') continue;
    secret.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  std::string uri = "otpauth://totp/";
  uri += PercentEncode(issuer);
  uri += ':';
  uri += PercentEncode(account);
  uri += "?secret=";
  uri += PercentEncode(secret);
  uri += "&issuer=";
  uri += PercentEncode(issuer);
  uri += "&digits=" + std::to_string(params.digits);
  uri += "&period=" + std::to_string(params.period_seconds);
  sodium_memzero(secret.data(), secret.size());
  return uri;
}

std::string NewTokenSecret(std::string_view site_id) {
  internal::WipedString random(RandomHex(kTokenRandomBytes));
  std::string secret;
  secret.reserve(kTokenPrefix.size() + site_id.size() + 1 + random.value.size());
  secret += kTokenPrefix;
  secret += site_id;
  secret += '_';
  secret += random.value;
  return secret;
}

std::string TokenSecretHash(std::string_view secret) {
  return crypto::ToHex(crypto::Sha256(secret));
}

std::optional<std::string> TokenSite(std::string_view secret) {
  constexpr std::size_t kHexSize = 2 * kTokenRandomBytes;
  // "bwk_" site "_" hex, with a non-empty site.
  if (secret.size() < kTokenPrefix.size() + 1 + 1 + kHexSize) return std::nullopt;
  if (secret.substr(0, kTokenPrefix.size()) != kTokenPrefix) return std::nullopt;
  const std::size_t separator = secret.size() - kHexSize - 1;
  if (secret[separator] != '_') return std::nullopt;
  for (char c : secret.substr(separator + 1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  std::string_view site = secret.substr(kTokenPrefix.size(), separator - kTokenPrefix.size());
  for (char c : site) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  return std::string(site);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace bulwark::security

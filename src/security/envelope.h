#pragma once
// Envelope encryption for quarantined objects: each object is encrypted with AES-256-GCM
// under its tenant's data key; data keys are stored wrapped (AES-256-GCM) by the site's
// key-encryption key (KEK), which comes from a file or the environment, never the database.
//
// Thread safety: every function is thread-safe; a Key is a value (copy it, or share a const
// one between threads).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"

namespace bulwark::security {

// 256-bit key material, wiped on destruction (every copy wipes its own bytes).
// Default-constructed: all zero (a placeholder, not a key to use).
class Key {
 public:
  static constexpr std::size_t kSize = 32;
  Key() = default;
  explicit Key(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  Key(const Key&) = default;
  Key& operator=(const Key&) = default;
  ~Key();
  // From the OS CSPRNG (libsodium randombytes).
  static Key Random();
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// The KEK from a file holding 64 hex digits (either case, optionally followed by one "\n"
// or "\r\n") or exactly 32 raw bytes. kPermissionDenied when the file grants group/others
// any permission (the message says to chmod 600 it), kNotFound when it is absent,
// kInvalidArgument for any other content or a file that is not a regular file.
Result<Key> LoadKekFile(const std::string& path);
// The KEK from exactly 64 hex digits, either case (e.g. the BULWARK_KEK environment
// variable); kInvalidArgument otherwise.
Result<Key> ParseKekHex(std::string_view hex);
// Creates a KEK file (mode 0600, 64 lower-case hex digits and "\n") with a fresh random key;
// missing parent directories are created 0700. kAlreadyExists if present (never replaced).
Result<Key> CreateKekFile(const std::string& path);
// A short, non-secret identifier of a key (first 8 hex digits of SHA-256 of the key), so
// records say which KEK wrapped them.
std::string KeyId(const Key& key);

// AES-256-GCM: output = version byte (1) ‖ 12-byte random nonce ‖ ciphertext ‖ 16-byte tag.
// `aad` binds the ciphertext to its context (tenant id, object id): decrypting with another
// aad fails. kInternal only if OpenSSL fails.
Result<std::string> Seal(const Key& key, std::string_view plaintext, std::string_view aad);
// kInvalidArgument for a truncated or unknown-version input, kPermissionDenied when
// authentication fails (wrong key, wrong aad, tampered bytes); no plaintext is released then.
Result<std::string> Open(const Key& key, std::string_view sealed, std::string_view aad);

// Wraps/unwraps a data key with the KEK: Seal/Open of the key bytes with aad
// "bulwark-dek:" + tenant_id; the result is printable (standard base64, padded) for the
// database. kInvalidArgument for an empty tenant id or (unwrap) text that is not strict
// base64 or does not hold a key; kPermissionDenied for another KEK or another tenant.
// Isolation: a data key wrapped for one tenant never unwraps for another.
Result<std::string> WrapKey(const Key& kek, const Key& data_key, std::string_view tenant_id);
Result<Key> UnwrapKey(const Key& kek, std::string_view wrapped, std::string_view tenant_id);

}  // namespace bulwark::security

#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bulwark::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

// SHA-256 of `bytes` (OpenSSL). Thread-safe.
Sha256Digest Sha256(std::string_view bytes);
std::string ToHex(const Sha256Digest& digest);
// Lower-case hex of any bytes.
std::string ToHex(std::string_view bytes);
// HMAC-SHA256 of `message` under `key`, lower-case hex (64 digits).
std::string HmacSha256Hex(std::string_view key, std::string_view message);
// Parses 64 hex digits (either case). False on anything else.
bool ParseSha256Hex(std::string_view hex, Sha256Digest& out);

}  // namespace bulwark::crypto

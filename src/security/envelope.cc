#include "security/envelope.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "bulwark/common/text.h"
#include "crypto/sha256.h"
#include "security/internal.h"

namespace bulwark::security {
namespace {

constexpr unsigned char kVersion = 1;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kHeaderSize = 1 + kNonceSize;
constexpr std::size_t kOverhead = kHeaderSize + kTagSize;
// EVP_*Update take an int length: feed large inputs in pieces.
constexpr std::size_t kChunk = std::size_t{1} << 30;
// A KEK file is 32 raw bytes or 64 hex digits and a line ending; anything longer is wrong.
constexpr std::size_t kMaxKekFileBytes = 128;
constexpr std::string_view kDekAadPrefix = "bulwark-dek:";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// Feeds `in` (AAD when `out` is null) to an encrypting or decrypting context.
bool Update(EVP_CIPHER_CTX* ctx, bool encrypt, std::string_view in, unsigned char* out) {
  while (!in.empty()) {
    const std::size_t n = std::min(in.size(), kChunk);
    int written = 0;
    int ok = encrypt ? EVP_EncryptUpdate(ctx, out, &written, Bytes(in), static_cast<int>(n))
                     : EVP_DecryptUpdate(ctx, out, &written, Bytes(in), static_cast<int>(n));
    if (ok != 1) return false;
    if (out != nullptr) {
      if (static_cast<std::size_t>(written) != n) return false;  // GCM is a stream mode
      out += n;
    }
    in.remove_prefix(n);
  }
  return true;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]))
                                << 8 |
                            static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kBase64Alphabet[v >> 18]);
    out.push_back(kBase64Alphabet[(v >> 12) & 0x3f]);
    out.push_back(kBase64Alphabet[(v >> 6) & 0x3f]);
    out.push_back(kBase64Alphabet[v & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kBase64Alphabet[v >> 18]);
    out.push_back(kBase64Alphabet[(v >> 12) & 0x3f]);
    out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6) & 0x3f] : '=');
    out.push_back('=');
  }
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict standard base64: padded to a multiple of 4, '=' only at the end, zero unused bits,
// no whitespace.
std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int values[4];
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + static_cast<std::size_t>(j)];
      if (c == '=' && last && j >= 2) {
        values[j] = 0;
        ++padding;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after '='
      values[j] = Base64Value(c);
      if (values[j] < 0) return std::nullopt;
    }
    const std::uint32_t v =
        static_cast<std::uint32_t>(values[0]) << 18 | static_cast<std::uint32_t>(values[1]) << 12 |
        static_cast<std::uint32_t>(values[2]) << 6 | static_cast<std::uint32_t>(values[3]);
    if (padding == 2 && (v & 0xffff) != 0) return std::nullopt;
    if (padding == 1 && (v & 0xff) != 0) return std::nullopt;
    out.push_back(static_cast<char>(v >> 16));
    if (padding < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

std::string DekAad(std::string_view tenant_id) {
  std::string aad(kDekAadPrefix);
  aad += tenant_id;
  return aad;
}

bool AllHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return HexDigitValue(static_cast<unsigned char>(c)) >= 0; });
}

}  // namespace

Key::~Key() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Key Key::Random() {
  internal::SodiumReady();
  Key key;
  randombytes_buf(key.bytes_.data(), key.bytes_.size());
  return key;
}

Result<Key> ParseKekHex(std::string_view hex) {
  if (hex.size() != 2 * Key::kSize) {
    return InvalidArgumentError("a KEK is 64 hex digits, got " + std::to_string(hex.size()) +
                                " characters");
  }
  Key key;
  std::array<std::uint8_t, Key::kSize> bytes{};
  bool ok = true;
  for (std::size_t i = 0; i < Key::kSize; ++i) {
    const int hi = HexDigitValue(static_cast<unsigned char>(hex[2 * i]));
    const int lo = HexDigitValue(static_cast<unsigned char>(hex[2 * i + 1]));
    if (hi < 0 || lo < 0) ok = false;
    bytes[i] = static_cast<std::uint8_t>((hi & 0xf) << 4 | (lo & 0xf));
  }
  if (ok) key = Key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!ok) return InvalidArgumentError("a KEK is 64 hex digits; found a non-hex character");
  return key;
}

Result<Key> LoadKekFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below as not a regular file.
  internal::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return internal::ErrnoStatus(errno, "cannot open KEK file", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return internal::ErrnoStatus(errno, "fstat", path);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError("KEK file " + path + " is not a file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDeniedError("KEK file " + path + " is accessible by group or others (mode " +
                                 mode + "); run: chmod 600 " + path);
  }
  internal::WipedString content;
  content.value.resize(kMaxKekFileBytes + 1);
  std::size_t size = 0;
  while (size < content.value.size()) {
    ssize_t n = ::read(fd.get(), content.value.data() + size, content.value.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return internal::ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  std::string_view text(content.value.data(), size);
  if (text.size() == Key::kSize) {
    // 32 hex digits are a mistake (half a key), not 32 random bytes.
    if (AllHex(text)) {
      return InvalidArgumentError("KEK file " + path +
                                  " holds 32 hex digits; a KEK is 64 hex digits");
    }
    std::array<std::uint8_t, Key::kSize> bytes{};
    std::copy(text.begin(), text.end(), bytes.begin());
    Key key(bytes);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return key;
  }
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  Result<Key> key = ParseKekHex(text);
  if (!key.ok()) {
    return InvalidArgumentError("KEK file " + path +
                                " must hold 64 hex digits (optionally and a newline) or 32 raw "
                                "bytes");
  }
  return key;
}

Result<Key> CreateKekFile(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("empty KEK file path");
  const std::string dir = internal::DirName(path);
  BULWARK_RETURN_IF_ERROR(internal::MakeDirs(dir, 0700));
  internal::UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    if (errno == EEXIST) {
      return Status(StatusCode::kAlreadyExists, "KEK file " + path + " already exists");
    }
    return internal::ErrnoStatus(errno, "cannot create KEK file", path);
  }
  Key key = Key::Random();
  internal::WipedString hex;
  hex.value.reserve(2 * Key::kSize + 1);
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint8_t b : key.bytes()) {
    hex.value.push_back(kHex[b >> 4]);
    hex.value.push_back(kHex[b & 0xf]);
  }
  hex.value.push_back('\n');
  Status written = [&]() -> Status {
    // The umask may have taken bits from 0600 (leaving the owner unable to read).
    if (::fchmod(fd.get(), 0600) != 0) return internal::ErrnoStatus(errno, "fchmod", path);
    BULWARK_RETURN_IF_ERROR(internal::WriteAll(fd.get(), hex.value, path));
    if (::fsync(fd.get()) != 0) return internal::ErrnoStatus(errno, "fsync", path);
    BULWARK_RETURN_IF_ERROR(fd.Close());
    return internal::SyncDirectory(dir);
  }();
  if (!written.ok()) {
    ::unlink(path.c_str());
    return written;
  }
  return key;
}

std::string KeyId(const Key& key) {
  const auto& bytes = key.bytes();
  std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return crypto::ToHex(crypto::Sha256(view)).substr(0, 8);
}

Result<std::string> Seal(const Key& key, std::string_view plaintext, std::string_view aad) {
  if (plaintext.size() > std::string().max_size() - kOverhead) {
    return InvalidArgumentError("plaintext too large");
  }
  internal::SodiumReady();
  std::string out(kOverhead + plaintext.size(), '\0');
  unsigned char* const bytes = Bytes(out);
  bytes[0] = kVersion;
  randombytes_buf(bytes + 1, kNonceSize);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return InternalError("EVP_CIPHER_CTX_new failed");
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes().data(), bytes + 1) != 1 ||
      !Update(ctx.get(), /*encrypt=*/true, aad, nullptr) ||
      !Update(ctx.get(), /*encrypt=*/true, plaintext, bytes + kHeaderSize)) {
    OPENSSL_cleanse(out.data(), out.size());
    return InternalError("AES-256-GCM encryption failed");
  }
  int final_size = 0;
  unsigned char* const tag = bytes + kHeaderSize + plaintext.size();
  if (EVP_EncryptFinal_ex(ctx.get(), tag, &final_size) != 1 || final_size != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return InternalError("AES-256-GCM encryption failed");
  }
  return out;
}

Result<std::string> Open(const Key& key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kOverhead) return InvalidArgumentError("sealed data is truncated");
  if (static_cast<unsigned char>(sealed[0]) != kVersion) {
    return InvalidArgumentError("sealed data has unknown version " +
                                std::to_string(static_cast<unsigned char>(sealed[0])));
  }
  const unsigned char* const nonce = Bytes(sealed) + 1;
  const std::string_view ciphertext = sealed.substr(kHeaderSize, sealed.size() - kOverhead);
  unsigned char tag[kTagSize];
  std::copy_n(Bytes(sealed) + sealed.size() - kTagSize, kTagSize, tag);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return InternalError("EVP_CIPHER_CTX_new failed");
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes().data(), nonce) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1 ||
      !Update(ctx.get(), /*encrypt=*/false, aad, nullptr)) {
    return InternalError("AES-256-GCM decryption failed");
  }
  std::string plaintext(ciphertext.size(), '\0');
  bool ok = Update(ctx.get(), /*encrypt=*/false, ciphertext, Bytes(plaintext));
  int final_size = 0;
  // The tag is checked here; until it passes, the plaintext must not leave this function.
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), Bytes(plaintext) + plaintext.size(), &final_size) == 1;
  if (!ok || final_size != 0) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return PermissionDeniedError("authentication failed (wrong key or context, or tampered)");
  }
  return plaintext;
}

Result<std::string> WrapKey(const Key& kek, const Key& data_key, std::string_view tenant_id) {
  if (tenant_id.empty()) return InvalidArgumentError("empty tenant id");
  const auto& bytes = data_key.bytes();
  BULWARK_ASSIGN_OR_RETURN(
      std::string sealed,
      Seal(kek, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
           DekAad(tenant_id)));
  return Base64Encode(sealed);
}

Result<Key> UnwrapKey(const Key& kek, std::string_view wrapped, std::string_view tenant_id) {
  if (tenant_id.empty()) return InvalidArgumentError("empty tenant id");
  std::optional<std::string> sealed = Base64Decode(wrapped);
  if (!sealed.has_value()) return InvalidArgumentError("wrapped key is not base64");
  BULWARK_ASSIGN_OR_RETURN(std::string opened, Open(kek, *sealed, DekAad(tenant_id)));
  internal::WipedString plain(std::move(opened));
  if (plain.value.size() != Key::kSize) {
    return InvalidArgumentError("wrapped data is not a 256-bit key");
  }
  std::array<std::uint8_t, Key::kSize> bytes{};
  std::copy(plain.value.begin(), plain.value.end(), bytes.begin());
  Key key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

}  // namespace bulwark::security

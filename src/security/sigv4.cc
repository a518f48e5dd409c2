#include "security/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <string>

namespace bulwark::security::sigv4 {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kUpperHexDigits[] = "0123456789ABCDEF";

std::string Hex(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHexDigits[data[i] >> 4]);
    out.push_back(kHexDigits[data[i] & 0xF]);
  }
  return out;
}

// HMAC-SHA256(key, data) as raw bytes; empty when OpenSSL fails.
std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &size) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims leading and trailing spaces/tabs and collapses inner runs to one space.
std::string TrimAndCollapse(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool IsAmzDate(std::string_view date) {
  if (date.size() != 16 || date[8] != 'T' || date[15] != 'Z') return false;
  for (std::size_t i = 0; i < 15; ++i) {
    if (i == 8) continue;
    if (date[i] < '0' || date[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof(digest));
}

std::string UriEncode(std::string_view text, bool encode_slash) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out.push_back(c);
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kUpperHexDigits[byte >> 4]);
    out.push_back(kUpperHexDigits[byte & 0xF]);
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

Result<Signature> Sign(const Request& request, const Credentials& credentials) {
  if (!IsAmzDate(request.amz_date)) {
    return InvalidArgumentError("x-amz-date must be YYYYMMDDTHHMMSSZ");
  }
  if (credentials.access_key.empty() || credentials.secret_key.empty() ||
      credentials.region.empty() || credentials.service.empty()) {
    return InvalidArgumentError("SigV4 needs an access key, a secret key, a region, a service");
  }

  // Lower-case names, sorted; repeated names are joined with ',' in the order given.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string& joined = headers[Lower(name)];
    if (!joined.empty()) joined.push_back(',');
    joined += TrimAndCollapse(value);
  }
  if (!headers.contains("host") || !headers.contains("x-amz-date")) {
    return InvalidArgumentError("SigV4 requests must sign host and x-amz-date");
  }

  Signature result;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!result.signed_headers.empty()) result.signed_headers.push_back(';');
    result.signed_headers += name;
  }
  result.canonical_request = request.method + "\n" + request.path + "\n" +
                             CanonicalQuery(request.query) + "\n" + canonical_headers + "\n" +
                             result.signed_headers + "\n" + request.payload_sha256;

  const std::string date = request.amz_date.substr(0, 8);
  const std::string scope =
      date + "/" + credentials.region + "/" + credentials.service + "/aws4_request";
  result.string_to_sign = "AWS4-HMAC-SHA256\n" + request.amz_date + "\n" + scope + "\n" +
                          Sha256Hex(result.canonical_request);

  std::string key = HmacSha256("AWS4" + credentials.secret_key, date);
  if (!key.empty()) key = HmacSha256(key, credentials.region);
  if (!key.empty()) key = HmacSha256(key, credentials.service);
  if (!key.empty()) key = HmacSha256(key, "aws4_request");
  const std::string mac = key.empty() ? std::string() : HmacSha256(key, result.string_to_sign);
  if (mac.empty()) return InternalError("HMAC-SHA256 failed");
  result.signature = Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());

  result.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope +
                         ",SignedHeaders=" + result.signed_headers +
                         ",Signature=" + result.signature;
  return result;
}

std::string FormatAmzDate(long long unix_seconds) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  const std::size_t size = std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &utc);
  return std::string(buffer, size);
}

}  // namespace bulwark::security::sigv4

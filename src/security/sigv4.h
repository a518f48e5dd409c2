#pragma once
// AWS Signature Version 4 for S3 requests (header form), private to src/security: the S3
// object store signs with it and the tests check it against AWS's published examples.
// Pure functions on strings (no clock, no I/O); SHA-256 and HMAC come from OpenSSL.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::security::sigv4 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region;  // "us-east-1"
  std::string service = "s3";
};

// One request as it will be sent. Every header in `headers` is signed, so it must hold
// `host` (exactly the Host the client sends), `x-amz-date` and, for S3,
// `x-amz-content-sha256`; names may be in any case.
struct Request {
  std::string method;  // "GET"
  // The path as sent on the wire, already URI-encoded ("/examplebucket/test.txt"). S3 signs
  // it as it is (no normalization, no second encoding).
  std::string path;
  // Query parameters, not encoded; ParamsToCanonicalQuery encodes and sorts them.
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256;  // lower-case hex, or "UNSIGNED-PAYLOAD"
  std::string amz_date;        // "20130524T000000Z", the value of x-amz-date
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // lower-case hex
  std::string signed_headers;  // "host;range;x-amz-content-sha256;x-amz-date"
  std::string authorization;   // the Authorization header value
};

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~)
// stay, everything else becomes %XX (upper-case hex); '/' stays unless `encode_slash`.
std::string UriEncode(std::string_view text, bool encode_slash);

// "a=1&b=x%20y": names and values encoded (slash too), sorted by name then value.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

// Signs `request`. kInvalidArgument when amz_date is not "YYYYMMDDTHHMMSSZ", a credential
// is empty or a required header (host, x-amz-date) is missing; kInternal if OpenSSL fails.
Result<Signature> Sign(const Request& request, const Credentials& credentials);

// "YYYYMMDDTHHMMSSZ" for `unix_seconds` (UTC).
std::string FormatAmzDate(long long unix_seconds);

}  // namespace bulwark::security::sigv4

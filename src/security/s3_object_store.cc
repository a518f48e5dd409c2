// The S3-compatible ObjectStore: path-style requests signed with SigV4 (sigv4.h), sent with
// the synchronous HTTP client of src/http.

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client.h"
#include "security/internal.h"
#include "security/object_store.h"
#include "security/sigv4.h"

namespace bulwark::security {
namespace {

constexpr std::size_t kMaxIdleClients = 8;
constexpr std::size_t kMaxErrorText = 200;

// "scheme://authority" of an endpoint, and the authority as the Host header.
struct Endpoint {
  std::string base;
  std::string host;
};

Result<Endpoint> ParseEndpoint(std::string_view endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.remove_suffix(1);
  std::string_view scheme;
  if (endpoint.starts_with("http://")) {
    scheme = "http://";
  } else if (endpoint.starts_with("https://")) {
    scheme = "https://";
  } else {
    return InvalidArgumentError("S3 endpoint must start with http:// or https://");
  }
  const std::string_view authority = endpoint.substr(scheme.size());
  if (authority.empty() || authority.find_first_of("/?#@ \t\r\n") != std::string_view::npos) {
    return InvalidArgumentError("S3 endpoint must be scheme://host[:port] without a path");
  }
  return Endpoint{std::string(endpoint), std::string(authority)};
}

// S3's bucket naming rules, simplified: 3-63 of [a-z0-9.-], starting and ending alphanumeric.
Status ValidateBucket(std::string_view bucket) {
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (bucket.size() < 3 || bucket.size() > 63 || !alnum(bucket.front()) || !alnum(bucket.back())) {
    return InvalidArgumentError("S3 bucket name must be 3 to 63 characters of [a-z0-9.-]");
  }
  for (char c : bucket) {
    if (!alnum(c) && c != '.' && c != '-') {
      return InvalidArgumentError("S3 bucket name must be 3 to 63 characters of [a-z0-9.-]");
    }
  }
  return OkStatus();
}

// The text of the first <tag>…</tag> in `xml` (S3 error bodies), "" when there is none;
// cut to kMaxErrorText and stripped of anything but printable ASCII, since it ends up in logs.
std::string XmlTag(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const std::size_t start = xml.find(open);
  if (start == std::string_view::npos) return {};
  const std::size_t begin = start + open.size();
  const std::size_t end = xml.find(close, begin);
  if (end == std::string_view::npos) return {};
  std::string text;
  for (char c : xml.substr(begin, std::min(end - begin, kMaxErrorText))) {
    text.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return text;
}

// A Status for a non-2xx response to `what` ("PUT key"). The body of an error response is
// S3's error document (never object bytes); only its Code and Message are kept.
Status ResponseError(std::string_view what, const http::ClientResponse& response) {
  const std::string code = XmlTag(response.body, "Code");
  const std::string message = XmlTag(response.body, "Message");
  std::string text = "S3 " + std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += ": " + message;
  const int status = response.status;
  if (code == "NoSuchBucket") return FailedPreconditionError(std::move(text));
  if (code == "NoSuchKey" || status == 404) return NotFoundError(std::move(text));
  if (status == 401 || status == 403) return PermissionDeniedError(std::move(text));
  if (code == "EntityTooLarge" || status == 413) return ResourceExhaustedError(std::move(text));
  if (code == "SlowDown" || status == 408 || status == 429 || status >= 500) {
    return UnavailableError(std::move(text));
  }
  if (status == 409 || status == 412) return FailedPreconditionError(std::move(text));
  return InternalError(std::move(text));
}

class S3ObjectStore final : public ObjectStore {
 public:
  S3ObjectStore(const S3Options& options, Endpoint endpoint, http::ClientOptions client_options,
                std::unique_ptr<http::Client> first_client)
      : endpoint_(std::move(endpoint)),
        bucket_(options.bucket),
        credentials_{options.access_key, options.secret_key, options.region, "s3"},
        client_options_(std::move(client_options)) {
    idle_.push_back(std::move(first_client));
  }

  // HEAD of the bucket: OK when it exists and the credentials are accepted.
  Status CheckBucket() {
    const std::string where = "bucket " + bucket_ + " at " + endpoint_.base;
    Result<http::ClientResponse> response = Send("HEAD", "/" + bucket_, {});
    if (!response.ok()) {
      return Status(response.status().code(),
                    "S3 endpoint unreachable (" + where + "): " + response.status().message());
    }
    const int status = response->status;
    if (status >= 200 && status < 300) return OkStatus();
    if (status == 404) return FailedPreconditionError("S3 " + where + " does not exist");
    if (status == 401 || status == 403) {
      return PermissionDeniedError("S3 refused the credentials for " + where + " (HTTP " +
                                   std::to_string(status) +
                                   "): check the access key, secret key and region");
    }
    return ResponseError("HEAD " + where, *response);
  }

  Status Put(std::string_view key, std::string_view bytes) override {
    BULWARK_RETURN_IF_ERROR(internal::ValidateObjectKey(key));
    const std::string what = "PUT " + std::string(key);
    BULWARK_ASSIGN_OR_RETURN(http::ClientResponse response, Send("PUT", PathOf(key), bytes));
    if (response.status >= 200 && response.status < 300) return OkStatus();
    return ResponseError(what, response);
  }

  Result<std::string> Get(std::string_view key) override {
    BULWARK_RETURN_IF_ERROR(internal::ValidateObjectKey(key));
    const std::string what = "GET " + std::string(key);
    BULWARK_ASSIGN_OR_RETURN(http::ClientResponse response, Send("GET", PathOf(key), {}));
    if (response.status == 200) return std::move(response.body);
    if (response.status >= 200 && response.status < 300) {
      return InternalError("S3 " + what + ": unexpected HTTP " + std::to_string(response.status));
    }
    return ResponseError(what, response);
  }

  Status Delete(std::string_view key) override {
    BULWARK_RETURN_IF_ERROR(internal::ValidateObjectKey(key));
    const std::string what = "DELETE " + std::string(key);
    BULWARK_ASSIGN_OR_RETURN(http::ClientResponse response, Send("DELETE", PathOf(key), {}));
    if (response.status >= 200 && response.status < 300) return OkStatus();
    Status error = ResponseError(what, response);
    // A missing object is success; a missing bucket is not (kFailedPrecondition).
    if (error.code() == StatusCode::kNotFound) return OkStatus();
    return error;
  }

  std::string Describe() const override { return "s3:" + endpoint_.base + "/" + bucket_; }

 private:
  // Keys are validated: all their characters are unreserved or '/', so this is the encoding.
  std::string PathOf(std::string_view key) const {
    return "/" + bucket_ + "/" + sigv4::UriEncode(key, /*encode_slash=*/false);
  }

  // Signs and sends one request; a Status only when no HTTP response arrived (or signing
  // failed). `path` is already encoded.
  Result<http::ClientResponse> Send(std::string_view method, const std::string& path,
                                    std::string_view body) {
    const auto now = std::chrono::system_clock::now();
    const long long seconds =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    sigv4::Request request;
    request.method = std::string(method);
    request.path = path;
    request.amz_date = sigv4::FormatAmzDate(seconds);
    request.payload_sha256 = sigv4::Sha256Hex(body);
    request.headers = {{"host", endpoint_.host},
                       {"x-amz-content-sha256", request.payload_sha256},
                       {"x-amz-date", request.amz_date}};
    BULWARK_ASSIGN_OR_RETURN(sigv4::Signature signature, sigv4::Sign(request, credentials_));
    http::ClientHeaders headers = {{"Host", endpoint_.host},
                                   {"x-amz-content-sha256", request.payload_sha256},
                                   {"x-amz-date", request.amz_date},
                                   {"Authorization", signature.authorization}};
    if (method == "PUT") headers.emplace_back("Content-Type", "application/octet-stream");

    BULWARK_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client, TakeClient());
    Result<http::ClientResponse> response =
        client->Send(method, endpoint_.base + path, headers, body);
    ReturnClient(std::move(client));
    if (!response.ok()) {
      return Status(response.status().code(),
                    "S3 " + std::string(method) + " " + path + ": " + response.status().message());
    }
    return response;
  }

  // An idle client (keep-alive connection) or a new one: concurrent calls do not wait for
  // each other.
  Result<std::unique_ptr<http::Client>> TakeClient() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<http::Client> client = std::move(idle_.back());
        idle_.pop_back();
        return client;
      }
    }
    return http::Client::Create(client_options_);
  }

  void ReturnClient(std::unique_ptr<http::Client> client) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdleClients) idle_.push_back(std::move(client));
  }

  // Constant after construction.
  const Endpoint endpoint_;
  const std::string bucket_;
  const sigv4::Credentials credentials_;
  const http::ClientOptions client_options_;

  std::mutex mu_;
  std::vector<std::unique_ptr<http::Client>> idle_;  // Guarded by mu_.
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const S3Options& options) {
  BULWARK_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(options.endpoint));
  BULWARK_RETURN_IF_ERROR(ValidateBucket(options.bucket));
  if (options.region.empty() || options.access_key.empty() || options.secret_key.empty()) {
    return InvalidArgumentError("S3 needs a region, an access key and a secret key");
  }
  if (!options.ca_file.empty() && !endpoint.base.starts_with("https://")) {
    return InvalidArgumentError("S3 ca_file is for https endpoints only");
  }
  http::ClientOptions client_options;
  client_options.ca_file = options.ca_file;
  client_options.user_agent = "bulwark-s3";
  BULWARK_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                           http::Client::Create(client_options));
  auto store = std::make_unique<S3ObjectStore>(options, std::move(endpoint),
                                               std::move(client_options), std::move(client));
  BULWARK_RETURN_IF_ERROR(store->CheckBucket());
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace bulwark::security

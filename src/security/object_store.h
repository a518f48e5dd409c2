#pragma once
// ObjectStore: where quarantined objects (already sealed, see envelope.h) are kept. A local
// directory by default, or an S3-compatible bucket for scale-out.

#include <memory>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"

namespace bulwark::security {

// Thread safety: implementations are thread-safe; concurrent Puts of one key leave one of
// the values whole.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Keys are [A-Za-z0-9_./-]{1,200} without "..", split by '/' into segments that are
  // non-empty and do not begin with '.' (so no absolute path, "//", "./" or hidden name):
  // kInvalidArgument otherwise, from every method.
  // Put replaces an existing object. Callers must not make a key a prefix of another ("a"
  // and "a/b"): the local store refuses it with kFailedPrecondition, S3 accepts both.
  // Errors of a remote store: kUnavailable (unreachable, 5xx), kDeadlineExceeded,
  // kPermissionDenied (credentials refused).
  virtual Status Put(std::string_view key, std::string_view bytes) = 0;
  virtual Result<std::string> Get(std::string_view key) = 0;  // kNotFound
  virtual Status Delete(std::string_view key) = 0;            // OK if absent
  virtual std::string Describe() const = 0;                   // e.g. "local:/var/lib/…"
};

// Files under `root` (created 0700 with missing parents), each written to a temporary name,
// fsynced and renamed (0600), so a crash never leaves a half object under its key;
// directories for key prefixes are created 0700. kInvalidArgument for an empty root,
// kFailedPrecondition when root exists and is not a directory.
Result<std::unique_ptr<ObjectStore>> OpenLocalObjectStore(const std::string& root);

struct S3Options {
  std::string endpoint;  // "http://127.0.0.1:4568" or "https://s3.example.net" (no path)
  std::string bucket;    // 3-63 characters of [a-z0-9.-]
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::string ca_file;  // https only: PEM bundle of trusted CAs; empty = the system's
};

// Objects in `bucket` at an S3-compatible endpoint, path-style ({endpoint}/{bucket}/{key}),
// every request signed with AWS Signature Version 4 (payload hash included). Opening checks
// the bucket (HEAD): kInvalidArgument for bad options, kUnavailable when the endpoint does
// not answer, kFailedPrecondition when the bucket does not exist, kPermissionDenied when
// the credentials are refused. Errors of the operations carry the S3 error code, never
// object bytes; objects over 64 MiB cannot be read back (kResourceExhausted). Requests
// time out after 30 s. Describe() is "s3:{endpoint}/{bucket}". Concurrent calls each use
// their own keep-alive connection.
Result<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const S3Options& options);

}  // namespace bulwark::security

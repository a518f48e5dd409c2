#pragma once
// Helpers private to src/security: libsodium start-up, file descriptors, directories,
// object keys.
// Not part of the module's interface.

#include <string>
#include <string_view>
#include <utility>

#include "bulwark/common/status.h"
#include "bulwark/common/unique_fd.h"

namespace bulwark::security::internal {

// Calls sodium_init() (thread-safe and idempotent in libsodium). False if it failed; the
// randombytes functions still work then (libsodium aborts if the OS has no entropy).
bool SodiumReady();

using ::bulwark::UniqueFd;

// A Status for a failed system call: "`what` `path`: strerror(err)". ENOENT becomes
// kNotFound, EEXIST kAlreadyExists, EACCES/EPERM kPermissionDenied, ENOSPC/EDQUOT/ENOMEM
// kResourceExhausted, everything else kInternal.
Status ErrnoStatus(int err, std::string_view what, std::string_view path);

// Creates `path` and its missing parents with `mode` (existing directories are left as
// they are). kFailedPrecondition when a component exists and is not a directory.
Status MakeDirs(const std::string& path, unsigned mode);

// Writes all of `bytes` to `fd`, retrying on EINTR and short writes.
Status WriteAll(int fd, std::string_view bytes, std::string_view path);

// fsync(2) of the directory `dir` (so a rename or unlink in it is durable).
Status SyncDirectory(const std::string& dir);

// The directory part of `path` ("." when there is none; "/" for "/x").
std::string DirName(const std::string& path);

// A std::string holding a secret, wiped (sodium_memzero) when it goes out of scope.
struct WipedString {
  std::string value;
  WipedString() = default;
  explicit WipedString(std::string v) : value(std::move(v)) {}
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  ~WipedString();
};

// The object key rules of ObjectStore (object_store.h), shared by every store so that a key
// valid for one backend is valid for all: kInvalidArgument with the rule broken.
Status ValidateObjectKey(std::string_view key);

}  // namespace bulwark::security::internal

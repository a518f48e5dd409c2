#pragma once
// ObjectStore: where quarantined objects (already sealed, see envelope.h) are kept. A local
// directory by default (S3-compatible storage for scale-out is planned).

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
  // Put replaces an existing object. kFailedPrecondition when a key is a prefix of another
  // ("a" and "a/b" cannot both exist).
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

}  // namespace bulwark::security

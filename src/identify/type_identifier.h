#pragma once
// TypeIdentifier: the true type of an object from its bytes. Our own checks decide the
// kinds Bulwark acts on (containers, executables, documents, mail, HTML, scripts) and
// give their MIME type; libmagic (first 16 KiB) names everything else. The file name is
// never used.

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/content/file_type.h"

namespace bulwark::identify {

// Our own signature checks only (no libmagic): kUnknown when none match.
content::FileKind SniffKind(std::string_view bytes);

class TypeIdentifier {
 public:
  // Loads the system magic database. kUnavailable when it cannot be loaded.
  static Result<std::unique_ptr<TypeIdentifier>> Create();
  ~TypeIdentifier();
  TypeIdentifier(const TypeIdentifier&) = delete;
  TypeIdentifier& operator=(const TypeIdentifier&) = delete;

  // Thread safety: callable from any thread; libmagic handles are pooled.
  content::FileType Identify(std::string_view bytes) const;

 private:
  class MagicHandle;
  TypeIdentifier() = default;
  std::unique_ptr<MagicHandle> Acquire() const;
  void Release(std::unique_ptr<MagicHandle> handle) const;

  mutable std::mutex mu_;
  mutable std::vector<std::unique_ptr<MagicHandle>> idle_;  // guarded by mu_
};

}  // namespace bulwark::identify

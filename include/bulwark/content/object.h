#pragma once
// An object is one thing being scanned: a file, a message, a part of a message, a member
// of an archive. It knows its bytes, its true type, its name and where it sits.

#include <cstddef>
#include <string>
#include <vector>

#include "bulwark/content/blob.h"
#include "bulwark/content/file_type.h"

namespace bulwark::content {

// The names from the outermost object down to this one,
// e.g. {"message.eml", "invoice.zip", "invoice.exe"}.
class ObjectPath {
 public:
  ObjectPath() = default;
  explicit ObjectPath(std::vector<std::string> parts) : parts_(std::move(parts)) {}

  ObjectPath Child(std::string name) const;
  // `prefix` followed by this path.
  ObjectPath PrefixedWith(const ObjectPath& prefix) const;
  const std::vector<std::string>& parts() const { return parts_; }
  bool empty() const { return parts_.empty(); }
  // Parts joined with " › ".
  std::string ToString() const;

  // Written out (not defaulted) so this header also compiles as C++17: see
  // src/unpackers/pdf/CMakeLists.txt.
  friend bool operator==(const ObjectPath& a, const ObjectPath& b) { return a.parts_ == b.parts_; }

 private:
  std::vector<std::string> parts_;
};

// What a detector or unpacker may look at cheaply before deciding to inspect.
struct ObjectInfo {
  std::string name;  // display name (file name, attachment name, member name); may be ""
  FileType type;
  std::size_t size = 0;
  int depth = 0;  // 0 for the outermost object
};

struct Object {
  ObjectInfo info;
  Blob data;
  std::string_view bytes() const { return data.view(); }
};

}  // namespace bulwark::content

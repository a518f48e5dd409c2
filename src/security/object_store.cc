#include "security/object_store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>

#include "security/internal.h"

namespace bulwark::security {
namespace {

// Temporary files start with '.', which no key segment may: they never collide with a key.
constexpr char kTempPattern[] = ".tmp-XXXXXX";

class LocalObjectStore final : public ObjectStore {
 public:
  explicit LocalObjectStore(std::string root) : root_(std::move(root)) {}

  Status Put(std::string_view key, std::string_view bytes) override {
    BULWARK_RETURN_IF_ERROR(internal::ValidateObjectKey(key));
    BULWARK_RETURN_IF_ERROR(MakeKeyDirectories(key));
    const std::string path = PathOf(key);
    const std::string dir = internal::DirName(path);
    std::string temp = dir + "/" + kTempPattern;
    internal::UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd.valid()) return internal::ErrnoStatus(errno, "cannot create a file in", dir);
    Status written = [&]() -> Status {
      // mkostemp's 0600 may have lost bits to the umask; the mode is exactly 0600.
      if (::fchmod(fd.get(), 0600) != 0) return internal::ErrnoStatus(errno, "fchmod", temp);
      BULWARK_RETURN_IF_ERROR(internal::WriteAll(fd.get(), bytes, temp));
      if (::fsync(fd.get()) != 0) return internal::ErrnoStatus(errno, "fsync", temp);
      BULWARK_RETURN_IF_ERROR(fd.Close());
      if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
          return FailedPreconditionError("object key " + std::string(key) +
                                         " is a prefix of other keys");
        }
        return internal::ErrnoStatus(err, "rename to", path);
      }
      return OkStatus();
    }();
    if (!written.ok()) {
      ::unlink(temp.c_str());
      return written;
    }
    return internal::SyncDirectory(dir);
  }

  Result<std::string> Get(std::string_view key) override {
    BULWARK_RETURN_IF_ERROR(internal::ValidateObjectKey(key));
    const std::string path = PathOf(key);
    internal::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.valid()) {
      const int err = errno;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP) return NotFound(key);
      return internal::ErrnoStatus(err, "open", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return internal::ErrnoStatus(errno, "fstat", path);
    if (!S_ISREG(st.st_mode)) return NotFound(key);
    std::string bytes;
    bytes.reserve(static_cast<std::size_t>(st.st_size));
    char buffer[64 * 1024];
    while (true) {
      const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
      if (n < 0) {
        if (errno == EINTR) continue;
        return internal::ErrnoStatus(errno, "read", path);
      }
      if (n == 0) break;
      bytes.append(buffer, static_cast<std::size_t>(n));
    }
    return bytes;
  }

  Status Delete(std::string_view key) override {
    BULWARK_RETURN_IF_ERROR(internal::ValidateObjectKey(key));
    const std::string path = PathOf(key);
    if (::unlink(path.c_str()) != 0) {
      const int err = errno;
      // Absent, or a directory (a prefix of other keys, not an object).
      if (err == ENOENT || err == ENOTDIR || err == EISDIR) return OkStatus();
      return internal::ErrnoStatus(err, "unlink", path);
    }
    return internal::SyncDirectory(internal::DirName(path));
  }

  std::string Describe() const override { return "local:" + (root_.empty() ? "/" : root_); }

 private:
  std::string PathOf(std::string_view key) const { return root_ + "/" + std::string(key); }

  static Status NotFound(std::string_view key) {
    return NotFoundError("no object " + std::string(key));
  }

  // Creates the directories of `key`'s prefixes ("a" and "a/b" for "a/b/c"), 0700.
  Status MakeKeyDirectories(std::string_view key) const {
    for (std::size_t slash = key.find('/'); slash != std::string_view::npos;
         slash = key.find('/', slash + 1)) {
      const std::string dir = PathOf(key.substr(0, slash));
      if (::mkdir(dir.c_str(), 0700) == 0) {
        // The new directory's entry must be durable too, or the object could vanish with it.
        BULWARK_RETURN_IF_ERROR(internal::SyncDirectory(internal::DirName(dir)));
        continue;
      }
      const int err = errno;
      if (err == ENOTDIR) {
        return FailedPreconditionError("a prefix of object key " + std::string(key) +
                                       " is an object");
      }
      if (err != EEXIST) return internal::ErrnoStatus(err, "mkdir", dir);
      struct stat st {};
      if (::lstat(dir.c_str(), &st) != 0) return internal::ErrnoStatus(errno, "lstat", dir);
      if (!S_ISDIR(st.st_mode)) {
        return FailedPreconditionError("a prefix of object key " + std::string(key) +
                                       " is an object");
      }
    }
    return OkStatus();
  }

  const std::string root_;  // Constant after construction; no trailing '/' ("" for "/").
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenLocalObjectStore(const std::string& root) {
  if (root.empty()) return InvalidArgumentError("empty object store root");
  std::string normalized = root;
  while (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  BULWARK_RETURN_IF_ERROR(internal::MakeDirs(normalized, 0700));
  if (::access(normalized.c_str(), W_OK | X_OK) != 0) {
    return internal::ErrnoStatus(errno, "object store root not writable:", normalized);
  }
  // "/" + "/" + key would start with "//"; harmless, but keep paths tidy.
  if (normalized == "/") normalized.clear();
  return std::unique_ptr<ObjectStore>(std::make_unique<LocalObjectStore>(std::move(normalized)));
}

}  // namespace bulwark::security

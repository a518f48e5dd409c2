#include "security/internal.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace bulwark::security::internal {

bool SodiumReady() { return sodium_init() >= 0; }

Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string message(what);
  if (!path.empty()) {
    message += ' ';
    message += path;
  }
  message += ": ";
  message += std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFoundError(std::move(message));
    case EEXIST:
      return Status(StatusCode::kAlreadyExists, std::move(message));
    case EACCES:
    case EPERM:
      return PermissionDeniedError(std::move(message));
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
      return ResourceExhaustedError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

Status MakeDirs(const std::string& path, unsigned mode) {
  if (path.empty()) return InvalidArgumentError("empty directory path");
  // Walk the components left to right; each prefix ending before a '/' (and the whole path)
  // must be a directory, created when missing.
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    if (path[pos - 1] == '/') continue;  // "//" or a trailing '/'
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), static_cast<mode_t>(mode)) == 0) continue;
    int err = errno;
    if (err != EEXIST) return ErrnoStatus(err, "mkdir", prefix);
    struct stat st {};
    if (::stat(prefix.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", prefix);
    if (!S_ISDIR(st.st_mode)) {
      return FailedPreconditionError(prefix + " exists and is not a directory");
    }
  }
  return OkStatus();
}

Status WriteAll(int fd, std::string_view bytes, std::string_view path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return OkStatus();
}

Status SyncDirectory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open", dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync", dir);
  return fd.Close();
}

std::string DirName(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

namespace {

constexpr std::size_t kMaxKeySize = 200;

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeySize) {
    return InvalidArgumentError("object key must be 1 to 200 characters");
  }
  for (char c : key) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' || c == '-';
    if (!allowed) return InvalidArgumentError("object key has a character outside [A-Za-z0-9_./-]");
  }
  if (key.find("..") != std::string_view::npos) {
    return InvalidArgumentError("object key must not contain \"..\"");
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = key.find('/', start);
    const std::string_view segment =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty() || segment.front() == '.') {
      return InvalidArgumentError(
          "object key segments must be non-empty and not begin with '.' (no absolute path)");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return OkStatus();
}

WipedString::~WipedString() {
  if (!value.empty()) sodium_memzero(value.data(), value.size());
}

}  // namespace bulwark::security::internal

#include "bulwark/content/blob.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bulwark::content {
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status ErrnoStatus(int err, const std::string& what) {
  std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: return NotFoundError(message);
    case EACCES:
    case EPERM: return PermissionDeniedError(message);
    default: return InternalError(message);
  }
}

void Wipe(std::string& bytes) {
  if (!bytes.empty()) explicit_bzero(bytes.data(), bytes.size());
}

}  // namespace

// Heap bytes, wiped before release so no copy of content lingers in freed memory.
struct Blob::Storage {
  std::string bytes;
  explicit Storage(std::string b) : bytes(std::move(b)) {}
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() { Wipe(bytes); }
};

Blob::Blob() = default;
Blob::~Blob() = default;
Blob::Blob(Blob&&) noexcept = default;
Blob& Blob::operator=(Blob&&) noexcept = default;

Blob Blob::Own(std::string bytes) {
  Blob blob;
  blob.storage_ = std::make_unique<Storage>(std::move(bytes));
  blob.view_ = blob.storage_->bytes;
  return blob;
}

Blob Blob::Copy(std::string_view bytes) { return Own(std::string(bytes)); }

Result<Blob> Blob::ReadDescriptor(int fd, std::size_t max_bytes) {
  std::string bytes;
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      Wipe(bytes);
      return ErrnoStatus(err, "read");
    }
    if (bytes.size() + static_cast<std::size_t>(n) > max_bytes) {
      Wipe(bytes);
      return ResourceExhaustedError("input is over the limit of " + std::to_string(max_bytes) +
                                    " bytes");
    }
    bytes.append(chunk, static_cast<std::size_t>(n));
  }
  explicit_bzero(chunk, sizeof(chunk));
  return Blob::Own(std::move(bytes));
}

Result<Blob> Blob::ReadFile(const std::string& path, std::size_t max_bytes) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return ErrnoStatus(errno, path);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, path);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(path + ": not a regular file");
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > max_bytes) {
    return ResourceExhaustedError(path + ": file is " + std::to_string(size) +
                                  " bytes, over the limit of " + std::to_string(max_bytes));
  }
  std::string bytes(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd.get(), bytes.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      Wipe(bytes);
      return ErrnoStatus(err, path);
    }
    if (n == 0) break;  // truncated while reading: scan what is there
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  return Blob::Own(std::move(bytes));
}

}  // namespace bulwark::content

#include "bulwark/common/unique_fd.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace bulwark {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Status UniqueFd::Close() {
  if (fd_ < 0) return OkStatus();
  int fd = Release();
  // Linux closes the descriptor even when close() reports EINTR: never retry.
  if (::close(fd) != 0 && errno != EINTR) {
    return InternalError(std::string("close: ") + std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace bulwark

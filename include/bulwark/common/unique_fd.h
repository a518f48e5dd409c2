#pragma once
// UniqueFd: an owned POSIX file descriptor, closed on destruction. -1 means none.

#include "bulwark/common/status.h"

namespace bulwark {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  // close(2) with its result (for files whose last write must be checked).
  Status Close();

 private:
  int fd_ = -1;
};

}  // namespace bulwark

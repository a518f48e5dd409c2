#pragma once
// Blob: immutable bytes of one object, owned in memory.
//
// Privacy: a Blob never writes its bytes anywhere. Its bytes live on the heap and are
// zeroed when the Blob is destroyed.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"

namespace bulwark::content {

class Blob {
 public:
  Blob();
  ~Blob();
  Blob(Blob&&) noexcept;
  Blob& operator=(Blob&&) noexcept;
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;

  static Blob Own(std::string bytes);
  static Blob Copy(std::string_view bytes);
  // Reads a regular file into memory (read(2), not mmap: a file truncated while it is
  // scanned must not crash the scanner). kInvalidArgument for a non-regular file,
  // kResourceExhausted when it is larger than `max_bytes`, kNotFound/kPermissionDenied
  // as the OS reports.
  static Result<Blob> ReadFile(const std::string& path, std::size_t max_bytes);
  // Reads a stream (standard input) to its end; kResourceExhausted past `max_bytes`.
  static Result<Blob> ReadDescriptor(int fd, std::size_t max_bytes);

  std::string_view view() const { return view_; }
  std::size_t size() const { return view_.size(); }
  const char* data() const { return view_.data(); }

 private:
  struct Storage;
  std::unique_ptr<Storage> storage_;  // owns what view_ points into
  std::string_view view_;
};

}  // namespace bulwark::content

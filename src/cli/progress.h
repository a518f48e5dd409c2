#pragma once
// A one-line progress bar on a terminal (standard error), redrawn at most 10 times a
// second. Does nothing when disabled.

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace bulwark::cli {

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::uint64_t total_objects, std::uint64_t total_bytes);
  ~ProgressBar();  // clears the line
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Advance(std::uint64_t bytes);
  // Clears the bar so a result line can be printed; the next Advance redraws it.
  void Clear();

 private:
  void Draw();

  bool enabled_;
  std::uint64_t total_objects_;
  std::uint64_t total_bytes_;
  std::uint64_t done_objects_ = 0;
  std::uint64_t done_bytes_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace bulwark::cli

#include "cli/progress.h"

#include <string>

namespace bulwark::cli {

ProgressBar::ProgressBar(bool enabled, std::uint64_t total_objects, std::uint64_t total_bytes)
    : enabled_(enabled),
      total_objects_(total_objects),
      total_bytes_(total_bytes),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Advance(std::uint64_t bytes) {
  ++done_objects_;
  done_bytes_ += bytes;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && done_objects_ < total_objects_) {
    return;
  }
  last_draw_ = now;
  Draw();
}

void ProgressBar::Clear() {
  if (!enabled_ || !drawn_) return;
  std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

void ProgressBar::Draw() {
  constexpr int kWidth = 30;
  double fraction = total_bytes_ > 0 ? static_cast<double>(done_bytes_) / static_cast<double>(total_bytes_)
                                     : (total_objects_ > 0 ? static_cast<double>(done_objects_) /
                                                                 static_cast<double>(total_objects_)
                                                           : 1.0);
  if (fraction > 1.0) fraction = 1.0;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double mb = static_cast<double>(done_bytes_) / 1e6;
  std::fprintf(stderr, "\r\033[K[%s] %3d%%  %llu/%llu files  %.1f MB  %.1f MB/s", bar.c_str(),
               static_cast<int>(fraction * 100), static_cast<unsigned long long>(done_objects_),
               static_cast<unsigned long long>(total_objects_), mb, seconds > 0 ? mb / seconds : 0.0);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace bulwark::cli

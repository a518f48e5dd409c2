#include "bulwark/engine/scan_context.h"

#include <algorithm>

namespace bulwark::engine {

int ScanContext::SecondsLeft() const {
  auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline_ - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 1, 3600));
}

bool ScanContext::TryAddObject() {
  if (objects_ >= limits_.max_objects) return false;
  ++objects_;
  return true;
}

bool ScanContext::TryAddBytes(std::uint64_t bytes) {
  if (bytes > limits_.max_total_bytes - std::min(bytes_, limits_.max_total_bytes)) return false;
  bytes_ += bytes;
  return true;
}

void ScanContext::NoteUrl(std::string url) {
  ++urls_noted_;
  if (urls_.size() >= kMaxUrls || url_set_.contains(url)) return;
  url_set_.insert(url);
  urls_.push_back(std::move(url));
}

}  // namespace bulwark::engine

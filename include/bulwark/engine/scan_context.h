#pragma once
// ScanContext: the state of one scan (budgets, deadline). One per scan, used by one
// thread at a time; detectors and unpackers receive it by reference.

#include <chrono>
#include <cstdint>

#include "bulwark/engine/finding.h"
#include "bulwark/engine/limits.h"

namespace bulwark::engine {

class ScanContext {
 public:
  using Clock = std::chrono::steady_clock;

  ScanContext(const Limits& limits, Clock::time_point start)
      : limits_(limits), deadline_(start + limits.max_scan_time) {}

  const Limits& limits() const { return limits_; }
  Clock::time_point deadline() const { return deadline_; }
  bool Expired() const { return Clock::now() >= deadline_; }
  // Whole seconds left (at least 1) for libraries that take a timeout in seconds.
  int SecondsLeft() const;

  // Counts the outermost object, which is scanned whatever the budgets say.
  void AddRoot(std::uint64_t bytes) {
    ++objects_;
    bytes_ += bytes;
  }
  // Budget accounting; each returns false (and consumes nothing) when the budget is spent.
  bool TryAddObject();
  bool TryAddBytes(std::uint64_t bytes);

  std::uint64_t objects() const { return objects_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  const Limits& limits_;
  Clock::time_point deadline_;
  std::uint64_t objects_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace bulwark::engine

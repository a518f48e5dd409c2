#pragma once
// ScanContext: the state of one scan (budgets, deadline, the URLs seen). One per scan,
// used by one thread at a time; detectors and unpackers receive it by reference.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "bulwark/engine/finding.h"
#include "bulwark/engine/limits.h"
#include "bulwark/engine/root_forms.h"

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

  // At most this many distinct URLs are kept per scan.
  static constexpr std::size_t kMaxUrls = 1000;
  // Records a URL found in any object of the scan (already normalised by the detector that
  // found it). Duplicates and URLs past kMaxUrls are dropped; the first kMaxUrls distinct
  // URLs are kept in the order noted. The engine puts them into ScanReport::urls.
  void NoteUrl(std::string url);
  // How many times NoteUrl was called, duplicates and dropped URLs included: the engine
  // compares it before and after an object to tell whether the object held URLs.
  std::uint64_t urls_noted() const { return urls_noted_; }
  const std::vector<std::string>& urls() const { return urls_; }
  std::vector<std::string> TakeUrls() { return std::move(urls_); }

  // Forms of the outermost object built by one step for later ones (root_forms.h).
  RootForms& root_forms() { return root_forms_; }
  const RootForms& root_forms() const { return root_forms_; }

 private:
  const Limits& limits_;
  Clock::time_point deadline_;
  std::uint64_t objects_ = 0;
  std::uint64_t bytes_ = 0;
  // The distinct URLs kept, in order; url_set_ holds the same strings.
  std::vector<std::string> urls_;
  std::unordered_set<std::string> url_set_;
  std::uint64_t urls_noted_ = 0;
  RootForms root_forms_;
};

}  // namespace bulwark::engine

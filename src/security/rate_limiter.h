#pragma once
// RateLimiter: token buckets keyed by string (token id, tenant id, login name, client IP).
// Thread-safe; memory bounded (least recently used keys are dropped beyond max_keys, and a
// dropped key starts again with a full bucket).

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace bulwark::security {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // Expected: rate_per_second > 0, burst >= 1, max_keys >= 1 (config validation checks).
  // Out-of-range values are clamped rather than trusted: max_keys to at least 1; a rate that
  // is not positive never refills (retry_after is then the one-day cap).
  struct Options {
    double rate_per_second = 10;  // refill
    double burst = 20;            // bucket size; a new key starts full
    std::size_t max_keys = 100000;
  };
  struct Decision {
    bool allowed = true;
    // When not allowed: until `cost` tokens are back, rounded up to whole seconds, at least
    // 1 s, at most one day (also for a cost above burst, which is never allowed).
    std::chrono::seconds retry_after{0};
  };

  explicit RateLimiter(Options options);
  // Takes `cost` tokens from `key`'s bucket if it has them; a refusal takes nothing.
  // `now` is injectable for tests; a `now` earlier than the bucket's last update adds nothing.
  Decision Take(const std::string& key, double cost = 1, Clock::time_point now = Clock::now());
  // Number of keys currently tracked (≤ max_keys).
  std::size_t Size() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
    std::list<std::string>::iterator lru;
  };
  const Options options_;  // Constant after construction.
  mutable std::mutex mutex_;
  // Guarded by mutex_; lru_ holds exactly the keys of buckets_.
  std::unordered_map<std::string, Bucket> buckets_;
  std::list<std::string> lru_;  // most recent at front
};

}  // namespace bulwark::security

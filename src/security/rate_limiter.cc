#include "security/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace bulwark::security {
namespace {

constexpr double kMaxRetrySeconds = 24 * 60 * 60;

RateLimiter::Options Clamped(RateLimiter::Options options) {
  options.max_keys = std::max<std::size_t>(options.max_keys, 1);
  if (!(options.burst >= 0)) options.burst = 0;  // also NaN
  if (!(options.rate_per_second > 0) || !std::isfinite(options.rate_per_second)) {
    options.rate_per_second = 0;
  }
  return options;
}

}  // namespace

RateLimiter::RateLimiter(Options options) : options_(Clamped(options)) {}

RateLimiter::Decision RateLimiter::Take(const std::string& key, double cost,
                                        Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_keys) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = buckets_.emplace(key, Bucket{options_.burst, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    Bucket& bucket = it->second;
    if (now > bucket.updated) {
      const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
      bucket.tokens = std::min(options_.burst, bucket.tokens + elapsed * options_.rate_per_second);
      bucket.updated = now;
    }
  }

  Bucket& bucket = it->second;
  if (!(cost > 0)) return Decision{};  // nothing to take (also NaN)
  if (cost <= bucket.tokens) {
    bucket.tokens -= cost;
    return Decision{};
  }
  double seconds = kMaxRetrySeconds;
  if (cost <= options_.burst && options_.rate_per_second > 0) {
    seconds = std::clamp(std::ceil((cost - bucket.tokens) / options_.rate_per_second), 1.0,
                         kMaxRetrySeconds);
  }
  return Decision{false, std::chrono::seconds(static_cast<std::int64_t>(seconds))};
}

std::size_t RateLimiter::Size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buckets_.size();
}

}  // namespace bulwark::security

#include "security/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace bulwark::security {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A fixed start; tests move time by hand, never by the wall clock.
const RateLimiter::Clock::time_point kStart{seconds(1000)};

TEST(RateLimiterTest, AllowsABurstThenRefuses) {
  RateLimiter limiter({.rate_per_second = 1, .burst = 5, .max_keys = 10});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Take("k", 1, kStart).allowed) << i;
  RateLimiter::Decision refused = limiter.Take("k", 1, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, seconds(1));
  // Another key has its own bucket.
  EXPECT_TRUE(limiter.Take("other", 1, kStart).allowed);
}

TEST(RateLimiterTest, RefillsWithTimeUpToTheBurst) {
  RateLimiter limiter({.rate_per_second = 2, .burst = 4, .max_keys = 10});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.Take("k", 1, kStart).allowed);
  ASSERT_FALSE(limiter.Take("k", 1, kStart).allowed);
  // Half a second brings one token back (2 per second).
  EXPECT_TRUE(limiter.Take("k", 1, kStart + milliseconds(500)).allowed);
  EXPECT_FALSE(limiter.Take("k", 1, kStart + milliseconds(500)).allowed);
  // A long pause refills to the burst, not beyond.
  const auto later = kStart + seconds(3600);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Take("k", 1, later).allowed) << i;
  EXPECT_FALSE(limiter.Take("k", 1, later).allowed);
}

TEST(RateLimiterTest, RefusalsTakeNothing) {
  RateLimiter limiter({.rate_per_second = 1, .burst = 1, .max_keys = 10});
  ASSERT_TRUE(limiter.Take("k", 1, kStart).allowed);
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(limiter.Take("k", 1, kStart).allowed);
  EXPECT_TRUE(limiter.Take("k", 1, kStart + seconds(1)).allowed);
}

TEST(RateLimiterTest, RetryAfterRoundsUpToWholeSecondsAtLeastOne) {
  RateLimiter limiter({.rate_per_second = 0.1, .burst = 3, .max_keys = 10});
  ASSERT_TRUE(limiter.Take("k", 3, kStart).allowed);
  // Empty; one token takes 10 s at 0.1/s.
  EXPECT_EQ(limiter.Take("k", 1, kStart).retry_after, seconds(10));
  // Two tokens take 20 s; 2.5 tokens 25 s.
  EXPECT_EQ(limiter.Take("k", 2, kStart).retry_after, seconds(20));
  EXPECT_EQ(limiter.Take("k", 2.5, kStart).retry_after, seconds(25));
  // 4.5 s later there are 0.45 tokens: 5.5 s to go, rounded up to 6.
  EXPECT_EQ(limiter.Take("k", 1, kStart + milliseconds(4500)).retry_after, seconds(6));

  RateLimiter fast({.rate_per_second = 1000, .burst = 1, .max_keys = 10});
  ASSERT_TRUE(fast.Take("k", 1, kStart).allowed);
  RateLimiter::Decision refused = fast.Take("k", 1, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, seconds(1));  // 1 ms, but never less than a second
}

TEST(RateLimiterTest, CostAboveBurstIsNeverAllowed) {
  RateLimiter limiter({.rate_per_second = 1, .burst = 5, .max_keys = 10});
  RateLimiter::Decision refused = limiter.Take("k", 6, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, seconds(24 * 60 * 60));
  // It took nothing.
  EXPECT_TRUE(limiter.Take("k", 5, kStart).allowed);
}

TEST(RateLimiterTest, TimeGoingBackwardsAddsNothing) {
  RateLimiter limiter({.rate_per_second = 1, .burst = 2, .max_keys = 10});
  ASSERT_TRUE(limiter.Take("k", 2, kStart + seconds(10)).allowed);
  EXPECT_FALSE(limiter.Take("k", 1, kStart).allowed);
  EXPECT_FALSE(limiter.Take("k", 1, kStart + seconds(10)).allowed);
  EXPECT_TRUE(limiter.Take("k", 1, kStart + seconds(11)).allowed);
}

TEST(RateLimiterTest, DropsTheLeastRecentlyUsedKeyBeyondTheBound) {
  RateLimiter limiter({.rate_per_second = 0.001, .burst = 1, .max_keys = 3});
  ASSERT_TRUE(limiter.Take("a", 1, kStart).allowed);
  ASSERT_TRUE(limiter.Take("b", 1, kStart).allowed);
  ASSERT_TRUE(limiter.Take("c", 1, kStart).allowed);
  EXPECT_EQ(limiter.Size(), 3u);
  // Touch "a" so that "b" is now the least recently used.
  EXPECT_FALSE(limiter.Take("a", 1, kStart).allowed);
  ASSERT_TRUE(limiter.Take("d", 1, kStart).allowed);
  EXPECT_EQ(limiter.Size(), 3u);
  // "b" was dropped and starts again full; "a", "c" and "d" are still empty.
  EXPECT_FALSE(limiter.Take("a", 1, kStart).allowed);
  EXPECT_FALSE(limiter.Take("c", 1, kStart).allowed);
  EXPECT_FALSE(limiter.Take("d", 1, kStart).allowed);
  EXPECT_TRUE(limiter.Take("b", 1, kStart).allowed);  // this drops "a"
  EXPECT_EQ(limiter.Size(), 3u);
  EXPECT_TRUE(limiter.Take("a", 1, kStart).allowed);
}

TEST(RateLimiterTest, ManyKeysStayWithinTheBound) {
  RateLimiter limiter({.rate_per_second = 1, .burst = 1, .max_keys = 100});
  for (int i = 0; i < 10000; ++i) limiter.Take("key-" + std::to_string(i), 1, kStart);
  EXPECT_EQ(limiter.Size(), 100u);
  RateLimiter one({.rate_per_second = 1, .burst = 1, .max_keys = 0});  // clamped to 1
  one.Take("a", 1, kStart);
  one.Take("b", 1, kStart);
  EXPECT_EQ(one.Size(), 1u);
}

TEST(RateLimiterTest, NonPositiveRateNeverRefills) {
  RateLimiter limiter({.rate_per_second = 0, .burst = 1, .max_keys = 10});
  ASSERT_TRUE(limiter.Take("k", 1, kStart).allowed);
  RateLimiter::Decision refused = limiter.Take("k", 1, kStart + seconds(100000));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, seconds(24 * 60 * 60));
}

TEST(RateLimiterTest, ConcurrentTakesNeverOverspend) {
  RateLimiter limiter({.rate_per_second = 0.001, .burst = 100, .max_keys = 10});
  std::vector<int> allowed(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&limiter, &allowed, t] {
      for (int i = 0; i < 100; ++i)
        allowed[static_cast<std::size_t>(t)] += limiter.Take("shared", 1, kStart).allowed ? 1 : 0;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed[0] + allowed[1] + allowed[2] + allowed[3], 100);
}

}  // namespace
}  // namespace bulwark::security

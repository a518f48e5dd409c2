#include "engine/verdict_cache.h"

#include <gtest/gtest.h>

namespace bulwark::engine {
namespace {

TEST(VerdictCacheTest, KeyIncludesSignatureVersion) {
  VerdictCache cache(100);
  auto digest = crypto::Sha256("object");
  Finding f;
  f.name = "X";
  cache.Insert(digest, "v1", {f});
  ASSERT_TRUE(cache.Find(digest, "v1").has_value());
  EXPECT_EQ(cache.Find(digest, "v1")->at(0).name, "X");
  EXPECT_FALSE(cache.Find(digest, "v2").has_value());
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(VerdictCacheTest, EvictsLeastRecentlyUsed) {
  VerdictCache cache(16);  // one entry per shard
  std::vector<crypto::Sha256Digest> digests;
  for (int i = 0; i < 200; ++i) {
    digests.push_back(crypto::Sha256(std::to_string(i)));
    cache.Insert(digests.back(), "v", {});
  }
  EXPECT_LE(cache.size(), 16u);
  EXPECT_TRUE(cache.Find(digests.back(), "v").has_value());
}

TEST(VerdictCacheTest, ZeroCapacityDisables) {
  VerdictCache cache(0);
  auto digest = crypto::Sha256("object");
  cache.Insert(digest, "v", {});
  EXPECT_FALSE(cache.Find(digest, "v").has_value());
}

}  // namespace
}  // namespace bulwark::engine

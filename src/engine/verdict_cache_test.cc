#include "engine/verdict_cache.h"

#include <gtest/gtest.h>

namespace bulwark::engine {
namespace {

VerdictCache::Key KeyOf(const std::string& bytes, const std::string& version = "v1",
                        const std::string& name = "a.bin", int depth = 1) {
  return VerdictCache::KeyFor(crypto::Sha256(bytes), version, name, depth);
}

TEST(VerdictCacheTest, KeyIncludesSignatureVersionNameAndDepth) {
  VerdictCache cache(100);
  Finding f;
  f.name = "X";
  cache.Insert(KeyOf("object"), {f});
  ASSERT_TRUE(cache.Find(KeyOf("object")).has_value());
  EXPECT_EQ(cache.Find(KeyOf("object"))->at(0).name, "X");
  EXPECT_FALSE(cache.Find(KeyOf("object", "v2")).has_value());
  // Detectors look at names (double extensions) and depth: neither may be served from
  // another context's result.
  EXPECT_FALSE(cache.Find(KeyOf("object", "v1", "invoice.pdf.exe")).has_value());
  EXPECT_FALSE(cache.Find(KeyOf("object", "v1", "a.bin", 0)).has_value());
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 3u);
}

TEST(VerdictCacheTest, EvictsLeastRecentlyUsed) {
  VerdictCache cache(16);  // one entry per shard
  std::vector<VerdictCache::Key> keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back(KeyOf(std::to_string(i)));
    cache.Insert(keys.back(), {});
  }
  EXPECT_LE(cache.size(), 16u);
  EXPECT_TRUE(cache.Find(keys.back()).has_value());
}

TEST(VerdictCacheTest, ZeroCapacityDisables) {
  VerdictCache cache(0);
  cache.Insert(KeyOf("object"), {});
  EXPECT_FALSE(cache.Find(KeyOf("object")).has_value());
}

}  // namespace
}  // namespace bulwark::engine

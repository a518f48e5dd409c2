#pragma once
// VerdictCache: findings of already-scanned objects. The key is a SHA-256 over the
// object's SHA-256, the signature version, and the two things besides the bytes that
// detectors may look at: the object's name (double extensions, YARA's `filename`) and its
// depth (members of containers). It holds hashes and metadata (rule names, member
// names) only, never content, so a cache dump cannot be turned back into a message or
// file.
//
// Thread safety: all methods may be called concurrently (sharded, one mutex a shard).

#include <array>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bulwark/engine/finding.h"
#include "crypto/sha256.h"

namespace bulwark::engine {

class VerdictCache {
 public:
  // At most `capacity` entries; least recently used entries are evicted.
  explicit VerdictCache(std::size_t capacity);

  using Key = crypto::Sha256Digest;
  static Key KeyFor(const crypto::Sha256Digest& object, std::string_view signature_version,
                    std::string_view name, int depth);

  // Findings relative to the object (paths below it), or nullopt.
  std::optional<std::vector<Finding>> Find(const Key& key);
  void Insert(const Key& key, std::vector<Finding> findings);

  std::uint64_t hits() const;
  std::uint64_t misses() const;
  std::uint64_t size() const;

 private:
  static constexpr std::size_t kShards = 16;
  struct KeyHash {
    std::size_t operator()(const Key& key) const;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Key> recency;  // most recent first
    struct Entry {
      std::vector<Finding> findings;
      std::list<Key>::iterator position;
    };
    std::unordered_map<Key, Entry, KeyHash> entries;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
  };

  Shard& ShardFor(const Key& key) { return shards_[key[0] % kShards]; }

  std::size_t capacity_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace bulwark::engine

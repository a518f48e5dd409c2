#include "engine/verdict_cache.h"

#include <cstring>

namespace bulwark::engine {

VerdictCache::VerdictCache(std::size_t capacity)
    : capacity_per_shard_(capacity == 0 ? 0 : (capacity + kShards - 1) / kShards) {}

std::size_t VerdictCache::KeyHash::operator()(const Key& key) const {
  std::size_t value;
  std::memcpy(&value, key.data() + 1, sizeof(value));
  return value;
}

VerdictCache::Key VerdictCache::KeyFor(const crypto::Sha256Digest& object,
                                       std::string_view signature_version, std::string_view name,
                                       int depth) {
  std::string material(reinterpret_cast<const char*>(object.data()), object.size());
  material += signature_version;
  material.push_back('\0');
  material += name;
  material.push_back('\0');
  material += std::to_string(depth);
  return crypto::Sha256(material);
}

std::optional<std::vector<Finding>> VerdictCache::Find(const Key& key) {
  if (capacity_per_shard_ == 0) return std::nullopt;
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    ++shard.misses;
    return std::nullopt;
  }
  ++shard.hits;
  shard.recency.splice(shard.recency.begin(), shard.recency, it->second.position);
  return it->second.findings;
}

void VerdictCache::Insert(const Key& key, std::vector<Finding> findings) {
  if (capacity_per_shard_ == 0) return;
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it != shard.entries.end()) {
    it->second.findings = std::move(findings);
    shard.recency.splice(shard.recency.begin(), shard.recency, it->second.position);
    return;
  }
  if (shard.entries.size() >= capacity_per_shard_) {
    shard.entries.erase(shard.recency.back());
    shard.recency.pop_back();
  }
  shard.recency.push_front(key);
  shard.entries.emplace(key, Shard::Entry{std::move(findings), shard.recency.begin()});
}

std::uint64_t VerdictCache::hits() const {
  std::uint64_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    total += shard.hits;
  }
  return total;
}

std::uint64_t VerdictCache::misses() const {
  std::uint64_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    total += shard.misses;
  }
  return total;
}

std::uint64_t VerdictCache::size() const {
  std::uint64_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    total += shard.entries.size();
  }
  return total;
}

}  // namespace bulwark::engine

#pragma once
// Engine: identifies, unpacks (recursively, within limits) and inspects objects, and
// turns the findings into a verdict. One Engine serves every thread of a process.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/content/object.h"
#include "bulwark/engine/finding.h"
#include "bulwark/engine/limits.h"
#include "bulwark/engine/registry.h"
#include "bulwark/policy/verdict.h"

namespace bulwark::engine {

struct EngineOptions {
  Limits limits;
  SignatureSources signatures;
  // Verdict cache entries (hashes and findings only, never content). 0 disables it.
  std::size_t cache_entries = 200000;
};

struct ScanReport {
  std::string name;
  std::string sha256;  // of the outermost object, lowercase hex
  content::FileType type;
  std::uint64_t size = 0;
  policy::Verdict verdict;
  std::vector<Finding> findings;      // paths below the outermost object
  std::uint64_t objects_scanned = 0;  // this object and everything unpacked from it
  std::uint64_t bytes_scanned = 0;
  bool cached = false;  // the outermost object's result came from the verdict cache
  std::chrono::microseconds duration{0};
  std::string signature_version;
  // Every URL the detectors found in this object and everything unpacked from it,
  // normalised (see bulwark/urls/url_match.h), de-duplicated, at most
  // ScanContext::kMaxUrls, in the order found. Never fetched by the engine. URLs can carry
  // one-time tokens: callers match them against lists and must not log or store them.
  std::vector<std::string> urls;
};

struct CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t entries = 0;
};

class Engine {
 public:
  // Loads signatures once (as Reload does). Fails with the first detector's error.
  static Result<std::unique_ptr<Engine>> Create(EngineOptions options, Registry registry);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Scans `object` (its info.name is the display name; type and size are filled in).
  // Never fails: anything that prevents a full scan is an kUnscannable finding.
  // Thread safety: may be called from any number of threads at once.
  ScanReport Scan(content::Object object) const;

  // Runs the assessors (bulwark/engine/assessor.h) again over `report` after the caller
  // added findings of its own to it — per-tenant checks such as impersonation or the
  // tenant's URL lists — so that scan-wide judgements such as the phishing score weigh
  // them too. `bytes` are the object `report` was made from. The findings the assessors
  // made before are replaced; report.verdict is decided again.
  // Thread safety: as Scan().
  void Reassess(std::string_view bytes, ScanReport& report) const;

  // Builds a fresh detector set from the signature sources on the calling thread, then
  // swaps it in atomically. Scans in flight finish on the set they started with. On
  // error the current set stays in use and the error is returned.
  // Thread safety: may run concurrently with scans; concurrent reloads are serialised.
  Status Reload();

  // Identifies the loaded signature set; part of every verdict cache key.
  std::string signature_version() const;
  CacheStats cache_stats() const;
  const Limits& limits() const;

 private:
  class Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::engine

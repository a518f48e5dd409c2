#pragma once
// ScanPool: runs scans on a fixed set of worker threads (every core by default).

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "bulwark/engine/engine.h"

namespace bulwark::engine {

class ScanPool {
 public:
  // `threads` == 0 means std::thread::hardware_concurrency(). `engine` must outlive
  // the pool.
  ScanPool(const Engine& engine, unsigned threads);
  // Finishes queued scans, then joins the workers.
  ~ScanPool();
  ScanPool(const ScanPool&) = delete;
  ScanPool& operator=(const ScanPool&) = delete;

  std::future<ScanReport> Submit(content::Object object);
  unsigned threads() const { return static_cast<unsigned>(workers_.size()); }

 private:
  void Work();

  const Engine& engine_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<ScanReport()>> queue_;  // guarded by mu_
  bool stopping_ = false;                               // guarded by mu_
  std::vector<std::jthread> workers_;
};

}  // namespace bulwark::engine

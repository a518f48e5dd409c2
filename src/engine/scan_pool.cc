#include "bulwark/engine/scan_pool.h"

namespace bulwark::engine {

ScanPool::ScanPool(const Engine& engine, unsigned threads) : engine_(engine) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

ScanPool::~ScanPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  workers_.clear();  // joins
}

std::future<ScanReport> ScanPool::Submit(content::Object object) {
  std::packaged_task<ScanReport()> task(
      [this, object = std::move(object)]() mutable { return engine_.Scan(std::move(object)); });
  auto future = task.get_future();
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return future;
}

void ScanPool::Work() {
  for (;;) {
    std::packaged_task<ScanReport()> task;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace bulwark::engine

#include "http/worker_pool.h"

#include <utility>

#include "http/metrics.h"

namespace bulwark::http {

WorkerPool::WorkerPool(int threads, std::size_t max_queued, Gauge* depth)
    : thread_count_(threads < 1 ? 1 : threads), max_queued_(max_queued), depth_(depth) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  std::lock_guard lock(mu_);
  if (!threads_.empty() || stopping_) return;
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { Run(); });
}

bool WorkerPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    std::size_t idle = static_cast<std::size_t>(idle_);
    if (queue_.size() >= max_queued_ + idle) return false;
    queue_.push_back(std::move(task));
    if (depth_ != nullptr) depth_->Set(static_cast<double>(queue_.size()));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Stop() {
  std::deque<std::function<void()>> dropped;
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
    threads.swap(threads_);
    if (depth_ != nullptr) depth_->Set(0);
  }
  cv_.notify_all();
  for (std::thread& thread : threads) thread.join();
  // `dropped` is destroyed here, outside the lock.
}

void WorkerPool::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (stopping_) return;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    if (depth_ != nullptr) depth_->Set(static_cast<double>(queue_.size()));
    lock.unlock();
    task();
    task = nullptr;  // release captures before taking the lock again
    lock.lock();
  }
}

}  // namespace bulwark::http

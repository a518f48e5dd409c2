#pragma once
// WorkerPool: fixed threads running queued tasks, with a bounded queue (server-internal).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bulwark::http {

class Gauge;

class WorkerPool {
 public:
  // `depth` (borrowed, may be null) is set to the number of waiting tasks.
  WorkerPool(int threads, std::size_t max_queued, Gauge* depth);
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Start();
  // Queues `task` unless `max_queued` tasks already wait beyond the idle threads (or the
  // pool is stopped): then returns false and drops it. Tasks must not throw.
  bool TrySubmit(std::function<void()> task);
  // Lets running tasks finish, drops the waiting ones, joins. Idempotent.
  void Stop();

 private:
  void Run();

  const int thread_count_;
  const std::size_t max_queued_;
  Gauge* const depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // Guarded by mu_.
  int idle_ = 0;                             // Guarded by mu_.
  bool stopping_ = false;                    // Guarded by mu_.
  std::vector<std::thread> threads_;
};

}  // namespace bulwark::http

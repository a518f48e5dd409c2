#pragma once
// MailboxService: runs the site's mailbox connectors inside `bulwark serve`. A manager
// thread re-reads the connector list every [mailbox] refresh_interval and starts one
// worker thread per enabled connector it can lease (several `serve` processes share the
// work through the database lease: a connector is watched by one process at a time, and
// another takes over when the lease runs out).
//
// A worker connects and logs in, picks up new mail in every folder, runs due sweeps, then
// waits for new mail with IDLE (or polls without it) and starts over. Failures are recorded
// in the connector's state (visible through the API) and retried with a doubling delay up
// to [mailbox] max_backoff; refused credentials become status "auth_failed" and are retried
// no sooner than that delay either, never in a tight loop.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "service/site.h"
#include "smtp/notifier.h"

namespace bulwark::mailbox {

class MailboxService {
 public:
  explicit MailboxService(service::Site& site);
  ~MailboxService();  // Stop()
  MailboxService(const MailboxService&) = delete;
  MailboxService& operator=(const MailboxService&) = delete;

  void Start();
  // Ends every worker (an IDLE ends within a quarter second, a message being handled is
  // finished first) and releases their leases.
  void Stop();
  // Connectors this process is watching now.
  std::size_t running() const;
  // This process's name in connector leases.
  const std::string& owner() const { return owner_; }

  // The delay before attempt `failures` + 1 after `failures` consecutive failures:
  // 30 s doubling (auth failures: 5 min doubling), at most `cap`.
  static std::chrono::seconds Backoff(std::int64_t failures, bool auth_failure,
                                      std::chrono::seconds cap);

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void ManagerLoop();
  void WorkerLoop(std::string tenant_id, std::string connector_id,
                  std::shared_ptr<std::atomic<bool>> done);
  // Sleeps up to `duration`, less when stopping. False when stopping.
  bool Pause(std::chrono::milliseconds duration);

  service::Site& site_;
  std::string owner_;
  smtp::Notifier notifier_;
  std::atomic<bool> stopping_{false};
  std::thread manager_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Worker> workers_;  // by connector id
};

}  // namespace bulwark::mailbox

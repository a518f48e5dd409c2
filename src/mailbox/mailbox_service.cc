#include "mailbox/mailbox_service.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "mailbox/mailbox_session.h"
#include "storage/store.h"

namespace bulwark::mailbox {
namespace {

// One JSON line on stderr (never content, never credentials).
void Log(const std::string& event, const storage::MailboxConnector& c, const std::string& detail) {
  nlohmann::json line = {{"component", "mailbox"}, {"event", event},      {"tenant", c.tenant_id},
                         {"connector", c.id},      {"mailbox", c.name}};
  if (!detail.empty()) line["detail"] = detail;
  std::fprintf(stderr, "%s\n", line.dump().c_str());
}

std::string ProcessOwnerName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + storage::NewId("");
}

}  // namespace

std::chrono::seconds MailboxService::Backoff(std::int64_t failures, bool auth_failure,
                                             std::chrono::seconds cap) {
  const std::int64_t base = auth_failure ? 300 : 30;
  const std::int64_t doublings = std::clamp<std::int64_t>(failures - 1, 0, 20);
  std::int64_t delay = base << doublings;
  return std::chrono::seconds(std::min<std::int64_t>(delay, cap.count()));
}

MailboxService::MailboxService(service::Site& site)
    : site_(site), owner_(ProcessOwnerName()), notifier_(site.config().mail, site.config().mailbox.timeout) {}

MailboxService::~MailboxService() { Stop(); }

void MailboxService::Start() {
  if (manager_.joinable()) return;
  stopping_ = false;
  manager_ = std::thread([this] { ManagerLoop(); });
}

void MailboxService::Stop() {
  stopping_ = true;
  wake_.notify_all();
  if (manager_.joinable()) manager_.join();
  std::map<std::string, Worker> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& [id, worker] : workers) {
    if (worker.thread.joinable()) worker.thread.join();
  }
}

std::size_t MailboxService::running() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(workers_.begin(), workers_.end(), [](const auto& w) {
    return !w.second.done->load();
  }));
}

bool MailboxService::Pause(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, duration, [this] { return stopping_.load(); });
  return !stopping_.load();
}

void MailboxService::ManagerLoop() {
  const service::MailboxConfig& config = site_.config().mailbox;
  do {
    {
      // Reap the workers that ended (connector deleted, disabled, lease lost).
      std::lock_guard lock(mutex_);
      for (auto it = workers_.begin(); it != workers_.end();) {
        if (it->second.done->load()) {
          it->second.thread.join();
          it = workers_.erase(it);
        } else {
          ++it;
        }
      }
    }
    Result<std::vector<storage::MailboxConnector>> connectors =
        site_.store().ListAllMailboxConnectors();
    if (!connectors.ok()) continue;  // the database is away: try again next round
    const std::int64_t now = service::Site::Now();
    for (const storage::MailboxConnector& c : *connectors) {
      if (!c.enabled || stopping_) continue;
      std::lock_guard lock(mutex_);
      if (workers_.count(c.id) != 0 || workers_.size() >= config.max_connectors) continue;
      // Held by another process: leave it (it takes over when the lease runs out).
      if (!c.lease_owner.empty() && c.lease_owner != owner_ && c.lease_until >= now) continue;
      auto done = std::make_shared<std::atomic<bool>>(false);
      Worker worker;
      worker.done = done;
      worker.thread = std::thread(
          [this, tenant = c.tenant_id, id = c.id, done] { WorkerLoop(tenant, id, done); });
      workers_.emplace(c.id, std::move(worker));
    }
  } while (Pause(config.refresh_interval));
}

void MailboxService::WorkerLoop(std::string tenant_id, std::string connector_id,
                                std::shared_ptr<std::atomic<bool>> done) {
  storage::Store& store = site_.store();
  const service::MailboxConfig& config = site_.config().mailbox;
  const std::int64_t lease_seconds = config.lease.count();
  // IDLE and polling pauses end in time to renew the lease.
  const auto wait_slice = std::chrono::milliseconds(
      std::max<std::int64_t>(1000, std::min<std::int64_t>(config.idle_interval.count() * 1000,
                                                          lease_seconds * 1000 / 3)));

  auto claim = [&]() {
    Result<bool> held = store.ClaimMailboxConnector(tenant_id, connector_id, owner_,
                                                    service::Site::Now(), lease_seconds);
    return held.ok() && *held;
  };
  auto current = [&]() -> std::optional<storage::MailboxConnector> {
    Result<storage::MailboxConnector> c = store.GetMailboxConnector(tenant_id, connector_id);
    if (!c.ok() || !c->enabled) return std::nullopt;
    return std::move(c).value();
  };
  auto record_failure = [&](storage::MailboxConnector& c, const Status& error) {
    const bool auth = error.code() == StatusCode::kPermissionDenied;
    storage::MailboxConnectorState state;
    state.status = auth ? "auth_failed" : "error";
    state.last_error = error.message().substr(0, 500);
    state.last_sync_at = c.last_sync_at;
    state.failures = c.failures + 1;
    state.next_attempt_at =
        service::Site::Now() + Backoff(state.failures, auth, config.max_backoff).count();
    (void)store.RecordMailboxState(tenant_id, connector_id, state);
    Log(state.status, c, state.last_error);
  };

  while (!stopping_ && claim()) {
    std::optional<storage::MailboxConnector> connector = current();
    if (!connector) break;
    const std::int64_t now = service::Site::Now();
    if (connector->next_attempt_at > now) {
      Pause(std::min<std::chrono::milliseconds>(
          std::chrono::seconds(connector->next_attempt_at - now), wait_slice));
      continue;
    }
    Result<std::unique_ptr<imap::ImapClient>> client = OpenMailbox(site_, *connector);
    if (!client.ok()) {
      record_failure(*connector, client.status());
      continue;
    }
    Log("connected", *connector, "");
    // A sweep still "running" was left by a worker that is gone (this one holds the lease
    // now, and runs its sweeps to the end before anything else): it starts over.
    if (auto sweeps = store.ListMailboxSweeps(tenant_id, connector_id); sweeps.ok()) {
      for (storage::MailboxSweep& sweep : *sweeps) {
        if (sweep.status != "running") continue;
        sweep.status = "queued";
        sweep.error = "interrupted; started again";
        (void)store.UpdateMailboxSweep(sweep);
      }
    }
    MailboxSession session(site_, *connector, **client, &notifier_);
    for (;;) {
      Status synced = session.SyncAll();
      while (synced.ok() && !stopping_) {
        Result<std::optional<storage::MailboxSweep>> due =
            store.NextDueMailboxSweep(tenant_id, connector_id, service::Site::Now());
        if (!due.ok() || !*due) break;
        Log("sweep", *connector, (*due)->id);
        synced = session.RunSweep(**due, stopping_);
      }
      if (!synced.ok()) {
        record_failure(*connector, synced);
        break;
      }
      storage::MailboxConnectorState state;
      state.status = "ok";
      state.last_sync_at = service::Site::Now();
      (void)store.RecordMailboxState(tenant_id, connector_id, state);
      connector->failures = 0;
      connector->last_sync_at = state.last_sync_at;
      if (stopping_ || !claim() || !current()) break;
      // Wait for new mail: IDLE on the first folder, or a pause between polls.
      if ((*client)->Has("IDLE")) {
        Status waited = (*client)->Select(connector->folders.front()).status();
        if (waited.ok()) waited = (*client)->Idle(wait_slice, stopping_).status();
        if (!waited.ok()) {
          record_failure(*connector, waited);
          break;
        }
      } else if (!Pause(std::min<std::chrono::milliseconds>(config.poll_interval, wait_slice))) {
        break;
      }
      if (stopping_ || !claim()) break;
    }
    (*client)->Logout();
  }
  (void)store.ReleaseMailboxConnector(tenant_id, connector_id, owner_);
  done->store(true);
}

}  // namespace bulwark::mailbox

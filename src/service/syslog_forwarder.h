#pragma once
// SyslogForwarder: pushes every tenant's detection events to a SIEM as RFC 5424 syslog
// messages (service::EventToSyslog) over TLS (RFC 5425) or, when asked, plain TCP
// (RFC 6587 octet counting). Both use octet-counting framing: "MSGLEN SP SYSLOG-MSG".
//
// The database is the buffer. Per tenant the forwarder keeps the seq of the last event
// delivered in site metadata under "syslog.cursor.<tenant id>"; a pass reads the events after
// it (Store::QueryEvents with after_seq, which never misses or repeats an event because seq is
// commit-ordered), writes them, and advances the cursor only after the write completed. While
// the receiver is down nothing is sent, nothing is dropped, and the backlog waits in the
// events table; a restarted process continues from the persisted cursors.
//
// Delivery is at least once, not exactly once:
// - a crash (or a failed cursor update) between a completed write and the cursor update sends
//   that batch (at most Options::batch_size events) again;
// - syslog over TCP has no application-level acknowledgement: a write "completes" when the
//   bytes are in the kernel's send buffer. The forwarder checks before each pass that the
//   receiver has not closed the connection (and reconnects if it has), but bytes accepted by
//   the kernel when the receiver dies abruptly can still be lost. RFC 5425/6587 cannot do
//   better; a receiver that must not lose anything needs RELP, which this does not speak.
// Events removed by retention before they were forwarded are skipped, not an error.
//
// A new tenant starts at cursor 0: its whole stored history is forwarded.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"
#include "storage/store.h"

namespace bulwark::service {

struct SyslogTarget {
  std::string host;  // DNS name or IP address of the receiver
  std::uint16_t port = 6514;
  // TLS 1.2+ with the receiver's certificate verified against ca_file (PEM bundle; empty =
  // the system's default trust store) and against server_name as a DNS name, or as an IP
  // address SAN when it parses as one. false = plain TCP: for tests and trusted networks.
  bool tls = true;
  std::string ca_file;
  std::string server_name;  // empty = host
};

struct SyslogForwarderOptions {
  int batch_size = 500;  // events per query and write (clamped to 1..1000 like QueryEvents)
  std::chrono::milliseconds poll_interval{1000};  // between passes while all is well
  std::chrono::milliseconds backoff_min{1000};    // first wait after a failed pass, doubled
  std::chrono::milliseconds backoff_max{60000};   // after each further failure up to this
  std::chrono::milliseconds io_timeout{10000};    // resolve+connect+handshake, and each write
  std::string hostname;  // HOSTNAME field of the messages; empty = this machine's name
};

struct SyslogForwarderStats {
  std::int64_t delivered = 0;  // events written (repeats after a crash are counted again)
  std::int64_t failures = 0;   // failed passes (connect, handshake, write or database)
  std::string last_error;      // Status::ToString() of the latest failure; "" when none yet
  bool connected = false;      // a connection to the receiver is open
};

// Thread safety: every public method may be called from any thread. DeliverOnce() calls are
// serialized (a test may call it while the background loop runs; they do not interleave).
// Start() and Stop() are meant for one controlling thread.
class SyslogForwarder {
 public:
  // `store` is borrowed and must outlive the forwarder. Nothing is opened before the first
  // pass; a bad target (unreadable CA file, …) shows as a failed pass, not here.
  SyslogForwarder(storage::Store& store, SyslogTarget target, std::string site_id,
                  SyslogForwarderOptions options = {});
  // Calls Stop().
  ~SyslogForwarder();

  SyslogForwarder(const SyslogForwarder&) = delete;
  SyslogForwarder& operator=(const SyslogForwarder&) = delete;

  // Starts the background thread: a pass (DeliverOnce) every poll_interval; after a failed
  // pass it waits backoff_min, then twice as long after each further failure up to
  // backoff_max, and returns to poll_interval after a successful pass. Calling it while
  // running does nothing; after Stop() it may be started again.
  void Start();
  // Wakes the thread, interrupts a connect, handshake or write in progress and joins it,
  // then closes the connection gracefully (TLS close_notify, TCP half-close, up to 2 s for
  // the receiver to close its side) so that the receiver reads everything written. Returns
  // within about one database call plus that close. Idempotent; also closes the connection
  // of DeliverOnce() calls made without Start(). Events not yet delivered stay pending in
  // the database (the cursors are never ahead of what was written).
  void Stop();

  SyslogForwarderStats stats() const;

  // One pass over every tenant of the site: sends each tenant's pending events in seq order,
  // batch by batch, advancing its cursor after each written batch, until nothing is pending.
  // Returns how many events were sent. On the first failure it closes the connection and
  // returns kUnavailable (receiver unreachable, handshake or write failed, or stopped),
  // kDeadlineExceeded (io_timeout passed), kInvalidArgument (unusable CA file or server
  // name) or the Store's error; events sent before the failure stay delivered (their cursor
  // was saved). A certificate that does not verify is kUnavailable with "certificate
  // verification failed: <reason>" in the message. The connection stays open between passes.
  Result<int> DeliverOnce();

  // The site-metadata key of a tenant's cursor.
  static std::string CursorKey(const std::string& tenant_id);

 private:
  class Transport;  // the TLS/TCP connection (Asio), defined in the .cc

  Result<int> DeliverTenant(const std::string& tenant_id);
  void Run();
  void RecordFailure(const Status& status);

  // Constant after construction.
  storage::Store& store_;
  const SyslogTarget target_;
  const std::string site_id_;
  const SyslogForwarderOptions options_;
  const std::string hostname_;

  // Set by Stop() to interrupt a pass; cleared when Stop() returns.
  std::atomic<bool> stopping_{false};

  // The pointer is constant after construction; Transport::Interrupt() may be called from
  // any thread, everything else only under deliver_mu_ (one pass at a time).
  std::mutex deliver_mu_;
  const std::unique_ptr<Transport> transport_;

  // Guarded by stats_mu_.
  mutable std::mutex stats_mu_;
  SyslogForwarderStats stats_;

  // Guarded by loop_mu_; loop_cv_ wakes the background thread.
  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stop_requested_ = false;
  // Owned by the controlling thread (Start/Stop).
  std::thread thread_;
};

}  // namespace bulwark::service

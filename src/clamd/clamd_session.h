#pragma once
// ClamdSession: one clamd connection's dialogue, from the first command to the close,
// over a net::Connection. It frames and parses with clamd_codec.h and asks a ClamdBackend
// for everything else (scans, version, reload, authentication), so that tests and the
// fuzzer drive it without a site.
//
// Behaviour follows clamd 1.4 (docs/clamd.md): outside IDSESSION one command is answered
// and the connection closed; inside IDSESSION every command's reply is prefixed "<id>: "
// and the session lasts until END, an invalid command, an error, the idle timeout or the
// server stopping. Malformed input gets clamd's own answer, which is sometimes a silent
// close (truncated INSTREAM, over-long command, FILDES on a socket that cannot pass one).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bulwark/common/result.h"
#include "net/connection.h"

namespace bulwark::clamd {

// What a scan found, in clamd's terms.
struct ClamdScanResult {
  bool found = false;
  // Names for the FOUND reply (found only): the first is the one clamd would give;
  // ALLMATCHSCAN replies one line per name.
  std::vector<std::string> names;
};

struct ClamdAuthentication {
  bool ok = false;
  std::string tenant_id;  // ok only
  std::string reason;     // !ok: for "AUTH FAILED: <reason>"; names nothing of a tenant
};

// The services a session needs. Thread safety: one backend serves every connection at
// once; each method may be called from many threads.
class ClamdBackend {
 public:
  virtual ~ClamdBackend() = default;
  // Scans `data` (the display name is "stream", a path or "fd[N]") for `tenant_id` ("" =
  // engine verdict only). An error becomes a clamd ERROR reply.
  virtual Result<ClamdScanResult> Scan(const std::string& tenant_id, std::string_view data,
                                       const std::string& name) = 0;
  // "ClamAV 1.4.6/27400/Tue Sep 16 08:43:26 2025" (no terminator).
  virtual std::string Version() = 0;
  // Re-reads signatures (after RELOADING was sent). Errors are the backend's to report.
  virtual void Reload() = 0;
  // Asks the service to stop. False when SHUTDOWN is not allowed.
  virtual bool Shutdown() = 0;
  // An "AUTH <token>" on the TLS listener.
  virtual ClamdAuthentication Authenticate(std::string_view secret) = 0;
  // The STATS reply body, clamd-like, up to and including "END" (no terminator).
  virtual std::string Stats() = 0;
};

struct ClamdSessionOptions {
  std::string tenant_id;      // the listener's tenant; replaced by AUTH on TLS
  bool require_auth = false;  // TLS listener: the first command must be AUTH
  std::uint64_t stream_max_length = 100ull << 20;
  std::uint64_t max_file_bytes = 100ull << 20;  // SCAN & co. and FILDES
  std::chrono::milliseconds idle_timeout{30000};  // waiting for a command
  std::chrono::milliseconds read_timeout{120000};  // inside a command
  // Canonical (realpath) directories that SCAN, CONTSCAN, MULTISCAN and ALLMATCHSCAN may
  // read; empty = those commands are refused.
  std::vector<std::string> scan_directories;
  // How many files MULTISCAN scans at once (clamd: MaxThreads); at least 1.
  unsigned multiscan_threads = std::max(1u, std::thread::hardware_concurrency());
  // True once the server is stopping: an IDSESSION ends at its next command.
  std::function<bool()> stopping;
};

class ClamdSession {
 public:
  ClamdSession(ClamdBackend& backend, const ClamdSessionOptions& options)
      : backend_(backend), options_(options) {}

  // Runs the dialogue to its end. Never throws; every failure ends in a reply or a close.
  void Run(net::Connection& connection);

 private:
  struct Request;  // one command as read
  enum class Next { kContinue, kClose };

  Result<Request> ReadCommand(net::BufferedReader& reader);
  Next Handle(const Request& request, net::BufferedReader& reader, std::uint64_t id);
  bool Authenticate(const Request& request, net::Connection& connection);
  Next Instream(const Request& request, net::BufferedReader& reader, std::uint64_t id);
  Next Fildes(const Request& request, net::Connection& connection, std::uint64_t id);
  Next ScanPath(const Request& request, net::Connection& connection, std::uint64_t id);
  Status Reply(net::Connection& connection, std::string_view text, const Request& request,
               std::uint64_t id);
  std::string ScanReply(const std::string& name, const Result<ClamdScanResult>& result,
                        bool all_matches);

  ClamdBackend& backend_;
  const ClamdSessionOptions& options_;
  std::string tenant_id_;
};

}  // namespace bulwark::clamd

#pragma once
// Shared by the front-end benchmark servers (bench/*_bench_server.cc): an embedded-default
// site with only the given signature directory, and a wait for SIGTERM/SIGINT.

#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "service/config.h"
#include "service/site.h"

namespace bulwark::bench {

// Blocks SIGTERM and SIGINT in this thread (call before any thread starts, so every thread
// inherits the mask) and returns the set for WaitForStopSignal.
inline sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

inline void WaitForStopSignal(const sigset_t& signals) {
  int received = 0;
  sigwait(&signals, &received);
}

// The embedded default for `data_dir`, scanning with `signature_dir` only (no ClamAV
// database directory). Prints the reason and returns null when the site cannot open.
inline std::unique_ptr<service::Site> OpenBenchSite(const std::string& data_dir,
                                                    const std::string& signature_dir) {
  service::ServiceConfig config = service::EmbeddedDefaultConfig(data_dir);
  config.clamav_db = "";
  config.signature_dirs = {signature_dir};
  auto site = service::Site::Open(config);
  if (!site.ok()) {
    std::fprintf(stderr, "site: %s\n", site.status().ToString().c_str());
    return nullptr;
  }
  return std::move(site).value();
}

}  // namespace bulwark::bench

// A site with only the clamd front-end, for bench/clamd_bench.sh: the same ClamdFrontEnd that
// `bulwark serve` runs (without the HTTPS API beside it), on an embedded-default site
// (SQLite) with the given signatures and no tenant (a plain clamd: engine verdict only).
// Usage: clamd_bench_server <data-dir> <signature-dir> <tcp-port> <unix-socket>
// Prints "ready" when it accepts connections; runs until SIGTERM or SIGINT.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "clamd/clamd_front_end.h"
#include "service/config.h"
#include "service/site.h"

int main(int argc, char** argv) {
  using namespace bulwark;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <data-dir> <signature-dir> <tcp-port> <unix-socket>\n", argv[0]);
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts

  service::ServiceConfig config = service::EmbeddedDefaultConfig(argv[1]);
  config.clamav_db = "";
  config.signature_dirs = {argv[2]};
  auto site = service::Site::Open(config);
  if (!site.ok()) {
    std::fprintf(stderr, "site: %s\n", site.status().ToString().c_str());
    return 1;
  }
  service::ClamdConfig clamd = config.clamd;
  clamd.tcp = {"127.0.0.1", static_cast<std::uint16_t>(std::stoi(argv[3]))};
  clamd.unix_socket = argv[4];
  auto front = clamd::ClamdFrontEnd::Start(**site, clamd, "", "", nullptr);
  if (!front.ok()) {
    std::fprintf(stderr, "clamd: %s\n", front.status().ToString().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  (*front)->Stop(std::chrono::seconds(1));
  return 0;
}

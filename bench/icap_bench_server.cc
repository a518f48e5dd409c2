// A site with only the ICAP front-end, for bench/icap_bench.sh: the same IcapFrontEnd that
// `bulwark serve` runs, on an embedded-default site (SQLite) with the given signatures.
// Usage: icap_bench_server <data-dir> <signature-dir> <port> [tenant]
// Prints "ready" when it accepts connections; runs until SIGTERM or SIGINT.
#include <chrono>
#include <cstdio>
#include <string>

#include "bench/bench_site.h"
#include "icap/icap_front_end.h"
#include "service/administration.h"

int main(int argc, char** argv) {
  using namespace bulwark;
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <data-dir> <signature-dir> <port> [tenant]\n", argv[0]);
    return 2;
  }
  sigset_t signals = bench::BlockStopSignals();
  std::unique_ptr<service::Site> site = bench::OpenBenchSite(argv[1], argv[2]);
  if (!site) return 1;
  service::IcapConfig icap = site->config().icap;
  icap.listener = {"127.0.0.1", static_cast<std::uint16_t>(std::stoi(argv[3]))};
  if (argc > 4) {
    auto tenant = service::FindTenant(*site, argv[4]);
    if (!tenant.ok()) tenant = service::CreateTenant(*site, "bench", argv[4]);
    if (!tenant.ok()) {
      std::fprintf(stderr, "tenant: %s\n", tenant.status().ToString().c_str());
      return 1;
    }
    icap.tenant = tenant->id;
  }
  auto front = icap::IcapFrontEnd::Start(*site, icap);
  if (!front.ok()) {
    std::fprintf(stderr, "icap: %s\n", front.status().ToString().c_str());
    return 1;
  }
  std::printf("ready on port %u\n", static_cast<unsigned>((*front)->bound().at(0).port));
  std::fflush(stdout);
  bench::WaitForStopSignal(signals);
  (*front)->Stop(std::chrono::seconds(1));
  return 0;
}

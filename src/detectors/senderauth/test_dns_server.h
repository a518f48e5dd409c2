#pragma once
// A real authoritative DNS server for tests: NSD (Debian `nsd`) started on 127.0.0.1 at a
// free port, serving one root zone ("." — so any name can be in it) that the test writes.
// Test-only: linked into the senderauth tests, never into bulwark.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"

namespace bulwark::senderauth::testing {

// Where nsd is; empty when the package is not installed (tests then GTEST_SKIP).
std::filesystem::path NsdBinary();

class TestDnsServer {
 public:
  // Starts nsd with `records`: zone-file lines (RFC 1035 master format) with absolute names,
  // e.g. `example.com. IN TXT "v=spf1 -all"`. Returns once the server answers. Fails with
  // kFailedPrecondition when nsd is missing, kInternal (with nsd's log) when it does not start
  // or rejects the zone.
  static Result<std::unique_ptr<TestDnsServer>> Start(std::string_view records);

  // Stops nsd (SIGTERM, then SIGKILL) and removes its directory.
  ~TestDnsServer();
  TestDnsServer(const TestDnsServer&) = delete;
  TestDnsServer& operator=(const TestDnsServer&) = delete;

  // "127.0.0.1:<port>", for StubResolverOptions::nameserver.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  TestDnsServer(std::filesystem::path dir, pid_t pid, int port)
      : dir_(std::move(dir)), pid_(pid), port_(port) {}
  std::filesystem::path dir_;
  pid_t pid_;
  int port_;
};

// A TXT record line for the zone: `text` split into <=255-byte quoted strings, with `"`, `\`
// and bytes outside printable ASCII escaped as \DDD.
std::string ZoneTxt(std::string_view name, std::string_view text);

}  // namespace bulwark::senderauth::testing

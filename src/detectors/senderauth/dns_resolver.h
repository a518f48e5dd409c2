#pragma once
// The DNS the sender-authentication checks ask: one small interface, so that SPF (libspf2),
// DKIM key lookups (libopendkim) and DMARC records (libopendmarc) all go through the same
// resolver — the system's, a configured name server, or the one a test starts.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::senderauth {

// RR types the checks use (RFC 1035, 3596).
enum class DnsType : std::uint16_t {
  kA = 1,
  kNs = 2,
  kCname = 5,
  kPtr = 12,
  kMx = 15,
  kTxt = 16,
  kAaaa = 28,
  kSpf = 99,
};

enum class DnsStatus {
  kOk,        // NOERROR with at least one record of the asked type
  kNoData,    // NOERROR, no record of that type
  kNxDomain,  // the name does not exist
  kTempFail,  // no answer (time-out, SERVFAIL, REFUSED, network): try again later
};

struct DnsRecord {
  DnsType type = DnsType::kA;
  std::uint32_t ttl = 0;
  // A: 4 bytes, AAAA: 16 bytes (network order); TXT and SPF: the character-strings
  // concatenated; MX: the exchange name (`preference` holds its preference); PTR, CNAME, NS:
  // the target name, without the trailing dot.
  std::string data;
  std::uint16_t preference = 0;
};

struct DnsAnswer {
  DnsStatus status = DnsStatus::kTempFail;
  std::vector<DnsRecord> records;  // only records of the asked type and class IN
};

// Answers DNS questions. Implementations are thread-safe: one instance serves every scan.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // Asks for `type` records of `name` (absolute, no trailing dot needed). Never fails as a
  // call: a lookup that got no usable answer is DnsStatus::kTempFail.
  virtual DnsAnswer Lookup(std::string_view name, DnsType type) const = 0;
};

// A stub resolver over libresolv (res_nsend). Without a name server it uses the system's
// (/etc/resolv.conf); with one (`"127.0.0.1:5353"`, `"192.0.2.53"`: IPv4, port 53 by
// default) it asks only that one, which is how tests point the checks at their own server.
struct StubResolverOptions {
  std::string nameserver;
  std::chrono::seconds timeout{2};  // per attempt
  int attempts = 2;
};

// Fails with kInvalidArgument when `options.nameserver` is not an IPv4 address[:port].
Result<std::unique_ptr<Resolver>> CreateStubResolver(const StubResolverOptions& options);

// Parses a DNS response message (RFC 1035 §4) into the records of `type` it answers.
// Exposed for tests and the fuzz target; malformed messages are kTempFail.
DnsAnswer ParseDnsResponse(std::string_view message, DnsType type);

}  // namespace bulwark::senderauth

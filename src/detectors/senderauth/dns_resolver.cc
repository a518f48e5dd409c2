#include "detectors/senderauth/dns_resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <array>
#include <charconv>
#include <cstring>

namespace bulwark::senderauth {
namespace {

constexpr std::size_t kMaxMessage = 65535;

class StubResolver : public Resolver {
 public:
  StubResolver(StubResolverOptions options, bool has_server, sockaddr_in server)
      : options_(std::move(options)), has_server_(has_server), server_(server) {}

  DnsAnswer Lookup(std::string_view name, DnsType type) const override {
    if (name.empty() || name.size() > 253) return DnsAnswer{DnsStatus::kNxDomain, {}};
    const std::string qname(name);
    // A resolver state per call: res_state is not shared between threads, and reading
    // /etc/resolv.conf each time follows changes to it.
    struct __res_state state;
    std::memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) return {};
    if (has_server_) {
      state.nscount = 1;
      state.nsaddr_list[0] = server_;
    }
    state.retrans = static_cast<int>(options_.timeout.count());
    state.retry = options_.attempts;
    state.options |= RES_USE_EDNS0;
    std::array<unsigned char, 1024> query;
    const int qlen = res_nmkquery(&state, ns_o_query, qname.c_str(), ns_c_in,
                                  static_cast<int>(type), nullptr, 0, nullptr, query.data(),
                                  static_cast<int>(query.size()));
    if (qlen < 0) {
      res_nclose(&state);
      return DnsAnswer{DnsStatus::kNxDomain, {}};  // a name that cannot be asked
    }
    std::string answer(kMaxMessage, '\0');
    const int len = res_nsend(&state, query.data(), qlen,
                              reinterpret_cast<unsigned char*>(answer.data()),
                              static_cast<int>(answer.size()));
    res_nclose(&state);
    if (len < 0) return {};
    answer.resize(static_cast<std::size_t>(len));
    return ParseDnsResponse(answer, type);
  }

 private:
  // Constant after construction.
  const StubResolverOptions options_;
  const bool has_server_;
  const sockaddr_in server_;
};

}  // namespace

DnsAnswer ParseDnsResponse(std::string_view message, DnsType type) {
  DnsAnswer out;
  ns_msg msg;
  const auto* base = reinterpret_cast<const unsigned char*>(message.data());
  if (ns_initparse(base, static_cast<int>(message.size()), &msg) != 0) return out;
  const int rcode = ns_msg_getflag(msg, ns_f_rcode);
  if (rcode == ns_r_nxdomain) {
    out.status = DnsStatus::kNxDomain;
    return out;
  }
  if (rcode != ns_r_noerror) return out;
  const int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return DnsAnswer{};
    if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != static_cast<int>(type)) continue;
    const unsigned char* rdata = ns_rr_rdata(rr);
    const std::size_t rdlen = ns_rr_rdlen(rr);
    DnsRecord record;
    record.type = type;
    record.ttl = ns_rr_ttl(rr);
    char name[NS_MAXDNAME];
    switch (type) {
      case DnsType::kA:
        if (rdlen != 4) continue;
        record.data.assign(reinterpret_cast<const char*>(rdata), rdlen);
        break;
      case DnsType::kAaaa:
        if (rdlen != 16) continue;
        record.data.assign(reinterpret_cast<const char*>(rdata), rdlen);
        break;
      case DnsType::kTxt:
      case DnsType::kSpf: {
        std::size_t at = 0;
        while (at < rdlen) {
          const std::size_t n = rdata[at++];
          if (at + n > rdlen) break;
          record.data.append(reinterpret_cast<const char*>(rdata + at), n);
          at += n;
        }
        break;
      }
      case DnsType::kMx:
        if (rdlen < 3) continue;
        record.preference = static_cast<std::uint16_t>((rdata[0] << 8) | rdata[1]);
        if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rdata + 2, name, sizeof name) < 0) {
          continue;
        }
        record.data = name;
        break;
      case DnsType::kPtr:
      case DnsType::kCname:
      case DnsType::kNs:
        if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rdata, name, sizeof name) < 0) continue;
        record.data = name;
        break;
    }
    out.records.push_back(std::move(record));
  }
  out.status = out.records.empty() ? DnsStatus::kNoData : DnsStatus::kOk;
  return out;
}

Result<std::unique_ptr<Resolver>> CreateStubResolver(const StubResolverOptions& options) {
  sockaddr_in server{};
  bool has_server = false;
  if (!options.nameserver.empty()) {
    std::string_view text = options.nameserver;
    std::string_view host = text;
    unsigned port = 53;
    if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
      host = text.substr(0, colon);
      const std::string_view digits = text.substr(colon + 1);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
      if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 ||
          port > 65535) {
        return InvalidArgumentError("DNS server port is not a number: " + options.nameserver);
      }
    }
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, std::string(host).c_str(), &server.sin_addr) != 1) {
      return InvalidArgumentError("DNS server is not an IPv4 address[:port]: " +
                                  options.nameserver);
    }
    has_server = true;
  }
  if (options.timeout.count() < 1 || options.attempts < 1) {
    return InvalidArgumentError("DNS time-out and attempts must be positive");
  }
  return std::unique_ptr<Resolver>(new StubResolver(options, has_server, server));
}

}  // namespace bulwark::senderauth

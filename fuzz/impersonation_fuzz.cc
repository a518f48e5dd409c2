// libFuzzer target for the impersonation check: any bytes, read as a message (GMime address
// parsing, ICU name folding and confusable skeletons of its domains), must be checked
// against a tenant's protected people and domains without crashing, leaking or looping; its
// lines, read as URLs, go through the lookalike-link check.
// Seeds: fuzz/corpus/impersonation/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detectors/impersonation/impersonation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bulwark::impersonation::ProtectedIdentities identities = [] {
    bulwark::impersonation::ProtectedIdentities ids;
    ids.people.push_back({"Jane Doe", {"jane@acme-corp.com"}});
    ids.people.push_back({"Ángel Ruiz", {}});
    ids.domains = {"acme-corp.com", "paymaster.com"};
    return ids;
  }();
  std::string_view message(reinterpret_cast<const char*>(data), size);
  for (const auto& finding : bulwark::impersonation::CheckImpersonation(message, identities)) {
    if (finding.detail.empty()) __builtin_trap();
  }
  (void)bulwark::impersonation::NameKey(message.substr(0, 256));
  std::vector<std::string> urls;
  for (std::size_t pos = 0; pos < message.size() && urls.size() < 64;) {
    std::size_t end = message.find('\n', pos);
    if (end == std::string_view::npos) end = message.size();
    urls.emplace_back(message.substr(pos, end - pos));
    pos = end + 1;
  }
  if (auto link = bulwark::impersonation::CheckLinks(urls, identities)) {
    if (link->detail.empty()) __builtin_trap();
  }
  return 0;
}

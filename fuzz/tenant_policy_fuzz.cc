// libFuzzer target for tenant policies (JSON from the API): parse, and for what parses,
// serialise and parse again to the same policy.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "service/tenant_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulwark::service;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto policy = ParseTenantPolicy(input);
  if (!policy.ok()) return 0;
  std::string json = TenantPolicyToJson(*policy);
  auto again = ParseTenantPolicy(json);
  if (!again.ok() || TenantPolicyToJson(*again) != json) __builtin_trap();
  return 0;
}

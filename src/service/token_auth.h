#pragma once
// AuthenticateToken: checks an API token secret (bound to this site, not revoked, not
// expired, its tenant enabled) and applies the per-token and per-tenant rate limits. The
// HTTPS API and the other front-ends that accept tokens (clamd over TLS) share it.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "service/access.h"
#include "service/site.h"

namespace bulwark::service {

struct TokenAuthentication {
  enum class Failure { kNone, kInvalid, kTenantDisabled, kRateLimited };
  std::optional<Principal> principal;  // set on success
  Failure failure = Failure::kNone;
  std::string message;                      // for the caller; names nothing of another tenant
  std::chrono::seconds retry_after{0};      // kRateLimited
  bool ok() const { return principal.has_value(); }
};

TokenAuthentication AuthenticateToken(Site& site, std::string_view secret);

}  // namespace bulwark::service

#include "service/token_auth.h"

#include "security/credentials.h"

namespace bulwark::service {
namespace {

TokenAuthentication Fail(TokenAuthentication::Failure failure, std::string message,
                         std::chrono::seconds retry_after = std::chrono::seconds(0)) {
  TokenAuthentication result;
  result.failure = failure;
  result.message = std::move(message);
  result.retry_after = retry_after;
  return result;
}

}  // namespace

TokenAuthentication AuthenticateToken(Site& site, std::string_view secret) {
  using Failure = TokenAuthentication::Failure;
  std::optional<std::string> token_site = security::TokenSite(secret);
  if (!token_site) return Fail(Failure::kInvalid, "credentials are not valid");
  if (*token_site != site.config().site.id) {
    return Fail(Failure::kInvalid, "this token belongs to another site");
  }
  Result<storage::ApiToken> token =
      site.store().FindTokenBySecretHash(security::TokenSecretHash(secret));
  if (!token.ok()) return Fail(Failure::kInvalid, "credentials are not valid");
  std::int64_t now = Site::Now();
  if (token->site_id != site.config().site.id) {
    return Fail(Failure::kInvalid, "this token belongs to another site");
  }
  if (token->revoked_at != 0) return Fail(Failure::kInvalid, "this token was revoked");
  if (token->expires_at != 0 && token->expires_at <= now) {
    return Fail(Failure::kInvalid, "this token has expired");
  }
  if (!token->tenant_id.empty()) {
    Result<storage::Tenant> tenant = site.store().GetTenant(token->tenant_id);
    if (!tenant.ok()) return Fail(Failure::kInvalid, "credentials are not valid");
    if (tenant->disabled) return Fail(Failure::kTenantDisabled, "this tenant is disabled");
  }
  auto limit = site.token_limiter().Take(token->id);
  if (!limit.allowed) {
    return Fail(Failure::kRateLimited, "too many requests; retry later", limit.retry_after);
  }
  if (!token->tenant_id.empty()) {
    auto tenant_limit = site.tenant_limiter().Take(token->tenant_id);
    if (!tenant_limit.allowed) {
      return Fail(Failure::kRateLimited, "too many requests; retry later",
                  tenant_limit.retry_after);
    }
  }
  if (now - token->last_used_at > 60) (void)site.store().TouchToken(token->id, now);
  TokenAuthentication result;
  Principal& p = result.principal.emplace();
  p.kind = Principal::Kind::kToken;
  p.id = token->id;
  p.tenant_id = token->tenant_id;
  p.role = token->role;
  p.scopes = token->scopes;
  return result;
}

}  // namespace bulwark::service

#include "service/administration.h"

#include <nlohmann/json.hpp>

#include "security/credentials.h"
#include "service/access.h"

namespace bulwark::service {

using nlohmann::json;

Result<storage::Tenant> CreateTenant(Site& site, const std::string& actor,
                                     const std::string& name) {
  if (name.empty() || name.size() > 100) {
    return InvalidArgumentError("a tenant name is 1-100 characters");
  }
  BULWARK_ASSIGN_OR_RETURN(storage::Tenant tenant,
                           site.store().CreateTenant(name, site.config().site.id));
  BULWARK_RETURN_IF_ERROR(
      site.Audit("", actor, "tenant.create", tenant.id, json{{"name", name}}.dump()));
  return tenant;
}

Status SetTenantDisabled(Site& site, const std::string& actor, const std::string& tenant_id,
                         bool disabled) {
  BULWARK_RETURN_IF_ERROR(site.store().SetTenantDisabled(tenant_id, disabled));
  return site.Audit("", actor, disabled ? "tenant.disable" : "tenant.enable", tenant_id);
}

Result<storage::Tenant> FindTenant(Site& site, const std::string& id_or_name) {
  Result<storage::Tenant> by_id = site.store().GetTenant(id_or_name);
  if (by_id.ok() || by_id.status().code() != StatusCode::kNotFound) return by_id;
  Result<storage::Tenant> by_name = site.store().FindTenantByName(id_or_name);
  if (!by_name.ok() && by_name.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no tenant with id or name \"" + id_or_name + "\"");
  }
  return by_name;
}

Result<NewUser> AddUser(Site& site, const std::string& actor, const std::string& tenant_id,
                        const std::string& email, storage::Role role) {
  if (email.find('@') == std::string::npos || email.size() > 254) {
    return InvalidArgumentError("email must be an email address");
  }
  if ((role == storage::Role::kSiteOperator) != tenant_id.empty()) {
    return InvalidArgumentError(
        "site operators belong to no tenant; every other role belongs to one");
  }
  NewUser created;
  created.one_time_password = security::RandomPassword();
  BULWARK_ASSIGN_OR_RETURN(std::string hash, security::HashPassword(created.one_time_password));
  storage::User user;
  user.tenant_id = tenant_id;
  user.email = email;
  user.role = role;
  user.password_hash = hash;
  user.must_change_password = true;
  BULWARK_ASSIGN_OR_RETURN(created.user, site.store().CreateUser(std::move(user)));
  BULWARK_RETURN_IF_ERROR(site.Audit(tenant_id, actor, "user.create", created.user.id,
                                     json{{"role", storage::RoleName(role)}}.dump()));
  return created;
}

Status ResetUserMfa(Site& site, const std::string& actor, storage::User user) {
  user.totp_secret.clear();
  user.totp_last_step = 0;
  BULWARK_RETURN_IF_ERROR(site.store().UpdateUser(user));
  return site.Audit(user.tenant_id, actor, "user.reset_mfa", user.id);
}

Result<NewToken> CreateToken(Site& site, const std::string& actor, const TokenRequest& request) {
  if (request.name.empty() || request.name.size() > 100) {
    return InvalidArgumentError("a token name is 1-100 characters");
  }
  if ((request.role == storage::Role::kSiteOperator) != request.tenant_id.empty()) {
    return InvalidArgumentError(
        "site tokens act as the site operator; tenant tokens as a tenant role");
  }
  if (request.scopes.empty()) return InvalidArgumentError("a token needs at least one scope");
  for (const auto& scope : request.scopes) {
    if (!IsKnownScope(scope)) {
      return InvalidArgumentError("unknown scope \"" + scope +
                                  "\" (scan, events:read, policy:read, policy:write, "
                                  "quarantine:read, quarantine:write, audit:read, admin)");
    }
  }
  if (request.expires_in_days < 0 || request.expires_in_days > 3650) {
    return InvalidArgumentError("expiry must be 0 (never) to 3650 days");
  }
  std::int64_t now = Site::Now();
  NewToken created;
  created.secret = security::NewTokenSecret(site.config().site.id);
  storage::ApiToken& token = created.token;
  token.id = storage::NewId("k_");
  token.tenant_id = request.tenant_id;
  token.user_id = request.user_id;
  token.name = request.name;
  token.role = request.role;
  token.scopes = request.scopes;
  token.secret_hash = security::TokenSecretHash(created.secret);
  token.site_id = site.config().site.id;
  token.created_at = now;
  token.expires_at = request.expires_in_days == 0 ? 0 : now + request.expires_in_days * 86400;
  BULWARK_RETURN_IF_ERROR(site.store().CreateToken(token));
  BULWARK_RETURN_IF_ERROR(site.Audit(request.tenant_id, actor, "token.create", token.id,
                                     json{{"name", token.name}, {"scopes", token.scopes}}.dump()));
  return created;
}

Status RevokeToken(Site& site, const std::string& actor, const std::string& tenant_id,
                   const std::string& token_id) {
  BULWARK_RETURN_IF_ERROR(site.store().RevokeToken(tenant_id, token_id, Site::Now()));
  return site.Audit(tenant_id, actor, "token.revoke", token_id);
}

}  // namespace bulwark::service

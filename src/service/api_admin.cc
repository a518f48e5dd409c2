// Administration: tenants (site operator), users and API tokens (tenant administrators;
// site tokens for the site operator), and the audit log.
#include <algorithm>

#include "service/administration.h"
#include "service/api_routes.h"
#include "service/api_support.h"

namespace bulwark::service::api {
namespace {

using storage::Role;

http::Response Created(json body) { return http::Response::Json(201, body.dump()); }

// --- tenants (site operator) ---------------------------------------------------------------

http::Response ListTenants(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kManageTenants);
  if (!caller.ok()) return caller.error;
  Result<std::vector<storage::Tenant>> tenants = site.store().ListTenants();
  if (!tenants.ok()) return ErrorResponse(tenants.status());
  json out = json::array();
  for (const auto& t : *tenants) out.push_back(ToJson(t));
  return http::Response::Json(200, json{{"tenants", out}}.dump());
}

// Creates a tenant and, with admin_email, its first administrator, whose one-time password
// is in the answer (shown once).
http::Response CreateTenant(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kManageTenants);
  if (!caller.ok()) return caller.error;
  http::Response error;
  auto body = ParseObject(request, error);
  if (!body) return error;
  std::string name, admin_email;
  if (!ReadString(*body, "name", name, true, error) ||
      !ReadString(*body, "admin_email", admin_email, false, error)) {
    return error;
  }
  std::string actor = ActorOf(*caller.principal);
  Result<storage::Tenant> tenant = service::CreateTenant(site, actor, name);
  if (!tenant.ok()) return ErrorResponse(tenant.status());
  json out = {{"tenant", ToJson(*tenant)}};
  if (!admin_email.empty()) {
    Result<NewUser> admin = service::AddUser(site, actor, tenant->id, admin_email,
                                             Role::kTenantAdmin);
    if (!admin.ok()) return ErrorResponse(admin.status());
    out["admin"] = ToJson(admin->user);
    out["admin"]["one_time_password"] = admin->one_time_password;
  }
  return Created(out);
}

http::Response GetTenant(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kManageTenants);
  if (!caller.ok()) return caller.error;
  Result<storage::Tenant> tenant = site.store().GetTenant(p.at("id"));
  if (!tenant.ok()) return ErrorResponse(tenant.status());
  return http::Response::Json(200, ToJson(*tenant).dump());
}

http::Response SetTenantState(Site& site, const http::Request& request, const http::PathParams& p,
                              bool disabled) {
  Caller caller = Authorize(site, request, Permission::kManageTenants);
  if (!caller.ok()) return caller.error;
  if (Status s = service::SetTenantDisabled(site, ActorOf(*caller.principal), p.at("id"),
                                           disabled);
      !s.ok()) {
    return ErrorResponse(s);
  }
  return GetTenant(site, request, p);
}

// How long the tenant's events are kept (the hourly retention job purges older ones).
http::Response SetRetention(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kManageTenants);
  if (!caller.ok()) return caller.error;
  http::Response error;
  auto body = ParseObject(request, error);
  if (!body) return error;
  auto days = body->find("days");
  if (days == body->end() || !days->is_number_integer() || days->get<std::int64_t>() < 1 ||
      days->get<std::int64_t>() > 3650) {
    return http::Response::Error(400, "invalid_request", "days must be an integer, 1 to 3650");
  }
  if (Status s = site.store().SetTenantRetention(p.at("id"), days->get<std::int64_t>()); !s.ok()) {
    return ErrorResponse(s);
  }
  if (Status s = site.Audit("", ActorOf(*caller.principal), "tenant.retention", p.at("id"),
                            json{{"days", days->get<std::int64_t>()}}.dump());
      !s.ok()) {
    return ErrorResponse(s);
  }
  return GetTenant(site, request, p);
}

// --- users (tenant administrators, inside their tenant) -------------------------------------

http::Response ListUsers(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kManageUsers);
  if (!caller.ok()) return caller.error;
  Result<std::vector<storage::User>> users = site.store().ListUsers(caller.principal->tenant_id);
  if (!users.ok()) return ErrorResponse(users.status());
  json out = json::array();
  for (const auto& u : *users) out.push_back(ToJson(u));
  return http::Response::Json(200, json{{"users", out}}.dump());
}

http::Response AddUser(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kManageUsers);
  if (!caller.ok()) return caller.error;
  http::Response error;
  auto body = ParseObject(request, error);
  if (!body) return error;
  std::string email, role_name;
  if (!ReadString(*body, "email", email, true, error) ||
      !ReadString(*body, "role", role_name, true, error)) {
    return error;
  }
  std::optional<Role> role = storage::ParseRole(role_name);
  if (!role || *role == Role::kSiteOperator) {
    return http::Response::Error(400, "invalid_request",
                                 "role must be tenant_admin, analyst or auditor");
  }
  Result<NewUser> created = service::AddUser(site, ActorOf(*caller.principal),
                                             caller.principal->tenant_id, email, *role);
  if (!created.ok()) return ErrorResponse(created.status());
  json out = ToJson(created->user);
  out["one_time_password"] = created->one_time_password;
  return Created(out);
}

// Loads a user of the caller's own tenant; another tenant's user is "not found".
Result<storage::User> OwnUser(Site& site, const Principal& caller, const std::string& id) {
  BULWARK_ASSIGN_OR_RETURN(storage::User user, site.store().GetUser(id));
  if (user.tenant_id != caller.tenant_id) return NotFoundError("user not found");
  return user;
}

http::Response DisableUser(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kManageUsers);
  if (!caller.ok()) return caller.error;
  Result<storage::User> user = OwnUser(site, *caller.principal, p.at("id"));
  if (!user.ok()) return ErrorResponse(user.status());
  user->disabled = true;
  if (Status s = site.store().UpdateUser(*user); !s.ok()) return ErrorResponse(s);
  if (Status s = site.Audit(user->tenant_id, ActorOf(*caller.principal), "user.disable", user->id);
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, ToJson(*user).dump());
}

http::Response ResetUserMfa(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kManageUsers);
  if (!caller.ok()) return caller.error;
  Result<storage::User> user = OwnUser(site, *caller.principal, p.at("id"));
  if (!user.ok()) return ErrorResponse(user.status());
  if (Status s = service::ResetUserMfa(site, ActorOf(*caller.principal), *user); !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, ToJson(*user).dump());
}

// --- API tokens ------------------------------------------------------------------------------

Permission TokenPermission(const Principal& p) {
  return p.tenant_id.empty() ? Permission::kManageSiteTokens : Permission::kManageTokens;
}

http::Response ListTokens(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authenticate(site, request, false);
  if (!caller.ok()) return caller.error;
  if (!caller.principal->Can(TokenPermission(*caller.principal))) return Forbidden();
  Result<std::vector<storage::ApiToken>> tokens =
      site.store().ListTokens(caller.principal->tenant_id);
  if (!tokens.ok()) return ErrorResponse(tokens.status());
  json out = json::array();
  for (const auto& t : *tokens) out.push_back(ToJson(t));
  return http::Response::Json(200, json{{"tokens", out}}.dump());
}

http::Response CreateToken(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authenticate(site, request, false);
  if (!caller.ok()) return caller.error;
  const Principal& p = *caller.principal;
  if (!p.Can(TokenPermission(p))) return Forbidden();
  http::Response error;
  auto body = ParseObject(request, error);
  if (!body) return error;
  TokenRequest token;
  std::string role_name;
  if (!ReadString(*body, "name", token.name, true, error) ||
      !ReadString(*body, "role", role_name, false, error)) {
    return error;
  }
  token.tenant_id = p.tenant_id;
  token.user_id = p.id;
  if (p.tenant_id.empty()) {
    token.role = Role::kSiteOperator;  // site tokens act as the site operator
  } else {
    std::optional<Role> role = storage::ParseRole(role_name.empty() ? "analyst" : role_name);
    if (!role || *role == Role::kSiteOperator) {
      return http::Response::Error(400, "invalid_request",
                                   "role must be tenant_admin, analyst or auditor");
    }
    token.role = *role;
  }
  auto scopes = body->find("scopes");
  if (scopes == body->end() || !scopes->is_array()) {
    return http::Response::Error(400, "invalid_request", "scopes is required: an array");
  }
  for (const auto& scope : *scopes) {
    if (!scope.is_string()) {
      return http::Response::Error(400, "invalid_request", "scopes must be strings");
    }
    token.scopes.push_back(scope.get<std::string>());
  }
  if (auto expires = body->find("expires_in_days"); expires != body->end()) {
    if (!expires->is_number_integer()) {
      return http::Response::Error(400, "invalid_request", "expires_in_days must be an integer");
    }
    token.expires_in_days = expires->get<std::int64_t>();
  }
  Result<NewToken> created = service::CreateToken(site, ActorOf(p), token);
  if (!created.ok()) return ErrorResponse(created.status());
  json out = ToJson(created->token);
  out["secret"] = created->secret;  // shown once, stored hashed
  return Created(out);
}

http::Response RevokeToken(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authenticate(site, request, false);
  if (!caller.ok()) return caller.error;
  if (!caller.principal->Can(TokenPermission(*caller.principal))) return Forbidden();
  if (Status s = service::RevokeToken(site, ActorOf(*caller.principal),
                                      caller.principal->tenant_id, p.at("id"));
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, R"({"revoked":true})");
}

// --- audit log -------------------------------------------------------------------------------

http::Response ListAudit(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authenticate(site, request, false);
  if (!caller.ok()) return caller.error;
  const Principal& p = *caller.principal;
  bool site_level = p.tenant_id.empty();
  if (site_level ? !p.Can(Permission::kManageTenants) : !p.Can(Permission::kReadAudit)) {
    return Forbidden();
  }
  std::int64_t after = std::atoll(request.Query("after").c_str());
  int limit = std::clamp(std::atoi(request.Query("limit").c_str()), 0, 1000);
  if (limit == 0) limit = 100;
  // The site operator sees site-level records only; a tenant sees its own.
  Result<std::vector<storage::AuditRecord>> records =
      site.store().ListAudit(p.tenant_id, after, limit);
  if (!records.ok()) return ErrorResponse(records.status());
  json out = json::array();
  std::int64_t next = after;
  for (const auto& r : *records) {
    next = std::max(next, r.seq);
    if (site_level && !r.tenant_id.empty()) continue;
    out.push_back(ToJson(r));
  }
  return http::Response::Json(200, json{{"records", out}, {"next_cursor", next}}.dump());
}

}  // namespace

void AddAdminRoutes(http::Router& router, Site& site) {
  using Fn = http::Response (*)(Site&, const http::Request&, const http::PathParams&);
  auto bind = [&site](Fn f) {
    return [&site, f](const http::Request& r, const http::PathParams& p) { return f(site, r, p); };
  };
  router.Add("GET", "/api/v1/tenants", bind(ListTenants));
  router.Add("POST", "/api/v1/tenants", bind(CreateTenant));
  router.Add("GET", "/api/v1/tenants/{id}", bind(GetTenant));
  router.Add("POST", "/api/v1/tenants/{id}/disable",
             [&site](const http::Request& r, const http::PathParams& p) {
               return SetTenantState(site, r, p, true);
             });
  router.Add("POST", "/api/v1/tenants/{id}/enable",
             [&site](const http::Request& r, const http::PathParams& p) {
               return SetTenantState(site, r, p, false);
             });
  router.Add("POST", "/api/v1/tenants/{id}/retention", bind(SetRetention));
  router.Add("GET", "/api/v1/users", bind(ListUsers));
  router.Add("POST", "/api/v1/users", bind(AddUser));
  router.Add("POST", "/api/v1/users/{id}/disable", bind(DisableUser));
  router.Add("POST", "/api/v1/users/{id}/reset-mfa", bind(ResetUserMfa));
  router.Add("GET", "/api/v1/tokens", bind(ListTokens));
  router.Add("POST", "/api/v1/tokens", bind(CreateToken));
  router.Add("DELETE", "/api/v1/tokens/{id}", bind(RevokeToken));
  router.Add("GET", "/api/v1/audit", bind(ListAudit));
}

}  // namespace bulwark::service::api

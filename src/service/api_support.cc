#include "service/api_support.h"

#include <cstdio>

#include "security/credentials.h"
#include "service/token_auth.h"

namespace bulwark::service::api {
namespace {

bool IsUnsafeMethod(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

Caller Deny(http::Response response) {
  Caller caller;
  caller.error = std::move(response);
  return caller;
}

http::Response Unauthorized(std::string_view message) {
  http::Response response = http::Response::Error(401, "unauthorized", message);
  response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"bulwark\"");
  return response;
}

http::Response TooManyRequests(std::chrono::seconds retry_after) {
  http::Response response =
      http::Response::Error(429, "rate_limited", "too many requests; retry later");
  response.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
  return response;
}

// The tenant must exist and be enabled for any tenant principal.
std::optional<http::Response> CheckTenant(Site& site, const std::string& tenant_id) {
  if (tenant_id.empty()) return std::nullopt;
  Result<storage::Tenant> tenant = site.store().GetTenant(tenant_id);
  if (!tenant.ok()) return Unauthorized("credentials are not valid");
  if (tenant->disabled) {
    return http::Response::Error(403, "tenant_disabled", "this tenant is disabled");
  }
  return std::nullopt;
}

Caller FromToken(Site& site, std::string_view secret) {
  TokenAuthentication checked = AuthenticateToken(site, secret);
  switch (checked.failure) {
    case TokenAuthentication::Failure::kNone: break;
    case TokenAuthentication::Failure::kInvalid: return Deny(Unauthorized(checked.message));
    case TokenAuthentication::Failure::kTenantDisabled:
      return Deny(http::Response::Error(403, "tenant_disabled", checked.message));
    case TokenAuthentication::Failure::kRateLimited:
      return Deny(TooManyRequests(checked.retry_after));
  }
  Caller caller;
  caller.principal = std::move(checked.principal);
  return caller;
}

Caller FromSession(Site& site, const http::Request& request, std::string_view cookie,
                   bool allow_incomplete) {
  Result<storage::Session> session =
      site.store().FindSession(security::TokenSecretHash(cookie));
  if (!session.ok()) return Deny(Unauthorized("session is not valid; log in again"));
  if (session->site_id != site.config().site.id) {
    return Deny(Unauthorized("this session belongs to another site"));
  }
  if (session->expires_at <= Site::Now()) {
    (void)site.store().DeleteSession(session->id_hash);
    return Deny(Unauthorized("session expired; log in again"));
  }
  if (IsUnsafeMethod(request.method) &&
      !security::ConstantTimeEquals(request.Header("x-csrf-token"), session->csrf_token)) {
    return Deny(http::Response::Error(403, "csrf", "missing or wrong X-CSRF-Token header"));
  }
  Result<storage::User> user = site.store().GetUser(session->user_id);
  if (!user.ok() || user->disabled) return Deny(Unauthorized("session is not valid"));
  if (!allow_incomplete && (!session->mfa_passed || user->must_change_password)) {
    return Deny(http::Response::Error(
        403, "login_incomplete",
        user->must_change_password ? "change the one-time password first"
                                   : "enrol multi-factor authentication first"));
  }
  if (auto denied = CheckTenant(site, user->tenant_id)) return Deny(std::move(*denied));
  if (!user->tenant_id.empty()) {
    auto tenant_limit = site.tenant_limiter().Take(user->tenant_id);
    if (!tenant_limit.allowed) return Deny(TooManyRequests(tenant_limit.retry_after));
  }
  Caller caller;
  Principal& p = caller.principal.emplace();
  p.kind = Principal::Kind::kUser;
  p.id = user->id;
  p.tenant_id = user->tenant_id;
  p.role = user->role;
  p.email = user->email;
  p.session_id_hash = session->id_hash;
  return caller;
}

}  // namespace

Caller Authenticate(Site& site, const http::Request& request, bool allow_incomplete) {
  std::string authorization = request.Header("authorization");
  if (authorization.rfind("Bearer ", 0) == 0) {
    return FromToken(site, std::string_view(authorization).substr(7));
  }
  if (!authorization.empty()) return Deny(Unauthorized("use a Bearer token"));
  std::string cookie = request.Cookie(kSessionCookie);
  if (!cookie.empty()) return FromSession(site, request, cookie, allow_incomplete);
  return Deny(Unauthorized("authentication required"));
}

Caller Authorize(Site& site, const http::Request& request, Permission permission,
                 bool allow_incomplete) {
  Caller caller = Authenticate(site, request, allow_incomplete);
  if (caller.ok() && !caller.principal->Can(permission)) return Deny(Forbidden());
  return caller;
}

http::Response Forbidden() {
  return http::Response::Error(403, "forbidden", "your role or token scope does not allow this");
}

http::Response NotFound(std::string_view what) {
  return http::Response::Error(404, "not_found", what);
}

http::Response ErrorResponse(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound: return NotFound();
    case StatusCode::kInvalidArgument:
      return http::Response::Error(400, "invalid_request", status.message());
    case StatusCode::kAlreadyExists:
      return http::Response::Error(409, "conflict", "it exists already");
    case StatusCode::kPermissionDenied: return Forbidden();
    case StatusCode::kResourceExhausted:
      return http::Response::Error(429, "rate_limited", status.message());
    case StatusCode::kFailedPrecondition:
      return http::Response::Error(409, "conflict", status.message());
    case StatusCode::kUnavailable:
      return http::Response::Error(503, "unavailable", "a backend is unavailable; retry later");
    default:
      std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"request failed\",\"status\":%s}\n",
                   json(status.ToString()).dump().c_str());
      return http::Response::Error(500, "internal", "internal error");
  }
}

std::optional<json> ParseObject(const http::Request& request, http::Response& error) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    error = http::Response::Error(400, "invalid_request", "the body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

bool ReadString(const json& body, const char* key, std::string& out, bool required,
                http::Response& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (!required) return true;
    error = http::Response::Error(400, "invalid_request", std::string(key) + " is required");
    return false;
  }
  if (!it->is_string()) {
    error = http::Response::Error(400, "invalid_request", std::string(key) + " must be a string");
    return false;
  }
  out = it->get<std::string>();
  return true;
}

std::string ActorOf(const Principal& principal) {
  return (principal.kind == Principal::Kind::kUser ? "user:" : "token:") + principal.id;
}

json ToJson(const storage::Tenant& t) {
  return {{"id", t.id},           {"name", t.name},
          {"site", t.site_id},    {"disabled", t.disabled},
          {"created_at", t.created_at}, {"retention_days", t.retention_days}};
}

json ToJson(const storage::User& u) {
  return {{"id", u.id},
          {"tenant_id", u.tenant_id},
          {"email", u.email},
          {"role", storage::RoleName(u.role)},
          {"mfa_enrolled", !u.totp_secret.empty()},
          {"disabled", u.disabled},
          {"created_at", u.created_at}};
}

json ToJson(const storage::ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"role", storage::RoleName(t.role)},
          {"scopes", t.scopes},
          {"created_at", t.created_at},
          {"expires_at", t.expires_at},
          {"revoked", t.revoked_at != 0},
          {"last_used_at", t.last_used_at}};
}

json ToJson(const storage::Event& e) {
  json findings = json::parse(e.findings_json, nullptr, false);
  if (findings.is_discarded()) findings = json::array();
  return {{"seq", e.seq},
          {"time", e.time},
          {"service", e.service},
          {"object_name", e.object_name},
          {"sender", e.sender},
          {"recipients", e.recipients},
          {"owner", e.owner},
          {"sha256", e.sha256},
          {"verdict", e.verdict},
          {"threat_type", e.threat_type},
          {"detectors", e.detectors},
          {"action", e.action},
          {"findings", findings}};
}

json ToJson(const storage::QuarantineItem& q) {
  return {{"id", q.id},           {"event_seq", q.event_seq}, {"object_name", q.object_name},
          {"sha256", q.sha256},   {"size", q.size},           {"status", q.status},
          {"created_at", q.created_at}, {"expires_at", q.expires_at}};
}

json ToJson(const storage::AuditRecord& r) {
  return {{"seq", r.seq},       {"time", r.time},           {"tenant_id", r.tenant_id},
          {"actor", r.actor},   {"action", r.action},       {"target", r.target},
          {"detail", json::parse(r.detail_json, nullptr, false)},
          {"prev_hash", r.prev_hash}, {"hash", r.hash}};
}

json ToJson(const storage::ListEntry& l) {
  return {{"kind", l.kind},       {"disposition", l.disposition}, {"value", l.value},
          {"comment", l.comment}, {"created_at", l.created_at}};
}

}  // namespace bulwark::service::api

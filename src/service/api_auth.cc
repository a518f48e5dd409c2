// Console login: password (Argon2id) + TOTP, server-side sessions in Secure/HttpOnly/
// SameSite=Strict cookies, CSRF token for unsafe methods, throttling and lock-out.
#include "bulwark/common/text.h"
#include "security/credentials.h"
#include "service/api_routes.h"
#include "service/api_support.h"

namespace bulwark::service::api {
namespace {

constexpr std::string_view kLoginFailed =
    "wrong email, password or code, or too many failures: try again later";

http::Response LoginFailed() { return http::Response::Error(401, "login_failed", kLoginFailed); }

std::string SessionCookie(const std::string& value, std::int64_t max_age) {
  return std::string(kSessionCookie) + "=" + value +
         "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
}

// Counts a failure; locks the account after the configured number in a row.
void RecordFailure(Site& site, storage::User& user) {
  user.failed_logins += 1;
  if (user.failed_logins >= site.config().login_failures_before_lockout) {
    user.locked_until = Site::Now() + site.config().lockout.count();
    user.failed_logins = 0;
    (void)site.Audit(user.tenant_id, "user:" + user.id, "auth.lockout", user.id);
  }
  (void)site.store().UpdateUser(user);
}

http::Response Login(Site& site, const http::Request& request) {
  http::Response error;
  auto body = ParseObject(request, error);
  if (!body) return error;
  std::string email, password, code;
  if (!ReadString(*body, "email", email, true, error) ||
      !ReadString(*body, "password", password, true, error) ||
      !ReadString(*body, "totp", code, false, error)) {
    return error;
  }
  email = AsciiLower(email);
  for (const std::string& key : {"login:" + email, "ip:" + request.remote_address}) {
    auto decision = site.login_limiter().Take(key);
    if (!decision.allowed) {
      http::Response limited =
          http::Response::Error(429, "rate_limited", "too many login attempts; retry later");
      limited.headers.emplace_back("Retry-After", std::to_string(decision.retry_after.count()));
      return limited;
    }
  }
  Result<storage::User> found = site.store().FindUserByEmail(email);
  if (!found.ok()) {
    // Same work as for a real account, so timing does not tell which emails exist.
    (void)security::VerifyPassword(site.decoy_password_hash(), password);
    return LoginFailed();
  }
  storage::User user = std::move(found).value();
  std::int64_t now = Site::Now();
  if (user.disabled || user.locked_until > now) return LoginFailed();
  if (!security::VerifyPassword(user.password_hash, password)) {
    RecordFailure(site, user);
    return LoginFailed();
  }
  bool mfa_passed = !site.config().require_mfa;
  if (!user.totp_secret.empty()) {
    if (code.empty()) {
      return http::Response::Error(401, "mfa_required", "enter the code of your authenticator");
    }
    std::optional<std::int64_t> step =
        security::VerifyTotp(user.totp_secret, code, now, user.totp_last_step);
    if (!step) {
      RecordFailure(site, user);
      return LoginFailed();
    }
    user.totp_last_step = *step;
    mfa_passed = true;
  }
  if (!user.tenant_id.empty()) {
    Result<storage::Tenant> tenant = site.store().GetTenant(user.tenant_id);
    if (!tenant.ok() || tenant->disabled) return LoginFailed();
  }
  user.failed_logins = 0;
  if (Status s = site.store().UpdateUser(user); !s.ok()) return ErrorResponse(s);

  std::string cookie = security::RandomHex(32);
  storage::Session session;
  session.id_hash = security::TokenSecretHash(cookie);
  session.user_id = user.id;
  session.tenant_id = user.tenant_id;
  session.site_id = site.config().site.id;
  session.csrf_token = security::RandomHex(16);
  session.mfa_passed = mfa_passed;
  session.created_at = now;
  session.expires_at = now + site.config().session_lifetime.count();
  if (Status s = site.store().CreateSession(session); !s.ok()) return ErrorResponse(s);
  if (Status s = site.Audit(user.tenant_id, "user:" + user.id, "auth.login", user.id); !s.ok()) {
    return ErrorResponse(s);
  }
  http::Response response = http::Response::Json(
      200, json{{"user", ToJson(user)},
                {"csrf_token", session.csrf_token},
                {"mfa_enrolment_required", !mfa_passed},
                {"password_change_required", user.must_change_password},
                {"expires_at", session.expires_at}}
               .dump());
  response.headers.emplace_back("Set-Cookie",
                                SessionCookie(cookie, site.config().session_lifetime.count()));
  return response;
}

http::Response Logout(Site& site, const http::Request& request) {
  Caller caller = Authenticate(site, request);
  if (!caller.ok()) return caller.error;
  if (caller.principal->session_id_hash.empty()) {
    return http::Response::Error(400, "invalid_request", "tokens do not log out; revoke them");
  }
  if (Status s = site.store().DeleteSession(caller.principal->session_id_hash); !s.ok()) {
    return ErrorResponse(s);
  }
  http::Response response = http::Response::Json(200, R"({"logged_out":true})");
  response.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
  return response;
}

http::Response Me(Site& site, const http::Request& request) {
  Caller caller = Authenticate(site, request);
  if (!caller.ok()) return caller.error;
  const Principal& p = *caller.principal;
  json me = {{"kind", p.kind == Principal::Kind::kUser ? "user" : "token"},
             {"id", p.id},
             {"tenant_id", p.tenant_id},
             {"role", storage::RoleName(p.role)},
             {"site", {{"id", site.config().site.id},
                       {"name", site.config().site.name},
                       {"region", site.config().site.region}}}};
  if (p.kind == Principal::Kind::kUser) me["email"] = p.email;
  else me["scopes"] = p.scopes;
  return http::Response::Json(200, me.dump());
}

// Users only (sessions): the current user record and its session.
struct SessionUser {
  storage::User user;
  storage::Session session;
};
std::optional<SessionUser> CurrentSessionUser(Site& site, const http::Request& request,
                                              http::Response& error) {
  Caller caller = Authenticate(site, request);
  if (!caller.ok()) {
    error = caller.error;
    return std::nullopt;
  }
  if (caller.principal->kind != Principal::Kind::kUser) {
    error = http::Response::Error(400, "invalid_request", "only for console sessions");
    return std::nullopt;
  }
  Result<storage::User> user = site.store().GetUser(caller.principal->id);
  Result<storage::Session> session = site.store().FindSession(caller.principal->session_id_hash);
  if (!user.ok() || !session.ok()) {
    error = ErrorResponse(!user.ok() ? user.status() : session.status());
    return std::nullopt;
  }
  return SessionUser{std::move(user).value(), std::move(session).value()};
}

http::Response ChangePassword(Site& site, const http::Request& request) {
  http::Response error;
  auto current = CurrentSessionUser(site, request, error);
  if (!current) return error;
  auto body = ParseObject(request, error);
  if (!body) return error;
  std::string old_password, new_password;
  if (!ReadString(*body, "current_password", old_password, true, error) ||
      !ReadString(*body, "new_password", new_password, true, error)) {
    return error;
  }
  if (!security::VerifyPassword(current->user.password_hash, old_password)) {
    RecordFailure(site, current->user);
    return http::Response::Error(403, "forbidden", "the current password is wrong");
  }
  Result<std::string> hash = security::HashPassword(new_password);
  if (!hash.ok()) return ErrorResponse(hash.status());
  current->user.password_hash = *hash;
  current->user.must_change_password = false;
  if (Status s = site.store().UpdateUser(current->user); !s.ok()) return ErrorResponse(s);
  if (Status s = site.Audit(current->user.tenant_id, "user:" + current->user.id,
                            "user.password_change", current->user.id);
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, R"({"changed":true})");
}

http::Response EnrolMfa(Site& site, const http::Request& request) {
  http::Response error;
  auto current = CurrentSessionUser(site, request, error);
  if (!current) return error;
  if (!current->user.totp_secret.empty()) {
    return http::Response::Error(409, "conflict",
                                 "already enrolled; an administrator can reset it");
  }
  std::string secret = security::NewTotpSecret();
  return http::Response::Json(
      200, json{{"secret", secret},
                {"otpauth_uri", security::TotpProvisioningUri("Bulwark " + site.config().site.name,
                                                              current->user.email, secret)}}
               .dump());
}

http::Response ConfirmMfa(Site& site, const http::Request& request) {
  http::Response error;
  auto current = CurrentSessionUser(site, request, error);
  if (!current) return error;
  if (!current->user.totp_secret.empty()) {
    return http::Response::Error(409, "conflict", "already enrolled");
  }
  auto body = ParseObject(request, error);
  if (!body) return error;
  std::string secret, code;
  if (!ReadString(*body, "secret", secret, true, error) ||
      !ReadString(*body, "code", code, true, error)) {
    return error;
  }
  std::optional<std::int64_t> step = security::VerifyTotp(secret, code, Site::Now(), 0);
  if (!step) return http::Response::Error(400, "invalid_request", "the code does not match");
  current->user.totp_secret = secret;
  current->user.totp_last_step = *step;
  current->session.mfa_passed = true;
  if (Status s = site.store().UpdateUser(current->user); !s.ok()) return ErrorResponse(s);
  if (Status s = site.store().UpdateSession(current->session); !s.ok()) return ErrorResponse(s);
  if (Status s = site.Audit(current->user.tenant_id, "user:" + current->user.id,
                            "user.mfa_enrol", current->user.id);
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, R"({"enrolled":true})");
}

}  // namespace

void AddAuthRoutes(http::Router& router, Site& site) {
  auto bind = [&site](http::Response (*f)(Site&, const http::Request&)) {
    return [&site, f](const http::Request& r, const http::PathParams&) { return f(site, r); };
  };
  router.Add("POST", "/api/v1/auth/login", bind(Login));
  router.Add("POST", "/api/v1/auth/logout", bind(Logout));
  router.Add("POST", "/api/v1/auth/password", bind(ChangePassword));
  router.Add("POST", "/api/v1/auth/mfa/enrol", bind(EnrolMfa));
  router.Add("POST", "/api/v1/auth/mfa/confirm", bind(ConfirmMfa));
  router.Add("GET", "/api/v1/me", bind(Me));
}

}  // namespace bulwark::service::api

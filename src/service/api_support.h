#pragma once
// What every API handler shares: authentication, permission checks, JSON bodies, and the
// mapping from Status to HTTP errors (never a stack trace, never another tenant's name).

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "http/server.h"
#include "service/access.h"
#include "service/site.h"

namespace bulwark::service::api {

using nlohmann::json;

inline constexpr std::string_view kSessionCookie = "bulwark_session";

// The caller of a request, or the error response to send.
struct Caller {
  std::optional<Principal> principal;
  http::Response error;
  bool ok() const { return principal.has_value(); }
};

// Authenticates by bearer token or session cookie (with the CSRF header on unsafe methods),
// applies rate limits, and checks `permission`. Sessions that still have to enrol MFA or
// change their password may only reach the endpoints that do so (`allow_incomplete`).
Caller Authorize(Site& site, const http::Request& request, Permission permission,
                 bool allow_incomplete = false);
// Authentication only (no permission), for /me and logout.
Caller Authenticate(Site& site, const http::Request& request, bool allow_incomplete = true);

// Status → response: kNotFound 404, kInvalidArgument 400, kAlreadyExists 409,
// kPermissionDenied 403, kResourceExhausted 429, kFailedPrecondition 409, else 500 with a
// generic message (the detail goes to the log, not to the caller).
http::Response ErrorResponse(const Status& status);
http::Response NotFound(std::string_view what = "not found");
http::Response Forbidden();

// Parses a JSON object body: nullopt and `error` set when it is not one.
std::optional<json> ParseObject(const http::Request& request, http::Response& error);

// Helpers for reading fields with clear 400s.
bool ReadString(const json& body, const char* key, std::string& out, bool required,
                http::Response& error);

// The actor recorded in audit records: "user:u_…" or "token:k_…".
std::string ActorOf(const Principal& principal);

json ToJson(const storage::Tenant& tenant);
json ToJson(const storage::User& user);
json ToJson(const storage::ApiToken& token);
json ToJson(const storage::Event& event);
json ToJson(const storage::QuarantineItem& item);
json ToJson(const storage::AuditRecord& record);
json ToJson(const storage::ListEntry& entry);

}  // namespace bulwark::service::api

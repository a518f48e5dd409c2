// Quarantine: list, show, release, delete, and time-limited download links. Every access
// to quarantined content is an audit record.
#include "crypto/sha256.h"
#include "security/credentials.h"
#include "service/api_routes.h"
#include "service/api_support.h"

namespace bulwark::service::api {
namespace {

constexpr std::int64_t kLinkLifetimeSeconds = 300;

// HMAC-SHA256 over what a link grants: this principal, this tenant, this item, until then.
std::string LinkSignature(Site& site, const Principal& p, const std::string& item_id,
                          std::int64_t expires) {
  std::string message = p.tenant_id + "\n" + p.id + "\n" + item_id + "\n" +
                        std::to_string(expires);
  return crypto::HmacSha256Hex(site.link_key(), message);
}

http::Response ListQuarantine(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadQuarantine);
  if (!caller.ok()) return caller.error;
  std::string status = request.Query("status");
  if (!status.empty() && status != "held" && status != "released" && status != "deleted") {
    return http::Response::Error(400, "invalid_request",
                                 "status must be held, released or deleted");
  }
  Result<std::vector<storage::QuarantineItem>> items =
      site.store().ListQuarantine(caller.principal->tenant_id, status);
  if (!items.ok()) return ErrorResponse(items.status());
  json out = json::array();
  for (const auto& item : *items) out.push_back(ToJson(item));
  return http::Response::Json(200, json{{"items", out}}.dump());
}

http::Response GetItem(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kReadQuarantine);
  if (!caller.ok()) return caller.error;
  Result<storage::QuarantineItem> item =
      site.store().GetQuarantineItem(caller.principal->tenant_id, p.at("id"));
  if (!item.ok()) return ErrorResponse(item.status());
  return http::Response::Json(200, ToJson(*item).dump());
}

http::Response Release(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kReleaseQuarantine);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  Result<storage::QuarantineItem> item = site.store().GetQuarantineItem(tenant, p.at("id"));
  if (!item.ok()) return ErrorResponse(item.status());
  if (item->status != "held") {
    return http::Response::Error(409, "conflict", "the item is " + item->status);
  }
  if (Status s = site.store().SetQuarantineStatus(tenant, item->id, "released"); !s.ok()) {
    return ErrorResponse(s);
  }
  if (Status s = site.Audit(tenant, ActorOf(*caller.principal), "quarantine.release", item->id);
      !s.ok()) {
    return ErrorResponse(s);
  }
  item->status = "released";
  return http::Response::Json(200, ToJson(*item).dump());
}

http::Response Delete(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kDeleteQuarantine);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  if (Status s = site.quarantine().Remove(tenant, p.at("id")); !s.ok()) return ErrorResponse(s);
  if (Status s = site.Audit(tenant, ActorOf(*caller.principal), "quarantine.delete", p.at("id"));
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, R"({"deleted":true})");
}

// A link valid for five minutes, for this caller only.
http::Response DownloadLink(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kDownloadQuarantine);
  if (!caller.ok()) return caller.error;
  Result<storage::QuarantineItem> item =
      site.store().GetQuarantineItem(caller.principal->tenant_id, p.at("id"));
  if (!item.ok()) return ErrorResponse(item.status());
  if (item->status == "deleted") return NotFound();
  std::int64_t expires = Site::Now() + kLinkLifetimeSeconds;
  std::string url = "/api/v1/quarantine/" + item->id + "/content?expires=" +
                    std::to_string(expires) + "&signature=" +
                    LinkSignature(site, *caller.principal, item->id, expires);
  if (Status s = site.Audit(caller.principal->tenant_id, ActorOf(*caller.principal),
                            "quarantine.download_link", item->id);
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, json{{"url", url}, {"expires_at", expires}}.dump());
}

http::Response Content(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kDownloadQuarantine);
  if (!caller.ok()) return caller.error;
  const Principal& principal = *caller.principal;
  std::int64_t expires = std::atoll(request.Query("expires").c_str());
  std::string expected = LinkSignature(site, principal, p.at("id"), expires);
  if (expires < Site::Now() ||
      !security::ConstantTimeEquals(request.Query("signature"), expected)) {
    return http::Response::Error(403, "link_expired",
                                 "the download link is invalid or has expired");
  }
  Result<std::string> bytes = site.quarantine().Retrieve(principal.tenant_id, p.at("id"));
  if (!bytes.ok()) return ErrorResponse(bytes.status());
  if (Status s = site.Audit(principal.tenant_id, ActorOf(principal), "quarantine.download",
                            p.at("id"));
      !s.ok()) {
    return ErrorResponse(s);
  }
  http::Response response;
  response.content_type = "application/octet-stream";
  response.body = std::move(bytes).value();
  response.headers.emplace_back("Content-Disposition",
                                "attachment; filename=\"" + p.at("id") + ".bin\"");
  return response;
}

}  // namespace

void AddQuarantineRoutes(http::Router& router, Site& site) {
  using Fn = http::Response (*)(Site&, const http::Request&, const http::PathParams&);
  auto bind = [&site](Fn f) {
    return [&site, f](const http::Request& r, const http::PathParams& p) { return f(site, r, p); };
  };
  router.Add("GET", "/api/v1/quarantine", bind(ListQuarantine));
  router.Add("GET", "/api/v1/quarantine/{id}", bind(GetItem));
  router.Add("POST", "/api/v1/quarantine/{id}/release", bind(Release));
  router.Add("DELETE", "/api/v1/quarantine/{id}", bind(Delete));
  router.Add("POST", "/api/v1/quarantine/{id}/download", bind(DownloadLink));
  router.Add("GET", "/api/v1/quarantine/{id}/content", bind(Content));
}

}  // namespace bulwark::service::api

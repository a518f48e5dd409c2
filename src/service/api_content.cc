// Tenant content endpoints: the scan API, detection events (query, facets, export), the
// tenant policy (versioned) and approved/blocked lists.
#include <algorithm>
#include <chrono>

#include "bulwark/common/text.h"
#include "crypto/sha256.h"
#include "service/api_routes.h"
#include "service/api_support.h"
#include "service/content_scan.h"
#include "service/multipart.h"
#include "service/tenant_policy.h"

namespace bulwark::service::api {
namespace {

// POST /api/v1/scan: raw body or multipart/form-data; ?name= &sender= &recipients= &user=
// &groups= &service=. The content is scanned in memory and discarded; only the quarantine
// action keeps it, sealed (see QuarantineVault).
http::Response Scan(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kScan);
  if (!caller.ok()) return caller.error;
  const std::string& tenant_id = caller.principal->tenant_id;

  std::string_view data = request.body;
  std::string name = request.Query("name");
  std::string content_type = request.Header("content-type");
  if (AsciiLower(content_type).rfind("multipart/", 0) == 0) {
    Result<std::string> boundary = MultipartBoundary(content_type);
    if (!boundary.ok()) return ErrorResponse(boundary.status());
    Result<FormFile> file = FirstFormFile(request.body, *boundary);
    if (!file.ok()) return ErrorResponse(file.status());
    data = file->data;
    if (name.empty()) name = file->filename;
  }
  std::string sender = AsciiLower(request.Query("sender"));
  std::string recipients = AsciiLower(request.Query("recipients"));
  ScanSubject subject;
  subject.service = request.Query("service").empty() ? "api" : AsciiLower(request.Query("service"));
  subject.user = AsciiLower(request.Query("user"));
  if (subject.user.empty() && !recipients.empty()) subject.user = SplitList(recipients).front();
  subject.groups = SplitList(request.Query("groups"));

  ContentScanRequest scan{tenant_id, data, name, sender, recipients, subject};
  Result<ContentScanOutcome> outcome = ScanContent(site, scan);
  if (!outcome.ok()) return ErrorResponse(outcome.status());
  const engine::ScanReport& report = outcome->report;
  const Decision& decision = outcome->decision;
  json out = {{"name", name},
              {"sha256", report.sha256},
              {"size", report.size},
              {"type", report.type.mime},
              {"verdict", policy::VerdictKindName(report.verdict.kind)},
              {"reason", report.verdict.reason},
              {"allowed_by_list", outcome->allowed_by_list},
              {"findings", FindingsToJson(report.findings)},
              {"action", outcome->detection() ? ActionName(decision.action) : "none"},
              {"protections", decision.protections}};
  if (outcome->detection()) {
    out["intended_action"] = ActionName(decision.intended);
    out["monitor"] = decision.monitor;
    out["rule"] = decision.rule;
    if (outcome->event_seq) out["event_seq"] = *outcome->event_seq;
    if (outcome->quarantine_id) out["quarantine_id"] = *outcome->quarantine_id;
  }
  return http::Response::Json(200, out.dump());
}

// --- events ----------------------------------------------------------------------------------

bool ParseFilter(const http::Request& request, storage::EventFilter& filter,
                 http::Response& error) {
  auto optional = [&](const char* key, std::optional<std::string>& out) {
    std::string value = request.Query(key);
    if (!value.empty()) out = value;
  };
  optional("service", filter.service);
  optional("detector", filter.detector);
  optional("threat_type", filter.threat_type);
  optional("action", filter.action);
  optional("verdict", filter.verdict);
  optional("user", filter.user);
  auto number = [&](const char* key, std::int64_t& out) {
    std::string value = request.Query(key);
    if (value.empty()) return true;
    char* end = nullptr;
    long long parsed = std::strtoll(value.c_str(), &end, 10);
    if (end == value.c_str() || *end != '\0' || parsed < 0) {
      error = http::Response::Error(400, "invalid_request",
                                    std::string(key) + " must be a non-negative integer");
      return false;
    }
    out = parsed;
    return true;
  };
  std::int64_t since = -1, until = -1, limit = 100;
  if (!number("since", since) || !number("until", until) || !number("after", filter.after_seq) ||
      !number("limit", limit)) {
    return false;
  }
  if (!request.Query("since").empty()) filter.since = since;
  if (!request.Query("until").empty()) filter.until = until;
  filter.limit = static_cast<int>(std::clamp<std::int64_t>(limit, 1, 1000));
  return true;
}

http::Response ListEvents(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadEvents);
  if (!caller.ok()) return caller.error;
  storage::EventFilter filter;
  http::Response error;
  if (!ParseFilter(request, filter, error)) return error;
  Result<std::vector<storage::Event>> events =
      site.store().QueryEvents(caller.principal->tenant_id, filter);
  if (!events.ok()) return ErrorResponse(events.status());
  json out = json::array();
  std::int64_t next = filter.after_seq;
  for (const auto& e : *events) {
    out.push_back(ToJson(e));
    next = std::max(next, e.seq);
  }
  return http::Response::Json(200, json{{"events", out}, {"next_cursor", next}}.dump());
}

http::Response EventFacets(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadEvents);
  if (!caller.ok()) return caller.error;
  storage::EventFilter filter;
  http::Response error;
  if (!ParseFilter(request, filter, error)) return error;
  Result<std::vector<storage::Facet>> facets =
      site.store().EventFacets(caller.principal->tenant_id, filter);
  if (!facets.ok()) return ErrorResponse(facets.status());
  json out = json::object();
  for (const auto& f : *facets) out[f.field][f.value] = f.count;
  return http::Response::Json(200, json{{"facets", out}}.dump());
}

std::string CsvField(const std::string& value) {
  bool quote = value.find_first_of(",\"\r\n") != std::string::npos;
  // Cells starting with = + - @ are read as formulas by spreadsheets: neutralise them.
  std::string v = (!value.empty() && std::string_view("=+-@").find(value[0]) != std::string::npos)
                      ? "'" + value
                      : value;
  if (!quote) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

http::Response ExportEvents(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadEvents);
  if (!caller.ok()) return caller.error;
  storage::EventFilter filter;
  http::Response error;
  if (!ParseFilter(request, filter, error)) return error;
  std::string format = request.Query("format").empty() ? "json" : request.Query("format");
  if (format != "json" && format != "csv") {
    return http::Response::Error(400, "invalid_request", "format must be json or csv");
  }
  constexpr std::size_t kMaxExport = 100000;
  filter.limit = 1000;
  std::string body = format == "csv"
                         ? "seq,time,service,object_name,sender,recipients,owner,sha256,verdict,"
                           "threat_type,detectors,action\r\n"
                         : "";
  std::size_t exported = 0;
  while (exported < kMaxExport) {
    Result<std::vector<storage::Event>> page =
        site.store().QueryEvents(caller.principal->tenant_id, filter);
    if (!page.ok()) return ErrorResponse(page.status());
    for (const auto& e : *page) {
      if (format == "csv") {
        for (const std::string& field :
             {std::to_string(e.seq), std::to_string(e.time), e.service, e.object_name, e.sender,
              e.recipients, e.owner, e.sha256, e.verdict, e.threat_type, e.detectors}) {
          body += CsvField(field) + ",";
        }
        body += CsvField(e.action) + "\r\n";
      } else {
        body += ToJson(e).dump() + "\n";  // JSON Lines
      }
      filter.after_seq = e.seq;
    }
    exported += page->size();
    if (page->size() < static_cast<std::size_t>(filter.limit)) break;
  }
  http::Response response;
  response.status = 200;
  response.content_type = format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson";
  response.body = std::move(body);
  response.headers.emplace_back(
      "Content-Disposition", "attachment; filename=\"bulwark-events." +
                                 std::string(format == "csv" ? "csv" : "jsonl") + "\"");
  return response;
}

http::Response GetEvent(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kReadEvents);
  if (!caller.ok()) return caller.error;
  char* end = nullptr;
  long long seq = std::strtoll(p.at("seq").c_str(), &end, 10);
  if (end == p.at("seq").c_str() || *end != '\0') return NotFound();
  Result<std::optional<storage::Event>> event =
      site.store().GetEvent(caller.principal->tenant_id, seq);
  if (!event.ok()) return ErrorResponse(event.status());
  if (!*event) return NotFound();
  return http::Response::Json(200, ToJson(**event).dump());
}

// --- policy ----------------------------------------------------------------------------------

http::Response GetPolicy(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadPolicy);
  if (!caller.ok()) return caller.error;
  Result<std::optional<storage::PolicyVersion>> current =
      site.store().CurrentPolicy(caller.principal->tenant_id);
  if (!current.ok()) return ErrorResponse(current.status());
  json out;
  if (*current) {
    out = {{"version", (*current)->version},
           {"policy", json::parse((*current)->body_json, nullptr, false)},
           {"author", (*current)->author},
           {"created_at", (*current)->created_at}};
  } else {
    out = {{"version", 0}, {"policy", json::parse(DefaultTenantPolicyJson())}, {"default", true}};
  }
  return http::Response::Json(200, out.dump());
}

http::Response PutPolicy(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kWritePolicy);
  if (!caller.ok()) return caller.error;
  Result<TenantPolicy> policy = ParseTenantPolicy(request.body);
  if (!policy.ok()) return ErrorResponse(policy.status());
  Result<storage::PolicyVersion> version = site.store().AddPolicyVersion(
      caller.principal->tenant_id, TenantPolicyToJson(*policy), ActorOf(*caller.principal));
  if (!version.ok()) return ErrorResponse(version.status());
  if (Status s = site.Audit(caller.principal->tenant_id, ActorOf(*caller.principal),
                            "policy.update", "policy",
                            json{{"version", version->version}}.dump());
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, json{{"version", version->version},
                                        {"policy", json::parse(version->body_json)}}
                                       .dump());
}

http::Response PolicyVersions(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadPolicy);
  if (!caller.ok()) return caller.error;
  Result<std::vector<storage::PolicyVersion>> history =
      site.store().PolicyHistory(caller.principal->tenant_id);
  if (!history.ok()) return ErrorResponse(history.status());
  json out = json::array();
  for (const auto& v : *history) {
    out.push_back({{"version", v.version},
                   {"author", v.author},
                   {"created_at", v.created_at},
                   {"policy", json::parse(v.body_json, nullptr, false)}});
  }
  return http::Response::Json(200, json{{"versions", out}}.dump());
}

// --- approved and blocked lists ---------------------------------------------------------------

bool ValidListValue(const std::string& kind, const std::string& value) {
  if (value.empty() || value.size() > 2048) return false;
  if (kind == "sha256") {
    crypto::Sha256Digest digest;
    return crypto::ParseSha256Hex(value, digest);
  }
  if (kind == "sender") return value.find('@') != std::string::npos;
  if (kind == "domain") return value.find('@') == std::string::npos && value.find('.') != 0;
  if (kind == "url") return value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0;
  return false;
}

http::Response GetLists(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadPolicy);
  if (!caller.ok()) return caller.error;
  Result<std::vector<storage::ListEntry>> entries =
      site.store().ListEntries(caller.principal->tenant_id);
  if (!entries.ok()) return ErrorResponse(entries.status());
  json out = json::array();
  for (const auto& e : *entries) out.push_back(ToJson(e));
  return http::Response::Json(200, json{{"entries", out}}.dump());
}

bool ReadListEntry(const http::Request& request, storage::ListEntry& entry,
                   http::Response& error, bool from_query) {
  if (from_query) {
    entry.kind = request.Query("kind");
    entry.disposition = request.Query("disposition");
    entry.value = request.Query("value");
  } else {
    auto body = ParseObject(request, error);
    if (!body) return false;
    if (!ReadString(*body, "kind", entry.kind, true, error) ||
        !ReadString(*body, "disposition", entry.disposition, true, error) ||
        !ReadString(*body, "value", entry.value, true, error) ||
        !ReadString(*body, "comment", entry.comment, false, error)) {
      return false;
    }
  }
  if (entry.kind != "url") entry.value = AsciiLower(entry.value);
  if (entry.disposition != "allow" && entry.disposition != "block") {
    error = http::Response::Error(400, "invalid_request", "disposition must be allow or block");
    return false;
  }
  if (!ValidListValue(entry.kind, entry.value)) {
    error = http::Response::Error(
        400, "invalid_request",
        "kind must be sender, domain, url or sha256, with a value of that form");
    return false;
  }
  return true;
}

http::Response AddListEntry(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kWritePolicy);
  if (!caller.ok()) return caller.error;
  storage::ListEntry entry;
  http::Response error;
  if (!ReadListEntry(request, entry, error, false)) return error;
  entry.tenant_id = caller.principal->tenant_id;
  entry.created_at = Site::Now();
  if (Status s = site.store().AddListEntry(entry); !s.ok()) return ErrorResponse(s);
  if (Status s = site.Audit(entry.tenant_id, ActorOf(*caller.principal), "list.add",
                            entry.kind + ":" + entry.disposition,
                            json{{"value", entry.value}}.dump());
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(201, ToJson(entry).dump());
}

http::Response RemoveListEntry(Site& site, const http::Request& request,
                               const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kWritePolicy);
  if (!caller.ok()) return caller.error;
  storage::ListEntry entry;
  http::Response error;
  if (!ReadListEntry(request, entry, error, true)) return error;
  if (Status s = site.store().RemoveListEntry(caller.principal->tenant_id, entry.kind,
                                              entry.disposition, entry.value);
      !s.ok()) {
    return ErrorResponse(s);
  }
  if (Status s = site.Audit(caller.principal->tenant_id, ActorOf(*caller.principal),
                            "list.remove", entry.kind + ":" + entry.disposition,
                            json{{"value", entry.value}}.dump());
      !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, R"({"removed":true})");
}

}  // namespace

void AddContentRoutes(http::Router& router, Site& site) {
  using Fn = http::Response (*)(Site&, const http::Request&, const http::PathParams&);
  auto bind = [&site](Fn f) {
    return [&site, f](const http::Request& r, const http::PathParams& p) { return f(site, r, p); };
  };
  router.Add("POST", "/api/v1/scan", bind(Scan));
  router.Add("GET", "/api/v1/events", bind(ListEvents));
  router.Add("GET", "/api/v1/events/facets", bind(EventFacets));
  router.Add("GET", "/api/v1/events/export", bind(ExportEvents));
  router.Add("GET", "/api/v1/events/{seq}", bind(GetEvent));
  router.Add("GET", "/api/v1/policy", bind(GetPolicy));
  router.Add("PUT", "/api/v1/policy", bind(PutPolicy));
  router.Add("GET", "/api/v1/policy/versions", bind(PolicyVersions));
  router.Add("GET", "/api/v1/lists", bind(GetLists));
  router.Add("POST", "/api/v1/lists", bind(AddListEntry));
  router.Add("DELETE", "/api/v1/lists", bind(RemoveListEntry));
}

}  // namespace bulwark::service::api

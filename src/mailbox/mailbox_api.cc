// The mailbox connector's API (docs/api.md, docs/openapi.json): connectors (create with
// an encrypted credential, list with state and counters, enable/disable, replace the
// credential, delete), sweeps (queue, follow, cancel) and the messages held in mailbox
// quarantine folders (list, restore). Every change is an audit record; credentials are
// never returned.
#include "mailbox/mailbox_api.h"

#include <algorithm>

#include "bulwark/common/text.h"
#include "mailbox/mailbox_session.h"
#include "service/api_support.h"

namespace bulwark::mailbox {
namespace {

using service::Permission;
using service::Site;
using service::api::Authorize;
using service::api::Caller;
using service::api::ErrorResponse;
using service::api::json;

http::Response BadRequest(const std::string& message) {
  return http::Response::Error(400, "invalid_request", message);
}

json ToJson(const storage::MailboxFolderState& f) {
  return {{"folder", f.folder},
          {"uidvalidity", f.uidvalidity},
          {"last_uid", f.last_uid},
          {"highest_modseq", f.highest_modseq},
          {"updated_at", f.updated_at}};
}

json ToJson(const storage::MailboxConnector& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"host", c.host},
          {"port", c.port},
          {"tls", c.tls},
          {"ca_file", c.ca_file},
          {"username", c.username},
          {"auth", c.auth},
          {"folders", c.folders},
          {"quarantine_folder", c.quarantine_folder},
          {"enabled", c.enabled},
          {"created_at", c.created_at},
          {"state",
           {{"status", c.status},
            {"last_error", c.last_error},
            {"last_sync_at", c.last_sync_at},
            {"next_attempt_at", c.next_attempt_at},
            {"failures", c.failures},
            {"messages_scanned", c.messages_scanned},
            {"bytes_scanned", c.bytes_scanned},
            {"detections", c.detections},
            {"watched_by", c.lease_until >= Site::Now() ? c.lease_owner : ""}}}};
}

json ToJson(const storage::MailboxSweep& s) {
  json criteria = json::object();
  if (!s.folder.empty()) criteria["folder"] = s.folder;
  if (s.since > 0) criteria["since"] = s.since;
  if (s.before > 0) criteria["before"] = s.before;
  if (!s.sender.empty()) criteria["sender"] = s.sender;
  if (!s.subject.empty()) criteria["subject"] = s.subject;
  if (!s.sha256.empty()) criteria["sha256"] = s.sha256;
  return {{"id", s.id},
          {"mailbox", s.connector_id},
          {"criteria", criteria},
          {"status", s.status},
          {"not_before", s.not_before},
          {"repeat_seconds", s.repeat_seconds},
          {"total", s.total},
          {"done", s.done},
          {"detections", s.detections},
          {"progress", s.total > 0 ? static_cast<double>(s.done) / static_cast<double>(s.total)
                                   : (s.status == "done" ? 1.0 : 0.0)},
          {"error", s.error},
          {"created_at", s.created_at},
          {"started_at", s.started_at},
          {"finished_at", s.finished_at}};
}

json ToJson(const storage::MailboxQuarantineItem& q) {
  return {{"id", q.id},
          {"mailbox", q.connector_id},
          {"origin_folder", q.origin_folder},
          {"quarantine_folder", q.quarantine_folder},
          {"message_id", q.message_id},
          {"sender", q.sender},
          {"event_seq", q.event_seq},
          {"status", q.status},
          {"created_at", q.created_at},
          {"updated_at", q.updated_at}};
}

// A folder name as a connector may hold it: UTF-8 text without control characters.
bool ValidFolder(const std::string& folder) {
  if (folder.empty() || folder.size() > 255) return false;
  if (!imap::EncodeMailboxName(folder).ok()) return false;
  return std::none_of(folder.begin(), folder.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// CA files are chosen by the operator (a tenant must not name arbitrary server files):
// only files under <data>/ca/ or /etc/ssl/ are accepted.
bool AllowedCaFile(const Site& site, const std::string& path) {
  if (path.empty()) return true;
  if (path.find("/../") != std::string::npos || path.ends_with("/..")) return false;
  return path.starts_with(site.config().data_dir + "/ca/") || path.starts_with("/etc/ssl/");
}

bool ReadInteger(const json& body, const char* key, std::int64_t& out, std::int64_t min,
                 std::int64_t max, http::Response& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_number_integer() || it->get<std::int64_t>() < min || it->get<std::int64_t>() > max) {
    error = BadRequest(std::string(key) + " must be an integer from " + std::to_string(min) +
                       " to " + std::to_string(max));
    return false;
  }
  out = it->get<std::int64_t>();
  return true;
}

// Records the caller's act in the audit log (an act whose record fails is not reported done).
Status Record(Site& site, const Caller& caller, const std::string& action,
              const std::string& target, const std::string& detail_json = "{}") {
  return site.Audit(caller.principal->tenant_id, service::api::ActorOf(*caller.principal), action,
                    target, detail_json);
}

http::Response List(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadMailboxes);
  if (!caller.ok()) return caller.error;
  auto connectors = site.store().ListMailboxConnectors(caller.principal->tenant_id);
  if (!connectors.ok()) return ErrorResponse(connectors.status());
  json out = json::array();
  for (const auto& c : *connectors) out.push_back(ToJson(c));
  return http::Response::Json(200, json{{"mailboxes", out}}.dump());
}

http::Response Create(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kManageMailboxes);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  http::Response error;
  std::optional<json> body = service::api::ParseObject(request, error);
  if (!body) return error;
  storage::MailboxConnector c;
  std::string secret;
  using service::api::ReadString;
  if (!ReadString(*body, "name", c.name, true, error) ||
      !ReadString(*body, "host", c.host, true, error) ||
      !ReadString(*body, "username", c.username, true, error) ||
      !ReadString(*body, "secret", secret, true, error) ||
      !ReadString(*body, "tls", c.tls, false, error) ||
      !ReadString(*body, "ca_file", c.ca_file, false, error) ||
      !ReadString(*body, "auth", c.auth, false, error) ||
      !ReadString(*body, "quarantine_folder", c.quarantine_folder, false, error)) {
    return error;
  }
  if (!imap::ParseTlsMode(c.tls).ok()) return BadRequest("tls must be implicit, starttls or none");
  c.port = c.tls == "implicit" ? 993 : 143;
  if (!ReadInteger(*body, "port", c.port, 1, 65535, error)) return error;
  if (c.auth != "password" && c.auth != "xoauth2")
    return BadRequest("auth must be password or xoauth2");
  if (c.name.empty() || c.name.size() > 320) return BadRequest("name must be 1 to 320 characters");
  if (c.host.empty() || c.host.size() > 253 ||
      c.host.find_first_of(" \t\r\n/") != std::string::npos) {
    return BadRequest("host must be a host name or an IP address");
  }
  if (c.username.empty() || c.username.size() > 320) return BadRequest("username is required");
  if (secret.empty() || secret.size() > 16384) return BadRequest("secret must be 1 to 16384 bytes");
  if (!AllowedCaFile(site, c.ca_file)) {
    return BadRequest("ca_file must be a file the operator placed under " + site.config().data_dir +
                      "/ca/ or /etc/ssl/");
  }
  if (auto it = body->find("folders"); it != body->end() && !it->is_null()) {
    if (!it->is_array() || it->empty() || it->size() > 50) {
      return BadRequest("folders must be a list of 1 to 50 folder names");
    }
    c.folders.clear();
    for (const json& f : *it) {
      if (!f.is_string() || !ValidFolder(f.get<std::string>())) {
        return BadRequest("folders must hold folder names (UTF-8, no control characters)");
      }
      c.folders.push_back(f.get<std::string>());
    }
  }
  if (!ValidFolder(c.quarantine_folder))
    return BadRequest("quarantine_folder is not a folder name");
  if (std::find(c.folders.begin(), c.folders.end(), c.quarantine_folder) != c.folders.end()) {
    return BadRequest("the quarantine folder cannot be one of the watched folders");
  }
  if (auto it = body->find("enabled"); it != body->end() && !it->is_null()) {
    if (!it->is_boolean()) return BadRequest("enabled must be true or false");
    c.enabled = it->get<bool>();
  }
  c.id = storage::NewId("m_");
  c.tenant_id = tenant;
  Result<std::string> sealed = site.quarantine().SealCredential(tenant, c.id, secret);
  std::fill(secret.begin(), secret.end(), '\0');
  if (!sealed.ok()) return ErrorResponse(sealed.status());
  c.sealed_secret = std::move(sealed).value();
  if (Status s = site.store().CreateMailboxConnector(c); !s.ok()) return ErrorResponse(s);
  if (Status s = Record(site, caller, "mailbox.create", c.id,
                        json{{"name", c.name}, {"host", c.host}}.dump());
      !s.ok()) {
    return ErrorResponse(s);
  }
  auto created = site.store().GetMailboxConnector(tenant, c.id);
  if (!created.ok()) return ErrorResponse(created.status());
  return http::Response::Json(201, ToJson(*created).dump());
}

http::Response Get(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kReadMailboxes);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  auto c = site.store().GetMailboxConnector(tenant, p.at("id"));
  if (!c.ok()) return ErrorResponse(c.status());
  auto folders = site.store().ListMailboxFolderStates(tenant, c->id);
  if (!folders.ok()) return ErrorResponse(folders.status());
  json out = ToJson(*c);
  out["folder_state"] = json::array();
  for (const auto& f : *folders) out["folder_state"].push_back(ToJson(f));
  return http::Response::Json(200, out.dump());
}

http::Response Delete(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kManageMailboxes);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  if (Status s = site.store().DeleteMailboxConnector(tenant, p.at("id")); !s.ok()) {
    return ErrorResponse(s);
  }
  if (Status s = Record(site, caller, "mailbox.delete", p.at("id")); !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, R"({"deleted":true})");
}

http::Response SetEnabled(Site& site, const http::Request& request, const http::PathParams& p,
                          bool enabled) {
  Caller caller = Authorize(site, request, Permission::kManageMailboxes);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  if (Status s = site.store().SetMailboxConnectorEnabled(tenant, p.at("id"), enabled); !s.ok()) {
    return ErrorResponse(s);
  }
  if (Status s = Record(site, caller, enabled ? "mailbox.enable" : "mailbox.disable", p.at("id"));
      !s.ok()) {
    return ErrorResponse(s);
  }
  auto c = site.store().GetMailboxConnector(tenant, p.at("id"));
  if (!c.ok()) return ErrorResponse(c.status());
  return http::Response::Json(200, ToJson(*c).dump());
}

http::Response ReplaceSecret(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kManageMailboxes);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  http::Response error;
  std::optional<json> body = service::api::ParseObject(request, error);
  if (!body) return error;
  std::string secret;
  if (!service::api::ReadString(*body, "secret", secret, true, error)) return error;
  if (secret.empty() || secret.size() > 16384) return BadRequest("secret must be 1 to 16384 bytes");
  auto c = site.store().GetMailboxConnector(tenant, p.at("id"));
  if (!c.ok()) return ErrorResponse(c.status());
  Result<std::string> sealed = site.quarantine().SealCredential(tenant, c->id, secret);
  std::fill(secret.begin(), secret.end(), '\0');
  if (!sealed.ok()) return ErrorResponse(sealed.status());
  if (Status s = site.store().SetMailboxConnectorSecret(tenant, c->id, *sealed); !s.ok()) {
    return ErrorResponse(s);
  }
  // New credentials: try again now rather than after the back-off.
  storage::MailboxConnectorState fresh;
  fresh.status = "pending";
  fresh.last_sync_at = c->last_sync_at;
  if (Status s = site.store().RecordMailboxState(tenant, c->id, fresh); !s.ok()) {
    return ErrorResponse(s);
  }
  if (Status s = Record(site, caller, "mailbox.secret", c->id); !s.ok()) return ErrorResponse(s);
  return http::Response::Json(200, R"({"updated":true})");
}

http::Response CreateSweep(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kManageMailboxes);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  auto c = site.store().GetMailboxConnector(tenant, p.at("id"));
  if (!c.ok()) return ErrorResponse(c.status());
  http::Response error;
  std::optional<json> body = service::api::ParseObject(request, error);
  if (!body) return error;
  storage::MailboxSweep sweep;
  using service::api::ReadString;
  constexpr std::int64_t kMaxTime = std::int64_t{1} << 40;
  if (!ReadString(*body, "folder", sweep.folder, false, error) ||
      !ReadString(*body, "sender", sweep.sender, false, error) ||
      !ReadString(*body, "subject", sweep.subject, false, error) ||
      !ReadString(*body, "sha256", sweep.sha256, false, error) ||
      !ReadInteger(*body, "since", sweep.since, 0, kMaxTime, error) ||
      !ReadInteger(*body, "before", sweep.before, 0, kMaxTime, error) ||
      !ReadInteger(*body, "not_before", sweep.not_before, 0, kMaxTime, error) ||
      !ReadInteger(*body, "repeat_seconds", sweep.repeat_seconds, 0, 366 * 86400, error)) {
    return error;
  }
  if (!sweep.folder.empty() && !ValidFolder(sweep.folder))
    return BadRequest("folder is not a folder name");
  if (sweep.sender.size() > 320 || sweep.subject.size() > 998) {
    return BadRequest("sender or subject is too long");
  }
  if (!sweep.sha256.empty() && (sweep.sha256.size() != 64 ||
                                !std::all_of(sweep.sha256.begin(), sweep.sha256.end(), [](char ch) {
                                  return HexDigitValue(static_cast<unsigned char>(ch)) >= 0;
                                }))) {
    return BadRequest("sha256 must be 64 hexadecimal digits");
  }
  sweep.sha256 = AsciiLower(sweep.sha256);
  if (sweep.repeat_seconds != 0 && sweep.repeat_seconds < 3600) {
    return BadRequest("repeat_seconds must be 0 (once) or at least 3600");
  }
  if (sweep.since > 0 && sweep.before > 0 && sweep.before <= sweep.since) {
    return BadRequest("before must be later than since");
  }
  sweep.id = storage::NewId("sw_");
  sweep.tenant_id = tenant;
  sweep.connector_id = c->id;
  sweep.status = "queued";
  if (Status s = site.store().CreateMailboxSweep(sweep); !s.ok()) return ErrorResponse(s);
  if (Status s = Record(site, caller, "mailbox.sweep", sweep.id, json{{"mailbox", c->id}}.dump());
      !s.ok()) {
    return ErrorResponse(s);
  }
  auto created = site.store().GetMailboxSweep(tenant, sweep.id);
  if (!created.ok()) return ErrorResponse(created.status());
  return http::Response::Json(202, ToJson(*created).dump());
}

http::Response ListSweeps(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kReadMailboxes);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  auto c = site.store().GetMailboxConnector(tenant, p.at("id"));
  if (!c.ok()) return ErrorResponse(c.status());
  auto sweeps = site.store().ListMailboxSweeps(tenant, c->id);
  if (!sweeps.ok()) return ErrorResponse(sweeps.status());
  json out = json::array();
  for (const auto& s : *sweeps) out.push_back(ToJson(s));
  return http::Response::Json(200, json{{"sweeps", out}}.dump());
}

http::Response GetSweep(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kReadMailboxes);
  if (!caller.ok()) return caller.error;
  auto sweep = site.store().GetMailboxSweep(caller.principal->tenant_id, p.at("sweep"));
  if (!sweep.ok()) return ErrorResponse(sweep.status());
  if (sweep->connector_id != p.at("id")) return service::api::NotFound();
  return http::Response::Json(200, ToJson(*sweep).dump());
}

http::Response CancelSweep(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kManageMailboxes);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  auto sweep = site.store().GetMailboxSweep(tenant, p.at("sweep"));
  if (!sweep.ok()) return ErrorResponse(sweep.status());
  if (sweep->connector_id != p.at("id")) return service::api::NotFound();
  if (sweep->status != "queued" && sweep->status != "running") {
    return http::Response::Error(409, "conflict", "the sweep is " + sweep->status);
  }
  sweep->status = "cancelled";
  sweep->finished_at = Site::Now();
  if (Status s = site.store().UpdateMailboxSweep(*sweep); !s.ok()) return ErrorResponse(s);
  if (Status s = Record(site, caller, "mailbox.sweep_cancel", sweep->id); !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, ToJson(*sweep).dump());
}

http::Response ListHeld(Site& site, const http::Request& request, const http::PathParams&) {
  Caller caller = Authorize(site, request, Permission::kReadMailboxes);
  if (!caller.ok()) return caller.error;
  std::string status = request.Query("status");
  if (!status.empty() && status != "held" && status != "restored" && status != "deleted") {
    return BadRequest("status must be held, restored or deleted");
  }
  auto items = site.store().ListMailboxQuarantine(caller.principal->tenant_id,
                                                  request.Query("mailbox"), status);
  if (!items.ok()) return ErrorResponse(items.status());
  json out = json::array();
  for (const auto& item : *items) out.push_back(ToJson(item));
  return http::Response::Json(200, json{{"items", out}}.dump());
}

http::Response Restore(Site& site, const http::Request& request, const http::PathParams& p) {
  Caller caller = Authorize(site, request, Permission::kRestoreMailbox);
  if (!caller.ok()) return caller.error;
  const std::string& tenant = caller.principal->tenant_id;
  Result<storage::MailboxQuarantineItem> restored = RestoreMessage(site, tenant, p.at("id"));
  if (!restored.ok()) {
    if (restored.status().code() == StatusCode::kUnavailable ||
        restored.status().code() == StatusCode::kDeadlineExceeded ||
        restored.status().code() == StatusCode::kPermissionDenied) {
      // The mailbox server, not the caller: say so (502), with its reason.
      return http::Response::Error(
          502, "mailbox_unavailable",
          "the mailbox could not be reached: " + restored.status().message());
    }
    return ErrorResponse(restored.status());
  }
  if (Status s = Record(site, caller, "mailbox.restore", restored->id); !s.ok()) {
    return ErrorResponse(s);
  }
  return http::Response::Json(200, ToJson(*restored).dump());
}

}  // namespace

void AddMailboxRoutes(http::Router& router, service::Site& site) {
  using Fn = http::Response (*)(Site&, const http::Request&, const http::PathParams&);
  auto bind = [&site](Fn f) {
    return [&site, f](const http::Request& r, const http::PathParams& p) { return f(site, r, p); };
  };
  router.Add("GET", "/api/v1/mailboxes", bind(List));
  router.Add("POST", "/api/v1/mailboxes", bind(Create));
  router.Add("GET", "/api/v1/mailboxes/{id}", bind(Get));
  router.Add("DELETE", "/api/v1/mailboxes/{id}", bind(Delete));
  router.Add("POST", "/api/v1/mailboxes/{id}/enable",
             [&site](const http::Request& r, const http::PathParams& p) {
               return SetEnabled(site, r, p, true);
             });
  router.Add("POST", "/api/v1/mailboxes/{id}/disable",
             [&site](const http::Request& r, const http::PathParams& p) {
               return SetEnabled(site, r, p, false);
             });
  router.Add("PUT", "/api/v1/mailboxes/{id}/secret", bind(ReplaceSecret));
  router.Add("POST", "/api/v1/mailboxes/{id}/sweeps", bind(CreateSweep));
  router.Add("GET", "/api/v1/mailboxes/{id}/sweeps", bind(ListSweeps));
  router.Add("GET", "/api/v1/mailboxes/{id}/sweeps/{sweep}", bind(GetSweep));
  router.Add("POST", "/api/v1/mailboxes/{id}/sweeps/{sweep}/cancel", bind(CancelSweep));
  router.Add("GET", "/api/v1/mailbox-quarantine", bind(ListHeld));
  router.Add("POST", "/api/v1/mailbox-quarantine/{id}/restore", bind(Restore));
}

}  // namespace bulwark::mailbox

#include "service/audit_export.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bulwark/common/text.h"

namespace bulwark::service {
namespace {

std::string Rfc3339(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// RFC 5424 §6.3.3: '"', '\' and ']' are escaped with a backslash inside PARAM-VALUE.
std::string SdValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

// HOSTNAME and other header fields: printable US-ASCII without spaces, or "-".
std::string HeaderField(const std::string& value, std::size_t max) {
  std::string out;
  for (char c : value) {
    if (c > 32 && c < 127) out += c;
    if (out.size() == max) break;
  }
  return out.empty() ? "-" : out;
}

int EventSeverity(const std::string& verdict) {
  if (verdict == "malicious") return 4;  // warning
  if (verdict == "clean") return 6;      // informational
  return 5;                              // notice: suspicious, policy, unscannable, other
}

}  // namespace

std::string AuditToSyslog(const storage::AuditRecord& r, const std::string& hostname,
                          const std::string& site_id) {
  std::string message = "<85>1 " + Rfc3339(r.time) + " " + HeaderField(hostname, 255) +
                        " bulwark - audit [bulwark@32473";
  auto param = [&](const char* name, const std::string& value) {
    message += std::string(" ") + name + "=\"" + SdValue(value) + "\"";
  };
  param("site", site_id);
  param("seq", std::to_string(r.seq));
  param("tenant", r.tenant_id);
  param("actor", r.actor);
  param("action", r.action);
  param("target", r.target);
  param("prev_hash", r.prev_hash);
  param("hash", r.hash);
  message += "] " + r.action + " " + r.target + " " + r.detail_json;
  return message;
}

std::string EventToSyslog(const storage::Event& e, const std::string& hostname,
                          const std::string& site_id) {
  constexpr int kFacilitySecurity = 4;
  std::string message = "<" + std::to_string(kFacilitySecurity * 8 + EventSeverity(e.verdict)) +
                        ">1 " + Rfc3339(e.time) + " " + HeaderField(hostname, 255) +
                        " bulwark - event [bulwark@32473";
  auto param = [&](const char* name, const std::string& value) {
    message += std::string(" ") + name + "=\"" + SdValue(value) + "\"";
  };
  param("site", site_id);
  param("tenant", e.tenant_id);
  param("seq", std::to_string(e.seq));
  param("service", e.service);
  param("verdict", e.verdict);
  param("threat_type", e.threat_type);
  param("action", e.action);
  param("sha256", e.sha256);
  param("detectors", e.detectors);
  nlohmann::json findings = nlohmann::json::parse(e.findings_json, nullptr, false);
  nlohmann::json body{{"object", e.object_name},
                      {"sender", e.sender},
                      {"recipients", SplitList(e.recipients)},
                      {"owner", e.owner},
                      {"findings", findings.is_discarded() ? nlohmann::json(e.findings_json)
                                                           : std::move(findings)}};
  // ensure_ascii and replace: the dump never throws, and MSG needs no BOM.
  message += "] " + body.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  return message;
}

std::string AuditToJsonLine(const storage::AuditRecord& r, const std::string& site_id) {
  nlohmann::json detail = nlohmann::json::parse(r.detail_json, nullptr, false);
  return nlohmann::json{{"site", site_id},       {"seq", r.seq},
                        {"time", Rfc3339(r.time)}, {"tenant_id", r.tenant_id},
                        {"actor", r.actor},      {"action", r.action},
                        {"target", r.target},
                        {"detail", detail.is_discarded() ? nlohmann::json(r.detail_json) : detail},
                        {"prev_hash", r.prev_hash}, {"hash", r.hash}}
      .dump();
}

}  // namespace bulwark::service

#include "cli/scan_output.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace bulwark::cli {
namespace {

std::string Upper(std::string_view in) {
  std::string out(in);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '_') c = ' ';
  }
  return out;
}

}  // namespace

std::string EscapeForTerminal(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buffer[5];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
      out += buffer;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string FormatHuman(const std::string& path, const engine::ScanReport& report) {
  std::string out = EscapeForTerminal(path) + ": ";
  if (!report.verdict.IsDetection()) {
    out += "OK";
    return out;
  }
  out += Upper(policy::VerdictKindName(report.verdict.kind));
  out += " (" + EscapeForTerminal(report.verdict.reason) + ")";
  for (const auto& finding : report.findings) {
    content::ObjectPath where = finding.path.PrefixedWith(content::ObjectPath({path}));
    out += "\n  - " + std::string(engine::CategoryName(finding.category)) + "/" +
           std::string(engine::SeverityName(finding.severity)) + " " + finding.detector + " " +
           EscapeForTerminal(finding.name) + " at " + EscapeForTerminal(where.ToString());
    if (!finding.detail.empty()) out += ": " + EscapeForTerminal(finding.detail);
  }
  return out;
}

std::string FormatHumanError(const std::string& path, const Status& error) {
  return EscapeForTerminal(path) + ": ERROR " + EscapeForTerminal(error.message());
}

std::string FormatJson(const std::string& path, const engine::ScanReport& report) {
  nlohmann::ordered_json doc;
  doc["schema"] = "bulwark.scan.v1";
  doc["path"] = path;
  doc["sha256"] = report.sha256;
  doc["size"] = report.size;
  doc["type"] = {{"kind", content::FileKindName(report.type.kind)}, {"mime", report.type.mime}};
  doc["verdict"] = policy::VerdictKindName(report.verdict.kind);
  doc["reason"] = report.verdict.reason;
  auto findings = nlohmann::ordered_json::array();
  for (const auto& finding : report.findings) {
    nlohmann::ordered_json f;
    f["detector"] = finding.detector;
    f["name"] = finding.name;
    f["category"] = engine::CategoryName(finding.category);
    f["severity"] = engine::SeverityName(finding.severity);
    f["path"] = finding.path.parts();
    f["detail"] = finding.detail;
    if (finding.category == engine::Category::kUnscannable) {
      f["unscannable_reason"] = engine::UnscannableReasonName(finding.reason);
    }
    findings.push_back(std::move(f));
  }
  doc["findings"] = std::move(findings);
  doc["objects_scanned"] = report.objects_scanned;
  doc["bytes_scanned"] = report.bytes_scanned;
  doc["cached"] = report.cached;
  doc["duration_us"] = report.duration.count();
  doc["signature_version"] = report.signature_version;
  // Names from archives may hold any bytes: replace invalid UTF-8 rather than fail.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FormatJsonError(const std::string& path, const Status& error) {
  nlohmann::ordered_json doc;
  doc["schema"] = "bulwark.scan.v1";
  doc["path"] = path;
  doc["error"] = {{"code", StatusCodeName(error.code())}, {"message", error.message()}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace bulwark::cli

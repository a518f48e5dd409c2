#pragma once
// Audit records and detection events as RFC 5424 syslog messages, audit records as JSON
// lines: for `bulwark audit export` and the syslog forwarder (service/syslog_forwarder.h).

#include <string>

#include "storage/store.h"

namespace bulwark::service {

// <85>1 2026-11-28T10:00:00Z HOST bulwark - audit [bulwark@32473 seq="…" …] ACTION TARGET
// (facility authpriv, severity notice; SD-PARAM values escaped per RFC 5424 §6.3.3).
std::string AuditToSyslog(const storage::AuditRecord& record, const std::string& hostname,
                          const std::string& site_id);
std::string AuditToJsonLine(const storage::AuditRecord& record, const std::string& site_id);

// One detection event as an RFC 5424 message:
//   <PRI>1 2026-11-28T10:00:00Z HOST bulwark - event [bulwark@32473 site="…" tenant="…"
//   seq="…" service="…" verdict="…" threat_type="…" action="…" sha256="…" detectors="…"] MSG
// MSG is one line of ASCII JSON (non-ASCII escaped as \uXXXX, invalid UTF-8 replaced by
// U+FFFD): {"object":…,"sender":…,"recipients":[…],"owner":…,"findings":…}; findings is the
// stored findings_json parsed, or the raw text as a string when it does not parse.
// PRI = facility 4 (security/authorization) * 8 + severity by verdict:
//   malicious → 4 warning (PRI 36); suspicious, policy, unscannable and anything unknown →
//   5 notice (PRI 37); clean → 6 informational (PRI 38).
// SD-PARAM values are escaped per RFC 5424 §6.3.3; HOSTNAME is printable ASCII, at most 255
// characters, "-" when empty.
std::string EventToSyslog(const storage::Event& event, const std::string& hostname,
                          const std::string& site_id);

}  // namespace bulwark::service

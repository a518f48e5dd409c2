#pragma once
// Audit records as RFC 5424 syslog messages and as JSON lines, for `bulwark audit export`
// and the syslog forwarder.

#include <string>

#include "storage/store.h"

namespace bulwark::service {

// <85>1 2026-11-28T10:00:00Z HOST bulwark - audit [bulwark@32473 seq="…" …] ACTION TARGET
// (facility authpriv, severity notice; SD-PARAM values escaped per RFC 5424 §6.3.3).
std::string AuditToSyslog(const storage::AuditRecord& record, const std::string& hostname,
                          const std::string& site_id);
std::string AuditToJsonLine(const storage::AuditRecord& record, const std::string& site_id);

}  // namespace bulwark::service

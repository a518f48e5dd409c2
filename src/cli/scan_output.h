#pragma once
// How `bulwark scan` prints results: human-readable lines or one JSON document a line
// (schema "bulwark.scan.v1", documented in docs/scan-json.md).

#include <string>

#include "bulwark/common/status.h"
#include "bulwark/engine/engine.h"

namespace bulwark::cli {

// "path: OK" or "path: MALICIOUS (reason)" followed by one indented line a finding.
// Control characters in names are escaped so a hostile member name cannot move the
// terminal's cursor.
std::string FormatHuman(const std::string& path, const engine::ScanReport& report);
std::string FormatHumanError(const std::string& path, const Status& error);

// One line of JSON (no trailing newline).
std::string FormatJson(const std::string& path, const engine::ScanReport& report);
std::string FormatJsonError(const std::string& path, const Status& error);

// Escapes bytes below 0x20 and DEL as \xNN; leaves valid UTF-8 alone.
std::string EscapeForTerminal(const std::string& text);

}  // namespace bulwark::cli

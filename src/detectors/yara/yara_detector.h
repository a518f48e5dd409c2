#pragma once
// The "yara" detector: YARA rules through libyara, compiled once per (re)load and shared
// read-only by every scan thread (each scan uses its own YR_SCANNER).
//
// Rule metadata decides the finding: meta.category = "malware" | "suspicious" | "policy"
// (default "malware"), meta.severity = "info" … "critical" (default "high"),
// meta.description becomes the finding's detail. External variables available to rules:
// `filename` (the object's name) and `depth` (0 for the outermost object).

#include <string_view>

#include "bulwark/engine/registry.h"

namespace bulwark::detectors {

void RegisterYaraDetector(engine::Registry& registry);

// Compiles the built-in rules and every .yar/.yara file. kInvalidArgument carries
// "file:line: message" of the first compile error; no rules are loaded then.
Result<engine::DetectorPtr> CreateYaraDetector(const engine::SignatureSources& sources);

// Compiles `source` alone (no files, no includes): the fuzzing and validation entry point.
Status CompileYaraSource(std::string_view source);

}  // namespace bulwark::detectors

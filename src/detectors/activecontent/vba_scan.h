#pragma once
// VbaScan: what a VBA module's source does, from one linear pass over its tokens.
//
// Comments (' … and Rem …, including " _" continued comment lines) are skipped: a keyword
// that only appears in a comment is not evidence. String literals are searched for the
// ProgIDs and programs that macros hand to CreateObject/Shell ("WScript.Shell",
// "ADODB.Stream", "powershell", …); identifiers are matched against fixed tables of
// auto-execute entry points (only as the name of a Sub/Function) and suspicious calls.

#include <cstddef>
#include <string_view>

#include "bulwark/content/object.h"
#include "detectors/activecontent/evidence.h"

namespace bulwark::detectors::activecontent {

struct VbaScan {
  Evidence entry_points;        // auto-execute procedures defined, e.g. "Document_Open"
  Evidence calls;               // suspicious calls/ProgIDs/Declares, e.g. "Shell", "ADODB.Stream"
  std::size_t chr_calls = 0;    // Chr/ChrW/ChrB (with or without $)
  std::size_t identifiers = 0;  // every identifier outside comments and strings
};

// True when `object` holds VBA source: a module the ole2 unpacker emitted
// ("VBA/<Module>.vba") or text that declares a module ("Attribute VB_Name").
// Linear in the (already bounded) `bytes`.
bool LooksLikeVba(const content::ObjectInfo& info, std::string_view bytes);

// Scans `source`. Linear in its size; never fails (any bytes are accepted).
VbaScan ScanVba(std::string_view source);

// Chr obfuscation: many character-code calls, and a large share of all identifiers.
bool HasChrObfuscation(const VbaScan& scan);

}  // namespace bulwark::detectors::activecontent

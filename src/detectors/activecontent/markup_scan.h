#pragma once
// Scanners for active content in markup and document streams: DDE (Office XML, RTF, Word
// binary text, spreadsheet formulas), PowerPoint "run program" actions, Excel 4 macro
// sheets, and scripts in HTML/SVG. Each is one linear pass (plus a constant number of
// fixed-keyword searches) and never fails.

#include <string_view>

#include "detectors/activecontent/evidence.h"

namespace bulwark::detectors::activecontent {

// DDE in text: "ddeLink"/"ddeService" elements (OOXML external links), DDE/DDEAUTO field
// codes in <w:instrText>, w:fldSimple w:instr="…", RTF \fldinst, and DDE formulas
// (=cmd|'…'!A1) in CSV/SpreadsheetML. Evidence names the form found.
Evidence ScanTextForDde(std::string_view text);

// DDE/DDEAUTO fields in a Word binary "WordDocument" stream: a field-begin mark (0x13)
// followed by DDE, in 8-bit or UTF-16LE text.
Evidence ScanWordStreamForDde(std::string_view stream);

// "ppaction://program" (a slide action that runs a program).
bool HasProgramAction(std::string_view text);

// A BIFF "Workbook"/"Book" stream, walked record by record by their length fields:
// Excel 4 (XLM) macro sheets (a BOUNDSHEET of sheet type "macro sheet") and DDE links (a
// SUPBOOK whose virtual path is "<application>\x03<topic>").
struct BiffScan {
  bool excel4_macro_sheet = false;
  bool dde_link = false;
};
BiffScan ScanBiffWorkbook(std::string_view workbook_stream);

// Scripts in HTML or SVG markup. Tag-aware: only attribute names inside tags count as event
// handlers, so "on=" in text or inside a quoted value is not one.
struct MarkupScan {
  Evidence script;       // "<script>", "javascript: URL", "vbscript: URL", "on* event handler"
  bool has_svg = false;  // an <svg element
};
MarkupScan ScanMarkup(std::string_view text);

}  // namespace bulwark::detectors::activecontent

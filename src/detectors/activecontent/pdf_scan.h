#pragma once
// PdfScan: the action and content names a PDF's raw bytes use, in one linear pass.
//
// Every PDF name token (/Name) is decoded (#xx escapes, so /J#61vaScript is /JavaScript)
// and compared with a fixed table. Names inside compressed object streams are not seen;
// the pdf unpacker extracts JavaScript and embedded files from those (see
// docs/active-content.md).

#include <string_view>

namespace bulwark::detectors::activecontent {

struct PdfScan {
  bool javascript = false;          // /JavaScript or /JS
  bool open_action = false;         // /OpenAction
  bool additional_actions = false;  // /AA
  bool launch = false;              // /Launch
  bool embedded_file = false;       // /EmbeddedFile(s)
  bool xfa = false;                 // /XFA
  bool rich_media = false;          // /RichMedia
};

PdfScan ScanPdf(std::string_view bytes);

}  // namespace bulwark::detectors::activecontent

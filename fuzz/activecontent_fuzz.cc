// Feeds arbitrary bytes to the activecontent detector as objects of several kinds, names and
// depths. The first byte chooses them: bits 0-3 the (kind, name) pair, bit 4 the depth, bits
// 5-7 file blocking rules on/off.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bulwark/engine/finding.h"
#include "bulwark/engine/scan_context.h"
#include "detectors/activecontent/activecontent_detector.h"

namespace {

using bulwark::content::FileKind;

struct Shape {
  FileKind kind;
  const char* name;
  const char* mime;
};

constexpr Shape kShapes[] = {
    {FileKind::kText, "VBA/Module1.vba", "text/plain"},
    {FileKind::kText, "word/document.xml", "text/xml"},
    {FileKind::kHtml, "invoice.html", "text/html"},
    {FileKind::kHtml, "body.html", "text/html"},
    {FileKind::kImage, "logo.svg", "image/svg+xml"},
    {FileKind::kPdf, "a.pdf", "application/pdf"},
    {FileKind::kRtf, "a.rtf", "text/rtf"},
    {FileKind::kUnknown, "WordDocument", ""},
    {FileKind::kUnknown, "Workbook", ""},
    {FileKind::kScript, "javascript-1.js", "text/javascript"},
    {FileKind::kPe, "invoice.pdf   .exe", ""},
    {FileKind::kText, "a.csv", "text/csv"},
    {FileKind::kText, "x\xE2\x80\xAEtxt.exe", "text/plain"},
    {FileKind::kHtml, "update.hta", "text/html"},
    {FileKind::kText, "notes.txt", "text/plain"},
    {FileKind::kOle2, "xl/macrosheets/sheet1.bin", ""},
};

const bulwark::engine::Detector& Plain() {
  static const auto* detector = bulwark::detectors::CreateActiveContentDetector()->release();
  return *detector;
}

const bulwark::engine::Detector& WithRules() {
  static const auto* detector = [] {
    bulwark::detectors::FileBlockingRules rules;
    rules.rules.push_back({"exe", {FileKind::kPe}, {"exe", ".scr"}, {"*.p?f", "*invoice*"}});
    return bulwark::detectors::CreateActiveContentDetector(std::move(rules))->release();
  }();
  return *detector;
}

class CountingSink : public bulwark::engine::FindingSink {
 public:
  void Add(bulwark::engine::Finding) override { ++count; }
  std::size_t count = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const Shape& shape = kShapes[selector & 0x0f];
  bulwark::content::Object object;
  object.info.name = shape.name;
  object.info.type.kind = shape.kind;
  object.info.type.mime = shape.mime;
  object.info.depth = (selector & 0x10) ? 2 : 0;
  // Half the time the rest of the input is the name too, to fuzz the name checks.
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((selector & 0x20) && !rest.empty()) object.info.name = std::string(rest.substr(0, 300));
  object.data = bulwark::content::Blob::Copy(rest);
  object.info.size = rest.size();
  const bulwark::engine::Detector& detector = (selector & 0x40) ? WithRules() : Plain();
  bulwark::engine::Limits limits;
  bulwark::engine::ScanContext ctx(limits, bulwark::engine::ScanContext::Clock::now());
  CountingSink sink;
  if (detector.Accepts(object.info)) (void)detector.Inspect(object, ctx, sink);
  return 0;
}

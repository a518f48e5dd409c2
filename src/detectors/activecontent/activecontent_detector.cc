#include "detectors/activecontent/activecontent_detector.h"

#include <string>
#include <utility>

#include "detectors/activecontent/ascii.h"
#include "detectors/activecontent/file_blocking.h"
#include "detectors/activecontent/file_names.h"
#include "detectors/activecontent/markup_scan.h"
#include "detectors/activecontent/pdf_scan.h"
#include "detectors/activecontent/vba_scan.h"

namespace bulwark::detectors {
namespace {

using content::FileKind;
using engine::Category;
using engine::Severity;
namespace ac = activecontent;

// Content past this is not looked at (the engine's default object size limit).
constexpr std::size_t kMaxScanBytes = 64u << 20;

constexpr std::string_view kDetectorName = "activecontent";

void Report(engine::FindingSink& findings, std::string name, Category category, Severity severity,
            std::string detail) {
  engine::Finding finding;
  finding.detector = std::string(kDetectorName);
  finding.name = std::move(name);
  finding.category = category;
  finding.severity = severity;
  finding.detail = std::move(detail);
  findings.Add(std::move(finding));
}

bool IsTextKind(FileKind kind) {
  return kind == FileKind::kText || kind == FileKind::kHtml || kind == FileKind::kScript;
}

// "<prefix><digits><suffix>", the names our own unpackers give to what they extract.
bool IsNumberedName(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix)) {
    return false;
  }
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  for (char c : digits) {
    if (!ac::IsDigit(c)) return false;
  }
  return true;
}

bool IsVbaModuleName(std::string_view name) {
  return ac::StartsWithIgnoreCase(name, "VBA/") && ac::EndsWithIgnoreCase(name, ".vba");
}
bool IsPdfScriptName(std::string_view name) { return IsNumberedName(name, "javascript-", ".js"); }
// Objects our unpackers synthesise from a parent (macro source, PDF scripts, decoded
// commands) are not files someone attached; the container-file checks skip them.
bool IsExtractedArtifact(std::string_view name) {
  return IsVbaModuleName(name) || IsPdfScriptName(name) ||
         IsNumberedName(name, "powershell-encoded-", ".ps1");
}
// Mail bodies as the mime unpacker names them ("body.html", "part-2.html").
bool IsMailBodyName(std::string_view name) {
  return name == "body.html" || name == "body.htm" || IsNumberedName(name, "part-", ".html") ||
         IsNumberedName(name, "part-", ".htm");
}

class ActiveContentDetector : public engine::Detector {
 public:
  explicit ActiveContentDetector(FileBlockingRules rules) : blocking_(std::move(rules)) {}

  std::string_view Name() const override { return kDetectorName; }

  bool Accepts(const content::ObjectInfo& info) const override {
    if (!blocking_.empty() || info.depth > 0 || !info.name.empty()) return true;
    return ScansContent(info);
  }

  Status Inspect(const content::Object& object, engine::ScanContext&,
                 engine::FindingSink& findings) const override {
    const content::ObjectInfo& info = object.info;
    std::string_view bytes = object.bytes();
    if (bytes.size() > kMaxScanBytes) bytes = bytes.substr(0, kMaxScanBytes);
    CheckName(info, findings);
    if (info.depth > 0) CheckContainerMember(info, findings);
    if (info.depth > 0 && ac::StartsWithIgnoreCase(info.name, "xl/macrosheets/")) {
      Report(findings, "ActiveContent.Macro.Excel4", Category::kSuspicious, Severity::kMedium,
             "workbook part " + info.name + " is an Excel 4 (XLM) macro sheet");
    }
    if (!blocking_.empty()) blocking_.Check(info, findings);
    if (ScansContent(info)) CheckContent(info, bytes, findings);
    return OkStatus();
  }

 private:
  static bool ScansContent(const content::ObjectInfo& info) {
    const FileKind kind = info.type.kind;
    if (IsTextKind(kind) || kind == FileKind::kRtf || kind == FileKind::kPdf) return true;
    if (kind == FileKind::kImage) return ac::ContainsIgnoreCase(info.type.mime, "svg");
    if (IsVbaModuleName(info.name)) return true;
    const std::string_view base = ac::BaseName(info.name);
    return base == "WordDocument" || base == "Workbook" || base == "Book";
  }

  static void CheckName(const content::ObjectInfo& info, engine::FindingSink& findings) {
    if (info.name.empty()) return;
    if (ac::HasDoubleExtension(info.name)) {
      Report(findings, "FileName.DoubleExtension", Category::kSuspicious, Severity::kHigh,
             "name \"" + info.name + "\" hides an executable extension behind a document one");
    }
    if (ac::HasBidiControl(info.name)) {
      Report(findings, "FileName.BidiOverride", Category::kSuspicious, Severity::kHigh,
             "name contains a bidirectional override/isolate character");
    }
    const std::string_view extension = ac::Extension(info.name);
    if (ac::IsExecutableKind(info.type.kind) && ac::IsDocumentExtension(extension)) {
      Report(findings, "FileName.TypeMismatch", Category::kSuspicious, Severity::kHigh,
             "true type " + std::string(content::FileKindName(info.type.kind)) + " named ." +
                 ac::ToLowerAscii(extension));
    }
  }

  static void CheckContainerMember(const content::ObjectInfo& info, engine::FindingSink& findings) {
    if (IsExtractedArtifact(info.name)) return;
    const std::string_view extension = ac::Extension(info.name);
    ac::ExtensionClass cls = ac::ClassifyExtension(extension);
    std::string evidence;
    if (ac::IsExecutableKind(info.type.kind)) {
      cls = ac::ExtensionClass::kExecutable;
      evidence = "true type " + std::string(content::FileKindName(info.type.kind));
    } else if (cls != ac::ExtensionClass::kNone) {
      evidence = "extension ." + ac::ToLowerAscii(extension);
    } else if (info.type.kind == FileKind::kScript) {
      cls = ac::ExtensionClass::kScript;
      evidence = "true type script";
    } else {
      return;
    }
    Report(findings, "FileType." + std::string(ac::ExtensionClassName(cls)), Category::kPolicy,
           Severity::kMedium, evidence + " inside a container");
  }

  static void CheckContent(const content::ObjectInfo& info, std::string_view bytes,
                           engine::FindingSink& findings) {
    const FileKind kind = info.type.kind;
    const std::string_view base = ac::BaseName(info.name);
    if (kind == FileKind::kPdf) return CheckPdf(bytes, findings);
    if (base == "WordDocument" && !IsTextKind(kind)) {
      const ac::Evidence dde = ac::ScanWordStreamForDde(bytes);
      if (!dde.empty()) ReportDde(dde, findings);
      return;
    }
    if ((base == "Workbook" || base == "Book") && !IsTextKind(kind)) {
      const ac::BiffScan biff = ac::ScanBiffWorkbook(bytes);
      if (biff.excel4_macro_sheet) {
        Report(findings, "ActiveContent.Macro.Excel4", Category::kSuspicious, Severity::kMedium,
               "workbook defines an Excel 4 (XLM) macro sheet");
      }
      if (biff.dde_link) {
        ac::Evidence dde;
        dde.Add("SUPBOOK DDE link");
        ReportDde(dde, findings);
      }
      return;
    }
    if (info.depth > 0 && IsPdfScriptName(info.name)) {
      Report(findings, "ActiveContent.PDF.JavaScript", Category::kSuspicious, Severity::kMedium,
             "JavaScript extracted from a PDF");
      return;
    }
    if (kind != FileKind::kHtml && kind != FileKind::kImage && ac::LooksLikeVba(info, bytes)) {
      return CheckVba(bytes, findings);
    }
    if (kind == FileKind::kText || kind == FileKind::kHtml || kind == FileKind::kRtf) {
      const ac::Evidence dde = ac::ScanTextForDde(bytes);
      if (!dde.empty()) ReportDde(dde, findings);
      if (ac::HasProgramAction(bytes)) {
        Report(findings, "ActiveContent.ProgramAction", Category::kSuspicious, Severity::kHigh,
               "slide action ppaction://program");
      }
    }
    if (kind == FileKind::kHtml || kind == FileKind::kText || kind == FileKind::kImage) {
      CheckMarkup(info, bytes, findings);
    }
  }

  static void ReportDde(const ac::Evidence& dde, engine::FindingSink& findings) {
    Report(findings, "ActiveContent.DDE", Category::kSuspicious, Severity::kHigh,
           "dynamic data exchange: " + dde.Join());
  }

  static void CheckVba(std::string_view source, engine::FindingSink& findings) {
    ac::VbaScan scan = ac::ScanVba(source);
    if (ac::HasChrObfuscation(scan)) scan.calls.Add("Chr/ChrW obfuscation");
    std::string detail = "VBA macro source";
    if (!scan.entry_points.empty()) detail += "; entry points: " + scan.entry_points.Join();
    if (!scan.calls.empty()) detail += "; calls: " + scan.calls.Join();
    Report(findings, "ActiveContent.Macro", Category::kPolicy, Severity::kLow, detail);
    if (scan.entry_points.empty()) return;
    Report(findings, "ActiveContent.Macro.AutoExec", Category::kSuspicious,
           scan.calls.empty() ? Severity::kMedium : Severity::kHigh, detail);
  }

  static void CheckPdf(std::string_view bytes, engine::FindingSink& findings) {
    const ac::PdfScan pdf = ac::ScanPdf(bytes);
    if (pdf.javascript) {
      std::string detail = "/JavaScript";
      if (pdf.open_action) detail += " with /OpenAction";
      if (pdf.additional_actions) detail += " with /AA";
      const bool automatic = pdf.open_action || pdf.additional_actions;
      Report(findings, "ActiveContent.PDF.JavaScript", Category::kSuspicious,
             automatic ? Severity::kHigh : Severity::kMedium, detail);
    }
    if (pdf.launch) {
      Report(findings, "ActiveContent.PDF.Launch", Category::kSuspicious, Severity::kHigh,
             "/Launch action");
    }
    if (pdf.embedded_file) {
      Report(findings, "ActiveContent.PDF.EmbeddedFile", Category::kPolicy, Severity::kLow,
             "/EmbeddedFile");
    }
    if (pdf.xfa) {
      Report(findings, "ActiveContent.PDF.XFA", Category::kPolicy, Severity::kLow, "/XFA form");
    }
    if (pdf.rich_media) {
      Report(findings, "ActiveContent.PDF.RichMedia", Category::kPolicy, Severity::kLow,
             "/RichMedia");
    }
  }

  static void CheckMarkup(const content::ObjectInfo& info, std::string_view bytes,
                          engine::FindingSink& findings) {
    const ac::MarkupScan markup = ac::ScanMarkup(bytes);
    if (markup.script.empty()) return;
    const std::string_view extension = ac::Extension(info.name);
    const bool svg_document = ac::EqualsIgnoreCase(extension, "svg") ||
                              info.type.kind == FileKind::kImage ||
                              (info.type.kind != FileKind::kHtml && markup.has_svg);
    if (svg_document) {
      Report(findings, "ActiveContent.SVG.Script", Category::kSuspicious, Severity::kMedium,
             "SVG with " + markup.script.Join());
      return;
    }
    if (info.type.kind != FileKind::kHtml) return;
    const bool hta = ac::EqualsIgnoreCase(extension, "hta");
    const bool attachment =
        info.depth > 0 && !IsMailBodyName(info.name) &&
        (hta || ac::EqualsIgnoreCase(extension, "htm") || ac::EqualsIgnoreCase(extension, "html") ||
         ac::EqualsIgnoreCase(extension, "shtml"));
    const Category category = (hta || attachment) ? Category::kSuspicious : Category::kPolicy;
    const Severity severity = hta          ? Severity::kHigh
                              : attachment ? Severity::kMedium
                                           : Severity::kLow;
    Report(findings, "ActiveContent.HTML.Script", category, severity,
           (hta ? "HTML application with " : "HTML with ") + markup.script.Join());
  }

  ac::FileBlocking blocking_;  // constant after construction
};

}  // namespace

Result<engine::DetectorPtr> CreateActiveContentDetector(FileBlockingRules rules) {
  BULWARK_RETURN_IF_ERROR(ValidateFileBlockingRules(rules));
  return engine::DetectorPtr(std::make_unique<ActiveContentDetector>(std::move(rules)));
}

void RegisterActiveContentDetector(engine::Registry& registry) {
  RegisterActiveContentDetector(registry, FileBlockingRules{});
}

void RegisterActiveContentDetector(engine::Registry& registry, FileBlockingRules rules) {
  registry.AddDetector([rules = std::move(rules)](const engine::SignatureSources&) {
    return CreateActiveContentDetector(rules);
  });
}

}  // namespace bulwark::detectors

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "detectors/activecontent/activecontent_detector.h"
#include "detectors/activecontent/file_names.h"
#include "detectors/activecontent/markup_scan.h"
#include "detectors/activecontent/pdf_scan.h"
#include "detectors/activecontent/vba_scan.h"

namespace bulwark::detectors {
namespace {

using content::FileKind;
using engine::Category;
using engine::Severity;

struct Outcome {
  std::vector<engine::Finding> findings;
  const engine::Finding* Find(std::string_view name) const {
    for (const auto& f : findings) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  std::string Names() const {
    std::string out;
    for (const auto& f : findings) out += f.name + " ";
    return out;
  }
};

Outcome Inspect(const engine::Detector& detector, std::string name, FileKind kind,
                std::string bytes, int depth = 0, std::string mime = "") {
  content::Object object;
  object.info.name = std::move(name);
  object.info.type.kind = kind;
  object.info.type.mime = std::move(mime);
  object.info.depth = depth;
  object.info.size = bytes.size();
  object.data = content::Blob::Own(std::move(bytes));
  Outcome outcome;
  engine::FindingList list;
  if (detector.Accepts(object.info)) {
    engine::Limits limits;
    engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
    EXPECT_TRUE(detector.Inspect(object, ctx, list).ok());
  }
  outcome.findings = list.findings();
  for (const auto& f : outcome.findings) EXPECT_EQ(f.detector, "activecontent");
  return outcome;
}

class ActiveContentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = CreateActiveContentDetector();
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    detector_ = std::move(created).value();
  }
  Outcome Run(std::string name, FileKind kind, std::string bytes, int depth = 0,
              std::string mime = "") {
    return Inspect(*detector_, std::move(name), kind, std::move(bytes), depth, std::move(mime));
  }
  engine::DetectorPtr detector_;
};

// --- Office macros -------------------------------------------------------------------

TEST_F(ActiveContentTest, MacroWithoutEntryPointIsPolicyOnly) {
  Outcome o =
      Run("VBA/Module1.vba", FileKind::kText,
          "Attribute VB_Name = \"Module1\"\r\nSub Hello()\r\n MsgBox \"hi\"\r\nEnd Sub\r\n", 2);
  const engine::Finding* macro = o.Find("ActiveContent.Macro");
  ASSERT_NE(macro, nullptr) << o.Names();
  EXPECT_EQ(macro->category, Category::kPolicy);
  EXPECT_EQ(macro->severity, Severity::kLow);
  EXPECT_FALSE(o.Has("ActiveContent.Macro.AutoExec"));
  EXPECT_FALSE(o.Has("FileType.Script")) << "macro source is not a file in a container";
}

TEST_F(ActiveContentTest, AutoOpenAloneIsMedium) {
  Outcome o = Run("VBA/ThisDocument.vba", FileKind::kText,
                  "Private Sub Document_Open()\n  MsgBox \"hello\"\nEnd Sub\n", 2);
  const engine::Finding* auto_exec = o.Find("ActiveContent.Macro.AutoExec");
  ASSERT_NE(auto_exec, nullptr) << o.Names();
  EXPECT_EQ(auto_exec->category, Category::kSuspicious);
  EXPECT_EQ(auto_exec->severity, Severity::kMedium);
  EXPECT_NE(auto_exec->detail.find("Document_Open"), std::string::npos);
  EXPECT_EQ(auto_exec->detail.find("hello"), std::string::npos) << "no content in findings";
}

TEST_F(ActiveContentTest, AutoOpenWithShellIsHighAndNamesEvidence) {
  Outcome o = Run("VBA/Module1.vba", FileKind::kText,
                  "Sub AutoOpen()\n Set s = CreateObject(\"WScript.Shell\")\n"
                  " s.Run \"powershell -nop -c calc\"\nEnd Sub\n",
                  2);
  const engine::Finding* auto_exec = o.Find("ActiveContent.Macro.AutoExec");
  ASSERT_NE(auto_exec, nullptr) << o.Names();
  EXPECT_EQ(auto_exec->severity, Severity::kHigh);
  for (std::string_view word : {"AutoOpen", "CreateObject", "WScript.Shell", "Run", "PowerShell"}) {
    EXPECT_NE(auto_exec->detail.find(word), std::string::npos)
        << word << " in " << auto_exec->detail;
  }
  EXPECT_EQ(auto_exec->detail.find("calc"), std::string::npos);
}

TEST_F(ActiveContentTest, EntryPointsAreCaseInsensitiveAndIncludeActivateSuffix) {
  Outcome o = Run("VBA/Sheet1.vba", FileKind::kText,
                  "private sub WORKSHEET_ACTIVATE()\nkill \"x\"\nend sub\n", 2);
  const engine::Finding* auto_exec = o.Find("ActiveContent.Macro.AutoExec");
  ASSERT_NE(auto_exec, nullptr);
  EXPECT_NE(auto_exec->detail.find("*_Activate"), std::string::npos);
  EXPECT_EQ(auto_exec->severity, Severity::kHigh);
}

TEST_F(ActiveContentTest, KeywordsInCommentsAreNotCalls) {
  // Decision (docs/active-content.md): comments are not code, so "Shell" there is no call.
  Outcome o =
      Run("VBA/Module1.vba", FileKind::kText,
          "Sub AutoOpen()\n' Shell \"cmd\" is what we do not do _\n  CreateObject continued\n"
          "Rem Kill everything\n MsgBox \"Shell\"\nEnd Sub\n",
          2);
  const engine::Finding* auto_exec = o.Find("ActiveContent.Macro.AutoExec");
  ASSERT_NE(auto_exec, nullptr);
  EXPECT_EQ(auto_exec->severity, Severity::kMedium) << auto_exec->detail;
}

TEST_F(ActiveContentTest, CallingAnEntryPointIsNotDefiningIt) {
  Outcome o = Run("VBA/Module1.vba", FileKind::kText, "Sub Foo()\n Call AutoOpen\nEnd Sub\n", 2);
  EXPECT_FALSE(o.Has("ActiveContent.Macro.AutoExec")) << o.Names();
}

TEST_F(ActiveContentTest, DeclareAndOpenForBinaryAndChrObfuscation) {
  std::string chr;
  for (int i = 0; i < 30; ++i) chr += "s = s & Chr(" + std::to_string(65 + i) + ")\n";
  Outcome o = Run("x.bas", FileKind::kText,
                  "Attribute VB_Name = \"M\"\nPrivate Declare PtrSafe Function VirtualAlloc Lib "
                  "\"kernel32\" (ByVal a As LongPtr) As LongPtr\nSub Workbook_Open()\n"
                  "Open p For Binary As #1\n" +
                      chr + "End Sub\n");
  const engine::Finding* auto_exec = o.Find("ActiveContent.Macro.AutoExec");
  ASSERT_NE(auto_exec, nullptr) << o.Names();
  EXPECT_EQ(auto_exec->severity, Severity::kHigh);
  for (std::string_view word : {"VirtualAlloc", "Open For Binary", "Chr/ChrW obfuscation"}) {
    EXPECT_NE(auto_exec->detail.find(word), std::string::npos)
        << word << " in " << auto_exec->detail;
  }
}

TEST_F(ActiveContentTest, PlainTextMentioningMacrosIsNotVba) {
  Outcome o = Run("notes.txt", FileKind::kText, "Please never run Sub AutoOpen macros with Shell.");
  EXPECT_FALSE(o.Has("ActiveContent.Macro")) << o.Names();
}

// --- DDE, program actions, Excel 4 ------------------------------------------------------

TEST_F(ActiveContentTest, DdeFieldCodesAndLinks) {
  std::vector<std::string> positives = {
      "<w:r><w:instrText xml:space=\"preserve\"> DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "
      "\"/k calc\"</w:instrText></w:r>",
      "<w:fldSimple w:instr=\" DDE c:\\\\x.exe\"/>",
      "<externalLink><ddeLink xmlns=\"x\" ddeService=\"cmd\" ddeTopic=\"/c calc\"/></externalLink>",
      "{\\rtf1{\\field{\\*\\fldinst {\\rtlch DDEAUTO c:\\\\a.exe}}}}",
      "a,b\n=cmd|' /C calc'!A0\n",
  };
  for (const std::string& text : positives) {
    Outcome o = Run("part.xml", FileKind::kText, text, 1);
    const engine::Finding* dde = o.Find("ActiveContent.DDE");
    ASSERT_NE(dde, nullptr) << text;
    EXPECT_EQ(dde->category, Category::kSuspicious);
    EXPECT_EQ(dde->severity, Severity::kHigh);
    EXPECT_EQ(dde->detail.find("calc"), std::string::npos);
  }
  Outcome rtf = Run("a.rtf", FileKind::kRtf, positives[3]);
  EXPECT_TRUE(rtf.Has("ActiveContent.DDE"));
}

TEST_F(ActiveContentTest, OrdinaryFieldsAndPipesAreNotDde) {
  for (std::string text :
       {"<w:instrText> PAGE </w:instrText><w:instrText>HYPERLINK x</w:instrText>",
        "the ddelinks are fine", "a|'b'!c", "x = a | 'b' ! c",
        "<w:fldSimple w:instr=\" TOC \\o\"/>"}) {
    Outcome o = Run("part.xml", FileKind::kText, text, 1);
    EXPECT_FALSE(o.Has("ActiveContent.DDE")) << text;
  }
}

TEST_F(ActiveContentTest, WordBinaryDdeField) {
  std::string stream(64, '\0');
  stream += "\x13 DDEAUTO c:\\x.exe \x14\x15";
  Outcome o = Run("WordDocument", FileKind::kUnknown, stream, 1);
  EXPECT_TRUE(o.Has("ActiveContent.DDE")) << o.Names();
  std::string utf16 = std::string("\x13\0 \0D\0D\0E\0", 10);
  EXPECT_TRUE(Run("WordDocument", FileKind::kUnknown, utf16, 1).Has("ActiveContent.DDE"));
  EXPECT_FALSE(
      Run("WordDocument", FileKind::kUnknown, "\x13 PAGE \x15", 1).Has("ActiveContent.DDE"));
}

TEST_F(ActiveContentTest, ProgramAction) {
  Outcome o = Run("ppt/slides/_rels/slide1.xml.rels", FileKind::kText,
                  "<Relationship Target=\"ppaction://program\"/>", 1);
  EXPECT_TRUE(o.Has("ActiveContent.ProgramAction"));
  EXPECT_FALSE(Run("s.xml", FileKind::kText, "<a action=\"ppaction://hlinkshowjump\"/>", 1)
                   .Has("ActiveContent.ProgramAction"));
}

TEST_F(ActiveContentTest, Excel4MacroSheet) {
  auto record = [](std::uint16_t id, std::string data) {
    std::string r;
    r += static_cast<char>(id & 0xff);
    r += static_cast<char>(id >> 8);
    r += static_cast<char>(data.size() & 0xff);
    r += static_cast<char>(data.size() >> 8);
    return r + data;
  };
  std::string bof = record(0x0809, std::string(16, '\0'));
  std::string worksheet = record(0x0085, std::string("\0\0\0\0\0\0\x01\0S", 9));
  std::string macro = record(0x0085, std::string("\0\0\0\0\0\x01\x01\0M", 9));
  EXPECT_TRUE(Run("Workbook", FileKind::kUnknown, bof + worksheet + macro, 1)
                  .Has("ActiveContent.Macro.Excel4"));
  EXPECT_FALSE(
      Run("Workbook", FileKind::kUnknown, bof + worksheet, 1).Has("ActiveContent.Macro.Excel4"));
  EXPECT_TRUE(Run("xl/macrosheets/sheet1.xml", FileKind::kText, "<xm:macrosheet/>", 1)
                  .Has("ActiveContent.Macro.Excel4"));
}

TEST_F(ActiveContentTest, BiffDdeLink) {
  auto record = [](std::uint16_t id, std::string data) {
    std::string r;
    r += static_cast<char>(id & 0xff);
    r += static_cast<char>(id >> 8);
    r += static_cast<char>(data.size() & 0xff);
    r += static_cast<char>(data.size() >> 8);
    return r + data;
  };
  std::string bof = record(0x0809, std::string(16, '\0'));
  std::string dde = record(0x01AE, std::string("\0\0\x0c\0\0cmd\x03/c calc", 16));
  std::string addin = record(0x01AE, std::string("\x01\0\x01\x3a", 4));
  Outcome o = Run("Workbook", FileKind::kUnknown, bof + addin + dde, 1);
  ASSERT_TRUE(o.Has("ActiveContent.DDE")) << o.Names();
  EXPECT_EQ(o.Find("ActiveContent.DDE")->detail.find("calc"), std::string::npos);
  EXPECT_FALSE(Run("Workbook", FileKind::kUnknown, bof + addin, 1).Has("ActiveContent.DDE"));
}

// --- PDF ----------------------------------------------------------------------------------

TEST_F(ActiveContentTest, PdfJavaScriptAndActions) {
  Outcome plain = Run("a.pdf", FileKind::kPdf, "%PDF-1.4\n1 0 obj<</S/JavaScript/JS(x)>>endobj");
  const engine::Finding* js = plain.Find("ActiveContent.PDF.JavaScript");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->severity, Severity::kMedium);

  Outcome escaped = Run("a.pdf", FileKind::kPdf,
                        "%PDF-1.4\n<</OpenAction 2 0 R>> 2 0 obj<</S/J#61vaScript/J#53 (x)>>");
  js = escaped.Find("ActiveContent.PDF.JavaScript");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->severity, Severity::kHigh);
  EXPECT_NE(js->detail.find("/OpenAction"), std::string::npos);

  Outcome launch = Run("a.pdf", FileKind::kPdf,
                       "%PDF-1.4 <</AA<</O<</S/Launch/F(cmd.exe)>>>>/EmbeddedFiles 3 0 R/XFA 4 0 R"
                       "/RichMedia 5 0 R>>");
  EXPECT_TRUE(launch.Has("ActiveContent.PDF.Launch"));
  EXPECT_TRUE(launch.Has("ActiveContent.PDF.EmbeddedFile"));
  EXPECT_TRUE(launch.Has("ActiveContent.PDF.XFA"));
  EXPECT_TRUE(launch.Has("ActiveContent.PDF.RichMedia"));
  EXPECT_FALSE(launch.Has("ActiveContent.PDF.JavaScript"));

  Outcome clean = Run("a.pdf", FileKind::kPdf,
                      "%PDF-1.4 <</Type/Catalog/Pages 2 0 R/JSX 1/JavaScripts 2/Launcher 3>>");
  EXPECT_TRUE(clean.findings.empty()) << clean.Names();
}

TEST_F(ActiveContentTest, ScriptExtractedFromPdf) {
  Outcome o = Run("javascript-1.js", FileKind::kScript, "app.alert(1)", 1);
  EXPECT_TRUE(o.Has("ActiveContent.PDF.JavaScript"));
  EXPECT_FALSE(o.Has("FileType.Script")) << o.Names();
}

// --- HTML and SVG --------------------------------------------------------------------------

TEST_F(ActiveContentTest, HtmlBodyWithScriptIsPolicy) {
  Outcome o =
      Run("body.html", FileKind::kHtml, "<html><body><script>x()</script></body></html>", 1);
  const engine::Finding* f = o.Find("ActiveContent.HTML.Script");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::kPolicy);
  EXPECT_EQ(f->severity, Severity::kLow);
}

TEST_F(ActiveContentTest, HtmlAttachmentWithHandlerIsSuspicious) {
  Outcome o = Run("Invoice.html", FileKind::kHtml, "<body onload = \"go()\"><p>Loading</p>", 1);
  const engine::Finding* f = o.Find("ActiveContent.HTML.Script");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::kSuspicious);
  EXPECT_NE(f->detail.find("on* event handler"), std::string::npos);
  Outcome url = Run("page.htm", FileKind::kHtml, "<a href=' JavaScript:go()'>x</a>", 2);
  ASSERT_TRUE(url.Has("ActiveContent.HTML.Script"));
  EXPECT_NE(url.Find("ActiveContent.HTML.Script")->detail.find("javascript: URL"),
            std::string::npos);
}

TEST_F(ActiveContentTest, HtaIsSuspiciousHigh) {
  Outcome o = Run("update.hta", FileKind::kHtml, "<hta:application/><script language=vbscript>", 1);
  const engine::Finding* f = o.Find("ActiveContent.HTML.Script");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::kSuspicious);
  EXPECT_EQ(f->severity, Severity::kHigh);
  EXPECT_TRUE(o.Has("FileType.Script"));
}

TEST_F(ActiveContentTest, NewsletterWithLinksButNoScriptIsClean) {
  std::string html = "<html><head><style>p{color:red}</style></head><body>";
  for (int i = 0; i < 200; ++i) {
    html += "<p class=\"online\" data-on=\"x\"><a href=\"https://example.com/" + std::to_string(i) +
            "?utm=on\" title=\"Read on=more, javascript: tips\">Read on=</a> see javascript:x</p>";
  }
  html += "<!-- <script>old()</script> --></body></html>";
  Outcome o = Run("newsletter.html", FileKind::kHtml, html, 1);
  EXPECT_TRUE(o.findings.empty()) << o.Names();
}

TEST_F(ActiveContentTest, SvgWithScript) {
  Outcome o =
      Run("logo.svg", FileKind::kImage,
          "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"x()\"/>", 1,
          "image/svg+xml");
  const engine::Finding* f = o.Find("ActiveContent.SVG.Script");
  ASSERT_NE(f, nullptr) << o.Names();
  EXPECT_EQ(f->category, Category::kSuspicious);
  EXPECT_EQ(f->severity, Severity::kMedium);
  EXPECT_TRUE(Run("a.xml", FileKind::kText, "<svg><script>x()</script></svg>", 1)
                  .Has("ActiveContent.SVG.Script"));
  EXPECT_TRUE(Run("logo.svg", FileKind::kImage, "<svg><circle r=\"4\"/></svg>", 1, "image/svg+xml")
                  .findings.empty());
}

// --- Files in containers and names --------------------------------------------------------

TEST_F(ActiveContentTest, ExecutablesAndScriptsInContainers) {
  Outcome pe = Run("tool.exe", FileKind::kPe, "MZ", 1);
  const engine::Finding* f = pe.Find("FileType.Executable");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::kPolicy);
  EXPECT_EQ(f->severity, Severity::kMedium);
  EXPECT_TRUE(Run("run.vbs", FileKind::kText, "WScript.Echo 1", 1).Has("FileType.Script"));
  EXPECT_TRUE(Run("a/b/setup.msi", FileKind::kOle2, "x", 2).Has("FileType.Installer"));
  EXPECT_TRUE(Run("doc.lnk", FileKind::kUnknown, "L", 1).Has("FileType.Shortcut"));
  EXPECT_TRUE(Run("disk.iso", FileKind::kIso9660, "x", 1).Has("FileType.DiskImage"));
  EXPECT_TRUE(Run("noext", FileKind::kScript, "#!/bin/sh\n", 1).Has("FileType.Script"));
  EXPECT_TRUE(Run("readme.txt", FileKind::kText, "hello", 1).findings.empty());
}

TEST_F(ActiveContentTest, TopLevelExecutableIsNotInAContainer) {
  Outcome o = Run("setup.exe", FileKind::kPe, "MZ", 0);
  EXPECT_TRUE(o.findings.empty()) << o.Names();
}

TEST_F(ActiveContentTest, DoubleExtension) {
  for (std::string name : {"invoice.pdf.exe", "invoice.PDF      .exe", "scan.jpg...scr",
                           "dir/report.docx_.js", "invoice.pdf.exe . "}) {
    Outcome o = Run(name, FileKind::kUnknown, "x", 0);
    const engine::Finding* f = o.Find("FileName.DoubleExtension");
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->category, Category::kSuspicious);
    EXPECT_EQ(f->severity, Severity::kHigh);
  }
  for (std::string name :
       {"report.final.pdf", "setup.1.2.exe", "archive.tar.gz", ".pdf.exe", "photo.jpg", "my.exe"}) {
    EXPECT_FALSE(Run(name, FileKind::kUnknown, "x", 0).Has("FileName.DoubleExtension")) << name;
  }
}

TEST_F(ActiveContentTest, BidiOverride) {
  Outcome o = Run("invoice\xE2\x80\xAEgpj.exe", FileKind::kUnknown, "x", 0);
  EXPECT_TRUE(o.Has("FileName.BidiOverride"));
  EXPECT_TRUE(Run("a\xE2\x81\xA6"
                  "b.txt",
                  FileKind::kText, "x")
                  .Has("FileName.BidiOverride"));
  EXPECT_FALSE(Run("caf\xC3\xA9 \xE2\x80\x94 menu.pdf", FileKind::kPdf, "%PDF")
                   .Has("FileName.BidiOverride"));
}

TEST_F(ActiveContentTest, TypeMismatch) {
  Outcome o = Run("photo.JPG", FileKind::kPe, "MZ", 0);
  const engine::Finding* f = o.Find("FileName.TypeMismatch");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kHigh);
  EXPECT_FALSE(Run("photo.jpg", FileKind::kImage, "x", 1).Has("FileName.TypeMismatch"));
  EXPECT_FALSE(Run("tool.exe", FileKind::kPe, "MZ", 1).Has("FileName.TypeMismatch"));
}

// --- File blocking ------------------------------------------------------------------------

TEST(FileBlockingTest, RulesProduceLabelledFindings) {
  FileBlockingRules rules;
  rules.rules.push_back({"executables", {FileKind::kPe, FileKind::kElf}, {}, {}});
  rules.rules.push_back({"office-macros", {}, {".DOCM", "xlsm"}, {}});
  rules.rules.push_back({"payroll", {}, {}, {"payroll*.x?sx"}});
  auto created = CreateActiveContentDetector(rules);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const engine::Detector& detector = **created;

  Outcome pe = Inspect(detector, "setup.exe", FileKind::kPe, "MZ");
  const engine::Finding* f = pe.Find("FileBlocking.executables");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::kPolicy);
  EXPECT_EQ(f->severity, Severity::kMedium);
  EXPECT_TRUE(Inspect(detector, "a/Report.docm", FileKind::kOoxml, "x", 1)
                  .Has("FileBlocking.office-macros"));
  EXPECT_TRUE(
      Inspect(detector, "PAYROLL-2024.xlsx", FileKind::kOoxml, "x").Has("FileBlocking.payroll"));
  Outcome clean = Inspect(detector, "payroll.csv", FileKind::kText, "x");
  EXPECT_TRUE(clean.findings.empty()) << clean.Names();
}

TEST(FileBlockingTest, ValidationNamesTheIndex) {
  struct Case {
    FileBlockingRules rules;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{{{"ok", {FileKind::kPe}, {}, {}}, {"bad", {}, {}, {"*.exe", ""}}}},
       "rules[1].name_patterns[1]"},
      {{{{"", {FileKind::kPe}, {}, {}}}}, "rules[0].label"},
      {{{{"has space", {FileKind::kPe}, {}, {}}}}, "rules[0].label"},
      {{{{"a", {FileKind::kPe}, {}, {}}, {"A", {FileKind::kElf}, {}, {}}}}, "rules[1].label"},
      {{{{"empty", {}, {}, {}}}}, "rules[0]"},
      {{{{"ext", {}, {"exe", "."}, {}}}}, "rules[0].extensions[1]"},
      {{{{"ext", {}, {"e/x"}, {}}}}, "rules[0].extensions[0]"},
      {{{{"pat", {}, {}, {"a/b"}}}}, "rules[0].name_patterns[0]"},
      {{{{"pat", {}, {}, {"a\nb"}}}}, "rules[0].name_patterns[0]"},
  };
  for (const Case& c : cases) {
    Status status = ValidateFileBlockingRules(c.rules);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.expected;
    EXPECT_NE(status.message().find(c.expected), std::string::npos) << status.message();
    EXPECT_FALSE(CreateActiveContentDetector(c.rules).ok());
  }
  EXPECT_TRUE(ValidateFileBlockingRules({}).ok());
}

TEST(FileBlockingTest, GlobMatch) {
  using activecontent::GlobMatch;
  EXPECT_TRUE(GlobMatch("*.exe", "A.EXE"));
  EXPECT_TRUE(GlobMatch("a?c*", "abcdef"));
  EXPECT_TRUE(GlobMatch("*a*b*c", "xxaxxbxxc"));
  EXPECT_FALSE(GlobMatch("*.exe", "a.exe.txt"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("*", ""));
}

TEST(ActiveContentRegistryTest, RegisterAddsOneFactory) {
  engine::Registry registry;
  RegisterActiveContentDetector(registry);
  ASSERT_EQ(registry.detector_factories().size(), 1u);
  auto detector = registry.detector_factories().front()(engine::SignatureSources{});
  ASSERT_TRUE(detector.ok());
  EXPECT_EQ((*detector)->Name(), "activecontent");
}

TEST(ActiveContentScaleTest, LargeHostileInputStaysLinear) {
  auto created = CreateActiveContentDetector();
  ASSERT_TRUE(created.ok());
  std::string html(8u << 20, '<');
  std::string pipes;
  for (int i = 0; i < 1 << 20; ++i) pipes += "=a|'";
  std::string pdf(8u << 20, '/');
  std::string vba = "Attribute VB_Name = \"M\"\n" + std::string(8u << 20, '"');
  const auto start = std::chrono::steady_clock::now();
  Inspect(**created, "a.html", FileKind::kHtml, html, 1);
  Inspect(**created, "a.csv", FileKind::kText, pipes, 1);
  Inspect(**created, "a.pdf", FileKind::kPdf, pdf, 1);
  Inspect(**created, "m.bas", FileKind::kText, vba, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace bulwark::detectors

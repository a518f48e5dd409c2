#include "unpackers/encoded/encoded_unpacker.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "test/support/test_support.h"
#include "unpackers/encoded/encoded_payload_finder.h"

namespace bulwark::unpackers {
namespace {

using engine::Category;
using engine::UnscannableReason;

struct Unpacked {
  std::vector<testing::Member> children;
  std::vector<engine::Finding> findings;
};

Unpacked Unpack(const std::string& bytes, content::FileKind kind = content::FileKind::kText,
                engine::Limits limits = {},
                std::size_t sink_capacity = static_cast<std::size_t>(-1)) {
  content::Object object;
  object.info.name = "sample";
  object.info.type.kind = kind;
  object.data = content::Blob::Copy(bytes);
  object.info.size = bytes.size();
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  testing::CollectingChildSink children(sink_capacity);
  engine::FindingList findings;
  EXPECT_TRUE(CreateEncodedUnpacker()->Unpack(object, ctx, children, findings).ok());
  return {children.children, findings.findings()};
}

std::string Utf16Le(const std::string& ascii) {
  std::string out;
  for (char ch : ascii) {
    out.push_back(ch);
    out.push_back('\0');
  }
  return out;
}

std::string Base64(const std::string& bytes) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kTable[(v >> 18) & 63]);
    out.push_back(kTable[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kTable[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kTable[v & 63] : '=');
  }
  return out;
}

// What PowerShell would run: `script` as base64 of UTF-16LE.
std::string Encode(const std::string& script) { return Base64(Utf16Le(script)); }

std::string EicarScript() { return "echo \"" + testing::Eicar() + "\""; }

bool AnyChildContains(const Unpacked& result, const std::string& needle) {
  for (const auto& child : result.children) {
    if (child.bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(EncodedUnpackerTest, DecodesEncodedCommandInPlainText) {
  Unpacked result = Unpack("@echo off\r\npowershell -NoExit -e " + Encode(EicarScript()) + "\r\n");
  ASSERT_EQ(result.children.size(), 1u);
  EXPECT_EQ(result.children[0].name, "powershell-encoded-1.ps1");
  EXPECT_EQ(result.children[0].bytes, EicarScript());
  EXPECT_TRUE(result.findings.empty());
}

TEST(EncodedUnpackerTest, DecodesEveryAcceptedSpelling) {
  for (std::string flag :
       {"-EncodedCommand", "-enc", "-ec", "-EC", "-En", "-encoded", "/enc", "/e", "--enc",
        "\xE2\x80\x93"
        "enc",
        "\x96"
        "e"}) {
    Unpacked result = Unpack("powershell.exe -NoP -W Hidden " + flag + " " + Encode(EicarScript()));
    EXPECT_TRUE(AnyChildContains(result, testing::Eicar())) << flag;
  }
}

TEST(EncodedUnpackerTest, IgnoresOtherSwitches) {
  for (std::string flag : {"-ex", "-encodedcommandx", "-encodedarguments", "-c", "-f"}) {
    Unpacked result = Unpack("powershell " + flag + " " + Encode(EicarScript()));
    EXPECT_TRUE(result.children.empty()) << flag;
  }
}

TEST(EncodedUnpackerTest, DecodesQuotedArgument) {
  Unpacked result = Unpack("Shell \"powershell -enc \"\"" + Encode(EicarScript()) + "\"\"\"");
  EXPECT_TRUE(AnyChildContains(result, testing::Eicar()));
  result = Unpack("{\"cmd\": \"powershell -e \\\"" + Encode(EicarScript()) + "\\\"\"}");
  EXPECT_TRUE(AnyChildContains(result, testing::Eicar()));
}

TEST(EncodedUnpackerTest, DecodesXmlAttribute) {
  std::string xml =
      "<?xml version=\"1.0\"?><externalLink><ddeLink ddeService=\"cmd\" "
      "ddeTopic=\"/C powershell.exe -NoExit -e " +
      Encode(EicarScript()) + "\"><ddeItems/></ddeLink></externalLink>";
  Unpacked result = Unpack(xml, content::FileKind::kText);
  ASSERT_EQ(result.children.size(), 1u);
  EXPECT_EQ(result.children[0].bytes, EicarScript());
}

TEST(EncodedUnpackerTest, DecodesEntityEncodedSeparators) {
  std::string xml = "<a cmd=\"powershell -enc&#32;&quot;" + Encode(EicarScript()) +
                    "&quot;\"/><b cmd=\"powershell -ec&#x9;" + Encode("Write-Host second") + "\"/>";
  Unpacked result = Unpack(xml, content::FileKind::kHtml);
  ASSERT_EQ(result.children.size(), 2u);
  EXPECT_EQ(result.children[0].bytes, EicarScript());
  EXPECT_EQ(result.children[1].bytes, "Write-Host second");
}

TEST(EncodedUnpackerTest, DecodesUrlEncodedTarget) {
  std::string encoded = Encode(EicarScript());
  std::string rels =
      "<Relationship Id=\"rId3\" Target=\"powershell.exe%20-NoExit%20-EncodedCommand%20" + encoded +
      "\" TargetMode=\"External\"/>";
  EXPECT_TRUE(AnyChildContains(Unpack(rels), testing::Eicar()));

  // Fully percent-encoded base64 (+ / = escaped).
  std::string escaped;
  for (char ch : encoded) {
    if (ch == '+')
      escaped += "%2B";
    else if (ch == '/')
      escaped += "%2F";
    else if (ch == '=')
      escaped += "%3D";
    else
      escaped.push_back(ch);
  }
  EXPECT_TRUE(
      AnyChildContains(Unpack("https://x.test/?c=powershell%20-e%20" + escaped), testing::Eicar()));
}

TEST(EncodedUnpackerTest, DecodesUtf16TextInsideBinaryGarbage) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) % 251));
  std::string command = Utf16Le("powershell.exe -NoExit -EncodedCommand " + Encode(EicarScript()));
  for (std::string pad : {"", "\x01"}) {  // both byte alignments
    Unpacked result = Unpack(garbage + pad + command + garbage, content::FileKind::kUnknown);
    ASSERT_EQ(result.children.size(), 1u) << pad.size();
    EXPECT_EQ(result.children[0].bytes, EicarScript());
  }
}

TEST(EncodedUnpackerTest, FindsUtf16CommandsAtEveryOffset) {
  std::string command = Utf16Le("powershell -enc " + Encode(EicarScript()));
  for (std::size_t offset = 0; offset < 70; ++offset) {
    std::string bytes(offset, '\x01');
    bytes += command;
    bytes += std::string(offset % 7, '\xFF');
    Unpacked result = Unpack(bytes, content::FileKind::kUnknown);
    ASSERT_EQ(result.children.size(), 1u) << offset;
    EXPECT_EQ(result.children[0].bytes, EicarScript());
  }
}

TEST(EncodedUnpackerTest, Utf16RunsShorterThan32UnitsAreNotSearched) {
  std::string script = "dir c:";                                // 16 base64 characters
  std::string exact = "-e " + Encode(script) + "            ";  // 31 units
  ASSERT_EQ(exact.size(), 31u);
  EXPECT_TRUE(Unpack("\x01\x01" + Utf16Le(exact) + "\x01\x01", content::FileKind::kUnknown)
                  .children.empty());
  Unpacked result =
      Unpack("\x01\x01" + Utf16Le(exact + " ") + "\x01\x01", content::FileKind::kUnknown);
  ASSERT_EQ(result.children.size(), 1u);
  EXPECT_EQ(result.children[0].bytes, script);
}

TEST(EncodedUnpackerTest, Utf16EnDashCountsAsADash) {
  std::string bytes = std::string(8, '\0') + Utf16Le("powershell ") + std::string("\x13\x20", 2) +
                      Utf16Le("enc " + Encode(EicarScript())) + std::string(8, '\0');
  Unpacked result = Unpack(bytes, content::FileKind::kUnknown);
  ASSERT_EQ(result.children.size(), 1u);
  EXPECT_EQ(result.children[0].bytes, EicarScript());
}

TEST(EncodedUnpackerTest, DecodesNestedEncodingsOneLevelAtATime) {
  std::string inner = "powershell -enc " + Encode(EicarScript());
  std::string outer = "cmd /c powershell -e " + Encode(inner);
  Unpacked first = Unpack(outer);
  ASSERT_EQ(first.children.size(), 1u);
  EXPECT_EQ(first.children[0].bytes, inner);
  // The engine hands the child back as a script.
  Unpacked second = Unpack(first.children[0].bytes, content::FileKind::kScript);
  ASSERT_EQ(second.children.size(), 1u);
  EXPECT_EQ(second.children[0].bytes, EicarScript());
}

TEST(EncodedUnpackerTest, ReportsRepeatedCommandOnce) {
  std::string line = "powershell -e " + Encode(EicarScript()) + "\n";
  EXPECT_EQ(Unpack(line + line + line).children.size(), 1u);
}

TEST(EncodedUnpackerTest, ShortOrInvalidBase64IsNotAPayload) {
  std::vector<std::string> texts = {
      "powershell -e " + Encode("ls").substr(0, 8),        // too short
      "powershell -e ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef",    // base64, but not UTF-16LE text
      "powershell -e " + Encode(EicarScript()).substr(1),  // broken quantum
      "powershell -e " + Base64(EicarScript()),            // ASCII, not UTF-16LE
      "powershell -e" + Encode(EicarScript()),             // no separator
      "powershell -e " + Encode(EicarScript()).substr(0, 40) + "=A",  // padding mid-way
  };
  for (const auto& text : texts) {
    Unpacked result = Unpack(text);
    EXPECT_TRUE(result.children.empty()) << text;
    EXPECT_TRUE(result.findings.empty()) << text;
  }
}

TEST(EncodedUnpackerTest, OrdinaryProseHasNoPayload) {
  std::string prose =
      "Re-enter the well-known e-mail address -- or use the command-line switch -e to "
      "enable extra checks (see /etc/defaults and /usr/share/doc/examples/README). "
      "Self-evident: x - y = z; a/b/c; grep -e pattern -e AnotherPatternThatIsLong file.txt "
      "\xE2\x80\x93 en dash \xE2\x80\x94 em dash; path C:/Windows/System32/encodedcommandline.";
  Unpacked result = Unpack(prose);
  EXPECT_TRUE(result.children.empty());
  EXPECT_TRUE(result.findings.empty());
}

TEST(EncodedUnpackerTest, LargeTextWithoutPayloadHasNoChildren) {
  std::string line = "The quick-brown fox jumps -e over /the lazy dog, -enc twice; a/b-c ";
  std::string text;
  text.reserve(10u << 20);
  while (text.size() < (10u << 20)) text += line;
  Unpacked result = Unpack(text);
  EXPECT_TRUE(result.children.empty());
  EXPECT_TRUE(result.findings.empty());
  // The same as UTF-16LE inside binary.
  result = Unpack(Utf16Le(text.substr(0, 2u << 20)), content::FileKind::kUnknown);
  EXPECT_TRUE(result.children.empty());
}

TEST(EncodedUnpackerTest, CapsPayloadsPerObject) {
  std::string text;
  for (int i = 0; i < 70; ++i) {
    text += "powershell -e " + Encode("Write-Output payload-" + std::to_string(i)) + "\n";
  }
  Unpacked result = Unpack(text);
  EXPECT_EQ(result.children.size(), 64u);
  EXPECT_EQ(result.children.back().name, "powershell-encoded-64.ps1");
  EXPECT_TRUE(testing::HasFinding(result.findings, Category::kUnscannable,
                                  UnscannableReason::kObjectCountLimit));
}

TEST(EncodedUnpackerTest, StopsWhenTheSinkRefuses) {
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += "powershell -e " + Encode("Write-Output payload-" + std::to_string(i)) + "\n";
  }
  Unpacked result = Unpack(text, content::FileKind::kText, {}, 2);
  EXPECT_EQ(result.children.size(), 2u);
  EXPECT_TRUE(result.findings.empty());
}

TEST(EncodedUnpackerTest, OversizedPayloadIsUnscannable) {
  engine::Limits limits;
  limits.max_object_bytes = 16;
  Unpacked result =
      Unpack("powershell -e " + Encode(EicarScript()), content::FileKind::kText, limits);
  EXPECT_TRUE(result.children.empty());
  EXPECT_TRUE(testing::HasFinding(result.findings, Category::kUnscannable,
                                  UnscannableReason::kObjectSizeLimit));
}

TEST(EncodedUnpackerTest, ExpiredDeadlineIsATimeLimitFinding) {
  engine::Limits limits;
  limits.max_scan_time = std::chrono::milliseconds(0);
  std::string text;
  while (text.size() < (3u << 20)) text += "a-b ";
  Unpacked result = Unpack(text, content::FileKind::kText, limits);
  EXPECT_TRUE(
      testing::HasFinding(result.findings, Category::kUnscannable, UnscannableReason::kTimeLimit));
}

TEST(EncodedUnpackerTest, AcceptsTextLikeKindsOnly) {
  auto unpacker = CreateEncodedUnpacker();
  content::ObjectInfo info;
  info.size = 100;
  for (auto kind : {content::FileKind::kText, content::FileKind::kHtml, content::FileKind::kScript,
                    content::FileKind::kRtf, content::FileKind::kUnknown}) {
    info.type.kind = kind;
    EXPECT_TRUE(unpacker->Accepts(info)) << content::FileKindName(kind);
  }
  for (auto kind :
       {content::FileKind::kZip, content::FileKind::kOoxml, content::FileKind::kPdf,
        content::FileKind::kOle2, content::FileKind::kEmail, content::FileKind::kPe,
        content::FileKind::kElf, content::FileKind::kImage, content::FileKind::kAudioVideo,
        content::FileKind::kGzip, content::FileKind::kEmpty}) {
    info.type.kind = kind;
    EXPECT_FALSE(unpacker->Accepts(info)) << content::FileKindName(kind);
  }
}

TEST(EncodedPayloadFinderTest, DecodeBase64IsStrict) {
  EXPECT_EQ(DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(DecodeBase64("aGVsbG8"), "hello");
  EXPECT_EQ(DecodeBase64("aGVsbG8h"), "hello!");
  EXPECT_EQ(DecodeBase64(""), "");
  EXPECT_FALSE(DecodeBase64("aGVsb"));      // 4n+1
  EXPECT_FALSE(DecodeBase64("aGVsbG8=="));  // padding past the quantum
  EXPECT_FALSE(DecodeBase64("aGV=sbG8"));   // padding in the middle
  EXPECT_FALSE(DecodeBase64("aGVs bG8="));  // whitespace
}

TEST(EncodedPayloadFinderTest, Utf16LeTextToUtf8) {
  EXPECT_EQ(Utf16LeTextToUtf8(Utf16Le("ls -la")), "ls -la");
  EXPECT_EQ(Utf16LeTextToUtf8("\xFF\xFE" + Utf16Le("dir") + std::string(2, '\0')), "dir");
  EXPECT_EQ(Utf16LeTextToUtf8(Utf16Le("caf") + "\xE9\x00" + Utf16Le(" \xE2\x82\xAC")),
            std::nullopt);  // "€" as bytes, not as a code unit: not text
  EXPECT_EQ(
      Utf16LeTextToUtf8(Utf16Le("caf") + std::string("\xE9\x00", 2) + std::string("\xAC\x20", 2)),
      "caf\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(Utf16LeTextToUtf8(Utf16Le("a") + std::string("\x3D\xD8\x00\xDE", 4) + Utf16Le("bc")),
            "a\xF0\x9F\x98\x80"
            "bc");
  EXPECT_FALSE(Utf16LeTextToUtf8(Utf16Le("abc") + "x"));                        // odd length
  EXPECT_FALSE(Utf16LeTextToUtf8(Utf16Le("ab") + std::string("\x3D\xD8", 2)));  // lone surrogate
  EXPECT_FALSE(Utf16LeTextToUtf8(Utf16Le("ab") + std::string("\x01\x00", 2)));  // control
  EXPECT_FALSE(Utf16LeTextToUtf8(std::string("\x00\x4E\x01\x4E\x02\x4E", 6)));  // mostly non-ASCII
}

TEST(EncodedPayloadFinderTest, FinderIsAPureFunction) {
  std::vector<std::string> found;
  PayloadSearchSummary summary = FindEncodedPayloads(
      "x -e " + Encode("Write-Host first") + " yy /ENC " + Encode("Write-Host second"),
      PayloadFinderLimits{}, [&](std::string payload) {
        found.push_back(std::move(payload));
        return true;
      });
  EXPECT_EQ(summary.end, PayloadSearchEnd::kComplete);
  EXPECT_EQ(summary.payloads, 2u);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], "Write-Host first");
  EXPECT_EQ(found[1], "Write-Host second");
}

// `text` with PowerShell's escape character removed ("`$" becomes "$").
std::string RemoveBacktickEscapes(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '`' && i + 1 < text.size()) ++i;
    out.push_back(text[i]);
  }
  return out;
}

// Reads one member of a zip with libarchive; "" when it is not there.
std::string ReadZipMember(const std::filesystem::path& zip, const std::string& member) {
  std::unique_ptr<struct archive, decltype(&archive_read_free)> reader(archive_read_new(),
                                                                       &archive_read_free);
  archive_read_support_format_zip(reader.get());
  if (archive_read_open_filename(reader.get(), zip.c_str(), 1 << 16) != ARCHIVE_OK) return "";
  struct archive_entry* entry = nullptr;
  while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
    if (member != archive_entry_pathname(entry)) continue;
    std::string bytes;
    char buffer[1 << 14];
    la_ssize_t n = 0;
    while ((n = archive_read_data(reader.get(), buffer, sizeof buffer)) > 0)
      bytes.append(buffer, n);
    return bytes;
  }
  return "";
}

TEST(EncodedCorpusTest, DecodesEicarTestFileCommands) {
  std::filesystem::path corpus = testing::CorpusDir();
  if (corpus.empty()) GTEST_SKIP() << "corpus not found at " << BULWARK_CORPUS_DIR;
  const std::filesystem::path dir = corpus / "eicar-test-files";
  struct Case {
    const char* file;
    const char* member;
  };
  for (const Case& c :
       {Case{"eicar-excel-dde-cmd-powershell-echo.xlsx", "xl/externalLinks/externalLink1.xml"},
        Case{"eicar-powerpoint-action-powershell-echo.pptx", "ppt/slides/_rels/slide1.xml.rels"}}) {
    std::string xml = ReadZipMember(dir / c.file, c.member);
    ASSERT_FALSE(xml.empty()) << c.file << " has no " << c.member;
    Unpacked result = Unpack(xml, content::FileKind::kText);
    ASSERT_EQ(result.children.size(), 1u) << c.file;
    EXPECT_TRUE(result.findings.empty()) << c.file;
    // The samples escape '$' for PowerShell (`$): the payload holds EICAR as PowerShell
    // source, and exactly EICAR once the escapes are removed, as `echo` prints it.
    const std::string& payload = result.children[0].bytes;
    EXPECT_EQ(payload.rfind("echo \"", 0), 0u) << payload;
    EXPECT_NE(RemoveBacktickEscapes(payload).find(testing::Eicar()), std::string::npos) << payload;
  }
}

// The binary Office files carry the same command as UTF-16LE (PowerPoint) or 8-bit (Excel)
// text inside OLE2 streams; the whole file stands in for the stream the ole2 unpacker emits.
TEST(EncodedCorpusTest, DecodesCommandsInsideBinaryOfficeFiles) {
  std::filesystem::path corpus = testing::CorpusDir();
  if (corpus.empty()) GTEST_SKIP() << "corpus not found at " << BULWARK_CORPUS_DIR;
  for (const char* file :
       {"eicar-powerpoint-action-powershell-echo.ppt", "eicar-excel-dde-cmd-powershell-echo.xls"}) {
    auto blob = content::Blob::ReadFile(corpus / "eicar-test-files" / file, 16u << 20);
    ASSERT_TRUE(blob.ok()) << file;
    Unpacked result = Unpack(std::string(blob->view()), content::FileKind::kUnknown);
    ASSERT_EQ(result.children.size(), 1u) << file;  // repeated copies are reported once
    EXPECT_NE(RemoveBacktickEscapes(result.children[0].bytes).find(testing::Eicar()),
              std::string::npos)
        << file;
  }
}

}  // namespace
}  // namespace bulwark::unpackers

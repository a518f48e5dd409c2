// The whole engine with every standard unpacker and detector, on material built here.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "bulwark/engine/engine.h"
#include "bulwark/engine/scan_pool.h"
#include "extensions/standard_extensions.h"
#include "test/support/test_support.h"

namespace bulwark {
namespace {

using engine::Category;
using engine::UnscannableReason;
using policy::VerdictKind;
using testing::Eicar;
using testing::MakeArchive;
using testing::MakeMail;

class PipelineTest : public ::testing::Test {
 protected:
  static std::unique_ptr<engine::Engine> MakeEngine(engine::Limits limits = {},
                                                    bool with_clamav_test_db = true) {
    engine::Registry registry;
    extensions::RegisterStandardExtensions(registry);
    engine::EngineOptions options;
    options.limits = limits;
    options.signatures.system_clamav_directory.clear();
    if (with_clamav_test_db) {
      options.signatures.directories = {std::filesystem::path(BULWARK_SOURCE_DIR) / "rules" / "clamav"};
    }
    auto engine = engine::Engine::Create(std::move(options), std::move(registry));
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return std::move(engine).value();
  }

  static engine::ScanReport Scan(const engine::Engine& engine, std::string name, std::string bytes) {
    content::Object object;
    object.info.name = std::move(name);
    object.data = content::Blob::Own(std::move(bytes));
    return engine.Scan(std::move(object));
  }

  static bool FoundAt(const engine::ScanReport& report, const std::string& detector,
                      const std::vector<std::string>& path) {
    for (const auto& f : report.findings) {
      if (f.detector == detector && f.category == Category::kMalware && f.path.parts() == path) return true;
    }
    return false;
  }
};

TEST_F(PipelineTest, EicarInZipInZipInMailIsFoundByEveryDetectorWithItsPath) {
  auto engine = MakeEngine();
  std::string inner = MakeArchive("zip", {{"invoice.exe", Eicar()}});
  std::string outer = MakeArchive("zip", {{"readme.txt", "read me"}, {"invoice.zip", inner}});
  std::string mail = MakeMail("Your invoice", "Please see attached.", {{"archive.zip", outer}});
  engine::ScanReport report = Scan(*engine, "message.eml", mail);
  EXPECT_EQ(report.type.kind, content::FileKind::kEmail);
  EXPECT_EQ(report.verdict.kind, VerdictKind::kMalicious);
  const std::vector<std::string> path = {"archive.zip", "invoice.zip", "invoice.exe"};
  EXPECT_TRUE(FoundAt(report, "yara", path));
  EXPECT_TRUE(FoundAt(report, "hashes", path));
  EXPECT_TRUE(FoundAt(report, "clamav", path));
  EXPECT_GE(report.objects_scanned, 6u);
}

TEST_F(PipelineTest, EicarInsideEveryContainerKind) {
  auto engine = MakeEngine();
  std::vector<std::pair<std::string, std::string>> samples = {
      {"a.7z", MakeArchive("7zip", {{"e.com", Eicar()}})},
      {"a.tar.gz", MakeArchive("ustar", {{"e.com", Eicar()}}, "gzip")},
      {"a.tar.bz2", MakeArchive("ustar", {{"e.com", Eicar()}}, "bzip2")},
      {"a.tar.xz", MakeArchive("ustar", {{"e.com", Eicar()}}, "xz")},
      {"a.iso", MakeArchive("iso9660", {{"E.COM", Eicar()}})},
      {"e.com.gz", testing::Compress("gzip", Eicar())},
      {"a.pdf", testing::MakePdfWithAttachments({{"e.com", Eicar()}})},
      {"a.eml", MakeMail("x", "y", {{"e.com", Eicar()}})},
      {"a.docx", MakeArchive("zip", {{"[Content_Types].xml", "<Types/>"}, {"word/e.bin", Eicar()}})},
  };
  for (auto& [name, bytes] : samples) {
    engine::ScanReport report = Scan(*engine, name, bytes);
    EXPECT_EQ(report.verdict.kind, VerdictKind::kMalicious) << name << ": " << report.verdict.reason;
    bool inside = false;
    for (const auto& f : report.findings) inside |= f.category == Category::kMalware && !f.path.empty();
    EXPECT_TRUE(inside) << name << ": found only on the container itself";
  }
}

// CAB cannot be written by libarchive; gcab (installed by scripts/install-deps.sh --test)
// writes one, compressed with MSZIP.
TEST_F(PipelineTest, EicarInsideCab) {
  if (std::system("command -v gcab > /dev/null") != 0) GTEST_SKIP() << "gcab not installed";
  testing::ScratchDir dir;
  dir.Write("e.com", Eicar());
  std::string command = "cd '" + dir.path().string() + "' && gcab -c -z a.cab e.com";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(dir.path() / "a.cab", std::ios::binary);
  std::string cab((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto engine = MakeEngine();
  engine::ScanReport report = Scan(*engine, "a.cab", cab);
  EXPECT_EQ(report.type.kind, content::FileKind::kCab);
  EXPECT_TRUE(FoundAt(report, "yara", {"e.com"})) << report.verdict.reason;
}

TEST_F(PipelineTest, DlpFindsCardNumbersInsideOfficeDocumentsAndMasksThem) {
  engine::Registry registry;
  extensions::ExtensionOptions extension_options;
  extension_options.dlp = true;
  extensions::RegisterStandardExtensions(registry, extension_options);
  engine::EngineOptions options;
  options.signatures.system_clamav_directory.clear();
  auto engine = engine::Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  // A published test card number (Luhn-valid) in a Word document's XML, in a mail.
  const std::string card = "4111 1111 1111 1111";
  std::string docx = MakeArchive("zip", {{"[Content_Types].xml", "<Types/>"},
                                         {"word/document.xml",
                                          "<w:document><w:body><w:p><w:r><w:t>Card: " + card +
                                              "</w:t></w:r></w:p></w:body></w:document>"}});
  engine::ScanReport report = Scan(**engine, "m.eml", MakeMail("Order", "See attached.", {{"order.docx", docx}}));
  EXPECT_EQ(report.verdict.kind, VerdictKind::kPolicyViolation) << report.verdict.reason;
  bool pci = false;
  for (const auto& f : report.findings) {
    if (f.name != "DLP.PCI-DSS") continue;
    pci = true;
    EXPECT_EQ(f.path.parts(), (std::vector<std::string>{"order.docx", "word/document.xml"}));
    EXPECT_NE(f.detail.find("1111"), std::string::npos) << f.detail;
    EXPECT_EQ(f.detail.find("4111"), std::string::npos) << "unmasked: " << f.detail;
  }
  EXPECT_TRUE(pci);
}

TEST_F(PipelineTest, ActiveContentNamesMacrosAndNameTricks) {
  auto engine = MakeEngine();
  std::string exe = "MZ" + std::string(200, '\0');
  engine::ScanReport report =
      Scan(*engine, "m.eml", MakeMail("Invoice", "Attached.", {{"invoice.pdf.exe", exe}}));
  bool double_extension = false;
  for (const auto& f : report.findings) double_extension |= f.name == "FileName.DoubleExtension";
  EXPECT_TRUE(double_extension);
  EXPECT_EQ(report.verdict.kind, VerdictKind::kSuspicious);
}

TEST_F(PipelineTest, CleanMailWithArchiveIsClean) {
  auto engine = MakeEngine();
  std::string zip = MakeArchive("zip", {{"report.csv", "a,b\n1,2\n"}});
  engine::ScanReport report = Scan(*engine, "m.eml", MakeMail("Report", "Attached.", {{"r.zip", zip}}));
  EXPECT_EQ(report.verdict.kind, VerdictKind::kClean) << report.verdict.reason;
}

TEST_F(PipelineTest, EncryptedArchiveIsUnscannableNeverSilent) {
  auto engine = MakeEngine();
  std::string zip = MakeArchive("zip", {{"payload.exe", Eicar()}}, "", "infected");
  engine::ScanReport report = Scan(*engine, "m.eml", MakeMail("Secret", "pw: infected", {{"p.zip", zip}}));
  EXPECT_EQ(report.verdict.kind, VerdictKind::kUnscannable);
  EXPECT_TRUE(testing::HasFinding(report.findings, Category::kUnscannable, UnscannableReason::kEncrypted));
}

TEST_F(PipelineTest, NestedBombIsStoppedByLimits) {
  // Each level holds ten copies of the level below; at depth 6 that is a million copies
  // of 2 MiB of zeros. The ratio limit stops the innermost level, and the verdict cache
  // means each identical copy costs a lookup, not a scan.
  std::string level = MakeArchive("zip", {{"zeros.bin", std::string(2u << 20, '\0')}});
  for (int depth = 0; depth < 6; ++depth) {
    std::vector<testing::Member> copies;
    for (int i = 0; i < 10; ++i) copies.push_back({"l" + std::to_string(depth) + "-" + std::to_string(i) + ".zip", level});
    level = MakeArchive("zip", copies);
  }
  engine::Limits limits;
  limits.max_total_bytes = 64u << 20;
  auto engine = MakeEngine(limits);
  engine::ScanReport report = Scan(*engine, "bomb.zip", level);
  EXPECT_EQ(report.verdict.kind, VerdictKind::kUnscannable);
  EXPECT_TRUE(testing::HasFinding(report.findings, Category::kUnscannable, UnscannableReason::kRatioLimit));
  EXPECT_LE(report.bytes_scanned, limits.max_total_bytes + level.size());
}

TEST_F(PipelineTest, BombOfDistinctMembersIsStoppedByTheTotalSizeBudget) {
  // Distinct members (no cache help), each well under the ratio limit on its own.
  std::vector<testing::Member> members;
  for (int i = 0; i < 200; ++i) {
    std::string bytes(512u << 10, static_cast<char>('a' + i % 26));
    bytes += std::to_string(i);
    members.push_back({"m" + std::to_string(i), bytes});
  }
  engine::Limits limits;
  limits.max_total_bytes = 16u << 20;
  limits.max_ratio = 1e9;
  auto engine = MakeEngine(limits);
  engine::ScanReport report = Scan(*engine, "many.zip", MakeArchive("zip", members));
  EXPECT_TRUE(testing::HasFinding(report.findings, Category::kUnscannable, UnscannableReason::kTotalSizeLimit));
  EXPECT_LE(report.bytes_scanned, limits.max_total_bytes);
}

TEST_F(PipelineTest, MalformedMimeStillYieldsAVerdict) {
  auto engine = MakeEngine();
  std::string broken =
      "From: a@example.com\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed\r\n\r\n--nothing\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "!!!!not base64!!!!\r\n";
  engine::ScanReport report = Scan(*engine, "broken.eml", broken);
  EXPECT_EQ(report.type.kind, content::FileKind::kEmail);
  EXPECT_NE(report.verdict.kind, VerdictKind::kMalicious);
}

TEST_F(PipelineTest, SameAttachmentInManyMailsIsScannedOnce) {
  auto engine = MakeEngine();
  std::string attachment = MakeArchive("zip", {{"e.com", Eicar()}});
  for (int i = 0; i < 20; ++i) {
    engine::ScanReport report =
        Scan(*engine, "m.eml", MakeMail("Copy " + std::to_string(i), "to you", {{"a.zip", attachment}}));
    EXPECT_EQ(report.verdict.kind, VerdictKind::kMalicious);
  }
  // Each mail differs (subject) but the attachment does not: 19 cache hits at least.
  EXPECT_GE(engine->cache_stats().hits, 19u);
}

TEST_F(PipelineTest, ConcurrentScansAgree) {
  auto engine = MakeEngine();
  engine::ScanPool pool(*engine, 4);
  std::vector<std::future<engine::ScanReport>> futures;
  for (int i = 0; i < 64; ++i) {
    content::Object object;
    object.info.name = "f" + std::to_string(i);
    std::string bytes = i % 2 == 0 ? MakeArchive("zip", {{"e.com", Eicar() + std::to_string(i)}})
                                   : MakeArchive("ustar", {{"c.txt", "clean " + std::to_string(i)}});
    object.data = content::Blob::Own(std::move(bytes));
    futures.push_back(pool.Submit(std::move(object)));
  }
  for (int i = 0; i < 64; ++i) {
    auto report = futures[static_cast<std::size_t>(i)].get();
    EXPECT_EQ(report.verdict.kind, i % 2 == 0 ? VerdictKind::kMalicious : VerdictKind::kClean) << i;
  }
}

TEST_F(PipelineTest, ReloadPicksUpNewSignaturesAndChangesTheVersion) {
  testing::ScratchDir dir;
  engine::Registry registry;
  extensions::RegisterStandardExtensions(registry);
  engine::EngineOptions options;
  options.signatures.system_clamav_directory.clear();
  options.signatures.directories = {dir.path()};
  auto engine = engine::Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok());
  std::string before = (*engine)->signature_version();
  EXPECT_EQ(Scan(**engine, "x", "MARKER-NEW-THREAT").verdict.kind, VerdictKind::kClean);
  dir.Write("new.yar", "rule New_Threat { strings: $a = \"MARKER-NEW-THREAT\" condition: $a }\n");
  ASSERT_TRUE((*engine)->Reload().ok());
  EXPECT_NE((*engine)->signature_version(), before);
  EXPECT_EQ(Scan(**engine, "x", "MARKER-NEW-THREAT").verdict.kind, VerdictKind::kMalicious);
}

}  // namespace
}  // namespace bulwark

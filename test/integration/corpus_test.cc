// Real-world material from ../shared/corpus (not part of the repository): EICAR in
// every container of eicar-test-files, and every archive of recursive-extractor-archives
// unpacked, reported encrypted, or reported over a limit. Skips visibly when absent.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bulwark/engine/engine.h"
#include "extensions/standard_extensions.h"
#include "test/support/test_support.h"

namespace bulwark {
namespace {

using engine::Category;
using engine::UnscannableReason;

// The verdict cache is off: each file must show what unpacking it does on its own.
std::unique_ptr<engine::Engine> MakeEngine() {
  engine::Registry registry;
  extensions::RegisterStandardExtensions(registry);
  engine::EngineOptions options;
  options.signatures.system_clamav_directory.clear();
  options.cache_entries = 0;
  options.signatures.directories = {std::filesystem::path(BULWARK_SOURCE_DIR) / "rules" / "clamav"};
  auto engine = engine::Engine::Create(std::move(options), std::move(registry));
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return std::move(engine).value();
}

engine::ScanReport ScanFile(const engine::Engine& engine, const std::filesystem::path& path) {
  content::Object object;
  object.info.name = path.filename().string();
  auto blob = content::Blob::ReadFile(path.string(), 1u << 30);
  EXPECT_TRUE(blob.ok()) << path;
  object.data = std::move(blob).value();
  return engine.Scan(std::move(object));
}

bool HasReason(const engine::ScanReport& report, UnscannableReason reason) {
  return testing::HasFinding(report.findings, Category::kUnscannable, reason);
}

std::filesystem::path CorpusOrSkip(const std::string& sub) {
  auto corpus = testing::CorpusDir();
  if (corpus.empty() || !std::filesystem::is_directory(corpus / sub)) return {};
  return corpus / sub;
}

TEST(CorpusTest, EicarIsFoundInEveryContainerOfEicarTestFiles) {
  auto dir = CorpusOrSkip("eicar-test-files");
  if (dir.empty()) GTEST_SKIP() << "corpus not found at " << BULWARK_CORPUS_DIR << "/eicar-test-files";
  auto engine = MakeEngine();
  int files = 0;
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename() == "README.md") continue;
    ++files;
    auto report = ScanFile(*engine, entry.path());
    bool eicar = false;
    for (const auto& f : report.findings) {
      eicar |= f.category == Category::kMalware &&
               (f.name.find("EICAR") != std::string::npos || f.name.find("Eicar") != std::string::npos);
    }
    found += eicar ? 1 : 0;
    // As a file, in zips, as a PDF attachment, in PDF JavaScript, in VBA macro source
    // (split into pieces), in PowerShell encoded commands of DDE links and slide actions.
    EXPECT_TRUE(eicar) << entry.path().filename() << " → " << report.verdict.reason;
  }
  std::printf("eicar-test-files: EICAR found in %d of %d files\n", found, files);
  EXPECT_GT(files, 20);
}

TEST(CorpusTest, EveryArchiveIsUnpackedReportedEncryptedOrOverALimit) {
  auto dir = CorpusOrSkip("recursive-extractor-archives");
  if (dir.empty()) GTEST_SKIP() << "corpus not found at " << BULWARK_CORPUS_DIR << "/recursive-extractor-archives";
  auto engine = MakeEngine();
  int unpacked = 0, encrypted = 0, limited = 0, malformed = 0, unsupported = 0, plain = 0;
  for (const auto& sub : {"TestDataArchives", "Bombs"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir / sub)) {
      if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.') continue;
      auto report = ScanFile(*engine, entry.path());
      const bool is_container = content::IsArchiveKind(report.type.kind);
      std::string outcome;
      if (HasReason(report, UnscannableReason::kEncrypted)) {
        ++encrypted;
        outcome = "encrypted";
      } else if (HasReason(report, UnscannableReason::kRatioLimit) ||
                 HasReason(report, UnscannableReason::kObjectSizeLimit) ||
                 HasReason(report, UnscannableReason::kTotalSizeLimit) ||
                 HasReason(report, UnscannableReason::kObjectCountLimit) ||
                 HasReason(report, UnscannableReason::kDepthLimit)) {
        ++limited;
        outcome = "over a limit";
      } else if (HasReason(report, UnscannableReason::kUnsupported)) {
        ++unsupported;
        outcome = "unsupported format";
      } else if (HasReason(report, UnscannableReason::kMalformed)) {
        ++malformed;
        outcome = "malformed";
      } else if (report.objects_scanned > 1) {
        ++unpacked;
        outcome = "unpacked";
      } else {
        ++plain;
        outcome = "not a container";
        EXPECT_FALSE(is_container) << entry.path() << " is a container that yielded nothing";
      }
      std::printf("  %-40s %-14s %-18s objects=%-4llu %s\n", entry.path().filename().c_str(),
                  std::string(content::FileKindName(report.type.kind)).c_str(), outcome.c_str(),
                  static_cast<unsigned long long>(report.objects_scanned),
                  report.verdict.reason.substr(0, 90).c_str());
      // Bombs: within the limits, never expanded.
      EXPECT_LE(report.bytes_scanned, engine->limits().max_total_bytes + entry.file_size());
      if (std::string(sub) == "Bombs" && entry.path().filename().string().rfind("10GB", 0) == 0) {
        EXPECT_EQ(outcome, "over a limit") << entry.path();
      }
      if (entry.path().filename().string().find("Encrypted") != std::string::npos) {
        EXPECT_EQ(outcome, "encrypted") << entry.path();
      }
    }
  }
  std::printf("recursive-extractor-archives: unpacked %d, encrypted %d, over a limit %d, "
              "malformed %d, unsupported %d, not a container %d\n",
              unpacked, encrypted, limited, malformed, unsupported, plain);
  EXPECT_GT(unpacked, 15);
}

}  // namespace
}  // namespace bulwark

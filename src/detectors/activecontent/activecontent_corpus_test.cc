// Runs the full engine (standard unpackers and detectors plus this detector) over the shared
// corpus samples that carry active content, prints which activecontent findings each file
// yields, and checks honest thresholds. Skips with a message when the corpus is absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bulwark/engine/engine.h"
#include "detectors/activecontent/activecontent_detector.h"
#include "extensions/standard_extensions.h"
#include "test/support/test_support.h"

namespace bulwark::detectors {
namespace {

namespace fs = std::filesystem;

struct FileResult {
  std::string file;  // relative to the corpus directory
  std::set<std::string> names;
  bool encrypted = false;
};

std::unique_ptr<engine::Engine> MakeEngine() {
  engine::Registry registry;
  extensions::RegisterStandardExtensions(registry);  // includes the activecontent detector
  engine::EngineOptions options;
  options.signatures.system_clamav_directory.clear();
  options.cache_entries = 0;
  auto created = engine::Engine::Create(std::move(options), std::move(registry));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? std::move(created).value() : nullptr;
}

std::vector<FileResult> ScanTree(const engine::Engine& engine, const fs::path& corpus,
                                 const std::string& subdir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(corpus / subdir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name == "README.md" || name == "LICENSE.md") continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<FileResult> results;
  for (const fs::path& path : files) {
    auto blob = content::Blob::ReadFile(path.string(), 256u << 20);
    if (!blob.ok()) continue;
    content::Object object;
    object.info.name = path.filename().string();
    object.data = std::move(blob).value();
    engine::ScanReport report = engine.Scan(std::move(object));
    FileResult result;
    result.file = fs::relative(path, corpus).string();
    for (const auto& finding : report.findings) {
      if (finding.detector == "activecontent") result.names.insert(finding.name);
      if (finding.reason == engine::UnscannableReason::kEncrypted) result.encrypted = true;
    }
    results.push_back(std::move(result));
  }
  return results;
}

void PrintTable(const std::vector<FileResult>& results) {
  std::map<std::string, int> counts;
  for (const auto& r : results) {
    std::string line;
    for (const auto& n : r.names) {
      line += n + " ";
      ++counts[n];
    }
    std::cout << "  " << r.file << (r.encrypted ? " [encrypted]" : "") << ": "
              << (line.empty() ? "-" : line) << "\n";
  }
  std::cout << "  counts over " << results.size() << " files:\n";
  for (const auto& [name, count] : counts) std::cout << "    " << name << " " << count << "\n";
}

bool HasAny(const FileResult& r, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (r.names.count(std::string(n)) > 0) return true;
  }
  return false;
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

class ActiveContentCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    corpus_ = testing::CorpusDir();
    if (corpus_.empty()) GTEST_SKIP() << "shared corpus (../shared/corpus) not present: skipped";
  }
  fs::path corpus_;
};

TEST_F(ActiveContentCorpusTest, EicarTestFiles) {
  if (!fs::exists(corpus_ / "eicar-test-files")) GTEST_SKIP() << "eicar-test-files absent";
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  const auto results = ScanTree(*engine, corpus_, "eicar-test-files");
  PrintTable(results);
  int macro_files = 0;
  for (const auto& r : results) {
    if (Contains(r.file, "-macro-")) {
      ++macro_files;
      EXPECT_TRUE(HasAny(r, {"ActiveContent.Macro", "ActiveContent.Macro.AutoExec"})) << r.file;
    }
    if (Contains(r.file, "-dde-")) {
      EXPECT_TRUE(HasAny(r, {"ActiveContent.DDE"})) << r.file;
    }
    if (Contains(r.file, "javascript")) {
      EXPECT_TRUE(HasAny(r, {"ActiveContent.PDF.JavaScript"})) << r.file;
    }
    if (Contains(r.file, "eicar-test.txt") || Contains(r.file, "eicar-zip")) {
      EXPECT_FALSE(HasAny(r, {"ActiveContent.Macro", "ActiveContent.DDE"})) << r.file;
    }
  }
  EXPECT_GE(macro_files, 10);
}

TEST_F(ActiveContentCorpusTest, OletoolsTestData) {
  if (!fs::exists(corpus_ / "oletools-test-data")) GTEST_SKIP() << "oletools-test-data absent";
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  const auto results = ScanTree(*engine, corpus_, "oletools-test-data");
  PrintTable(results);
  int dde_expected = 0;
  int dde_found = 0;
  for (const auto& r : results) {
    const std::string base = fs::path(r.file).filename().string();
    if (Contains(r.file, "/encrypted/")) {
      EXPECT_TRUE(r.encrypted || !r.names.empty()) << r.file << " neither encrypted nor found";
      continue;
    }
    if (Contains(base, "harmless-clean")) {
      EXPECT_FALSE(HasAny(r, {"ActiveContent.DDE", "ActiveContent.Macro.AutoExec"})) << r.file;
    }
    // Password-protected zips (infected/…) come out encrypted: nothing to see inside.
    if ((Contains(r.file, "msodde/dde-") || Contains(r.file, "ooxml/dde-")) && !r.encrypted) {
      ++dde_expected;
      if (HasAny(r, {"ActiveContent.DDE"})) ++dde_found;
    }
    if (Contains(r.file, "olevba/sample_with_vba")) {
      EXPECT_TRUE(HasAny(r, {"ActiveContent.Macro"})) << r.file;
    }
  }
  std::cout << "  DDE samples flagged: " << dde_found << " of " << dde_expected << "\n";
  // Thresholds from the measured run (docs/active-content.md): raise them when coverage grows.
  // Measured: 7 of 8 (dde-test.xlsb keeps its DDE link in a binary externalLink part).
  EXPECT_GE(dde_expected, 8);
  EXPECT_GE(dde_found + 1, dde_expected);
}

}  // namespace
}  // namespace bulwark::detectors

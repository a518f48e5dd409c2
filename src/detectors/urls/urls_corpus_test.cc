// Runs the MIME unpacker and the urls detector over the shared corpus: real phishing
// (phishing-dev) and ham (spamassassin-t-data/nice, ham-dev). Prints, per set, how many
// messages yield URLs and each finding, and checks honest thresholds. Skips with a message
// when the corpus is absent. Never fetches a URL (nothing here does network I/O).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bulwark/engine/engine.h"
#include "detectors/urls/urls_detector.h"
#include "test/support/test_support.h"
#include "unpackers/mime/mime_unpacker.h"

namespace bulwark::detectors {
namespace {

namespace fs = std::filesystem;

struct SetFigures {
  std::size_t messages = 0;
  std::size_t with_urls = 0;
  std::size_t urls = 0;
  std::map<std::string, std::size_t> with_finding;  // finding name → messages
};

std::unique_ptr<engine::Engine> MakeEngine() {
  engine::Registry registry;
  unpackers::RegisterMimeUnpacker(registry);
  RegisterUrlsDetector(registry);
  engine::EngineOptions options;
  options.signatures.builtin_rules = false;
  options.signatures.system_clamav_directory.clear();
  auto created = engine::Engine::Create(std::move(options), std::move(registry));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? std::move(created).value() : nullptr;
}

SetFigures ScanDirectory(const engine::Engine& engine, const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "LICENSE" && name != "README.md") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  SetFigures figures;
  for (const fs::path& path : files) {
    auto blob = content::Blob::ReadFile(path.string(), 64u << 20);
    if (!blob.ok()) continue;
    content::Object object;
    object.info.name = path.filename().string();
    object.data = std::move(blob).value();
    engine::ScanReport report = engine.Scan(std::move(object));
    ++figures.messages;
    figures.urls += report.urls.size();
    if (!report.urls.empty()) ++figures.with_urls;
    std::set<std::string> names;
    for (const auto& finding : report.findings) {
      if (finding.detector == "urls") names.insert(finding.name);
    }
    for (const auto& name : names) ++figures.with_finding[name];
  }
  return figures;
}

void Print(const std::string& label, const SetFigures& f) {
  std::cout << "[urls corpus] " << label << ": " << f.messages << " messages, " << f.with_urls
            << " with URLs (" << f.urls << " URLs)";
  for (const auto& [name, count] : f.with_finding) std::cout << ", " << name << " " << count;
  std::cout << "\n";
}

TEST(UrlsCorpusTest, PhishingAndHam) {
  const fs::path corpus = testing::CorpusDir();
  if (corpus.empty() || !fs::is_directory(corpus / "phishing-dev" / "email")) {
    GTEST_SKIP() << "corpus not found at " << BULWARK_CORPUS_DIR << "/phishing-dev/email";
  }
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);

  const SetFigures phishing = ScanDirectory(*engine, corpus / "phishing-dev" / "email");
  Print("phishing-dev", phishing);
  ASSERT_GT(phishing.messages, 1000u);
  // Nearly every phishing message carries a link; extraction must find them.
  EXPECT_GE(phishing.with_urls * 100, phishing.messages * 90);

  for (const std::string ham : {"spamassassin-t-data/nice", "ham-dev"}) {
    if (!fs::is_directory(corpus / ham)) {
      std::cout << "[urls corpus] " << ham << " absent, skipped\n";
      continue;
    }
    SetFigures figures = ScanDirectory(*engine, corpus / ham);
    Print(ham, figures);
    // Legitimate mail links its own sites: the link-text check must stay rare on ham, and
    // much rarer than on phishing.
    const std::size_t mismatch = figures.with_finding["Url.DisplayMismatch"];
    EXPECT_LE(mismatch * 100, figures.messages * 10) << ham;
    EXPECT_EQ(figures.with_finding["Url.MixedScriptHost"], 0u) << ham;
  }
}

}  // namespace
}  // namespace bulwark::detectors

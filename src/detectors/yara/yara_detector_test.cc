#include "detectors/yara/yara_detector.h"

#include <gtest/gtest.h>

#include <thread>

#include "test/support/test_support.h"

namespace bulwark::detectors {
namespace {

std::vector<engine::Finding> Inspect(const engine::Detector& detector, std::string bytes,
                                     std::string name = "sample") {
  content::Object object;
  object.info.name = std::move(name);
  object.data = content::Blob::Own(std::move(bytes));
  object.info.size = object.data.size();
  engine::Limits limits;
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  engine::FindingList findings;
  EXPECT_TRUE(detector.Inspect(object, ctx, findings).ok());
  return findings.findings();
}

TEST(YaraDetectorTest, BuiltinRulesFindEicarAnywhere) {
  auto detector = CreateYaraDetector(engine::SignatureSources{});
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  auto findings = Inspect(**detector, "prefix " + testing::Eicar() + " suffix");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].name, "Bulwark_EICAR_Test_File");
  EXPECT_EQ(findings[0].category, engine::Category::kMalware);
  EXPECT_TRUE(Inspect(**detector, "harmless text").empty());
}

TEST(YaraDetectorTest, MetadataSetsCategoryAndFilenameVariableWorks) {
  auto detector = CreateYaraDetector(engine::SignatureSources{});
  ASSERT_TRUE(detector.ok());
  auto findings = Inspect(**detector, std::string("MZ") + std::string(100, '\0'), "invoice.pdf.exe");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].name, "Bulwark_Executable_Double_Extension");
  EXPECT_EQ(findings[0].category, engine::Category::kSuspicious);
  EXPECT_TRUE(Inspect(**detector, std::string("MZ") + std::string(100, '\0'), "setup.exe").empty());
}

TEST(YaraDetectorTest, LoadsRuleFilesAndReportsCompileErrorsWithFileAndLine) {
  testing::ScratchDir dir;
  dir.Write("custom.yar",
            "rule Custom_Marker { meta: category = \"policy\" severity = \"low\"\n"
            "  strings: $a = \"CONFIDENTIAL-MARKER\" condition: $a }\n");
  engine::SignatureSources sources;
  sources.builtin_rules = false;
  sources.directories = {dir.path()};
  auto detector = CreateYaraDetector(sources);
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  auto findings = Inspect(**detector, "xx CONFIDENTIAL-MARKER xx");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].category, engine::Category::kPolicy);
  EXPECT_EQ(findings[0].severity, engine::Severity::kLow);

  dir.Write("broken.yara", "rule Broken {\n condition: nonsense_identifier }\n");
  auto broken = CreateYaraDetector(sources);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("broken.yara:2"), std::string::npos)
      << broken.status().message();
}

TEST(YaraDetectorTest, WithoutAnyRulesItTakesNoObject) {
  testing::ScratchDir dir;
  dir.Write("notes.txt", "rule Not_A_Rule_File { condition: true }\n");
  engine::SignatureSources sources;
  sources.builtin_rules = false;
  sources.directories = {dir.path()};
  auto detector = CreateYaraDetector(sources);
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  content::ObjectInfo info;
  info.size = 100;
  EXPECT_FALSE((*detector)->Accepts(info));

  dir.Write("rules.yar", "rule Always { condition: true }\n");
  auto with_rules = CreateYaraDetector(sources);
  ASSERT_TRUE(with_rules.ok()) << with_rules.status().ToString();
  EXPECT_TRUE((*with_rules)->Accepts(info));
}

TEST(YaraDetectorTest, IncludeDirectivesAreRefused) {
  EXPECT_FALSE(CompileYaraSource("include \"/etc/passwd\"\nrule a { condition: true }").ok());
  EXPECT_TRUE(CompileYaraSource("rule a { condition: true }").ok());
}

TEST(YaraDetectorTest, ConcurrentScansShareOneRuleSet) {
  auto detector = CreateYaraDetector(engine::SignatureSources{});
  ASSERT_TRUE(detector.ok());
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) hits += static_cast<int>(Inspect(**detector, testing::Eicar()).size());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(hits.load(), 400);
}

}  // namespace
}  // namespace bulwark::detectors

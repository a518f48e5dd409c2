#include "cli/scan_output.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bulwark::cli {
namespace {

engine::ScanReport SampleReport() {
  engine::ScanReport report;
  report.name = "mail.eml";
  report.sha256 = std::string(64, 'a');
  report.size = 123;
  report.type.kind = content::FileKind::kEmail;
  report.type.mime = "message/rfc822";
  engine::Finding f;
  f.detector = "yara";
  f.name = "Bulwark_EICAR_Test_File";
  f.category = engine::Category::kMalware;
  f.severity = engine::Severity::kHigh;
  f.path = content::ObjectPath({"invoice.zip", "eicar\x1b[2J.com"});
  report.findings.push_back(f);
  report.verdict = policy::DecideVerdict(report.findings);
  return report;
}

TEST(ScanOutputTest, JsonHasTheDocumentedSchema) {
  auto doc = nlohmann::json::parse(FormatJson("/tmp/mail.eml", SampleReport()));
  EXPECT_EQ(doc["schema"], "bulwark.scan.v1");
  EXPECT_EQ(doc["verdict"], "malicious");
  EXPECT_EQ(doc["type"]["kind"], "email");
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["findings"][0]["path"][0], "invoice.zip");
  EXPECT_EQ(doc["findings"][0]["category"], "malware");
  EXPECT_FALSE(doc["findings"][0].contains("unscannable_reason"));
}

TEST(ScanOutputTest, JsonSurvivesInvalidUtf8Names) {
  engine::ScanReport report = SampleReport();
  report.findings[0].path = content::ObjectPath({"\xff\xfe.exe"});
  EXPECT_TRUE(nlohmann::json::accept(FormatJson("x", report)));
}

TEST(ScanOutputTest, HumanOutputEscapesControlCharacters) {
  std::string text = FormatHuman("/tmp/mail.eml", SampleReport());
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("\\x1b"), std::string::npos);
  EXPECT_EQ(text.rfind("/tmp/mail.eml: MALICIOUS", 0), 0u);
}

TEST(ScanOutputTest, CleanIsOk) {
  engine::ScanReport report;
  EXPECT_EQ(FormatHuman("a.txt", report), "a.txt: OK");
}

}  // namespace
}  // namespace bulwark::cli

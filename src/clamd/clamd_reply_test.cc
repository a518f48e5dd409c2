#include "clamd/clamd_reply.h"

#include <gtest/gtest.h>

#include <regex>

namespace bulwark::clamd {
namespace {

engine::Finding Make(std::string detector, std::string name, engine::Category category,
                     engine::Severity severity = engine::Severity::kHigh) {
  engine::Finding f;
  f.detector = std::move(detector);
  f.name = std::move(name);
  f.category = category;
  f.severity = severity;
  return f;
}

TEST(ClamdReplyTest, ClamavNameComesFirstAmongTheWorstFindings) {
  std::vector<engine::Finding> findings = {
      Make("yara", "Bulwark_EICAR_Test_File", engine::Category::kMalware, engine::Severity::kCritical),
      Make("hashes", "Bulwark.Test.EICAR", engine::Category::kMalware),
      Make("clamav", "Eicar-Test-Signature", engine::Category::kMalware),
  };
  auto names = ThreatNames(findings);
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], "Eicar-Test-Signature");
  EXPECT_EQ(names[1], "YARA.Bulwark_EICAR_Test_File");
  EXPECT_EQ(names[2], "Bulwark.Test.EICAR");
}

TEST(ClamdReplyTest, WorseCategoryBeatsClamav) {
  engine::Finding encrypted = Make("clamav", "Heuristics.Encrypted.Zip", engine::Category::kUnscannable);
  std::vector<engine::Finding> findings = {encrypted,
                                           Make("yara", "Evil Rule", engine::Category::kSuspicious)};
  EXPECT_EQ(ThreatNames(findings).front(), "YARA.Evil_Rule");  // made wire-safe
}

TEST(ClamdReplyTest, UnscannableObjectsHaveAClearName) {
  engine::Finding f = engine::Finding::Unscannable("archive", engine::UnscannableReason::kEncrypted,
                                                   "encrypted member");
  EXPECT_EQ(ThreatNames({f}).front(),
            "Bulwark.Unscannable." + std::string(engine::UnscannableReasonName(f.reason)));
}

TEST(ClamdReplyTest, FoundFollowsTheTenantsDecision) {
  service::ContentScanOutcome outcome;
  outcome.report.verdict.kind = policy::VerdictKind::kMalicious;
  outcome.report.findings = {Make("clamav", "Eicar-Test-Signature", engine::Category::kMalware)};
  outcome.decision.action = service::Action::kTag;  // the policy lets it through
  EXPECT_FALSE(ResultFor(outcome, /*tenant_scan=*/true).found);
  EXPECT_TRUE(ResultFor(outcome, /*tenant_scan=*/false).found);  // plain clamd: any detection
  outcome.decision.action = service::Action::kQuarantine;
  ClamdScanResult blocked = ResultFor(outcome, true);
  EXPECT_TRUE(blocked.found);
  EXPECT_EQ(blocked.names.front(), "Eicar-Test-Signature");
  outcome.report.verdict.kind = policy::VerdictKind::kClean;
  EXPECT_FALSE(ResultFor(outcome, false).found);
}

TEST(ClamdReplyTest, VersionHasClamdsForm) {
  std::string version = FormatVersion("1.4.6", 27400, 1758012206);
  EXPECT_TRUE(std::regex_match(version, std::regex(R"(ClamAV \d+\.\d+\.\d+/\d+/\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})")))
      << version;
}

}  // namespace
}  // namespace bulwark::clamd

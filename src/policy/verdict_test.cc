#include "bulwark/policy/verdict.h"

#include <gtest/gtest.h>

namespace bulwark::policy {
namespace {

engine::Finding MakeFinding(engine::Category category, std::string name) {
  engine::Finding f;
  f.detector = "test";
  f.name = std::move(name);
  f.category = category;
  return f;
}

TEST(VerdictTest, NoFindingsIsClean) {
  Verdict v = DecideVerdict({});
  EXPECT_EQ(v.kind, VerdictKind::kClean);
  EXPECT_FALSE(v.IsDetection());
}

TEST(VerdictTest, WorstCategoryDecidesAndNamesItsFinding) {
  std::vector<engine::Finding> findings = {
      MakeFinding(engine::Category::kUnscannable, "Unscannable.encrypted"),
      MakeFinding(engine::Category::kMalware, "Eicar"),
      MakeFinding(engine::Category::kSuspicious, "Heur")};
  findings[1].path = content::ObjectPath({"a.zip", "eicar.com"});
  Verdict v = DecideVerdict(findings);
  EXPECT_EQ(v.kind, VerdictKind::kMalicious);
  EXPECT_EQ(v.reason, "test: Eicar in a.zip \u203a eicar.com");
}

TEST(VerdictTest, SuspiciousInfoFindingsAreEvidenceNotDetections) {
  std::vector<engine::Finding> findings = {MakeFinding(engine::Category::kSuspicious, "Hint")};
  findings[0].severity = engine::Severity::kInfo;
  EXPECT_EQ(DecideVerdict(findings).kind, VerdictKind::kClean);
  findings.push_back(MakeFinding(engine::Category::kSuspicious, "Heur"));
  findings[1].severity = engine::Severity::kLow;
  Verdict v = DecideVerdict(findings);
  EXPECT_EQ(v.kind, VerdictKind::kSuspicious);
  EXPECT_EQ(v.reason, "test: Heur");
  // Info severity in the other categories still decides.
  engine::Finding dlp = MakeFinding(engine::Category::kPolicy, "PCI-DSS");
  dlp.severity = engine::Severity::kInfo;
  EXPECT_EQ(DecideVerdict(std::vector<engine::Finding>{dlp}).kind, VerdictKind::kPolicyViolation);
}

TEST(VerdictTest, UnscannableAloneIsADetection) {
  std::vector<engine::Finding> findings = {engine::Finding::Unscannable(
      "archive", engine::UnscannableReason::kEncrypted, "encrypted member")};
  Verdict v = DecideVerdict(findings);
  EXPECT_EQ(v.kind, VerdictKind::kUnscannable);
  EXPECT_TRUE(v.IsDetection());
}

}  // namespace
}  // namespace bulwark::policy

#include "service/tenant_policy.h"

#include <gtest/gtest.h>

namespace bulwark::service {
namespace {

engine::ScanReport ReportWith(std::vector<engine::Finding> findings) {
  engine::ScanReport report;
  report.findings = std::move(findings);
  report.verdict = policy::DecideVerdict(report.findings);
  return report;
}

engine::Finding Malware() {
  engine::Finding f;
  f.detector = "clamav";
  f.name = "Eicar-Test-Signature";
  f.category = engine::Category::kMalware;
  return f;
}

engine::Finding Dlp(std::string template_name) {
  engine::Finding f;
  f.detector = "dlp";
  f.name = "DLP." + template_name;
  f.category = engine::Category::kPolicy;
  return f;
}

TEST(TenantPolicyTest, ProtectionsOfFindings) {
  EXPECT_EQ(ProtectionOf(Malware()), "malware");
  EXPECT_EQ(ProtectionOf(Dlp("PCI-DSS")), "dlp");
  engine::Finding blocked;
  blocked.detector = "activecontent";
  blocked.name = "FileBlocking.executables";
  blocked.category = engine::Category::kPolicy;
  EXPECT_EQ(ProtectionOf(blocked), "file_blocking");
  engine::Finding macro;
  macro.detector = "activecontent";
  macro.name = "ActiveContent.Macro.AutoExec";
  EXPECT_EQ(ProtectionOf(macro), "active_content");
  EXPECT_EQ(ProtectionOf(engine::Finding::Unscannable("archive",
                                                      engine::UnscannableReason::kEncrypted, "")),
            "unscannable");
}

TEST(TenantPolicyTest, DefaultQuarantinesMalwareAndLogsDlp) {
  TenantPolicy policy = DefaultTenantPolicy();
  Decision malware = Decide(policy, ReportWith({Malware()}), {});
  EXPECT_EQ(malware.action, Action::kQuarantine);
  EXPECT_FALSE(malware.monitor);
  Decision dlp = Decide(policy, ReportWith({Dlp("GDPR")}), {});
  EXPECT_EQ(dlp.action, Action::kLog);
  Decision clean = Decide(policy, ReportWith({}), {});
  EXPECT_TRUE(clean.rule.empty());
  EXPECT_TRUE(clean.protections.empty());
}

TEST(TenantPolicyTest, RoundTripsThroughJson) {
  auto parsed = ParseTenantPolicy(DefaultTenantPolicyJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(TenantPolicyToJson(*parsed), DefaultTenantPolicyJson());
}

TEST(TenantPolicyTest, PriorityScopeAndStrongestActionDecide) {
  auto policy = ParseTenantPolicy(R"({"rules":[
    {"name":"finance cards","protection":"dlp","action":"reject","priority":1,
     "dlp_templates":["PCI-DSS"],"scope":{"users":["CFO@example.com"]}},
    {"name":"cards","protection":"dlp","action":"tag","priority":5,"dlp_templates":["PCI-DSS"]},
    {"name":"malware","protection":"malware","action":"delete"}]})");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  ScanSubject cfo{"api", "cfo@example.com", {}};
  ScanSubject other{"api", "intern@example.com", {}};
  EXPECT_EQ(Decide(*policy, ReportWith({Dlp("PCI-DSS")}), cfo).action, Action::kReject);
  EXPECT_EQ(Decide(*policy, ReportWith({Dlp("PCI-DSS")}), other).action, Action::kTag);
  // A template no rule names: nothing fires for it.
  EXPECT_EQ(Decide(*policy, ReportWith({Dlp("GDPR")}), other).rule, "");
  // Two protections fire: the stronger action wins.
  Decision both = Decide(*policy, ReportWith({Dlp("PCI-DSS"), Malware()}), other);
  EXPECT_EQ(both.action, Action::kDelete);
  EXPECT_EQ(both.rule, "malware");
  EXPECT_EQ(both.protections.size(), 2u);
}

TEST(TenantPolicyTest, MonitorModeDetectsAndActsOnNothing) {
  auto policy = ParseTenantPolicy(
      R"({"mode":"monitor","rules":[{"name":"m","protection":"malware","action":"reject"}]})");
  ASSERT_TRUE(policy.ok());
  Decision d = Decide(*policy, ReportWith({Malware()}), {});
  EXPECT_TRUE(d.monitor);
  EXPECT_EQ(d.intended, Action::kReject);
  EXPECT_EQ(d.action, Action::kLog);

  auto rule_monitor = ParseTenantPolicy(
      R"({"rules":[{"name":"m","protection":"malware","action":"reject","monitor":true}]})");
  ASSERT_TRUE(rule_monitor.ok());
  EXPECT_EQ(Decide(*rule_monitor, ReportWith({Malware()}), {}).action, Action::kLog);
}

TEST(TenantPolicyTest, ServiceScope) {
  auto policy = ParseTenantPolicy(
      R"({"rules":[{"name":"smtp only","protection":"malware","action":"reject",
                    "scope":{"services":["smtp"]}}]})");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(Decide(*policy, ReportWith({Malware()}), {"smtp", "", {}}).action, Action::kReject);
  EXPECT_EQ(Decide(*policy, ReportWith({Malware()}), {"api", "", {}}).rule, "");
}

TEST(TenantPolicyTest, ErrorsNameThePath) {
  struct Case {
    const char* json;
    const char* expected;
  } cases[] = {
      {"[]", "$: must be an object"},
      {"{", "not valid JSON"},
      {R"({"rules":[{"name":"x","protection":"malware","action":"explode"}]})",
       "rules[0].action: required, must be one of log, notify, tag, quarantine, delete, reject"},
      {R"({"rules":[{"name":"x","protection":"virus","action":"log"}]})",
       "rules[0].protection"},
      {R"({"rules":[{"protection":"malware","action":"log"}]})", "rules[0].name"},
      {R"({"rules":[{"name":"x","protection":"malware","action":"log","priority":-1}]})",
       "rules[0].priority"},
      {R"({"rules":[{"name":"x","protection":"malware","action":"log","scope":{"teams":[]}}]})",
       "rules[0].scope.teams"},
      {R"({"rules":[{"name":"x","protection":"malware","action":"log","dlp_templates":["GDPR"]}]})",
       "rules[0].dlp_templates: only for protection"},
      {R"({"mode":"audit","rules":[]})", "mode: must be"},
      {R"({"rules":[],"extra":1})", "extra: unknown key"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseTenantPolicy(c.json);
    ASSERT_FALSE(parsed.ok()) << c.json;
    EXPECT_NE(parsed.status().message().find(c.expected), std::string::npos)
        << parsed.status().message();
  }
}

}  // namespace
}  // namespace bulwark::service

namespace bulwark::service {
namespace {

TEST(TenantPolicyTest, ProtectedIdentitiesParseRoundTripAndNameTheirErrors) {
  auto policy = ParseTenantPolicy(R"({"rules": [], "impersonation": {
      "people": [{"name": "Jane Doe", "addresses": ["Jane.Doe@Acme.example"]}],
      "domains": ["Acme.example", "acme-pay.example"]}})");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const auto& ids = policy->protected_identities;
  ASSERT_EQ(ids.people.size(), 1u);
  EXPECT_EQ(ids.people[0].name, "Jane Doe");
  EXPECT_EQ(ids.people[0].addresses, std::vector<std::string>{"jane.doe@acme.example"});
  EXPECT_EQ(ids.domains, (std::vector<std::string>{"acme.example", "acme-pay.example"}));

  auto again = ParseTenantPolicy(TenantPolicyToJson(*policy));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->protected_identities.people.size(), 1u);
  EXPECT_EQ(again->protected_identities.domains.size(), 2u);
  // Without identities the document has no impersonation key.
  EXPECT_EQ(TenantPolicyToJson(DefaultTenantPolicy()).find("\"impersonation\":{"), std::string::npos);

  auto no_name = ParseTenantPolicy(R"({"rules": [], "impersonation": {"people": [{}]}})");
  EXPECT_NE(no_name.status().message().find("impersonation.people[0].name"), std::string::npos);
  auto typo = ParseTenantPolicy(R"({"rules": [], "impersonation": {"domain": ["a.example"]}})");
  EXPECT_NE(typo.status().message().find("impersonation.domain"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::service

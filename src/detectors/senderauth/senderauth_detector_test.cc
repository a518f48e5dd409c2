// The "senderauth" detector: findings and their severities, registration only when
// configured, and a whole `email` scan through the engine against a local NSD.

#include "detectors/senderauth/senderauth_detector.h"

#include <gtest/gtest.h>

#include "bulwark/engine/engine.h"
#include "bulwark/engine/scan_context.h"
#include "bulwark/policy/verdict.h"
#include "detectors/senderauth/senderauth_test_keys.h"
#include "detectors/senderauth/test_dns_server.h"
#include "extensions/standard_extensions.h"

namespace bulwark::detectors {
namespace {

using engine::Finding;
using engine::Severity;
using senderauth::AuthResult;
using senderauth::DmarcPolicy;
using senderauth::SenderAuthResult;

const Finding* Named(const std::vector<Finding>& findings, std::string_view name) {
  for (const auto& f : findings) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

SenderAuthResult DmarcFailure(DmarcPolicy policy) {
  SenderAuthResult r;
  r.client_ip = "198.51.100.7";
  r.spf = {AuthResult::kFail, "example.com", "mailfrom", "received", ""};
  r.dkim.push_back(
      {AuthResult::kFail, "example.com", "s1", "rsa-sha256", "body hash did not verify"});
  r.dmarc.result = AuthResult::kFail;
  r.dmarc.from_domain = r.dmarc.record_domain = "example.com";
  r.dmarc.policy = policy;
  return r;
}

TEST(SenderAuthFindingsTest, DmarcFailSeverityFollowsThePolicy) {
  const auto reject = SenderAuthFindings(DmarcFailure(DmarcPolicy::kReject));
  ASSERT_NE(Named(reject, "SenderAuth.DmarcFail"), nullptr);
  EXPECT_EQ(Named(reject, "SenderAuth.DmarcFail")->severity, Severity::kHigh);
  EXPECT_EQ(Named(reject, "SenderAuth.DmarcFail")->detail,
            "From example.com: DMARC fail, policy p=reject; no aligned identifier: SPF fail for "
            "example.com (mailfrom) from received; DKIM fail d=example.com");
  EXPECT_EQ(Named(reject, "SenderAuth.SpfFail")->severity, Severity::kLow);
  EXPECT_EQ(Named(reject, "SenderAuth.DkimInvalid")->severity, Severity::kInfo);
  EXPECT_EQ(Named(reject, "SenderAuth.DkimInvalid")->detail,
            "1 DKIM signature did not verify: fail d=example.com s=s1: body hash did not verify");
  EXPECT_EQ(policy::DecideVerdict(reject).kind, policy::VerdictKind::kSuspicious);

  const auto quarantine = SenderAuthFindings(DmarcFailure(DmarcPolicy::kQuarantine));
  EXPECT_EQ(Named(quarantine, "SenderAuth.DmarcFail")->severity, Severity::kMedium);

  // p=none: the domain asks for monitoring only; evidence, not a detection — but the SPF
  // hard fail alongside it is (low).
  auto none_result = DmarcFailure(DmarcPolicy::kNone);
  const auto none = SenderAuthFindings(none_result);
  EXPECT_EQ(Named(none, "SenderAuth.DmarcFail")->severity, Severity::kInfo);
  none_result.spf.result = AuthResult::kSoftFail;
  none_result.dkim.clear();
  const auto none_soft = SenderAuthFindings(none_result);
  EXPECT_EQ(none_soft.size(), 1u);
  EXPECT_EQ(policy::DecideVerdict(none_soft).kind, policy::VerdictKind::kClean);
}

TEST(SenderAuthFindingsTest, ADmarcFailureATrustedArcSealerOverridesIsEvidenceOnly) {
  SenderAuthResult forwarded = DmarcFailure(DmarcPolicy::kReject);
  forwarded.dmarc.overridden_by_arc = "lists.example.org";
  const auto findings = SenderAuthFindings(forwarded);
  EXPECT_EQ(Named(findings, "SenderAuth.DmarcFail"), nullptr);
  ASSERT_NE(Named(findings, "SenderAuth.ArcOverride"), nullptr);
  EXPECT_EQ(Named(findings, "SenderAuth.ArcOverride")->detail,
            "From example.com: DMARC fail overridden: the ARC chain validates and trusted sealer "
            "lists.example.org saw DMARC pass");
  EXPECT_EQ(Named(findings, "SenderAuth.SpfFail")->severity, Severity::kInfo);
  EXPECT_EQ(policy::DecideVerdict(findings).kind, policy::VerdictKind::kClean);
}

TEST(SenderAuthFindingsTest, PassingMailHasNoFindingsAndSpfFailAloneIsEvidence) {
  SenderAuthResult pass;
  pass.spf = {AuthResult::kPass, "example.com", "mailfrom", "envelope", ""};
  pass.dkim.push_back({AuthResult::kPass, "example.com", "s1", "rsa-sha256", ""});
  pass.dmarc.result = AuthResult::kPass;
  EXPECT_TRUE(SenderAuthFindings(pass).empty());

  SenderAuthResult spf_only;  // SPF fail, DMARC passes through DKIM (a forwarded message)
  spf_only.spf = {AuthResult::kFail, "example.com", "mailfrom", "received", ""};
  spf_only.dmarc.result = AuthResult::kPass;
  const auto findings = SenderAuthFindings(spf_only);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].name, "SenderAuth.SpfFail");
  EXPECT_EQ(findings[0].severity, Severity::kInfo);
  EXPECT_EQ(policy::DecideVerdict(findings).kind, policy::VerdictKind::kClean);
}

TEST(SenderAuthFindingsTest, DnsTroubleIsReportedNotSilent) {
  SenderAuthResult r;
  r.spf = {AuthResult::kTempError, "example.com", "mailfrom", "received", ""};
  r.dmarc.result = AuthResult::kTempError;
  r.dmarc.from_domain = "example.com";
  const auto findings = SenderAuthFindings(r);
  ASSERT_NE(Named(findings, "SenderAuth.TempError"), nullptr);
  EXPECT_EQ(Named(findings, "SenderAuth.TempError")->detail,
            "DNS did not answer for SPF, DMARC of example.com");
}

TEST(SenderAuthDetectorTest, NotRegisteredUnlessConfigured) {
  engine::Registry plain;
  extensions::RegisterStandardExtensions(plain);
  engine::Registry with;
  extensions::ExtensionOptions options;
  options.sender_auth = true;
  options.sender_auth_nameserver = "127.0.0.1:5353";
  extensions::RegisterStandardExtensions(with, options);
  EXPECT_EQ(with.detector_factories().size(), plain.detector_factories().size() + 1);

  // A name server that does not parse fails the load instead of falling back.
  engine::Registry bad;
  options.sender_auth_nameserver = "dns.example";
  extensions::RegisterStandardExtensions(bad, options);
  auto built = bad.detector_factories().back()(engine::SignatureSources{});
  EXPECT_FALSE(built.ok());
}

TEST(SenderAuthDetectorTest, AcceptsOnlyTheTopLevelMessage) {
  SenderAuthDetectorConfig config;
  config.resolver = senderauth::CreateStubResolver({"127.0.0.1:9"}).value();
  auto detector = CreateSenderAuthDetector(config);
  content::ObjectInfo info;
  info.type.kind = content::FileKind::kEmail;
  info.size = 100;
  EXPECT_TRUE(detector->Accepts(info));
  info.depth = 1;  // a message attached to a message
  EXPECT_FALSE(detector->Accepts(info));
  info.depth = 0;
  info.type.kind = content::FileKind::kText;
  EXPECT_FALSE(detector->Accepts(info));
}

content::Object Message(std::string name, const std::string& bytes) {
  content::Object object;
  object.info.name = std::move(name);
  object.data = content::Blob::Copy(bytes);
  return object;
}

TEST(SenderAuthDetectorTest, ScanOfASpoofedMessageThroughTheEngine) {
  if (senderauth::testing::NsdBinary().empty()) GTEST_SKIP() << "nsd not installed";
  const auto key = senderauth::testing::MakeRsaKey();
  std::string zone = senderauth::testing::ZoneTxt("bank.example.com.", "v=spf1 ip4:192.0.2.1 -all");
  zone += senderauth::testing::ZoneTxt("_dmarc.bank.example.com.", "v=DMARC1; p=reject");
  zone += senderauth::testing::ZoneTxt("s1._domainkey.bank.example.com.", key.dns_record);
  auto server = senderauth::testing::TestDnsServer::Start(zone);
  ASSERT_TRUE(server.ok()) << server.status().message();

  extensions::ExtensionOptions options;
  options.sender_auth = true;
  options.sender_auth_nameserver = (*server)->address();
  engine::Registry registry;
  extensions::RegisterStandardExtensions(registry, options);
  engine::EngineOptions engine_options;
  engine_options.signatures.system_clamav_directory.clear();
  engine_options.cache_entries = 0;
  auto engine = engine::Engine::Create(std::move(engine_options), std::move(registry));
  ASSERT_TRUE(engine.ok()) << engine.status().message();

  const std::string body =
      "From: Bank <alerts@bank.example.com>\r\nTo: you@example.org\r\nSubject: Verify\r\n"
      "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <1@bank.example.com>\r\n\r\n"
      "Please verify your account.\r\n";
  const std::string spoofed =
      "Received: from mail.bank-secure.example (mail.bank-secure.example [203.0.113.9])\r\n"
      "\tby mx.example.org with ESMTP; Mon, 02 Mar 2026 10:00:01 +0000\r\n"
      "Return-Path: <alerts@bank.example.com>\r\n" +
      body;
  const engine::ScanReport report = (*engine)->Scan(Message("spoofed.eml", spoofed));
  const Finding* dmarc = Named(report.findings, "SenderAuth.DmarcFail");
  ASSERT_NE(dmarc, nullptr);
  EXPECT_EQ(dmarc->severity, Severity::kHigh);
  EXPECT_NE(dmarc->detail.find("SPF fail for bank.example.com"), std::string::npos);
  EXPECT_EQ(report.verdict.kind, policy::VerdictKind::kSuspicious);

  // The genuine message, signed by the bank and sent from its address: nothing reported.
  const std::string genuine =
      "Received: from mta.bank.example.com (mta.bank.example.com [192.0.2.1])\r\n"
      "\tby mx.example.org with ESMTP; Mon, 02 Mar 2026 10:00:01 +0000\r\n"
      "Return-Path: <alerts@bank.example.com>\r\n" +
      senderauth::testing::SignMessage(body, key, "bank.example.com", "s1");
  const engine::ScanReport clean = (*engine)->Scan(Message("genuine.eml", genuine));
  EXPECT_EQ(clean.type.kind, content::FileKind::kEmail);
  for (const auto& f : clean.findings) EXPECT_NE(f.detector, "senderauth") << f.name << f.detail;
}

}  // namespace
}  // namespace bulwark::detectors

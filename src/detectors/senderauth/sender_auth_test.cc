// SPF, DKIM and DMARC against a real DNS server (NSD on 127.0.0.1, started per test binary
// process by the fixture) serving the zone below.

#include "detectors/senderauth/sender_auth.h"

#include <gtest/gtest.h>

#include "detectors/senderauth/arc_check.h"
#include "detectors/senderauth/senderauth_test_keys.h"
#include "detectors/senderauth/test_dns_server.h"

namespace bulwark::senderauth {
namespace {

using testing::DkimKey;
using testing::SignMessage;
using testing::TestDnsServer;
using testing::ZoneTxt;

class SenderAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::NsdBinary().empty()) return;
    rsa_ = new DkimKey(testing::MakeRsaKey());
    ed_ = new DkimKey(testing::MakeEd25519Key());
    std::string zone;
    // SPF
    zone += ZoneTxt("example.com.", "v=spf1 ip4:192.0.2.1 -all");
    zone += ZoneTxt("soft.example.com.", "v=spf1 ip4:192.0.2.1 ~all");
    zone += ZoneTxt("neutral.example.com.", "v=spf1 ?all");
    zone += "nospf.example.com. IN A 192.0.2.1\n";
    zone += ZoneTxt("include.example.com.", "v=spf1 include:example.com -all");
    zone += ZoneTxt("redirect.example.com.", "v=spf1 redirect=example.com");
    zone += ZoneTxt("amx.example.com.", "v=spf1 a mx -all");
    zone += "amx.example.com. IN A 192.0.2.20\n";
    zone += "amx.example.com. IN MX 10 mail.amx.example.com.\n";
    zone += "mail.amx.example.com. IN A 192.0.2.21\n";
    zone += ZoneTxt("broken.example.com.", "v=spf1 ip4:192.0.2.300 -all");
    zone += ZoneTxt("helo.example.com.", "v=spf1 ip4:192.0.2.7 -all");
    // DKIM keys
    zone += ZoneTxt("rsa._domainkey.example.com.", rsa_->dns_record);
    zone += ZoneTxt("ed._domainkey.example.com.", ed_->dns_record);
    zone += ZoneTxt("rsa._domainkey.mail.example.com.", rsa_->dns_record);
    zone += ZoneTxt("rsa._domainkey.mail.example.net.", rsa_->dns_record);
    zone += ZoneTxt("rsa._domainkey.thirdparty.example.", rsa_->dns_record);
    // DMARC
    zone += ZoneTxt("_dmarc.example.com.", "v=DMARC1; p=reject; rua=mailto:d@example.com");
    zone += ZoneTxt("_dmarc.example.net.", "v=DMARC1; p=reject; adkim=s; aspf=s");
    zone += ZoneTxt("example.net.", "v=spf1 ip4:192.0.2.1 -all");
    zone += ZoneTxt("mail.example.net.", "v=spf1 ip4:192.0.2.1 -all");
    zone += ZoneTxt("_dmarc.example.org.", "v=DMARC1; p=none; sp=reject");
    zone += ZoneTxt("example.org.", "v=spf1 ip4:192.0.2.1 -all");
    zone += ZoneTxt("_dmarc.example.info.", "v=DMARC1; p=quarantine");
    zone += ZoneTxt("_dmarc.badrecord.example.", "v=DMARC1; p=sometimes");
    auto server = TestDnsServer::Start(zone);
    if (!server.ok()) {
      start_error_ = new std::string(server.status().message());
      return;
    }
    server_ = server->release();
    resolver_ = CreateStubResolver({server_->address(), std::chrono::seconds(2), 2})->release();
  }
  static void TearDownTestSuite() {
    delete resolver_;
    delete server_;
    delete rsa_;
    delete ed_;
    delete start_error_;
    resolver_ = nullptr;
    server_ = nullptr;
    rsa_ = ed_ = nullptr;
    start_error_ = nullptr;
  }
  void SetUp() override {
    if (testing::NsdBinary().empty()) GTEST_SKIP() << "nsd not installed (apt-get install nsd)";
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
  }

  static std::string Message(std::string_view from, std::string_view body =
                                                        "Hello Bob,\r\n"
                                                        "the figures are attached.\r\n") {
    return "From: Alice <" + std::string(from) +
           ">\r\nTo: bob@example.org\r\nSubject: Quarterly figures\r\n"
           "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <q1@example.com>\r\n\r\n" +
           std::string(body);
  }
  static Envelope Env(std::string ip, std::string mail_from, std::string helo = "mta.example.com") {
    Envelope e;
    e.client_ip = std::move(ip);
    e.mail_from = std::move(mail_from);
    e.helo = std::move(helo);
    e.mail_from_known = true;
    return e;
  }

  static inline TestDnsServer* server_ = nullptr;
  static inline Resolver* resolver_ = nullptr;
  static inline DkimKey* rsa_ = nullptr;
  static inline DkimKey* ed_ = nullptr;
  static inline std::string* start_error_ = nullptr;
};

AuthResult Spf(const Resolver& r, std::string ip, std::string from,
               std::string helo = "mta.example.com") {
  return CheckSpf(ip, helo, from, r).result;
}

TEST_F(SenderAuthTest, ResolverAnswersFromTheLocalServer) {
  DnsAnswer a = resolver_->Lookup("amx.example.com", DnsType::kA);
  ASSERT_EQ(a.status, DnsStatus::kOk);
  EXPECT_EQ(a.records.at(0).data, std::string("\xC0\x00\x02\x14", 4));
  DnsAnswer mx = resolver_->Lookup("amx.example.com", DnsType::kMx);
  ASSERT_EQ(mx.status, DnsStatus::kOk);
  EXPECT_EQ(mx.records.at(0).data, "mail.amx.example.com");
  EXPECT_EQ(mx.records.at(0).preference, 10);
  EXPECT_EQ(resolver_->Lookup("amx.example.com", DnsType::kAaaa).status, DnsStatus::kNoData);
  EXPECT_EQ(resolver_->Lookup("nothing.example.com", DnsType::kTxt).status, DnsStatus::kNxDomain);
  // A long TXT record (RSA key) comes back whole, strings joined.
  DnsAnswer key = resolver_->Lookup("rsa._domainkey.example.com", DnsType::kTxt);
  ASSERT_EQ(key.status, DnsStatus::kOk);
  EXPECT_EQ(key.records.at(0).data, rsa_->dns_record);
}

TEST_F(SenderAuthTest, SpfResults) {
  EXPECT_EQ(Spf(*resolver_, "192.0.2.1", "alice@example.com"), AuthResult::kPass);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.9", "alice@example.com"), AuthResult::kFail);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.9", "alice@soft.example.com"), AuthResult::kSoftFail);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.9", "alice@neutral.example.com"), AuthResult::kNeutral);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.9", "alice@nospf.example.com"), AuthResult::kNone);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.9", "alice@nxdomain.example.com"), AuthResult::kNone);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.9", "alice@broken.example.com"), AuthResult::kPermError);
  EXPECT_EQ(Spf(*resolver_, "2001:db8::1", "alice@example.com"), AuthResult::kFail);
}

TEST_F(SenderAuthTest, SpfIncludeRedirectAMx) {
  EXPECT_EQ(Spf(*resolver_, "192.0.2.1", "a@include.example.com"), AuthResult::kPass);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.2", "a@include.example.com"), AuthResult::kFail);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.1", "a@redirect.example.com"), AuthResult::kPass);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.2", "a@redirect.example.com"), AuthResult::kFail);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.20", "a@amx.example.com"), AuthResult::kPass);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.21", "a@amx.example.com"), AuthResult::kPass);
  EXPECT_EQ(Spf(*resolver_, "192.0.2.22", "a@amx.example.com"), AuthResult::kFail);
}

TEST_F(SenderAuthTest, SpfNullSenderChecksHelo) {
  SpfCheck pass = CheckSpf("192.0.2.7", "helo.example.com", "", *resolver_);
  EXPECT_EQ(pass.result, AuthResult::kPass);
  EXPECT_EQ(pass.scope, "helo");
  EXPECT_EQ(pass.domain, "helo.example.com");
  EXPECT_EQ(CheckSpf("192.0.2.8", "helo.example.com", "", *resolver_).result, AuthResult::kFail);
}

TEST_F(SenderAuthTest, SpfTempErrorWhenTheServerDoesNotAnswer) {
  // A port where nothing listens: no answer is temperror, never pass or none.
  auto silent = CreateStubResolver({"127.0.0.1:9", std::chrono::seconds(1), 1});
  ASSERT_TRUE(silent.ok());
  EXPECT_EQ(Spf(**silent, "192.0.2.1", "alice@example.com"), AuthResult::kTempError);
}

TEST_F(SenderAuthTest, DkimRsaSha256AndEd25519Pass) {
  for (const auto& [key, selector] : {std::pair{rsa_, "rsa"}, std::pair{ed_, "ed"}}) {
    const std::string signed_message =
        SignMessage(Message("alice@example.com"), *key, "example.com", selector);
    ASSERT_FALSE(signed_message.empty()) << selector;
    auto sigs = VerifyDkim(signed_message, *resolver_, 8);
    ASSERT_EQ(sigs.size(), 1u) << selector;
    EXPECT_EQ(sigs[0].result, AuthResult::kPass) << selector << ": " << sigs[0].error;
    EXPECT_EQ(sigs[0].domain, "example.com");
    EXPECT_EQ(sigs[0].selector, selector);
    EXPECT_EQ(sigs[0].algorithm, key->ed25519 ? "ed25519-sha256" : "rsa-sha256");
  }
}

TEST_F(SenderAuthTest, DkimFailsAfterBodyOrHeaderChange) {
  const std::string signed_message =
      SignMessage(Message("alice@example.com"), *rsa_, "example.com", "rsa");
  ASSERT_FALSE(signed_message.empty());
  std::string body_changed = signed_message;
  body_changed.replace(body_changed.find("attached"), 8, "enclosed");
  auto sigs = VerifyDkim(body_changed, *resolver_, 8);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].result, AuthResult::kFail);
  EXPECT_EQ(sigs[0].error, "body hash did not verify");
  std::string subject_changed = signed_message;
  subject_changed.replace(subject_changed.find("Quarterly"), 9, "Urgent!!!");
  sigs = VerifyDkim(subject_changed, *resolver_, 8);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].result, AuthResult::kFail);
}

TEST_F(SenderAuthTest, DkimMissingKeyIsPermErrorAndUnsignedIsNone) {
  const std::string signed_message =
      SignMessage(Message("alice@example.com"), *rsa_, "example.com", "gone");
  auto sigs = VerifyDkim(signed_message, *resolver_, 8);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].result, AuthResult::kPermError);
  EXPECT_TRUE(VerifyDkim(Message("alice@example.com"), *resolver_, 8).empty());
}

TEST_F(SenderAuthTest, DmarcPassViaSpfAlignment) {
  auto r = Authenticate({Message("alice@example.com")}, Env("192.0.2.1", "bounce@example.com"),
                        *resolver_);
  EXPECT_EQ(r.spf.result, AuthResult::kPass);
  EXPECT_EQ(r.DkimSummary(), AuthResult::kNone);
  EXPECT_EQ(r.dmarc.result, AuthResult::kPass);
  EXPECT_TRUE(r.dmarc.spf_aligned);
  EXPECT_FALSE(r.dmarc.dkim_aligned);
  EXPECT_EQ(r.dmarc.policy, DmarcPolicy::kReject);
  EXPECT_EQ(r.dmarc.aligned_domain, "example.com");
}

TEST_F(SenderAuthTest, DmarcPassViaRelaxedDkimAlignmentDespiteSpfFail) {
  const std::string m = SignMessage(Message("alice@example.com"), *rsa_, "mail.example.com", "rsa");
  auto r = Authenticate({m}, Env("198.51.100.5", "bounce@example.com"), *resolver_);
  EXPECT_EQ(r.spf.result, AuthResult::kFail);
  EXPECT_EQ(r.DkimSummary(), AuthResult::kPass);
  EXPECT_EQ(r.dmarc.result, AuthResult::kPass);
  EXPECT_TRUE(r.dmarc.dkim_aligned);
  EXPECT_EQ(r.dmarc.aligned_domain, "mail.example.com");
}

TEST_F(SenderAuthTest, DmarcFailWithRejectWhenNothingAligns) {
  // A third party's valid signature and SPF pass for its own bounce domain: neither is the
  // From domain, so DMARC fails and p=reject applies.
  const std::string m = SignMessage(Message("ceo@example.com"), *rsa_, "thirdparty.example", "rsa");
  auto r = Authenticate({m}, Env("192.0.2.1", "bounce@example.org"), *resolver_);
  EXPECT_EQ(r.spf.result, AuthResult::kPass);
  EXPECT_EQ(r.DkimSummary(), AuthResult::kPass);
  EXPECT_EQ(r.dmarc.result, AuthResult::kFail);
  EXPECT_EQ(r.dmarc.policy, DmarcPolicy::kReject);
  EXPECT_FALSE(r.dmarc.spf_aligned);
  EXPECT_FALSE(r.dmarc.dkim_aligned);
}

TEST_F(SenderAuthTest, StrictAlignmentRejectsSubdomainIdentifiers) {
  // example.net has adkim=s aspf=s: d=mail.example.net and MAIL FROM mail.example.net do not
  // align with From example.net; with relaxed alignment (example.com) they would.
  const std::string m = SignMessage(Message("alice@example.net"), *rsa_, "mail.example.net", "rsa");
  auto r = Authenticate({m}, Env("192.0.2.1", "bounce@mail.example.net"), *resolver_);
  EXPECT_EQ(r.spf.result, AuthResult::kPass);
  EXPECT_EQ(r.DkimSummary(), AuthResult::kPass);
  EXPECT_TRUE(r.dmarc.strict_dkim);
  EXPECT_TRUE(r.dmarc.strict_spf);
  EXPECT_EQ(r.dmarc.result, AuthResult::kFail)
      << "spf aligned " << r.dmarc.spf_aligned << ", dkim aligned " << r.dmarc.dkim_aligned;
  // Exact domains align under strict mode.
  auto exact =
      Authenticate({Message("alice@example.net")}, Env("192.0.2.1", "b@example.net"), *resolver_);
  EXPECT_EQ(exact.dmarc.result, AuthResult::kPass);
}

TEST_F(SenderAuthTest, SubdomainPolicyComesFromTheOrganisationalRecord) {
  // _dmarc.example.org: p=none; sp=reject. From a subdomain without its own record: sp.
  auto sub = Authenticate({Message("x@child.example.org")}, Env("192.0.2.9", "x@child.example.org"),
                          *resolver_);
  EXPECT_EQ(sub.dmarc.record_domain, "example.org");
  EXPECT_EQ(sub.dmarc.result, AuthResult::kFail);
  EXPECT_EQ(sub.dmarc.policy, DmarcPolicy::kReject);
  auto org =
      Authenticate({Message("x@example.org")}, Env("192.0.2.9", "x@example.org"), *resolver_);
  EXPECT_EQ(org.dmarc.result, AuthResult::kFail);
  EXPECT_EQ(org.dmarc.policy, DmarcPolicy::kNone);
  auto quarantine =
      Authenticate({Message("x@example.info")}, Env("192.0.2.9", "x@example.info"), *resolver_);
  EXPECT_EQ(quarantine.dmarc.policy, DmarcPolicy::kQuarantine);
}

TEST_F(SenderAuthTest, DmarcNoneWithoutRecordAndPermErrorForBadRecord) {
  auto none =
      Authenticate({Message("x@nospf.example")}, Env("192.0.2.9", "x@nospf.example"), *resolver_);
  EXPECT_EQ(none.dmarc.result, AuthResult::kNone);
  EXPECT_EQ(none.dmarc.policy, DmarcPolicy::kAbsent);
  auto bad = Authenticate({Message("x@badrecord.example")}, Env("192.0.2.9", "x@badrecord.example"),
                          *resolver_);
  EXPECT_EQ(bad.dmarc.result, AuthResult::kPermError);
}

TEST_F(SenderAuthTest, ApiModeReadsTheTopmostExternalReceivedAndReturnPath) {
  const std::string m =
      "Return-Path: <bounce@example.com>\r\n"
      "Received: from internal.corp (internal.corp [10.1.2.3]) by store.corp; Mon, 2 Mar 2026\r\n"
      "Received: from mta.example.com (mta.example.com [192.0.2.1])\r\n"
      "\tby mx.corp.example with ESMTPS id 1; Mon, 2 Mar 2026 10:00:01 +0000\r\n"
      "Received: from forged.example ([203.0.113.66]) by mta.example.com\r\n" +
      Message("alice@example.com");
  auto r = Authenticate({m}, Envelope{}, *resolver_);
  EXPECT_EQ(r.client_ip, "192.0.2.1");
  EXPECT_EQ(r.helo, "mta.example.com");
  EXPECT_EQ(r.mail_from, "bounce@example.com");
  EXPECT_EQ(r.spf.source, "received");
  EXPECT_EQ(r.spf.result, AuthResult::kPass);
  EXPECT_EQ(r.dmarc.result, AuthResult::kPass);
}

TEST_F(SenderAuthTest, TrustedAuthenticationResultsAreAdoptedUntrustedIgnored) {
  const std::string m =
      "Authentication-Results: mx.corp.example; spf=pass smtp.mailfrom=bounce@example.com\r\n"
      "Authentication-Results: evil.example; spf=pass smtp.mailfrom=x@example.com; dmarc=pass\r\n" +
      Message("alice@example.com");
  SenderAuthOptions trusting;
  trusting.trusted_authserv_ids = {"mx.corp.example"};
  auto trusted = Authenticate({m}, Envelope{}, *resolver_, trusting);
  EXPECT_EQ(trusted.spf.source, "trusted:mx.corp.example");
  EXPECT_EQ(trusted.spf.result, AuthResult::kPass);
  EXPECT_EQ(trusted.spf.domain, "example.com");
  EXPECT_EQ(trusted.dmarc.result, AuthResult::kPass);

  SenderAuthOptions other;
  other.trusted_authserv_ids = {"mx.other.example"};
  auto untrusted = Authenticate({m}, Envelope{}, *resolver_, other);
  EXPECT_EQ(untrusted.spf.source, "");  // nothing to check: no Received, forged A-R ignored
  EXPECT_EQ(untrusted.spf.result, AuthResult::kNone);
  EXPECT_EQ(untrusted.dmarc.result, AuthResult::kFail);
  EXPECT_EQ(untrusted.dmarc.policy, DmarcPolicy::kReject);
}

TEST_F(SenderAuthTest, RendersAnAuthenticationResultsValue) {
  const std::string m = SignMessage(Message("alice@example.com"), *rsa_, "example.com", "rsa");
  auto r = Authenticate({m}, Env("192.0.2.1", "bounce@example.com"), *resolver_);
  const std::string ar = RenderAuthenticationResults(r, "mx.bulwark.example");
  EXPECT_EQ(ar,
            "mx.bulwark.example;\r\n\tspf=pass smtp.mailfrom=bounce@example.com;\r\n"
            "\tdkim=pass header.d=example.com header.s=rsa header.a=rsa-sha256;\r\n"
            "\tdmarc=pass policy.dmarc=reject header.from=example.com");
  auto parsed = ParseAuthenticationResults(ar);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->authserv_id, "mx.bulwark.example");
  ASSERT_EQ(parsed->results.size(), 3u);
  EXPECT_EQ(parsed->results[1].Property("header", "d"), "example.com");
}

}  // namespace
}  // namespace bulwark::senderauth

namespace bulwark::senderauth {
namespace {

TEST(AuthenticationResultsTest, ArcIsReportedOnlyWhenTheMessageHasAnArcChain) {
  SenderAuthResult result;
  result.from_domain = "example.com";
  result.dmarc.from_domain = "example.com";
  EXPECT_EQ(RenderAuthenticationResults(result, "mx.example.org").find("\tarc="),
            std::string::npos);
  result.arc.instances = 2;
  result.arc.result = AuthResult::kPass;
  EXPECT_NE(RenderAuthenticationResults(result, "mx.example.org").find("\tarc=pass"),
            std::string::npos);
  result.arc.result = AuthResult::kFail;
  result.arc.reason = "ARC-Seal i=2: signature does not verify";
  const std::string failed = RenderAuthenticationResults(result, "mx.example.org");
  EXPECT_NE(failed.find("\tarc=fail reason=\"ARC-Seal i=2: signature does not verify\""),
            std::string::npos)
      << failed;
}

TEST(ArcOverrideTest, OnlyAnUnbrokenRunOfTrustedSealersThatSawDmarcPassOverrides) {
  DmarcCheck failed;
  failed.result = AuthResult::kFail;
  ArcCheck arc;
  arc.result = AuthResult::kPass;
  arc.instances = 2;
  arc.hops = {{"origin-list.example", "pass"}, {"forwarder.example", ""}};
  // The latest sealer handed the message to us; trust has to start there.
  EXPECT_EQ(ArcOverride(failed, arc, {"origin-list.example"}), "");
  EXPECT_EQ(ArcOverride(failed, arc, {"forwarder.example"}), "");  // it saw no DMARC result
  EXPECT_EQ(ArcOverride(failed, arc, {"forwarder.example", "origin-list.example"}),
            "origin-list.example");
  arc.hops[1].dmarc = "pass";
  EXPECT_EQ(ArcOverride(failed, arc, {"forwarder.example"}), "forwarder.example");
  arc.hops[1].dmarc = "fail";
  EXPECT_EQ(ArcOverride(failed, arc, {"forwarder.example"}), "");
  // Nothing to override, or a chain that does not validate.
  EXPECT_EQ(ArcOverride(DmarcCheck{}, arc, {"forwarder.example", "origin-list.example"}), "");
  arc.result = AuthResult::kFail;
  EXPECT_EQ(ArcOverride(failed, arc, {"forwarder.example", "origin-list.example"}), "");
  EXPECT_EQ(ArcOverride(failed, ArcCheck{}, {}), "");
}

TEST(AuthenticationResultsTest, AnOverriddenDmarcFailureSaysWhoOverrodeIt) {
  SenderAuthResult result;
  result.dmarc.from_domain = "example.com";
  result.dmarc.result = AuthResult::kFail;
  result.dmarc.overridden_by_arc = "lists.example.org";
  const std::string rendered = RenderAuthenticationResults(result, "mx.example.org");
  EXPECT_NE(
      rendered.find("dmarc=fail reason=\"overridden: ARC sealed by trusted lists.example.org\""),
      std::string::npos)
      << rendered;
}

TEST(ArcCheckTest, AMessageWithoutArcFieldsHasNoChainAndAnIncompleteSetFails) {
  class NoKeys : public Resolver {
   public:
    DnsAnswer Lookup(std::string_view, DnsType) const override {
      return {DnsStatus::kNxDomain, {}};
    }
  } resolver;
  EXPECT_EQ(VerifyArc("From: a@example.com\r\n\r\nbody\r\n", resolver).result, AuthResult::kNone);
  ArcCheck incomplete = VerifyArc(
      "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=x; b=AAAA\r\n"
      "From: a@example.com\r\n\r\nbody\r\n",
      resolver);
  EXPECT_EQ(incomplete.result, AuthResult::kFail);
  EXPECT_NE(incomplete.reason.find("i=1 is incomplete"), std::string::npos) << incomplete.reason;
}

}  // namespace
}  // namespace bulwark::senderauth

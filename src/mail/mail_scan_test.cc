#include "mail/mail_scan.h"

#include <gtest/gtest.h>

#include "mail/attachment_strip.h"
#include "service/administration.h"
#include "test/support/service_harness.h"
#include "test/support/test_support.h"

namespace bulwark::mail {
namespace {

using testing::Eicar;
using testing::MakeArchive;
using testing::MakeMail;

service::MailDomainConfig Domain(std::string name, std::string tenant, bool subdomains = false) {
  service::MailDomainConfig d;
  d.domain = std::move(name);
  d.tenant = std::move(tenant);
  d.include_subdomains = subdomains;
  return d;
}

TEST(DomainRouterTest, RoutesByRecipientDomainCaseInsensitivelyWithLongestMatch) {
  DomainRouter router({Domain("example.org", "acme", true), Domain("Sales.Example.org", "sales"),
                       Domain("other.net", "other")});
  ASSERT_NE(router.Route("bob@example.org"), nullptr);
  EXPECT_EQ(router.Route("<Bob@EXAMPLE.ORG>")->tenant, "acme");
  EXPECT_EQ(router.Route("eve@mx.example.org")->tenant, "acme");       // subdomains included
  EXPECT_EQ(router.Route("carl@sales.example.org")->tenant, "sales");  // longest wins
  EXPECT_EQ(router.Route("x@other.net.")->tenant, "other");            // trailing dot
  EXPECT_EQ(router.Route("x@sub.other.net"), nullptr);                 // no subdomains for this one
  EXPECT_EQ(router.Route("x@badexample.org"), nullptr);                // not a subdomain
  EXPECT_EQ(router.Route("postmaster"), nullptr);
  EXPECT_EQ(router.Route(""), nullptr);
}

TEST(FormatHeaderFieldTest, FoldsLongValuesAtSpacesAndUnfoldsToTheSameWords) {
  std::string value;
  for (int i = 0; i < 30; ++i) value += (i ? " " : "") + std::string("word") + std::to_string(i);
  std::string field = FormatHeaderField({"X-Long", value});
  ASSERT_TRUE(field.ends_with("\r\n"));
  std::size_t start = 0;
  int lines = 0;
  while (start < field.size()) {
    std::size_t end = field.find("\r\n", start);
    EXPECT_LE(end - start, 78u) << field;
    if (lines > 0) {
      EXPECT_EQ(field[start], '\t');
    }
    start = end + 2;
    ++lines;
  }
  EXPECT_GT(lines, 1);
  std::string unfolded = field;
  for (std::size_t p; (p = unfolded.find("\r\n\t")) != std::string::npos;) {
    unfolded.replace(p, 3, " ");
  }
  EXPECT_EQ(unfolded, "X-Long: " + value + "\r\n");
  EXPECT_EQ(FormatHeaderField({"A", "b"}, "\n"), "A: b\n");
}

service::ContentScanOutcome Outcome(service::Action action, std::vector<engine::Finding> findings) {
  service::ContentScanOutcome outcome;
  outcome.report.findings = std::move(findings);
  outcome.report.verdict = policy::DecideVerdict(outcome.report.findings);
  outcome.decision.action = action;
  outcome.decision.intended = action;
  outcome.decision.protections = {"malware"};
  return outcome;
}

engine::Finding Malware(std::vector<std::string> path) {
  engine::Finding f;
  f.detector = "clamav";
  f.name = "Eicar-Test-Signature";
  f.category = engine::Category::kMalware;
  f.severity = engine::Severity::kHigh;
  f.path = content::ObjectPath(std::move(path));
  return f;
}

TEST(VerdictForTest, MapsEachPolicyActionToWhatHappensToTheMessage) {
  MailVerdict clean = VerdictFor(Outcome(service::Action::kLog, {}), "[SUSPICIOUS]");
  EXPECT_EQ(clean.disposition, Disposition::kDeliver);
  ASSERT_FALSE(clean.add_headers.empty());
  EXPECT_EQ(clean.add_headers[0].name, "X-Bulwark-Verdict");
  EXPECT_EQ(clean.add_headers[0].value, "clean");

  MailVerdict tagged =
      VerdictFor(Outcome(service::Action::kTag, {Malware({"a.zip"})}), "[SUSPICIOUS]");
  EXPECT_EQ(tagged.disposition, Disposition::kDeliver);
  EXPECT_EQ(tagged.subject_prefix, "[SUSPICIOUS]");
  EXPECT_EQ(tagged.add_headers[0].value, "malicious; action=tag");

  MailVerdict rejected = VerdictFor(Outcome(service::Action::kReject, {Malware({})}), "");
  EXPECT_EQ(rejected.disposition, Disposition::kReject);
  EXPECT_EQ(rejected.reply_code, 550);
  EXPECT_EQ(rejected.enhanced_code, "5.7.1");
  EXPECT_NE(rejected.reply_text.find("malware (Eicar-Test-Signature)"), std::string::npos);

  // Quarantine without a sealed copy must not accept the message silently.
  MailVerdict unsealed = VerdictFor(Outcome(service::Action::kQuarantine, {Malware({})}), "");
  EXPECT_EQ(unsealed.disposition, Disposition::kReject);
  service::ContentScanOutcome sealed = Outcome(service::Action::kQuarantine, {Malware({})});
  sealed.quarantine_id = "q-1";
  EXPECT_EQ(VerdictFor(std::move(sealed), "").disposition, Disposition::kQuarantine);

  // Delete: the attachment holding the detection is stripped; in the body, discard.
  MailVerdict stripped =
      VerdictFor(Outcome(service::Action::kDelete, {Malware({"invoice.zip", "x.exe"})}), "");
  EXPECT_EQ(stripped.disposition, Disposition::kDeliver);
  EXPECT_EQ(stripped.strip_attachments, std::vector<std::string>{"invoice.zip"});
  MailVerdict discarded = VerdictFor(Outcome(service::Action::kDelete, {Malware({})}), "");
  EXPECT_EQ(discarded.disposition, Disposition::kDiscard);
}

TEST(AttachmentStripTest, ReplacesTheNamedAttachmentWithANoticeAndKeepsTheRest) {
  std::string zip = MakeArchive("zip", {{"eicar.com", Eicar()}});
  std::string mail = MakeMail("Invoice", "Please find the invoice attached.",
                              {{"invoice.zip", zip}, {"notes.txt", "harmless notes"}});
  Result<std::string> cleaned = StripAttachments(mail, {"invoice.zip"}, "removed (test)");
  ASSERT_TRUE(cleaned.ok()) << cleaned.status().ToString();
  EXPECT_NE(cleaned->find("invoice.zip.removed.txt"), std::string::npos);
  EXPECT_NE(cleaned->find("Please find the invoice attached."), std::string::npos);
  EXPECT_NE(cleaned->find("notes.txt"), std::string::npos);
  EXPECT_EQ(cleaned->find("filename=\"invoice.zip\""), std::string::npos);
  EXPECT_NE(cleaned->find("\r\n"), std::string::npos);  // line ends kept

  Result<std::string> missing = StripAttachments(mail, {"other.zip"}, "removed");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(RewriteMessageTest, CleanMessageIsByteIdenticalAfterTheAddedFields) {
  std::string mail = MakeMail("Hello", "Just text.", {});
  MailVerdict verdict = VerdictFor(Outcome(service::Action::kLog, {}), "[SUSPICIOUS]");
  std::vector<HeaderField> trace = {{"Received", "from a by b; date"}};
  std::string out = RewriteMessage(mail, trace, verdict);
  EXPECT_TRUE(out.starts_with("Received: from a by b; date\r\nX-Bulwark-Verdict: clean\r\n"));
  EXPECT_TRUE(out.ends_with(mail));
  EXPECT_EQ(out.size(), mail.size() + std::string("Received: from a by b; date\r\n"
                                                  "X-Bulwark-Verdict: clean\r\n")
                                          .size());
}

TEST(RewriteMessageTest, TagsTheSubjectOnceAndAddsOneWhenMissing) {
  MailVerdict verdict = VerdictFor(Outcome(service::Action::kTag, {Malware({})}), "[SUSPICIOUS]");
  std::string out = RewriteMessage("Subject: Invoice\r\nFrom: a@b\r\n\r\nbody\r\n", {}, verdict);
  EXPECT_NE(out.find("\r\nSubject: [SUSPICIOUS] Invoice\r\n"), std::string::npos) << out;
  std::string again = RewriteMessage("Subject: [SUSPICIOUS] Invoice\r\n\r\nb\r\n", {}, verdict);
  EXPECT_EQ(again.find("[SUSPICIOUS] [SUSPICIOUS]"), std::string::npos);
  std::string none = RewriteMessage("From: a@b\n\nbody\n", {}, verdict);
  EXPECT_NE(none.find("Subject: [SUSPICIOUS]\n"), std::string::npos) << none;
  EXPECT_EQ(none.find("\r\n"), std::string::npos);  // bare-LF message stays bare LF
}

// The scanner over a real site: tenant policy, events, quarantine.
class MailScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::ServiceHarness::Start({});
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    harness_ = std::move(started).value();
    auto acme = service::CreateTenant(harness_->site(), "test", "acme");
    ASSERT_TRUE(acme.ok()) << acme.status().ToString();
    acme_ = acme->id;
  }

  void SetPolicy(const std::string& json) {
    auto added = harness_->site().store().AddPolicyVersion(acme_, json, "test");
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }

  Envelope Mail() const {
    Envelope e;
    e.client_ip = "192.0.2.10";
    e.helo = "mail.example.com";
    e.mail_from = "alice@example.com";
    e.recipients = {"bob@example.org"};
    e.queue_id = "Q1";
    return e;
  }

  std::unique_ptr<testing::ServiceHarness> harness_;
  std::string acme_;
};

TEST_F(MailScannerTest, CleanMailIsDeliveredWithVerdictHeaderAndNoEvent) {
  MailScanner scanner(harness_->site(), {"mx.test", "[SUSPICIOUS]", "smtp"});
  std::string mail = MakeMail("Lunch", "See you at noon.", {});
  Envelope envelope = Mail();
  std::vector<HeaderField> trace = {scanner.ReceivedField(envelope)};
  EXPECT_TRUE(
      trace[0].value.starts_with("from mail.example.com (unknown [192.0.2.10]) by mx.test "
                                 "(Bulwark) with ESMTP id Q1 for <bob@example.org>; "))
      << trace[0].value;
  MailVerdict verdict = scanner.Scan(envelope, trace, mail, acme_);
  EXPECT_EQ(verdict.disposition, Disposition::kDeliver);
  EXPECT_FALSE(verdict.outcome.event_seq.has_value());
  std::string out = RewriteMessage(mail, trace, verdict);
  EXPECT_TRUE(out.ends_with(mail));
  EXPECT_NE(out.find("X-Bulwark-Verdict: clean"), std::string::npos);
}

TEST_F(MailScannerTest, MalwareAttachmentIsQuarantinedUnderTheDefaultPolicy) {
  MailScanner scanner(harness_->site(), {"mx.test", "[SUSPICIOUS]", "smtp"});
  std::string mail = MakeMail("Invoice", "Attached.",
                              {{"invoice.zip", MakeArchive("zip", {{"eicar.com", Eicar()}})}});
  MailVerdict verdict = scanner.Scan(Mail(), {}, mail, acme_);
  EXPECT_EQ(verdict.disposition, Disposition::kQuarantine);
  ASSERT_TRUE(verdict.outcome.quarantine_id.has_value());
  ASSERT_TRUE(verdict.outcome.event_seq.has_value());
  auto events = harness_->site().store().QueryEvents(acme_, {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().service, "smtp");
}

TEST_F(MailScannerTest, RejectAndDeletePoliciesRejectOrStripTheAttachment) {
  std::string mail = MakeMail("Invoice", "Attached.",
                              {{"invoice.zip", MakeArchive("zip", {{"eicar.com", Eicar()}})}});
  SetPolicy(R"({"rules": [{"name": "no malware", "protection": "malware", "action": "reject"}]})");
  MailScanner scanner(harness_->site(), {"mx.test", "[SUSPICIOUS]", "smtp"});
  MailVerdict rejected = scanner.Scan(Mail(), {}, mail, acme_);
  EXPECT_EQ(rejected.disposition, Disposition::kReject);
  EXPECT_NE(rejected.reply_text.find(": malware (Bulwark"), std::string::npos)
      << rejected.reply_text;

  SetPolicy(R"({"rules": [{"name": "strip", "protection": "malware", "action": "delete"}]})");
  MailVerdict stripped = scanner.Scan(Mail(), {}, mail, acme_);
  ASSERT_EQ(stripped.disposition, Disposition::kDeliver);
  std::string out = RewriteMessage(mail, {}, stripped);
  EXPECT_NE(out.find("invoice.zip.removed.txt"), std::string::npos);
  EXPECT_EQ(out.find(testing::Eicar()), std::string::npos);
  EXPECT_NE(out.find("Attached."), std::string::npos);
}

TEST_F(MailScannerTest, ImpersonationOfTheTenantsPeopleIsTaggedUnderTheDefaultRules) {
  SetPolicy(R"({"rules": [{"name": "bec", "protection": "impersonation", "action": "tag"}],
               "impersonation": {"people": [{"name": "Jane Doe", "addresses": ["jane@acme-corp.com"]}],
                                 "domains": ["acme-corp.com"]}})");
  MailScanner scanner(harness_->site(), {"mx.test", "[SUSPICIOUS]", "smtp"});
  std::string bec =
      "From: \"Jane Doe\" <jane.doe.ceo@mailbox-service.com>\r\nTo: ap@acme-corp.com\r\n"
      "Subject: Wire today\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\n"
      "Please send the payment before noon.\r\n";
  MailVerdict verdict = scanner.Scan(Mail(), {}, bec, acme_);
  EXPECT_EQ(verdict.disposition, Disposition::kDeliver);
  EXPECT_EQ(verdict.subject_prefix, "[SUSPICIOUS]");
  ASSERT_TRUE(verdict.outcome.event_seq.has_value());
  bool found = false;
  for (const auto& f : verdict.outcome.report.findings) {
    found = found || f.name == "Impersonation.DisplayName";
  }
  EXPECT_TRUE(found);
  std::string lookalike =
      "From: Billing <billing@acme-c0rp.com>\r\nTo: ap@acme-corp.com\r\n"
      "Subject: Invoice\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nAttached.\r\n";
  // A lookalike of a protected domain is reported too (no Reply-To needed).
  MailVerdict second = scanner.Scan(Mail(), {}, lookalike, acme_);
  bool lookalike_found = false;
  for (const auto& f : second.outcome.report.findings) {
    lookalike_found =
        lookalike_found || (f.name == "Impersonation.LookalikeDomain" &&
                            f.detail.find("imitates acme-corp.com") != std::string::npos);
  }
  EXPECT_TRUE(lookalike_found);
  // Mail from Jane's real address is not impersonation.
  std::string real =
      "From: \"Jane Doe\" <jane@acme-corp.com>\r\nTo: ap@acme-corp.com\r\n"
      "Subject: Lunch\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nNoon?\r\n";
  EXPECT_FALSE(scanner.Scan(Mail(), {}, real, acme_).outcome.detection());
}

TEST_F(MailScannerTest, ImpersonationCountsTowardsThePhishingScore) {
  const std::string rules =
      R"("rules": [{"name": "bec", "protection": "impersonation", "action": "tag"},
                  {"name": "phish", "protection": "phishing", "action": "quarantine"}])";
  SetPolicy("{" + rules + R"(, "impersonation": {"people": [{"name": "Jane Doe",
              "addresses": ["jane@acme-corp.com"]}], "domains": ["acme-corp.com"]}})");
  MailScanner scanner(harness_->site(), {"mx.test", "[SUSPICIOUS]", "smtp"});
  auto phishing_detail = [](const MailVerdict& verdict) -> std::string {
    for (const auto& f : verdict.outcome.report.findings) {
      if (f.name == "Phishing.Score") return f.detail;
    }
    return "";
  };
  // From a free mailbox under the CEO's name: impersonation (+2) and a free mailbox (+1)
  // make it phishing, which the policy quarantines.
  const std::string bec =
      "From: \"Jane Doe\" <jane.doe.ceo@gmail.com>\r\nTo: ap@acme-corp.com\r\n"
      "Subject: Quick favour\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
      "Message-ID: <1@gmail.com>\r\n\r\nCan you handle something for me?\r\n";
  MailVerdict verdict = scanner.Scan(Mail(), {}, bec, acme_);
  const std::string detail = phishing_detail(verdict);
  EXPECT_NE(detail.find("impersonation +2 (Impersonation.DisplayName)"), std::string::npos)
      << detail;
  EXPECT_NE(detail.find("freemail_sender"), std::string::npos) << detail;
  EXPECT_EQ(verdict.disposition, Disposition::kQuarantine);
  // The same message for a tenant without protected people is no impersonation, and a free
  // mailbox alone is not phishing.
  SetPolicy("{" + rules + "}");
  MailVerdict plain = scanner.Scan(Mail(), {}, bec, acme_);
  EXPECT_EQ(phishing_detail(plain), "");
  EXPECT_FALSE(plain.outcome.detection());
}

TEST_F(MailScannerTest, LinksToALookalikeOfTheTenantsDomainArePhishing) {
  SetPolicy(R"({"rules": [{"name": "phish", "protection": "phishing", "action": "quarantine"}],
               "impersonation": {"domains": ["acme-corp.com"]}})");
  MailScanner scanner(harness_->site(), {"mx.test", "[SUSPICIOUS]", "smtp"});
  const std::string mail =
      "From: IT Service Desk <it@service-desk.example.net>\r\nTo: ap@acme-corp.com\r\n"
      "Subject: Mailbox quota\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
      "Message-ID: <q1@service-desk.example.net>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/html; charset=utf-8\r\n\r\n"
      "<p>Sign in to keep your mailbox: <a href=\"https://login.acme-c0rp.com/owa?t=abc123\">"
      "Sign in</a></p>\r\n";
  MailVerdict verdict = scanner.Scan(Mail(), {}, mail, acme_);
  std::string lookalike, phishing;
  for (const auto& f : verdict.outcome.report.findings) {
    if (f.name == "Url.LookalikeDomain") lookalike = f.detail;
    if (f.name == "Phishing.Score") phishing = f.detail;
  }
  EXPECT_EQ(lookalike, "a link to login.acme-c0rp.com, which imitates acme-corp.com (typo)");
  EXPECT_NE(phishing.find("lookalike_link +3"), std::string::npos) << phishing;
  EXPECT_EQ(verdict.disposition, Disposition::kQuarantine);
  // The event names hosts only: the link's one-time token is nowhere.
  auto events = harness_->site().store().QueryEvents(acme_, {});
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->back().findings_json.find("abc123"), std::string::npos);
  EXPECT_EQ(events->front().findings_json.find("abc123"), std::string::npos);
}

TEST_F(MailScannerTest, AFirstSeenExternalSenderAddsToTheImpersonationScore) {
  SetPolicy(R"({"rules": [{"name": "bec", "protection": "impersonation", "action": "tag"}],
               "impersonation": {"people": [{"name": "Jane Doe", "addresses": ["jane@acme-corp.com"]}],
                                 "domains": ["acme-corp.com"]}})");
  MailScanner scanner(harness_->site(), {"mx.test", "[SUSPICIOUS]", "smtp"});
  const std::string bec =
      "From: \"Jane Doe\" <jane.doe.ceo@mailbox-service.com>\r\nTo: ap@acme-corp.com\r\n"
      "Subject: Hello\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nAre you at your desk?\r\n";
  auto detail_of = [&](const std::string& mail_from) {
    Envelope envelope = Mail();
    envelope.mail_from = mail_from;
    MailVerdict verdict = scanner.Scan(envelope, {}, bec, acme_);
    for (const auto& f : verdict.outcome.report.findings) {
      if (f.name == "Impersonation.DisplayName") return f.detail;
    }
    return std::string("(no finding)");
  };
  // The tenant's history has just begun: "never seen" means nothing yet.
  EXPECT_EQ(detail_of("ceo@mailbox-service.com").find("first_seen_sender"), std::string::npos);
  // Two weeks of history later, a sender never seen before is supporting evidence …
  ASSERT_TRUE(harness_
                  ->TamperDatabase("UPDATE sender_history SET first_seen = first_seen - "
                                   "15 * 86400 WHERE sender_hash = ''")
                  .ok());
  std::string first = detail_of("new.person@mailbox-service.com");
  EXPECT_NE(first.find("first_seen_sender +1 (the sender has not written to the tenant before)"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("score 5:"), std::string::npos) << first;  // 3 + urgency 1 + first seen 1
  // … once: the second message from them is not a first.
  EXPECT_EQ(detail_of("new.person@mailbox-service.com").find("first_seen_sender"),
            std::string::npos);
  EXPECT_EQ(detail_of("ceo@mailbox-service.com").find("first_seen_sender"), std::string::npos);
  // The history holds hashes, never addresses.
  auto rows = harness_->site().database().Acquire(storage::Scope::Site());
  ASSERT_TRUE(rows.ok());
  auto all = (*rows)->Query("SELECT sender_hash FROM sender_history");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows.size(), 3u);  // the marker and two senders
  for (const auto& row : all->rows) {
    EXPECT_EQ(row.Text(0).find('@'), std::string::npos);
  }
}

TEST_F(MailScannerTest, WithoutATenantNothingIsRecorded) {
  MailScanner scanner(harness_->site(), {"mx.test", "[SUSPICIOUS]", "milter"});
  std::string mail = MakeMail("Invoice", "Attached.", {{"eicar.com", Eicar()}});
  MailVerdict verdict = scanner.Scan(Mail(), {}, mail, "");
  EXPECT_TRUE(verdict.outcome.detection());
  EXPECT_FALSE(verdict.outcome.event_seq.has_value());
  EXPECT_FALSE(verdict.outcome.quarantine_id.has_value());
}

}  // namespace
}  // namespace bulwark::mail

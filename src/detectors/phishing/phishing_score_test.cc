#include "detectors/phishing/phishing_score.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace bulwark::phishing {
namespace {

bool HasReason(const Assessment& a, std::string_view signal) {
  return std::any_of(a.reasons.begin(), a.reasons.end(),
                     [&](const Reason& r) { return r.signal == signal; });
}

std::string Mail(const std::string& headers, const std::string& body) {
  return headers + "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body;
}

TEST(PhishingScoreTest, BrandLureFromAForeignDomainScoresAboveTheThreshold) {
  PhishingScorer scorer;
  std::string mail = Mail(
      "From: \"PayPal Service\" <service@account-check.example.xyz>\r\n"
      "Reply-To: <claims@other-mailbox.example.net>\r\n"
      "To: Undisclosed recipients:;\r\n"
      "Subject: Re: Your account is suspended - verify today\r\n",
      "<p>We noticed unusual activity. Your account will be suspended within 24 hours.</p>"
      "<p><a href=\"https://paypal-login.example.web.app/verify\">Verify your account</a></p>");
  Assessment a = scorer.Score(mail, {}, {});
  EXPECT_TRUE(HasReason(a, "brand_impersonation"));
  EXPECT_TRUE(HasReason(a, "reply_to_other_domain"));
  EXPECT_TRUE(HasReason(a, "fake_reply"));
  EXPECT_TRUE(HasReason(a, "undisclosed_recipients"));
  EXPECT_TRUE(HasReason(a, "free_hosting_link"));
  EXPECT_TRUE(a.phishing()) << ToFinding(a).detail;
  engine::Finding f = ToFinding(a);
  EXPECT_EQ(f.name, "Phishing.Score");
  EXPECT_EQ(f.category, engine::Category::kSuspicious);
  EXPECT_NE(f.detail.find("brand_impersonation +3 (sender named paypal; sender domain "
                          "account-check.example.xyz)"),
            std::string::npos)
      << f.detail;
  // Evidence names domains and signals, never the body's words.
  EXPECT_EQ(f.detail.find("unusual activity"), std::string::npos);
}

TEST(PhishingScoreTest, GenuineBrandMailAndAPlainReplyStayBelowTheThreshold) {
  PhishingScorer scorer;
  std::string reset = Mail(
      "From: PayPal <service@paypal.com>\r\nTo: Bob <bob@example.org>\r\n"
      "Subject: Your password was changed\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n",
      "<p>Your password was changed. If this was not you, "
      "<a href=\"https://www.paypal.com/security\">visit the security centre</a>.</p>");
  Assessment genuine = scorer.Score(reset, {}, {});
  EXPECT_FALSE(HasReason(genuine, "brand_impersonation"));
  EXPECT_FALSE(genuine.phishing()) << ToFinding(genuine).detail;

  std::string reply =
      "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\n"
      "Subject: Re: lunch\r\nIn-Reply-To: <1@example.org>\r\n"
      "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nNoon is fine.\r\n";
  Assessment plain = scorer.Score(reply, {}, {});
  EXPECT_FALSE(HasReason(plain, "fake_reply"));
  EXPECT_EQ(plain.score, 0) << ToFinding(plain).detail;
}

// The word lists: a lure's vocabulary is one signal, an unsubscribe offer without the
// List-Unsubscribe field another; neither is read into the other's words.
TEST(PhishingScoreTest, LureVocabularyAndUnsubscribeTextAreTwoSignals) {
  PhishingScorer scorer;
  const std::string headers =
      "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: hello\r\n"
      "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n";
  // Words of every lexicon kind, many words each, and no unsubscribe text.
  Assessment lure = scorer.Score(
      Mail(headers,
           "<p>Verify your account, your password expired; unusual activity. Urgent: act "
           "immediately, within 24 hours. You won a reward, claim your prize. Wire transfer, "
           "payment, invoice, bank details. Your package delivery failed.</p>"),
      {}, {});
  EXPECT_TRUE(HasReason(lure, "lure_vocabulary")) << ToFinding(lure).detail;
  EXPECT_FALSE(HasReason(lure, "unsubscribe_without_header")) << ToFinding(lure).detail;

  Assessment newsletter =
      scorer.Score(Mail(headers, "<p>Our news. To unsubscribe, reply STOP.</p>"), {}, {});
  EXPECT_TRUE(HasReason(newsletter, "unsubscribe_without_header"));
  EXPECT_FALSE(HasReason(newsletter, "lure_vocabulary"));
}

engine::Finding Named(std::string name, engine::Category category = engine::Category::kSuspicious,
                      std::vector<std::string> path = {}) {
  engine::Finding f;
  f.name = std::move(name);
  f.category = category;
  f.path = content::ObjectPath(std::move(path));
  return f;
}

TEST(PhishingScoreTest, HeaderAnomaliesAndOtherDetectorsFindingsCount) {
  PhishingScorer scorer;
  std::string mail =
      "From: \"Billing\" <billing@corp>, \"Support Team\" <x@gmail.com>\r\n"
      "To: bob@example.org\r\nSubject: bob@example.org, your invoice \xF0\x9F\x93\xA6\r\n"
      "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nSee attached.\r\n";
  std::vector<engine::Finding> findings = {Named("SenderAuth.DmarcFail"),
                                           Named("SenderAuth.DmarcFail")};
  std::vector<std::string> urls = {"http://192.0.2.7/login", "http://198.51.100.1/"};
  Assessment a = scorer.Score(mail, findings, urls);
  EXPECT_TRUE(HasReason(a, "several_senders"));
  EXPECT_TRUE(HasReason(a, "invalid_sender_domain"));
  EXPECT_TRUE(HasReason(a, "recipient_address_in_subject"));
  EXPECT_TRUE(HasReason(a, "emoji_subject"));
  EXPECT_TRUE(HasReason(a, "ip_address_url"));  // a URL of the text, not a link
  EXPECT_FALSE(HasReason(a, "ip_address_link"));
  EXPECT_TRUE(HasReason(a, "dmarc_fail"));
  // A signal seen twice counts once.
  EXPECT_EQ(std::count_if(a.reasons.begin(), a.reasons.end(),
                          [](const Reason& r) { return r.signal == "dmarc_fail"; }),
            1);
  EXPECT_EQ(std::count_if(a.reasons.begin(), a.reasons.end(),
                          [](const Reason& r) { return r.signal == "ip_address_url"; }),
            1);
}

// An unremarkable message: below the threshold on its own.
const std::string kMildLure = Mail(
    "From: Dana Smith <dana@example-payments.com>\r\nTo: Bob <bob@example.org>\r\n"
    "Subject: Notes from Tuesday\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <4471@example-payments.com>\r\n",
    "<p>Here are my notes.</p>");

TEST(PhishingScoreTest, SenderAuthenticationUrlAndImpersonationFindingsTipTheScore) {
  PhishingScorer scorer;
  Assessment alone = scorer.Score(kMildLure, {}, {});
  EXPECT_FALSE(alone.phishing()) << ToFinding(alone).detail;

  struct Case {
    std::vector<engine::Finding> findings;
    const char* signal;
  };
  const Case cases[] = {
      {{Named("SenderAuth.DmarcFail"), Named("SenderAuth.SpfFail")}, "dmarc_fail"},
      {{Named("Url.Blocklisted")}, "blocklisted_link"},
      {{Named("BlockList.url", engine::Category::kMalware)}, "blocklisted_link"},
      {{Named("Impersonation.DisplayName"), Named("SenderAuth.SpfFail")}, "impersonation"},
      {{Named("Url.CredentialForm", engine::Category::kSuspicious, {"invoice.html"})},
       "credential_form"},
      {{Named("FileName.DoubleExtension", engine::Category::kSuspicious, {"invoice.pdf.exe"}),
        Named("ActiveContent.HTML.Script", engine::Category::kSuspicious, {"invoice.html"})},
       "disguised_attachment"},
  };
  for (const Case& c : cases) {
    Assessment a = scorer.Score(kMildLure, c.findings, {});
    EXPECT_TRUE(HasReason(a, c.signal)) << c.signal << ": " << ToFinding(a).detail;
    EXPECT_TRUE(a.phishing()) << c.signal << ": " << ToFinding(a).detail;
    EXPECT_GT(a.score, alone.score);
  }
}

TEST(PhishingScoreTest, WhatATrustedArcSealerVouchesForDoesNotCount) {
  PhishingScorer scorer;
  std::vector<engine::Finding> forwarded = {Named("SenderAuth.SpfFail"),
                                            Named("SenderAuth.DkimInvalid")};
  Assessment plain = scorer.Score(kMildLure, forwarded, {});
  EXPECT_TRUE(HasReason(plain, "spf_fail"));
  EXPECT_TRUE(HasReason(plain, "dkim_invalid"));
  EXPECT_FALSE(plain.phishing()) << ToFinding(plain).detail;  // forwarding alone is no phishing
  forwarded.push_back(Named("SenderAuth.ArcOverride"));
  Assessment vouched = scorer.Score(kMildLure, forwarded, {});
  EXPECT_FALSE(HasReason(vouched, "spf_fail"));
  EXPECT_FALSE(HasReason(vouched, "dkim_invalid"));
  EXPECT_LT(vouched.score, plain.score);
}

TEST(PhishingScoreTest, ImpersonationAloneIsNotPhishing) {
  PhishingScorer scorer;
  Assessment a = scorer.Score(kMildLure, std::vector{Named("Impersonation.DisplayName")}, {});
  EXPECT_TRUE(HasReason(a, "impersonation"));
  EXPECT_FALSE(a.phishing()) << ToFinding(a).detail;
}

TEST(PhishingScoreTest, ScriptCountsOnlyWhereTheScanCallsItSuspicious) {
  PhishingScorer scorer;
  // Script in an HTML body is policy (newsletters carry it), in an attachment suspicious.
  Assessment body = scorer.Score(
      kMildLure,
      std::vector{Named("ActiveContent.HTML.Script", engine::Category::kPolicy, {"part-1"})}, {});
  EXPECT_FALSE(HasReason(body, "scripted_attachment"));
  Assessment attached = scorer.Score(
      kMildLure,
      std::vector{Named("ActiveContent.HTML.Script", engine::Category::kSuspicious, {"scan.html"})},
      {});
  EXPECT_TRUE(HasReason(attached, "scripted_attachment"));
  EXPECT_NE(ToFinding(attached).detail.find("scan.html"), std::string::npos);
}

TEST(PhishingScoreTest, LinkTextMismatchAloneDoesNotCount) {
  PhishingScorer scorer;
  Assessment a = scorer.Score(kMildLure, std::vector{Named("Url.DisplayMismatch")}, {});
  EXPECT_EQ(a.score, scorer.Score(kMildLure, {}, {}).score);
}

TEST(PhishingScoreTest, MalformedInputScoresWithoutCrashing) {
  PhishingScorer scorer;
  for (std::string input : {std::string(), std::string("\0\0\xff", 3), std::string(100000, 'A'),
                            std::string("From: <@>\r\n\r\n<a href=\"http://[::1\">x</a>")}) {
    Assessment a = scorer.Score(input, {}, {});
    EXPECT_GE(a.score, 0);
  }
}

}  // namespace
}  // namespace bulwark::phishing

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

TEST(PhishingScoreTest, HeaderAnomaliesAndOtherDetectorsFindingsCount) {
  PhishingScorer scorer;
  std::string mail =
      "From: \"Billing\" <billing@corp>, \"Support Team\" <x@gmail.com>\r\n"
      "To: bob@example.org\r\nSubject: bob@example.org, your invoice \xF0\x9F\x93\xA6\r\n"
      "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nSee attached.\r\n";
  engine::Finding ip;
  ip.name = "Url.IpLiteralHost";
  engine::Finding dmarc;
  dmarc.name = "SenderAuth.DmarcFail";
  std::vector<engine::Finding> findings = {ip, dmarc, ip};
  Assessment a = scorer.Score(mail, findings, {});
  EXPECT_TRUE(HasReason(a, "several_senders"));
  EXPECT_TRUE(HasReason(a, "invalid_sender_domain"));
  EXPECT_TRUE(HasReason(a, "recipient_address_in_subject"));
  EXPECT_TRUE(HasReason(a, "emoji_subject"));
  EXPECT_TRUE(HasReason(a, "ip_address_link"));
  EXPECT_TRUE(HasReason(a, "dmarc_fail"));
  // A finding seen twice counts once.
  EXPECT_EQ(std::count_if(a.reasons.begin(), a.reasons.end(),
                          [](const Reason& r) { return r.signal == "ip_address_link"; }),
            1);
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

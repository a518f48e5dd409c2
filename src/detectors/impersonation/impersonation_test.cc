#include "detectors/impersonation/impersonation.h"

#include <gtest/gtest.h>

namespace bulwark::impersonation {
namespace {

ProtectedIdentities Acme() {
  ProtectedIdentities ids;
  ids.people.push_back({"Jane Doe", {"jane.doe@acme-corp.com", "jane@gmail.com"}});
  ids.people.push_back({"Ángel Ruiz", {"angel@acme-corp.com"}});
  ids.domains = {"acme-corp.com", "paymaster.com"};
  return ids;
}

std::string Mail(const std::string& from, const std::string& extra = "") {
  return "From: " + from + "\r\nTo: ap@acme-corp.com\r\n" + extra +
         "Subject: Urgent wire\r\n\r\nPlease pay the attached invoice today.\r\n";
}

bool Has(const std::vector<engine::Finding>& findings, std::string_view name,
         std::string_view detail_part = "") {
  for (const auto& f : findings) {
    if (f.name == name && f.detail.find(detail_part) != std::string::npos) return true;
  }
  return false;
}

TEST(ImpersonationTest, DisplayNameOfAProtectedPersonFromAnotherAddress) {
  auto findings = CheckImpersonation(Mail("\"Jane Doe\" <ceo.office@freemail.example>"), Acme());
  ASSERT_TRUE(Has(findings, "Impersonation.DisplayName", "Jane Doe"));
  EXPECT_EQ(findings.front().severity, engine::Severity::kHigh);
  EXPECT_EQ(findings.front().detector, "impersonation");
  // Order, case, punctuation, accents and extra words do not hide the name.
  EXPECT_TRUE(Has(CheckImpersonation(Mail("\"DOE, Jane (CEO)\" <x@evil.example>"), Acme()),
                  "Impersonation.DisplayName"));
  EXPECT_TRUE(Has(CheckImpersonation(Mail("Angel RUIZ <x@evil.example>"), Acme()),
                  "Impersonation.DisplayName", "Ángel Ruiz"));
}

TEST(ImpersonationTest, SupportingEvidenceIsScoredAndListedWithTheTrigger) {
  auto findings = CheckImpersonation(
      Mail("\"Jane Doe\" <jane.doe@ceo-mail.example>", "Reply-To: <jd@other-mailbox.example>\r\n"),
      Acme());
  ASSERT_TRUE(Has(findings, "Impersonation.DisplayName"));
  const std::string& detail = findings.front().detail;
  EXPECT_NE(detail.find("score 6.5: display_name +3"), std::string::npos) << detail;
  EXPECT_NE(detail.find("reply_to_other_domain +1.5 (replies go to other-mailbox.example)"),
            std::string::npos)
      << detail;
  EXPECT_NE(detail.find("payment_language +1 (invoice)"), std::string::npos) << detail;
  EXPECT_NE(detail.find("urgency_language +1 (urgent, today)"), std::string::npos) << detail;
  // A first-seen external sender is one more supporting reason …
  auto first_seen = CheckImpersonation(Mail("\"Jane Doe\" <jane.doe@ceo-mail.example>"), Acme(),
                                       SenderContext{.first_seen = true});
  ASSERT_TRUE(Has(first_seen, "Impersonation.DisplayName"));
  EXPECT_NE(first_seen.front().detail.find(
                "first_seen_sender +1 (the sender has not written to the tenant before)"),
            std::string::npos)
      << first_seen.front().detail;
  EXPECT_NE(first_seen.front().detail.find("score 6:"), std::string::npos);
  // … and alone no impersonation.
  EXPECT_TRUE(CheckImpersonation(Mail("Billing <billing@vendor.example>"), Acme(),
                                 SenderContext{.first_seen = true})
                  .empty());
  // Payment and urgency words alone are no impersonation.
  EXPECT_TRUE(CheckImpersonation(Mail("Billing <billing@vendor.example>"), Acme()).empty());
}

TEST(ImpersonationTest, ThePersonsOwnAddressesAndTheTenantsDomainsAreNotImpersonation) {
  EXPECT_TRUE(CheckImpersonation(Mail("Jane Doe <jane.doe@acme-corp.com>"), Acme()).empty());
  EXPECT_TRUE(CheckImpersonation(Mail("Jane Doe <jane@gmail.com>"), Acme()).empty());
  EXPECT_TRUE(CheckImpersonation(Mail("Jane Doe <assistant@mail.acme-corp.com>"), Acme()).empty());
  EXPECT_TRUE(CheckImpersonation(Mail("Jane Smith <js@evil.example>"), Acme()).empty());
  EXPECT_TRUE(CheckImpersonation(Mail("Jane Doe <x@evil.example>"), ProtectedIdentities{}).empty());
}

TEST(ImpersonationTest, LookalikeDomainsOfTheSenderAndReplyTo) {
  EXPECT_TRUE(Has(CheckImpersonation(Mail("Billing <b@acme-c0rp.com>"), Acme()),
                  "Impersonation.LookalikeDomain", "acme-c0rp.com imitates acme-corp.com"));
  EXPECT_TRUE(
      Has(CheckImpersonation(Mail("Billing <b@paymaster.com>", "Reply-To: <ap@paymastre.com>\r\n"),
                             Acme()),
          "Impersonation.LookalikeDomain", "reply-to domain paymastre.com"));
}

TEST(ImpersonationTest, LinksToLookalikesOfProtectedDomains) {
  const std::vector<std::string> urls = {
      "https://login.acme-c0rp.com/sso?token=secret-one-time-value",
      "https://www.acme-corp.com/help",     // the real one
      "https://sub.login.acme-c0rp.com/x",  // the same lookalike again: counted once
      "https://xn--pymaster-16g.com/pay",   // Cyrillic а
      "http://192.0.2.7/acme-corp.com",     // no host to compare
      "https://example.org/acme-corp"};
  std::optional<engine::Finding> f = CheckLinks(urls, Acme());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->name, "Url.LookalikeDomain");
  EXPECT_EQ(f->detector, "urls");
  EXPECT_EQ(f->category, engine::Category::kSuspicious);
  EXPECT_EQ(f->detail,
            "2 link domains: login.acme-c0rp.com, which imitates acme-corp.com (typo); "
            "p\xD0\xB0ymaster.com, which imitates paymaster.com (homoglyph)")
      << f->detail;
  // Hosts only: never a path or query (one-time tokens).
  EXPECT_EQ(f->detail.find("token"), std::string::npos);

  // Near misses: the tenant's own domains and subdomains, unrelated domains, no domains.
  const std::vector<std::string> clean = {"https://mail.acme-corp.com/", "https://paymaster.com/",
                                          "https://example.com/", "https://acme.org/"};
  EXPECT_FALSE(CheckLinks(clean, Acme()).has_value());
  EXPECT_FALSE(CheckLinks(urls, ProtectedIdentities{}).has_value());
}

TEST(ImpersonationTest, LookalikeReasons) {
  EXPECT_EQ(LookalikeReason("paymaster.com", "paymaster.com"), std::nullopt);
  EXPECT_EQ(LookalikeReason("paymaster.co", "paymaster.com"), "other TLD");
  EXPECT_EQ(LookalikeReason("payrnaster.com", "paymaster.com"), "homoglyph");  // rn → m
  EXPECT_EQ(LookalikeReason("paymaste1.com", "paymaster.com"), "typo");
  EXPECT_EQ(LookalikeReason("xn--pymaster-16g.com", "paymaster.com"), "homoglyph");  // Cyrillic а
  EXPECT_EQ(LookalikeReason("paymaster-secure.com", "paymaster.com"), "name with a word added");
  EXPECT_EQ(LookalikeReason("paymastre.com", "paymaster.com"), "typo");  // transposition
  EXPECT_EQ(LookalikeReason("example.com", "paymaster.com"), std::nullopt);
  EXPECT_EQ(LookalikeReason("ibm.org", "hp.com"), std::nullopt);  // short names: no guessing
}

TEST(ImpersonationTest, NameKeyFoldsCaseAccentsPunctuationAndOrder) {
  EXPECT_EQ(NameKey("Doe, Jane"), "doe jane");
  EXPECT_EQ(NameKey("JANE   DOE"), "doe jane");
  EXPECT_EQ(NameKey("Ángel Ruíz"), "angel ruiz");
  EXPECT_EQ(NameKey(""), "");
}

}  // namespace
}  // namespace bulwark::impersonation

#include "detectors/senderauth/auth_headers.h"

#include <gtest/gtest.h>

namespace bulwark::senderauth {
namespace {

TEST(AuthHeadersTest, ParsesFoldedFieldsUpToTheBody) {
  const auto fields = ParseHeaderFields(
      "Received: from a\r\n\tby b; date\r\nFrom: x@y.example\nSubject: s\r\n\r\nNot: a header\r\n");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "Received");
  EXPECT_EQ(fields[0].value, "from a\tby b; date");
  EXPECT_EQ(fields[1].value, "x@y.example");
  EXPECT_TRUE(ParseHeaderFields("no header here\r\n").empty());
}

TEST(AuthHeadersTest, AddressDomain) {
  EXPECT_EQ(AddressDomain("\"Alice, CFO\" <Alice@Example.COM>"), "example.com");
  EXPECT_EQ(AddressDomain("alice@example.com (Alice)"), "example.com");
  EXPECT_EQ(AddressDomain("Alice <alice@mail.example.co.uk.>"), "mail.example.co.uk");
  EXPECT_EQ(AddressDomain("a@example.com, b@example.org"), "");  // several mailboxes
  EXPECT_EQ(AddressDomain("undisclosed-recipients:;"), "");
  EXPECT_EQ(AddressDomain("<>"), "");
  EXPECT_EQ(AddressOf("<bounce@Example.com>"), "bounce@example.com");
  EXPECT_EQ(AddressOf("<>"), "");
}

TEST(AuthHeadersTest, ReceivedFromPostfixEximGoogleMicrosoft) {
  auto postfix = ParseReceived(
      "from mail.example.net (mail.example.net [192.0.2.1]) by mx.example.org (Postfix) with "
      "ESMTPS id 4Q; Mon, 2 Mar 2026 10:00:00 +0000");
  ASSERT_TRUE(postfix);
  EXPECT_EQ(postfix->helo, "mail.example.net");
  EXPECT_EQ(postfix->ip, "192.0.2.1");
  EXPECT_EQ(postfix->by, "mx.example.org");
  auto exim =
      ParseReceived("from [192.0.2.5] (helo=laptop.example.net) by mx.example.org with esmtp");
  ASSERT_TRUE(exim);
  EXPECT_EQ(exim->helo, "laptop.example.net");
  EXPECT_EQ(exim->ip, "192.0.2.5");
  auto google = ParseReceived(
      "from mail-sor-f41.google.com (mail-sor-f41.google.com. [2607:F8B0:4864:20::0041]) by "
      "mx.google.com with SMTPS id x; Mon, 2 Mar 2026");
  ASSERT_TRUE(google);
  EXPECT_EQ(google->ip, "2607:f8b0:4864:20::41");
  auto ipv6_literal = ParseReceived("from x.example ([IPv6:2001:db8::5]) by y.example");
  ASSERT_TRUE(ipv6_literal);
  EXPECT_EQ(ipv6_literal->ip, "2001:db8::5");
  EXPECT_FALSE(ParseReceived("by mx.example.org with LMTP id 1"));              // no from clause
  EXPECT_FALSE(ParseReceived("from localhost by mx.example.org (8.15/8.15)"));  // no address
  EXPECT_FALSE(ParseReceived("from x ([999.1.1.1]) by y"));
}

TEST(AuthHeadersTest, AuthenticationResultsParse) {
  auto ar = ParseAuthenticationResults(
      "MX.Google.com; dkim=pass header.i=@example.com header.s=s1 header.b=\"AbC+/=\";\r\n"
      "\tspf=pass (google.com: domain of b@example.com designates 192.0.2.1 as permitted "
      "sender) smtp.mailfrom=b@example.com;\r\n\tdmarc=pass (p=REJECT sp=REJECT dis=NONE) "
      "header.from=example.com; arc/1=none reason=\"no; chain\"");
  ASSERT_TRUE(ar);
  EXPECT_EQ(ar->authserv_id, "mx.google.com");
  ASSERT_EQ(ar->results.size(), 4u);
  EXPECT_EQ(ar->results[0].method, "dkim");
  EXPECT_EQ(ar->results[0].Property("header", "b"), "AbC+/=");
  EXPECT_EQ(ar->results[1].method, "spf");
  EXPECT_EQ(ar->results[1].Property("smtp", "mailfrom"), "b@example.com");
  EXPECT_EQ(ar->results[2].Property("header", "from"), "example.com");
  EXPECT_EQ(ar->results[3].method, "arc");
  EXPECT_EQ(ar->results[3].reason, "no; chain");
  auto none = ParseAuthenticationResults("mx.example.org 1; none");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->results.empty());
  EXPECT_FALSE(ParseAuthenticationResults(" ; spf=pass"));
}

TEST(AuthHeadersTest, RenderQuotesWhatIsNotATokenAndRoundTrips) {
  AuthResults ar;
  ar.authserv_id = "mx.example.org";
  ar.results.push_back(
      {"dkim", "fail", "body hash did not verify", {{"header", "d", "example.com"}}});
  ar.results.push_back({"spf", "pass", "", {{"smtp", "mailfrom", "a b\"c@example.com"}}});
  const std::string text = RenderAuthenticationResults(ar);
  EXPECT_EQ(text,
            "mx.example.org;\r\n\tdkim=fail reason=\"body hash did not verify\" "
            "header.d=example.com;\r\n\tspf=pass smtp.mailfrom=\"a b\\\"c@example.com\"");
  auto back = ParseAuthenticationResults(text);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->results.size(), 2u);
  EXPECT_EQ(back->results[0].reason, "body hash did not verify");
  EXPECT_EQ(back->results[1].Property("smtp", "mailfrom"), "a b\"c@example.com");
  EXPECT_EQ(RenderAuthenticationResults(AuthResults{"mx.example.org", {}}), "mx.example.org; none");
}

}  // namespace
}  // namespace bulwark::senderauth

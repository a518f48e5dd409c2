#include "detectors/urls/url_extract.h"

#include <gtest/gtest.h>

#include <chrono>

namespace bulwark::urls {
namespace {

std::vector<std::string> Raw(const Extraction& e) {
  std::vector<std::string> out;
  for (const auto& url : e.urls) out.push_back(url.raw);
  return out;
}

TEST(UrlExtractTest, FindsUrlsInPlainTextAndTrimsSentencePunctuation) {
  Extraction e;
  ExtractFromText(
      "See https://example.com/a?b=1, or (http://example.org/x_(y)) and www.example.net.\n"
      "FTP://files.example.com/pub; not xhttp://no.example nor foo.www.no.example "
      "\xE2\x80\x9Chttps://quoted.example/\xE2\x80\x9D <https://angle.example/p>",
      e);
  EXPECT_EQ(Raw(e), (std::vector<std::string>{
                        "https://example.com/a?b=1", "http://example.org/x_(y)",
                        "www.example.net", "FTP://files.example.com/pub",
                        "https://quoted.example/", "https://angle.example/p"}));
  EXPECT_FALSE(e.truncated);
}

TEST(UrlExtractTest, UrlsCloseToOtherColonsAndDotsAreAllFound) {
  // The text scan jumps between ':' and '.' bytes; URLs right after one, at the very
  // start and end, and one scheme's colon inside another's reach must all still be found.
  Extraction e;
  ExtractFromText(
      "www.a.example:http://b.example. ftp://c.example:https://d.example ..www.no.example "
      ":.:www.e.example https://f.example",
      e);
  EXPECT_EQ(Raw(e), (std::vector<std::string>{"www.a.example:http://b.example",
                                              "ftp://c.example:https://d.example", "www.e.example",
                                              "https://f.example"}));
}

TEST(UrlExtractTest, HtmlAttributesAndLinkText) {
  Extraction e;
  ExtractFromHtml(
      "<html><head><meta http-equiv=\"Refresh\" content=\"5; URL='https://next.example/go'\">"
      "<link rel=stylesheet href=\"https://cdn.example/s.css\"></head><body>"
      "<a href=\"https://evil.example/login?t=1&amp;u=2\">https://<b>paypal</b>.com</a> "
      "<a href='/relative'>rel</a> <a href=\"mailto:x@example.com\">mail</a>"
      "<img src=//img.example/p.png><form action=\"https://collect.example/post\">"
      "<input type=\"PASSWORD\" name=p></form>"
      "<p>Visit http://text.example/ today</p></body></html>",
      e);
  ASSERT_EQ(e.urls.size(), 7u) << testing::PrintToString(Raw(e));
  EXPECT_EQ(e.urls[0].raw, "https://next.example/go");
  EXPECT_EQ(e.urls[0].source, UrlSource::kMetaRefresh);
  EXPECT_EQ(e.urls[1].source, UrlSource::kHref);
  EXPECT_EQ(e.urls[2].raw, "https://evil.example/login?t=1&u=2");
  EXPECT_EQ(e.urls[2].link_text, "https://paypal.com");
  EXPECT_EQ(e.urls[3].source, UrlSource::kSrc);
  EXPECT_EQ(e.urls[4].source, UrlSource::kFormAction);
  EXPECT_EQ(e.urls[5].raw, "https://paypal.com");  // the link's text, as text
  EXPECT_EQ(e.urls[6].raw, "http://text.example/");
  EXPECT_EQ(e.password_forms, 1);
  EXPECT_EQ(e.password_form_action, "https://collect.example/post");
}

TEST(UrlExtractTest, UnclosedAnchorsEndAtTheNextOne) {
  Extraction e;
  ExtractFromHtml("<a href=http://a.example/>first<a href=http://b.example/>second", e);
  ASSERT_EQ(e.urls.size(), 2u);
  EXPECT_EQ(e.urls[0].link_text, "first");
  EXPECT_EQ(e.urls[1].link_text, "second");
}

TEST(UrlExtractTest, CapsTheNumberOfUrlsAndTheirLength) {
  std::string text;
  for (int i = 0; i < 1200; ++i) text += "http://h" + std::to_string(i) + ".example/ ";
  Extraction e;
  ExtractFromText(text, e);
  EXPECT_EQ(e.urls.size(), kMaxUrlsPerObject);
  EXPECT_TRUE(e.truncated);

  Extraction longer;
  ExtractFromText("http://long.example/" + std::string(10000, 'a'), longer);
  ASSERT_FALSE(longer.urls.empty());
  EXPECT_LE(longer.urls[0].raw.size(), kMaxUrlBytes);

  Extraction text_cap;
  ExtractFromHtml("<a href=http://x.example/>" + std::string(5000, 'y') + "</a>", text_cap);
  ASSERT_FALSE(text_cap.urls.empty());
  EXPECT_LE(text_cap.urls[0].link_text.size(), kMaxLinkTextBytes);
}

TEST(UrlExtractTest, HostileInputStaysLinear) {
  // Each of these would be quadratic with a naive rescan.
  for (const std::string& text :
       {std::string(2 << 20, 'w'), std::string(2 << 20, '&'), std::string(2 << 20, '<'),
        [] {
          std::string s;
          while (s.size() < (2u << 20)) s += "http://";
          return s;
        }(),
        [] {
          std::string s;
          while (s.size() < (2u << 20)) s += "<a href=http://x/>";
          return s;
        }()}) {
    const auto start = std::chrono::steady_clock::now();
    Extraction text_result;
    ExtractFromText(text, text_result);
    Extraction html_result;
    ExtractFromHtml(text, html_result);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  }
}

}  // namespace
}  // namespace bulwark::urls

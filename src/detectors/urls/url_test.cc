#include "detectors/urls/url.h"

#include <gtest/gtest.h>

#include "bulwark/urls/url_match.h"
#include "detectors/urls/url_heuristics.h"

namespace bulwark::urls {
namespace {

std::string Norm(std::string_view text) {
  auto url = ParseUrl(text);
  return url ? url->Normalised() : "<none>";
}

TEST(UrlTest, NormalisesCaseDefaultPortDotSegmentsAndPercentEncoding) {
  EXPECT_EQ(Norm("HTTP://Example.COM:80/a/./b/../c?x=%7e%2f#frag"),
            "http://example.com/a/c?x=~%2F");
  EXPECT_EQ(Norm("https://example.com:443"), "https://example.com/");
  EXPECT_EQ(Norm("https://example.com:8443/%41%62c/%zz/ sp"),
            "https://example.com:8443/Abc/%25zz/%20sp");
  EXPECT_EQ(Norm("ftp://files.example.org:21/pub/"), "ftp://files.example.org/pub/");
  EXPECT_EQ(Norm("www.Example.com/path."), "http://www.example.com/path.");
  EXPECT_EQ(Norm("//cdn.example.net/x"), "https://cdn.example.net/x");
  EXPECT_EQ(Norm("https:\\\\example.com\\a\\b"), "https://example.com/a/b");
  EXPECT_EQ(Norm("https://example.com/a/b/../../../.."), "https://example.com/");
  EXPECT_EQ(Norm("https://example.com./x"), "https://example.com/x");
}

TEST(UrlTest, DropsUserInfoAndRemembersIt) {
  auto url = ParseUrl("https://paypal.com:secret@evil.example/login");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->host, "evil.example");
  EXPECT_TRUE(url->had_userinfo);
  EXPECT_EQ(url->Normalised(), "https://evil.example/login");
}

TEST(UrlTest, RejectsWhatIsNoUsableUrl) {
  for (std::string_view bad :
       {"mailto:a@example.com", "javascript:alert(1)", "/relative/path", "http://", "http:///",
        "https://exa mple.com/", "http://example.com:99999/", "http://example.com:8o/",
        "http://a..b/", "http://[::1/", "http://1.2.3.256/", "ftp://1.2.3.4.5/", ""}) {
    EXPECT_FALSE(ParseUrl(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseUrl("http://example.com/" + std::string(kMaxUrlBytes, 'a')).has_value());
  // As in browsers, any number of slashes may follow the scheme.
  EXPECT_EQ(Norm("http:///x"), "http://x/");
}

TEST(UrlTest, ReadsIpv4InEveryFormBrowsersAccept) {
  struct Case {
    const char* text;
    const char* host;
    bool obfuscated;
  };
  for (const Case& c : {Case{"http://192.168.1.1/", "192.168.1.1", false},
                        Case{"http://3232235777/", "192.168.1.1", true},
                        Case{"http://0xC0A80101/", "192.168.1.1", true},
                        Case{"http://0300.0250.1.1/", "192.168.1.1", true},
                        Case{"http://127.1/", "127.0.0.1", true},
                        Case{"http://0x7f.1/", "127.0.0.1", true}}) {
    auto url = ParseUrl(c.text);
    ASSERT_TRUE(url.has_value()) << c.text;
    EXPECT_EQ(url->host_kind, HostKind::kIpv4) << c.text;
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->ip_obfuscated, c.obfuscated) << c.text;
  }
  auto v6 = ParseUrl("http://[2001:DB8:0:0::1]:8080/x");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host_kind, HostKind::kIpv6);
  EXPECT_EQ(v6->Normalised(), "http://[2001:db8::1]:8080/x");
  // Digits inside a label do not make an address.
  auto domain = ParseUrl("http://123.example.com/");
  ASSERT_TRUE(domain.has_value());
  EXPECT_EQ(domain->host_kind, HostKind::kDomain);
}

TEST(UrlTest, ConvertsIdnHostsToPunycodeAndKeepsTheUnicodeForm) {
  auto url = ParseUrl("https://B\xC3\xBC" "cher.de/");  // Bücher.de
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->host, "xn--bcher-kva.de");
  EXPECT_EQ(url->display_host, "b\xC3\xBC" "cher.de");
  EXPECT_TRUE(url->HasPunycodeLabel());
  auto ascii = ParseUrl("https://XN--BCHER-KVA.de/");
  ASSERT_TRUE(ascii.has_value());
  EXPECT_EQ(ascii->host, "xn--bcher-kva.de");
  EXPECT_EQ(ascii->display_host, "b\xC3\xBC" "cher.de");
  // Percent-encoded host bytes are decoded first, as browsers do.
  EXPECT_EQ(Norm("http://%65xample.com/"), "http://example.com/");
}

TEST(UrlTest, EvidenceNeverShowsTheQueryAndCutsLongPaths) {
  auto url = ParseUrl("https://login.example.com/reset/0123456789abcdefghij?token=SECRET");
  ASSERT_TRUE(url.has_value());
  const std::string evidence = url->Evidence();
  EXPECT_EQ(evidence.find("SECRET"), std::string::npos);
  EXPECT_EQ(evidence, "https://login.example.com/reset/0123456789abcdefg\xE2\x80\xA6");
}

TEST(UrlTest, MixedScriptsPerLabel) {
  EXPECT_EQ(MixedScripts("p\xD0\xB0ypal.com"), "Latin+Cyrillic");  // Cyrillic а
  EXPECT_EQ(MixedScripts("\xD0\xBF\xD1\x80\xD0\xB8\xD0\xBC\xD0\xB5\xD1\x80.com"), "");  // пример
  EXPECT_EQ(MixedScripts("example-1.com"), "");
  EXPECT_EQ(MixedScripts("b\xC3\xBC" "cher.de"), "");
  EXPECT_EQ(MixedScripts("\xE6\x97\xA5\xE6\x9C\xAC\xE3\x81\xAE.jp"), "");  // 日本の: Han+Hiragana
  EXPECT_EQ(MixedScripts("\xCE\xB1pple.com"), "Greek+Latin");              // Greek α
}

TEST(UrlMatchesTest, ExactUrl) {
  EXPECT_TRUE(UrlMatches("https://Example.com/a/../login", "https://example.com/login"));
  EXPECT_FALSE(UrlMatches("https://example.com/login", "https://example.com/login?x=1"));
  EXPECT_FALSE(UrlMatches("https://example.com/login", "http://example.com/login"));
  EXPECT_TRUE(UrlMatches("https://example.com/login#top", "https://example.com/login"));
}

TEST(UrlMatchesTest, PrefixWhenTheEntryEndsInSlashOrStar) {
  EXPECT_TRUE(UrlMatches("https://example.com/docs/", "https://example.com/docs/a/b"));
  EXPECT_FALSE(UrlMatches("https://example.com/docs/", "https://example.com/docsx"));
  EXPECT_TRUE(UrlMatches("https://example.com/log*", "https://example.com/login?x=1"));
  EXPECT_TRUE(UrlMatches("https://example.com*", "https://example.com/anything"));
  EXPECT_FALSE(UrlMatches("https://example.com*", "https://example.com.evil.net/"));
  EXPECT_FALSE(UrlMatches("https://example.com/", "https://example.com.evil.net/"));
}

TEST(UrlMatchesTest, DomainEntriesMatchTheDomainAndItsSubdomains) {
  EXPECT_TRUE(UrlMatches("example.com", "https://example.com/x"));
  EXPECT_TRUE(UrlMatches("Example.COM.", "https://a.b.example.com:8443/x"));
  EXPECT_TRUE(UrlMatches("*.example.com", "http://www.example.com/"));
  EXPECT_FALSE(UrlMatches("example.com", "https://notexample.com/"));
  EXPECT_FALSE(UrlMatches("example.com", "https://example.com.evil.net/"));
  EXPECT_FALSE(UrlMatches("example.com", "https://evil.net/?u=example.com"));
  EXPECT_TRUE(UrlMatches("b\xC3\xBC" "cher.de", "https://www.xn--bcher-kva.de/"));
  EXPECT_TRUE(UrlMatches("192.0.2.1", "http://192.0.2.1/x"));
  EXPECT_FALSE(UrlMatches("0.2.1", "http://192.0.2.1/x"));
}

TEST(UrlMatchesTest, EntriesWithoutSchemeButWithPathMatchAnyScheme) {
  EXPECT_TRUE(UrlMatches("example.com/login", "https://example.com/login"));
  EXPECT_TRUE(UrlMatches("example.com/login", "http://example.com/login"));
  EXPECT_TRUE(UrlMatches("example.com/app/", "ftp://example.com/app/x"));
  EXPECT_FALSE(UrlMatches("example.com/login", "https://example.com/logout"));
}

TEST(UrlMatchesTest, BlankAndBrokenEntriesMatchNothing) {
  for (std::string_view entry : {"", "   ", "*", "example.*", "http://", "exa mple.com", "a..b"}) {
    EXPECT_FALSE(UrlMatches(entry, "https://example.com/")) << entry;
  }
  EXPECT_FALSE(UrlMatches("example.com", ""));
}

}  // namespace
}  // namespace bulwark::urls

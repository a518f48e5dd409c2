#include "detectors/urls/url_feeds.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test/support/test_support.h"

namespace bulwark::urls {
namespace {

using List = UrlReputation::List;

Url U(std::string_view text) {
  auto url = ParseUrl(text);
  EXPECT_TRUE(url.has_value()) << text;
  return url.value_or(Url{});
}

TEST(UrlFeedsTest, PlainUrlListWithCommentsAndMalformedLines) {
  UrlReputation rep;
  rep.AddFeed(List::kBlock,
              "# my list\r\n\r\nhttps://evil.example/login\nhttp://[bad\n"
              "phish.example/Path/../p?x=1\nwww.other.example/\n",
              "local.urls");
  EXPECT_EQ(rep.block_entries(), 3u);
  EXPECT_EQ(rep.malformed_lines(), 1u);
  auto hit = rep.Blocked(U("http://EVIL.example:80/login#x"));  // any scheme, normalised
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->threat, FeedThreat::kPhishing);
  EXPECT_EQ(hit->feed, "local.urls");
  EXPECT_FALSE(hit->by_domain);
  EXPECT_TRUE(rep.Blocked(U("https://phish.example/p?x=1")).has_value());
  EXPECT_FALSE(rep.Blocked(U("https://phish.example/p?x=2")).has_value());
  EXPECT_FALSE(rep.Blocked(U("https://evil.example/other")).has_value());
  EXPECT_TRUE(rep.Blocked(U("https://www.other.example")).has_value());
}

TEST(UrlFeedsTest, DomainListsAndHostsFiles) {
  UrlReputation rep;
  rep.AddFeed(List::kBlock,
              "# hosts\nevil.example\n*.wild.example  # inline comment\n"
              "0.0.0.0 ads.example tracker.example\n127.0.0.1 localhost\n"
              "not-an-address names.example\nb\xC3\xBC" "cher-phish.de\n",
              "malware-hosts.domains");
  EXPECT_EQ(rep.malformed_lines(), 1u);
  auto hit = rep.Blocked(U("https://deep.sub.evil.example/x"));
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->by_domain);
  EXPECT_EQ(hit->threat, FeedThreat::kMalware);  // "malware" in the file name
  EXPECT_TRUE(rep.Blocked(U("http://wild.example/")).has_value());
  EXPECT_TRUE(rep.Blocked(U("http://tracker.example/")).has_value());
  EXPECT_TRUE(rep.Blocked(U("http://b\xC3\xBC" "cher-phish.de/")).has_value());
  EXPECT_FALSE(rep.Blocked(U("http://notevil.example/")).has_value());
  EXPECT_FALSE(rep.Blocked(U("http://localhost/")).has_value());
  EXPECT_FALSE(rep.Blocked(U("http://names.example/")).has_value());
}

TEST(UrlFeedsTest, UrlhausCsvIsAMalwareFeed) {
  UrlReputation rep;
  rep.AddFeed(List::kBlock,
              "################################################################\n"
              "# abuse.ch URLhaus Database Dump (CSV - recent URLs only)       #\n"
              "# Terms Of Use: https://urlhaus.abuse.ch/api/                   #\n"
              "################################################################\n"
              "#\n"
              "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
              "\"3000001\",\"2024-05-01 10:00:00\",\"http://198.51.100.7:8080/bins/x.sh\","
              "\"online\",\"2024-05-01 10:00:00\",\"malware_download\",\"elf,mirai\","
              "\"https://urlhaus.abuse.ch/url/3000001/\",\"someone\"\n"
              "\"3000002\",\"2024-05-01\",\"not a url\",\"offline\"\n"
              "\"3000003\",\"2024-05-01\"\n",
              "urlhaus.csv");
  EXPECT_EQ(rep.block_entries(), 1u);
  EXPECT_EQ(rep.malformed_lines(), 2u);
  auto hit = rep.Blocked(U("http://198.51.100.7:8080/bins/x.sh"));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->threat, FeedThreat::kMalware);
  // The urlhaus_link column is not a listed URL.
  EXPECT_FALSE(rep.Blocked(U("https://urlhaus.abuse.ch/url/3000001/")).has_value());
}

TEST(UrlFeedsTest, PhishTankCsvIsAPhishingFeed) {
  UrlReputation rep;
  rep.AddFeed(List::kBlock,
              "phish_id,url,phish_detail_url,submission_time,verified,verification_time,"
              "online,target\n"
              "123,https://secure-login.example/paypal/,http://www.phishtank.com/"
              "phish_detail.php?phish_id=123,2024-05-01T10:00:00+00:00,yes,"
              "2024-05-01T10:05:00+00:00,yes,PayPal\n"
              "124,\"https://quoted.example/a,b\",x,y,yes,z,yes,Other\n"
              "125\n",
              "phishtank.csv");
  EXPECT_EQ(rep.block_entries(), 2u);
  EXPECT_EQ(rep.malformed_lines(), 1u);
  auto hit = rep.Blocked(U("https://secure-login.example/paypal/"));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->threat, FeedThreat::kPhishing);
  EXPECT_TRUE(rep.Blocked(U("https://quoted.example/a,b")).has_value());
}

TEST(UrlFeedsTest, CsvWithoutHeaderUsesTheFirstUrlField) {
  UrlReputation rep;
  rep.AddFeed(List::kBlock, "1,2024,https://a.example/x,online\n2,2024,no url here\n", "feed.csv");
  EXPECT_EQ(rep.block_entries(), 1u);
  EXPECT_EQ(rep.malformed_lines(), 1u);
}

TEST(UrlFeedsTest, AllowListsAreSeparate) {
  UrlReputation rep;
  rep.AddFeed(List::kAllow, "partner.example\n", "ours.domains");
  EXPECT_TRUE(rep.Allowed(U("https://mail.partner.example/")));
  EXPECT_FALSE(rep.Blocked(U("https://mail.partner.example/")).has_value());
  EXPECT_FALSE(rep.Allowed(U("https://partner.example.evil.net/")));
}

TEST(UrlFeedsTest, LoadReadsBlockAndAllowDirectoriesOfEachSignatureDirectory) {
  testing::ScratchDir dir;
  std::filesystem::create_directories(dir.path() / "urls" / "block");
  std::filesystem::create_directories(dir.path() / "urls" / "allow");
  dir.Write("urls/block/a.urls", "https://evil.example/x\n");
  dir.Write("urls/block/b.domains", "bad.example\n");
  dir.Write("urls/block/ignored.txt", "ignored.example\n");
  dir.Write("urls/allow/c.domains", "good.example\n");
  auto rep = UrlReputation::Load({dir.path(), dir.path() / "missing"});
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->block_entries(), 2u);
  EXPECT_EQ(rep->allow_entries(), 1u);
  EXPECT_FALSE(rep->Blocked(U("http://ignored.example/")).has_value());
}

}  // namespace
}  // namespace bulwark::urls

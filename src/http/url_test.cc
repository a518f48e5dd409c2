#include "http/url.h"

#include <gtest/gtest.h>

namespace bulwark::http {
namespace {

TEST(PercentDecodeTest, DecodesEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc%2f", false).value(), "a b/c/");
  EXPECT_EQ(PercentDecode("a+b", false).value(), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true).value(), "a b");
  EXPECT_EQ(PercentDecode("%e2%82%AC", false).value(), "\xe2\x82\xac");
  EXPECT_EQ(PercentDecode("", false).value(), "");
}

TEST(PercentDecodeTest, RejectsBadEscapes) {
  for (const char* bad : {"%", "%2", "a%zz", "%g0", "abc%"}) {
    Result<std::string> decoded = PercentDecode(bad, false);
    EXPECT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ParseQueryTest, SplitsAndDecodes) {
  auto query = ParseQuery("a=1&b=x%20y&flag&&c=p+q&a=2&e=").value();
  EXPECT_EQ(query.size(), 6u);
  EXPECT_EQ(query.count("a"), 2u);
  EXPECT_EQ(query.find("b")->second, "x y");
  EXPECT_EQ(query.find("flag")->second, "");
  EXPECT_EQ(query.find("c")->second, "p q");
  EXPECT_EQ(query.find("e")->second, "");
  EXPECT_FALSE(ParseQuery("a=%zz").ok());
}

TEST(ParseTargetTest, SplitsPathAndQuery) {
  ParsedTarget target = ParseTarget("/api/v1/objects/a%20b?limit=10&q=%C3%A9").value();
  EXPECT_EQ(target.path, "/api/v1/objects/a b");
  EXPECT_EQ(target.query.find("limit")->second, "10");
  EXPECT_EQ(target.query.find("q")->second, "\xc3\xa9");
  EXPECT_EQ(ParseTarget("/").value().path, "/");
  EXPECT_EQ(ParseTarget("/a/..b/c.").value().path, "/a/..b/c.");
}

TEST(ParseTargetTest, RejectsDotSegmentsNulAndNonPaths) {
  for (const char* bad : {"/a/../b", "/..", "/a/%2e%2e/b", "/a/%2E%2e", "/./a", "/a%00b", "a/b", "",
                          "*", "http://host/a", "/a%2", "/a?x=%"}) {
    EXPECT_FALSE(ParseTarget(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace bulwark::http

#include "detectors/common/markup_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bulwark::detectors {
namespace {

TEST(MarkupTextTest, VisibleText) {
  std::string out;
  VisibleText("a<!-- 4111 -->b &amp; c&lt;d <td>x</td><td>y</td> &bogus; 1 < 2", Markup::kHtml,
              out);
  EXPECT_EQ(out, "ab & c<d x y  &bogus; 1 < 2");
  VisibleText("<a href=\"x>y\">link</a> tail", Markup::kHtml, out);
  EXPECT_EQ(out, "link tail");
  VisibleText("text <unterminated", Markup::kHtml, out);
  EXPECT_EQ(out, "text ");
  EXPECT_TRUE(LooksLikeXml("\xEF\xBB\xBF  <?xml version='1.0'?><a/>"));
  EXPECT_FALSE(LooksLikeXml("plain"));
}

TEST(MarkupTextTest, VisitorSeesEachTagWithItsAttributesAndTextOffset) {
  struct Seen {
    std::string name;
    bool closing;
    std::string attributes;
    std::size_t offset;
  };
  std::vector<Seen> seen;
  std::string out;
  VisibleText("<p>Hi <A HREF='x>y' id=1>link</a><script>t</script>", Markup::kHtml, out,
              [&](const MarkupTag& tag) {
                seen.push_back({std::string(tag.name), tag.closing, std::string(tag.attributes),
                                tag.text_offset});
              });
  EXPECT_EQ(out, "Hi link ");
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[1].name, "a");
  EXPECT_EQ(seen[1].attributes, " HREF='x>y' id=1");
  EXPECT_EQ(seen[1].offset, 3u);
  EXPECT_TRUE(seen[2].closing);
  EXPECT_EQ(seen[2].offset, 7u);
  EXPECT_EQ(seen[3].name, "script");
}

TEST(MarkupTextTest, FindMarkupAttribute) {
  std::string value;
  EXPECT_TRUE(FindMarkupAttribute(" HREF='x&amp;y' id=1", "href", value));
  EXPECT_EQ(value, "x&y");
  EXPECT_TRUE(FindMarkupAttribute(" a=b  ID = \"two words\" /", "id", value));
  EXPECT_EQ(value, "two words");
  EXPECT_TRUE(FindMarkupAttribute(" disabled href=u", "disabled", value));
  EXPECT_EQ(value, "");
  EXPECT_FALSE(FindMarkupAttribute(" data-href=u hrefx=v", "href", value));
  EXPECT_FALSE(FindMarkupAttribute(" = =' unterminated", "href", value));
}

TEST(MarkupTextTest, ManyAmpersandsStayLinear) {
  std::string text(1 << 20, '&');
  std::string out;
  VisibleText(text, Markup::kHtml, out);
  EXPECT_EQ(out.size(), text.size());
}

}  // namespace
}  // namespace bulwark::detectors

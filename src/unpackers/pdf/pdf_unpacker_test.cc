#include "unpackers/pdf/pdf_unpacker.h"

#include <gtest/gtest.h>

#include "test/support/test_support.h"

namespace bulwark::unpackers {
namespace {

using engine::Category;
using engine::UnscannableReason;

struct Unpacked {
  std::vector<testing::Member> children;
  std::vector<engine::Finding> findings;
};

Unpacked Unpack(const std::string& bytes, engine::Limits limits = {}) {
  content::Object object;
  object.info.name = "doc.pdf";
  object.info.type.kind = content::FileKind::kPdf;
  object.data = content::Blob::Copy(bytes);
  object.info.size = bytes.size();
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  testing::CollectingChildSink children;
  engine::FindingList findings;
  EXPECT_TRUE(CreatePdfUnpacker()->Unpack(object, ctx, children, findings).ok());
  return {children.children, findings.findings()};
}

TEST(PdfUnpackerTest, ExtractsEmbeddedFiles) {
  std::string pdf = testing::MakePdfWithAttachments({{"invoice.exe", "MZ-body"}, {"notes.txt", "n"}});
  Unpacked result = Unpack(pdf);
  ASSERT_EQ(result.children.size(), 2u);
  EXPECT_TRUE(result.findings.empty());
  bool exe = false;
  for (const auto& c : result.children) exe |= c.name == "invoice.exe" && c.bytes == "MZ-body";
  EXPECT_TRUE(exe);
}

TEST(PdfUnpackerTest, ExtractsJavaScriptActions) {
  Unpacked result = Unpack(testing::MakePdfWithOpenActionScript("app.alert('hi');"));
  ASSERT_EQ(result.children.size(), 1u);
  EXPECT_EQ(result.children[0].name, "javascript-1.js");
  EXPECT_EQ(result.children[0].bytes, "app.alert('hi');");
}

TEST(PdfUnpackerTest, PlainPdfHasNoChildren) {
  Unpacked result = Unpack(testing::MakePdfWithAttachments({}));
  EXPECT_TRUE(result.children.empty());
  EXPECT_TRUE(result.findings.empty());
}

TEST(PdfUnpackerTest, OversizedEmbeddedFileIsUnscannable) {
  engine::Limits limits;
  limits.max_object_bytes = 100;
  Unpacked result = Unpack(testing::MakePdfWithAttachments({{"big.bin", std::string(1000, 'a')}}), limits);
  EXPECT_TRUE(result.children.empty());
  EXPECT_TRUE(testing::HasFinding(result.findings, Category::kUnscannable, UnscannableReason::kObjectSizeLimit));
}

TEST(PdfUnpackerTest, GarbageIsMalformedNotACrash) {
  Unpacked result = Unpack("%PDF-1.7\n" + std::string(500, '#'));
  EXPECT_TRUE(testing::HasFinding(result.findings, Category::kUnscannable, UnscannableReason::kMalformed));
}

}  // namespace
}  // namespace bulwark::unpackers

#include "identify/type_identifier.h"

#include <gtest/gtest.h>

namespace bulwark::identify {
namespace {

using content::FileKind;

TEST(SniffKindTest, RecognisesContainersAndExecutables) {
  EXPECT_EQ(SniffKind(""), FileKind::kEmpty);
  EXPECT_EQ(SniffKind(std::string("PK\x03\x04", 4) + "rest"), FileKind::kZip);
  EXPECT_EQ(SniffKind(std::string("PK\x03\x04", 4) + "....[Content_Types].xml"), FileKind::kOoxml);
  EXPECT_EQ(SniffKind(std::string("7z\xBC\xAF\x27\x1C", 6)), FileKind::kSevenZip);
  EXPECT_EQ(SniffKind("Rar!\x1A\x07\x01"), FileKind::kRar);
  EXPECT_EQ(SniffKind("\x1F\x8B\x08"), FileKind::kGzip);
  EXPECT_EQ(SniffKind("BZh9"), FileKind::kBzip2);
  EXPECT_EQ(SniffKind(std::string("\xFD" "7zXZ\0", 6)), FileKind::kXz);
  EXPECT_EQ(SniffKind(std::string("MSCF\0\0\0\0", 8)), FileKind::kCab);
  EXPECT_EQ(SniffKind("%PDF-1.7\n"), FileKind::kPdf);
  EXPECT_EQ(SniffKind("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), FileKind::kOle2);
  EXPECT_EQ(SniffKind("{\\rtf1\\ansi"), FileKind::kRtf);
  EXPECT_EQ(SniffKind("\x7F" "ELF\x02\x01"), FileKind::kElf);
  EXPECT_EQ(SniffKind("MZ"), FileKind::kPe);
  EXPECT_EQ(SniffKind("#!/bin/sh\necho hi\n"), FileKind::kScript);
  std::string iso(0x8010, '\0');
  iso.replace(0x8001, 5, "CD001");
  EXPECT_EQ(SniffKind(iso), FileKind::kIso9660);
  std::string tar(512, '\0');
  tar.replace(257, 5, "ustar");
  EXPECT_EQ(SniffKind(tar), FileKind::kTar);
}

TEST(SniffKindTest, MailNeedsTwoKnownHeaderFields) {
  EXPECT_EQ(SniffKind("From: a@example.com\r\nSubject: hi\r\n\r\nbody"), FileKind::kEmail);
  EXPECT_EQ(SniffKind("Received: from x\r\n\tby y\r\nMessage-ID: <1@x>\r\n\r\n"), FileKind::kEmail);
  EXPECT_NE(SniffKind("Note: this is just text\nwith lines\n"), FileKind::kEmail);
  EXPECT_NE(SniffKind("From: a@example.com\nthis line is not a header\n"), FileKind::kEmail);
}

TEST(SniffKindTest, HtmlByMarkupNotByName) {
  EXPECT_EQ(SniffKind("  <!DOCTYPE html><html><body>x</body></html>"), FileKind::kHtml);
  EXPECT_EQ(SniffKind("<div>hello</div><body>"), FileKind::kHtml);
}

TEST(TypeIdentifierTest, UsesLibmagicForTheRest) {
  auto identifier = TypeIdentifier::Create();
  ASSERT_TRUE(identifier.ok()) << identifier.status().ToString();
  auto text = (*identifier)->Identify("just some plain text, nothing more\n");
  EXPECT_EQ(text.kind, FileKind::kText);
  EXPECT_EQ(text.mime, "text/plain");
  auto png = (*identifier)->Identify(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  EXPECT_EQ(png.kind, FileKind::kImage);
  auto zip = (*identifier)->Identify(std::string("PK\x03\x04", 4) + std::string(40, '\0'));
  EXPECT_EQ(zip.kind, FileKind::kZip);
}

TEST(TypeIdentifierTest, DiskImagesAreContainersWeCannotOpen) {
  auto identifier = TypeIdentifier::Create();
  ASSERT_TRUE(identifier.ok());
  auto vmdk = (*identifier)->Identify(std::string("KDMV\x01\0\0\0", 8) + std::string(600, '\x01'));
  EXPECT_EQ(vmdk.kind, FileKind::kOtherArchive);
  EXPECT_EQ(vmdk.mime, "application/x-vmdk");
  std::string dmg(4096, '\x02');
  dmg.replace(dmg.size() - 512, 4, "koly");
  EXPECT_EQ((*identifier)->Identify(dmg).mime, "application/x-apple-diskimage");
  std::string udf(0x9000, '\x03');
  udf.replace(0x8801, 5, "NSR02");
  EXPECT_EQ((*identifier)->Identify(udf).mime, "application/x-udf-image");
}

}  // namespace
}  // namespace bulwark::identify

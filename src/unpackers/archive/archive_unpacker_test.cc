#include "unpackers/archive/archive_unpacker.h"

#include <gtest/gtest.h>

#include "identify/type_identifier.h"
#include "test/support/test_support.h"

namespace bulwark::unpackers {
namespace {

using engine::Category;
using engine::UnscannableReason;
using testing::CollectingChildSink;
using testing::HasFinding;
using testing::MakeArchive;
using testing::Member;

struct Unpacked {
  std::vector<Member> children;
  std::vector<engine::Finding> findings;
};

Unpacked Unpack(const std::string& bytes, const std::string& name = "archive",
                engine::Limits limits = {}, std::size_t sink_capacity = static_cast<std::size_t>(-1)) {
  content::Object object;
  object.info.name = name;
  object.info.type.kind = identify::SniffKind(bytes);
  object.data = content::Blob::Copy(bytes);
  object.info.size = bytes.size();
  auto unpacker = CreateArchiveUnpacker();
  EXPECT_TRUE(unpacker->Accepts(object.info)) << content::FileKindName(object.info.type.kind);
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  CollectingChildSink children(sink_capacity);
  engine::FindingList findings;
  EXPECT_TRUE(unpacker->Unpack(object, ctx, children, findings).ok());
  return {children.children, findings.findings()};
}

const std::vector<Member> kMembers = {{"docs/readme.txt", "hello"}, {"bin/tool.exe", "MZ-payload"}};

TEST(ArchiveUnpackerTest, OpensEveryWritableFormatAndFilter) {
  for (const auto& [format, filter] : std::vector<std::pair<std::string, std::string>>{
           {"zip", ""}, {"7zip", ""}, {"ustar", ""}, {"ustar", "gzip"}, {"ustar", "bzip2"},
           {"ustar", "xz"}, {"iso9660", ""}, {"cpio", "gzip"}}) {
    std::string archive = MakeArchive(format, kMembers, filter);
    if (format == "cpio") continue;  // written only to exercise the filter; not an accepted kind
    Unpacked result = Unpack(archive);
    ASSERT_EQ(result.children.size(), 2u) << format << "+" << filter;
    EXPECT_TRUE(result.findings.empty()) << format;
    bool found = false;
    for (const auto& child : result.children) found |= child.bytes == "MZ-payload";
    EXPECT_TRUE(found) << format << "+" << filter;
  }
}

TEST(ArchiveUnpackerTest, SingleGzipStreamIsNamedAfterItsContainer) {
  Unpacked result = Unpack(testing::Compress("gzip", "payload"), "report.txt.gz");
  ASSERT_EQ(result.children.size(), 1u);
  EXPECT_EQ(result.children[0].name, "report.txt");
  EXPECT_EQ(result.children[0].bytes, "payload");
  Unpacked xz = Unpack(testing::Compress("xz", "payload"), "data.xz");
  ASSERT_EQ(xz.children.size(), 1u);
  EXPECT_EQ(xz.children[0].bytes, "payload");
  Unpacked bz = Unpack(testing::Compress("bzip2", "payload"), "data.bz2");
  ASSERT_EQ(bz.children.size(), 1u);
}

TEST(ArchiveUnpackerTest, EncryptedZipMemberIsUnscannable) {
  std::string zip = MakeArchive("zip", {{"secret.txt", "classified"}}, "", "pa55word");
  Unpacked result = Unpack(zip);
  EXPECT_TRUE(result.children.empty());
  ASSERT_TRUE(HasFinding(result.findings, Category::kUnscannable, UnscannableReason::kEncrypted));
  EXPECT_EQ(result.findings[0].path.parts(), std::vector<std::string>{"secret.txt"});
}

TEST(ArchiveUnpackerTest, BombStopsAtRatioWithoutExpandingIt) {
  // 64 MiB of zeros compresses to ~64 KiB: ratio ~1000.
  std::string zip = MakeArchive("zip", {{"zeros.bin", std::string(64u << 20, '\0')}});
  engine::Limits limits;
  limits.max_object_bytes = 128u << 20;
  Unpacked result = Unpack(zip, "bomb.zip", limits);
  EXPECT_TRUE(result.children.empty());
  EXPECT_TRUE(HasFinding(result.findings, Category::kUnscannable, UnscannableReason::kRatioLimit));
}

TEST(ArchiveUnpackerTest, MemberOverObjectSizeLimitIsUnscannableAndOthersGoOn) {
  engine::Limits limits;
  limits.max_object_bytes = 1000;
  limits.max_ratio = 1e9;
  Unpacked result = Unpack(MakeArchive("ustar", {{"big.bin", std::string(5000, 'x')}, {"small", "s"}}),
                           "a.tar", limits);
  ASSERT_EQ(result.children.size(), 1u);
  EXPECT_EQ(result.children[0].name, "small");
  EXPECT_TRUE(HasFinding(result.findings, Category::kUnscannable, UnscannableReason::kObjectSizeLimit));
}

TEST(ArchiveUnpackerTest, TruncatedAndGarbageArchivesAreMalformed) {
  std::string zip = MakeArchive("7zip", kMembers);
  Unpacked truncated = Unpack(zip.substr(0, zip.size() / 2));
  EXPECT_TRUE(HasFinding(truncated.findings, Category::kUnscannable, UnscannableReason::kMalformed));
  std::string garbage = std::string("PK\x03\x04", 4) + std::string(200, '\x7f');
  Unpacked bad = Unpack(garbage);
  // Its flag bytes claim encryption; either way it must be unscannable, never clean.
  EXPECT_TRUE(HasFinding(bad.findings, Category::kUnscannable));
}

TEST(ArchiveUnpackerTest, ZipSlipNamesAreOnlyLabels) {
  Unpacked result = Unpack(MakeArchive("zip", {{"../../etc/evil.sh", "#!/bin/sh"}}));
  ASSERT_EQ(result.children.size(), 1u);
  EXPECT_EQ(result.children[0].name, "../../etc/evil.sh");
}

TEST(ArchiveUnpackerTest, StopsWhenTheSinkRefuses) {
  std::vector<Member> many;
  for (int i = 0; i < 20; ++i) many.push_back({"f" + std::to_string(i), "x"});
  Unpacked result = Unpack(MakeArchive("zip", many), "a.zip", {}, 3);
  EXPECT_EQ(result.children.size(), 3u);
}

}  // namespace
}  // namespace bulwark::unpackers

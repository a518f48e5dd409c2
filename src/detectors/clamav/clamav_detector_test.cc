#include "detectors/clamav/clamav_detector.h"

#include <gtest/gtest.h>

#include "test/support/test_support.h"

namespace bulwark::detectors {
namespace {

engine::SignatureSources TestSignatures() {
  engine::SignatureSources sources;
  sources.directories = {std::filesystem::path(BULWARK_SOURCE_DIR) / "rules" / "clamav"};
  sources.system_clamav_directory.clear();
  sources.builtin_rules = false;
  return sources;
}

std::vector<engine::Finding> Inspect(const engine::Detector& detector, std::string bytes,
                                     content::FileKind kind = content::FileKind::kUnknown) {
  content::Object object;
  object.info.name = "sample";
  object.info.type.kind = kind;
  object.data = content::Blob::Own(std::move(bytes));
  object.info.size = object.data.size();
  engine::Limits limits;
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  engine::FindingList findings;
  Status status = detector.Inspect(object, ctx, findings);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return findings.findings();
}

TEST(ClamavDetectorTest, LoadsNdbAndHsbAndFindsEicar) {
  auto detector = CreateClamavDetector(TestSignatures());
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  auto findings = Inspect(**detector, testing::Eicar());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].detector, "clamav");
  EXPECT_EQ(findings[0].name.rfind("Bulwark.Test.EICAR", 0), 0u) << findings[0].name;
  EXPECT_EQ(findings[0].category, engine::Category::kMalware);
  EXPECT_TRUE(Inspect(**detector, "clean content").empty());
}

TEST(ClamavDetectorTest, LetsClamavUnpackWhatBulwarkDoesNot) {
  // A gzip stream is a container Bulwark unpacks itself: libclamav's archive parser is
  // off for it, so the signature (ndb, anchored at offset 0 of a file) is not seen.
  // Labelled as unknown, the same bytes are handed to libclamav's own unpackers.
  auto detector = CreateClamavDetector(TestSignatures());
  ASSERT_TRUE(detector.ok());
  std::string gz = testing::Compress("gzip", testing::Eicar());
  EXPECT_TRUE(Inspect(**detector, gz, content::FileKind::kGzip).empty());
  EXPECT_FALSE(Inspect(**detector, gz, content::FileKind::kUnknown).empty());
}

TEST(ClamavDetectorTest, LoadsTheSystemDatabaseDirectoryWhenItHoldsDatabases) {
  testing::ScratchDir system_db;
  engine::SignatureSources sources = TestSignatures();
  sources.directories.clear();
  sources.system_clamav_directory = system_db.path();
  auto empty = CreateClamavDetector(sources);  // no databases there yet: nothing loaded
  ASSERT_TRUE(empty.ok());
  content::ObjectInfo info;
  info.size = 68;
  EXPECT_FALSE((*empty)->Accepts(info));
  std::filesystem::copy_file(std::filesystem::path(BULWARK_SOURCE_DIR) / "rules" / "clamav" / "bulwark-test.ndb",
                             system_db.path() / "bulwark-test.ndb");
  auto loaded = CreateClamavDetector(sources);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(Inspect(**loaded, testing::Eicar()).size(), 1u);
}

TEST(ClamavDetectorTest, BadDatabaseIsAnError) {
  testing::ScratchDir dir;
  dir.Write("broken.ndb", "this is not a signature\n");
  engine::SignatureSources sources = TestSignatures();
  sources.directories = {dir.path()};
  auto detector = CreateClamavDetector(sources);
  EXPECT_EQ(detector.status().code(), StatusCode::kInvalidArgument);
}

TEST(ClamavDetectorTest, EmptySignatureSetAcceptsNothing) {
  engine::SignatureSources sources = TestSignatures();
  sources.directories.clear();
  auto detector = CreateClamavDetector(sources);
  ASSERT_TRUE(detector.ok());
  content::ObjectInfo info;
  info.size = 10;
  EXPECT_FALSE((*detector)->Accepts(info));
}

}  // namespace
}  // namespace bulwark::detectors

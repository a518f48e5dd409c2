#include "detectors/hashes/hash_list.h"

#include <gtest/gtest.h>

#include "bulwark/engine/scan_context.h"
#include "detectors/hashes/hash_detector.h"
#include "test/support/test_support.h"

namespace bulwark::detectors {
namespace {

const std::string kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(HashListTest, AcceptsTheThreeLineForms) {
  HashList list;
  std::string text = "# comment\n\n" + kAbc + "\n" +
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.bin\r\n" +
                     "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824:Test.Hello\n";
  ASSERT_TRUE(list.Parse(text, "x.sha256").ok());
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(*list.Find(crypto::Sha256("abc")), "Hash.Listed");
  EXPECT_EQ(*list.Find(crypto::Sha256("")), "empty.bin");
  EXPECT_EQ(*list.Find(crypto::Sha256("hello")), "Test.Hello");
  EXPECT_EQ(list.Find(crypto::Sha256("other")), nullptr);
}

TEST(HashListTest, BadLineIsAnErrorWithItsNumberAndAddsNothing) {
  HashList list;
  Status status = list.Parse(kAbc + "\nnot-a-hash\n", "bad.sha256");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("bad.sha256:2:"), std::string::npos) << status.message();
  EXPECT_EQ(list.size(), 0u);
  EXPECT_FALSE(list.Parse(kAbc + "Xname\n", "f").ok());
  EXPECT_FALSE(list.Parse(kAbc + ":bad\x01name\n", "f").ok());
  EXPECT_FALSE(list.Parse(std::string(5000, 'a') + "\n", "f").ok());
}

TEST(HashDetectorTest, BuiltinListFindsEicar) {
  engine::SignatureSources sources;
  auto detector = CreateHashDetector(sources);
  ASSERT_TRUE(detector.ok());
  content::Object object;
  object.data = content::Blob::Own(testing::Eicar());
  object.info.size = object.data.size();
  engine::Limits limits;
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  engine::FindingList findings;
  ASSERT_TRUE((*detector)->Inspect(object, ctx, findings).ok());
  ASSERT_EQ(findings.findings().size(), 1u);
  EXPECT_EQ(findings.findings()[0].name, "Bulwark.Test.EICAR");
  EXPECT_EQ(findings.findings()[0].category, engine::Category::kMalware);
}

TEST(HashDetectorTest, ListsFromSignatureDirectories) {
  testing::ScratchDir dir;
  dir.Write("mine.sha256", kAbc + ":Custom.Abc\n");
  dir.Write("ignored.txt", "not a list");
  engine::SignatureSources sources;
  sources.builtin_rules = false;
  sources.directories = {dir.path()};
  auto detector = CreateHashDetector(sources);
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  content::Object object;
  object.data = content::Blob::Copy("abc");
  engine::Limits limits;
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  engine::FindingList findings;
  ASSERT_TRUE((*detector)->Inspect(object, ctx, findings).ok());
  ASSERT_EQ(findings.findings().size(), 1u);
  EXPECT_EQ(findings.findings()[0].name, "Custom.Abc");

  dir.Write("broken.sha256", "zzz\n");
  auto broken = CreateHashDetector(sources);
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bulwark::detectors

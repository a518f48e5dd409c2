#include "crypto/sha256.h"

#include <gtest/gtest.h>

namespace bulwark::crypto {
namespace {

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, ParsesHexInEitherCaseAndRejectsGarbage) {
  Sha256Digest digest{};
  ASSERT_TRUE(ParseSha256Hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", digest));
  EXPECT_EQ(digest, Sha256("abc"));
  EXPECT_FALSE(ParseSha256Hex("ba7816bf", digest));
  EXPECT_FALSE(ParseSha256Hex(std::string(64, 'g'), digest));
}

}  // namespace
}  // namespace bulwark::crypto

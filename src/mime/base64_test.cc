#include "mime/base64.h"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "mime/gmime_support.h"

namespace bulwark::mime {
namespace {

// What GMime's decoder makes of `encoded` handed over in one step.
std::string GMimeDecode(std::string_view encoded) {
  std::string out(encoded.size() / 4 * 3 + 3, '\0');
  int state = 0;
  guint32 save = 0;
  const std::size_t n = g_mime_encoding_base64_decode_step(
      reinterpret_cast<const unsigned char*>(encoded.data()), encoded.size(),
      reinterpret_cast<unsigned char*>(out.data()), &state, &save);
  out.resize(n);
  return out;
}

TEST(Base64Test, DecodesMailBodies) {
  EXPECT_EQ(DecodeBase64("SGVsbG8sIHdvcmxkIQ=="), "Hello, world!");
  EXPECT_EQ(DecodeBase64("SGVs\r\nbG8s\r\n IHdv cmxk\r\nIQ==\r\n"), "Hello, world!");
  EXPECT_EQ(DecodeBase64("QUJD"), "ABC");
  EXPECT_EQ(DecodeBase64(""), "");
  EXPECT_EQ(DecodeBase64("\r\n\r\n"), "");
  EXPECT_EQ(DecodeBase64("!!not base64 at all??"), GMimeDecode("!!not base64 at all??"));
}

// The decoder must agree with GMime's byte for byte, junk, padding and all: a difference
// would let a mail read one way by the scanner and another by the mail client's library.
TEST(Base64Test, AgreesWithGMimeOnEveryInput) {
  InitGMimeOnce();
  std::mt19937 random(20261129);
  const std::string pieces[] = {"QUJD", "YWJj", "ZA==", "ZGU=", "=",    "==",   "\r\n", "\n", " ",
                                "-",    "*",    "A",    "Zm9v", "\x80", "+/+/", "TWFu", "\t"};
  for (int round = 0; round < 20000; ++round) {
    std::string encoded;
    const int count = static_cast<int>(random() % 40);
    for (int k = 0; k < count; ++k) {
      if (random() % 5 == 0) {
        encoded.push_back(static_cast<char>(random() % 256));
      } else {
        encoded += pieces[random() % std::size(pieces)];
      }
    }
    ASSERT_EQ(DecodeBase64(encoded), GMimeDecode(encoded)) << "input: " << encoded;
  }
  // A long body with line breaks every 76 bytes, as mail programs write it.
  std::string body;
  for (int line = 0; line < 2000; ++line) {
    for (int k = 0; k < 76; ++k)
      body.push_back(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[random() % 64]);
    body += "\r\n";
  }
  body += "QQ==\r\n";
  EXPECT_EQ(DecodeBase64(body), GMimeDecode(body));
}

}  // namespace
}  // namespace bulwark::mime

#include "service/multipart.h"

#include <gtest/gtest.h>

namespace bulwark::service {
namespace {

TEST(MultipartTest, BoundaryFromContentType) {
  auto b = MultipartBoundary("multipart/form-data; boundary=----abc123");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "----abc123");
  auto quoted = MultipartBoundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"");
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(*quoted, "a b");
  EXPECT_FALSE(MultipartBoundary("application/json").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x')).ok());
}

TEST(MultipartTest, FirstFilePartWins) {
  std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
      "hello\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"invoice.pdf\"\r\n"
      "Content-Type: application/pdf\r\n\r\n"
      "%PDF-1.7\r\nbinary\r\n--not the boundary\r\n"
      "\r\n--XyZ--\r\n";
  auto file = FirstFormFile(body, "XyZ");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->field, "file");
  EXPECT_EQ(file->filename, "invoice.pdf");
  EXPECT_EQ(file->data, "%PDF-1.7\r\nbinary\r\n--not the boundary\r\n");
}

TEST(MultipartTest, WithoutAFileNameTheFirstPart) {
  std::string body = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ndata\r\n--b--\r\n";
  auto file = FirstFormFile(body, "b");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->data, "data");
  EXPECT_EQ(file->filename, "");
}

TEST(MultipartTest, MalformedBodiesAreErrors) {
  EXPECT_FALSE(FirstFormFile("", "b").ok());
  EXPECT_FALSE(FirstFormFile("--b\r\nContent-Disposition: form-data\r\n\r\nno end", "b").ok());
  EXPECT_FALSE(FirstFormFile("--b\r\nheaders without end", "b").ok());
  EXPECT_FALSE(FirstFormFile("--b--\r\n", "b").ok());
}

}  // namespace
}  // namespace bulwark::service

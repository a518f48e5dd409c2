#include "bulwark/content/blob.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "bulwark/content/object.h"

namespace bulwark::content {
namespace {

TEST(BlobTest, OwnsAndMovesBytes) {
  Blob a = Blob::Copy("hello");
  Blob b = std::move(a);
  EXPECT_EQ(b.view(), "hello");
  EXPECT_EQ(b.size(), 5u);
}

TEST(BlobTest, ReadFileRespectsLimitAndReportsMissingFiles) {
  char name[] = "/tmp/bulwark-blob-XXXXXX";
  int fd = mkstemp(name);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "0123456789", 10), 10);
  close(fd);
  auto ok = Blob::ReadFile(name, 10);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->view(), "0123456789");
  auto too_big = Blob::ReadFile(name, 9);
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  unlink(name);
  EXPECT_EQ(Blob::ReadFile(name, 100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Blob::ReadFile("/tmp", 100).status().code(), StatusCode::kInvalidArgument);
}

TEST(BlobTest, ReadDescriptorStopsAtLimit) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "abcdef", 6), 6);
  close(fds[1]);
  auto result = Blob::ReadDescriptor(fds[0], 5);
  close(fds[0]);
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
}

TEST(ObjectPathTest, JoinsWithGuillemet) {
  ObjectPath path({"message.eml", "invoice.zip"});
  EXPECT_EQ(path.Child("invoice.exe").ToString(), "message.eml \u203a invoice.zip \u203a invoice.exe");
  EXPECT_EQ(ObjectPath({"b"}).PrefixedWith(ObjectPath({"a"})).parts(),
            (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace bulwark::content

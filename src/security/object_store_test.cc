#include "security/object_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "security/test_dir.h"

namespace bulwark::security {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Every file and directory name under `root`, relative to it.
std::vector<std::string> Entries(const std::string& root) {
  std::vector<std::string> names;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(root, error);
       it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    names.push_back(std::filesystem::relative(it->path(), root, error).string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<ObjectStore> OpenStore(const std::string& root) {
  Result<std::unique_ptr<ObjectStore>> store = OpenLocalObjectStore(root);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(LocalObjectStoreTest, CreatesItsRootPrivately) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.Join("var/quarantine/"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ModeOf(dir.Join("var")), 0700u);
  EXPECT_EQ(ModeOf(dir.Join("var/quarantine")), 0700u);
  EXPECT_EQ(store->Describe(), "local:" + dir.Join("var/quarantine"));
  // Opening again is fine.
  EXPECT_NE(OpenStore(dir.Join("var/quarantine")), nullptr);
}

TEST(LocalObjectStoreTest, RefusesABadRoot) {
  TestDir dir;
  EXPECT_EQ(OpenLocalObjectStore("").status().code(), StatusCode::kInvalidArgument);
  std::unique_ptr<ObjectStore> store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("file", "x").ok());
  EXPECT_EQ(OpenLocalObjectStore(dir.Join("file")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenLocalObjectStore(dir.Join("file/sub")).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(LocalObjectStoreTest, RoundTripsPrivateFilesAndLeavesNoTemporaries) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  const std::string binary("\0\x01\xff sealed bytes\n", 17);
  ASSERT_TRUE(store->Put("tenant-1/2024/obj_1.bin", binary).ok());
  ASSERT_TRUE(store->Put("top-level", "").ok());
  Result<std::string> got = store->Get("tenant-1/2024/obj_1.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, binary);
  Result<std::string> empty = store->Get("top-level");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");

  EXPECT_EQ(ModeOf(dir.Join("tenant-1/2024/obj_1.bin")), 0600u);
  EXPECT_EQ(ModeOf(dir.Join("top-level")), 0600u);
  EXPECT_EQ(ModeOf(dir.Join("tenant-1")), 0700u);
  EXPECT_EQ(ModeOf(dir.Join("tenant-1/2024")), 0700u);
  EXPECT_EQ(Entries(dir.path()),
            (std::vector<std::string>{"tenant-1", "tenant-1/2024", "tenant-1/2024/obj_1.bin",
                                      "top-level"}));
}

TEST(LocalObjectStoreTest, PutReplacesAndLargeObjectsSurvive) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("k", "first").ok());
  ASSERT_TRUE(store->Put("k", "second").ok());
  EXPECT_EQ(*store->Get("k"), "second");
  std::string large(3 * 1024 * 1024 + 7, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 131);
  ASSERT_TRUE(store->Put("large", large).ok());
  EXPECT_EQ(*store->Get("large"), large);
  EXPECT_EQ(Entries(dir.path()), (std::vector<std::string>{"k", "large"}));
}

TEST(LocalObjectStoreTest, PutIgnoresTheUmask) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  const mode_t old_umask = ::umask(0277);
  Status put = store->Put("k", "v");
  ::umask(old_umask);
  ASSERT_TRUE(put.ok()) << put.ToString();
  EXPECT_EQ(ModeOf(dir.Join("k")), 0600u);
}

TEST(LocalObjectStoreTest, GetOfAnAbsentKeyIsNotFound) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("absent").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Get("no/such/dir").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->Put("a/b", "x").ok());
  EXPECT_EQ(store->Get("a").status().code(), StatusCode::kNotFound);  // a directory
  EXPECT_EQ(store->Get("a/b/c").status().code(), StatusCode::kNotFound);
}

TEST(LocalObjectStoreTest, DeleteIsIdempotent) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("t/o", "x").ok());
  EXPECT_TRUE(store->Delete("t/o").ok());
  EXPECT_EQ(store->Get("t/o").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Delete("t/o").ok());
  EXPECT_TRUE(store->Delete("never/existed").ok());
  EXPECT_TRUE(store->Delete("t").ok());  // a directory, not an object
  ASSERT_TRUE(store->Put("t/o", "again").ok());
  EXPECT_EQ(*store->Get("t/o"), "again");
}

TEST(LocalObjectStoreTest, RefusesBadKeys) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.Join("store"));
  ASSERT_NE(store, nullptr);
  const std::string bad_keys[] = {
      "",
      "..",
      "../escape",
      "a/../../escape",
      "a/..",
      "a..b",
      ".",
      "./a",
      "a/./b",
      ".hidden",
      "a/.tmp-123456",
      "/etc/passwd",
      "/",
      "a//b",
      "a/",
      "a b",
      "a\\b",
      "a\nb",
      std::string("a\0b", 3),
      "caf\xc3\xa9",
      "a:b",
      std::string(201, 'a'),
  };
  for (const std::string& key : bad_keys) {
    SCOPED_TRACE(key);
    EXPECT_EQ(store->Put(key, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store->Get(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store->Delete(key).code(), StatusCode::kInvalidArgument);
  }
  // Nothing was written anywhere, inside the store or beside it.
  EXPECT_TRUE(Entries(dir.Join("store")).empty());
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"store"});
  // The longest key and every allowed character are fine.
  EXPECT_TRUE(store->Put(std::string(200, 'a'), "x").ok());
  EXPECT_TRUE(store->Put("AZaz09_.-/x.y", "x").ok());
}

TEST(LocalObjectStoreTest, AKeyCannotBeBothObjectAndPrefix) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("a", "object").ok());
  EXPECT_EQ(store->Put("a/b", "x").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Put("c/d", "x").ok());
  EXPECT_EQ(store->Put("c", "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*store->Get("a"), "object");
  EXPECT_EQ(*store->Get("c/d"), "x");
  EXPECT_EQ(Entries(dir.path()), (std::vector<std::string>{"a", "c", "c/d"}));
}

TEST(LocalObjectStoreTest, ConcurrentPutsLeaveOneWholeValue) {
  TestDir dir;
  std::unique_ptr<ObjectStore> store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      const std::string value(10000, static_cast<char>('a' + t));
      for (int i = 0; i < 20; ++i) EXPECT_TRUE(store->Put("shared/key", value).ok());
    });
  }
  for (std::thread& thread : threads) thread.join();
  Result<std::string> got = store->Get("shared/key");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 10000u);
  EXPECT_EQ(got->find_first_not_of(got->front()), std::string::npos);
  EXPECT_EQ(Entries(dir.path()), (std::vector<std::string>{"shared", "shared/key"}));
}

}  // namespace
}  // namespace bulwark::security

// The S3 object store against a real S3-compatible server (s3rver, started once for this
// binary). When node or s3rver is missing the tests fail with how to install them.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"
#include "security/object_store.h"
#include "test/support/s3_server.h"

namespace bulwark::security {
namespace {

using bulwark::testing::S3Server;

class S3ObjectStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::unique_ptr<S3Server>> started = S3Server::Start("bulwark-test");
    if (started.ok()) {
      server_ = std::move(started).value();
    } else {
      start_error_ = started.status().ToString();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override { ASSERT_NE(server_, nullptr) << start_error_; }

  static S3Options Options(const S3Server& server) {
    S3Options options;
    options.endpoint = server.endpoint();
    options.bucket = server.bucket();
    options.access_key = S3Server::access_key();
    options.secret_key = S3Server::secret_key();
    return options;
  }

  static std::unique_ptr<ObjectStore> Open(const S3Options& options) {
    Result<std::unique_ptr<ObjectStore>> store = OpenS3ObjectStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // An unsigned request (s3rver serves anonymous requests): creates or removes buckets
  // behind the store's back.
  static int SendUnsigned(const std::string& method, const std::string& path) {
    Result<std::unique_ptr<http::Client>> client = http::Client::Create();
    if (!client.ok()) return -1;
    Result<http::ClientResponse> response =
        (*client)->Send(method, server_->endpoint() + path, {}, {});
    return response.ok() ? response->status : -1;
  }

  // Shared by the tests of this binary; set up once.
  static inline std::unique_ptr<S3Server> server_;
  static inline std::string start_error_;
};

std::string EveryByte(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<char>((i * 7 + i / 251) & 0xFF);
  }
  return bytes;
}

TEST_F(S3ObjectStoreTest, RoundTripsBinaryObjects) {
  std::unique_ptr<ObjectStore> store = Open(Options(*server_));
  ASSERT_NE(store, nullptr);
  const std::string small("a\0b\0\0c\xff\x80\r\n", 10);
  ASSERT_TRUE(store->Put("t1/q/small.bin", small).ok());
  Result<std::string> got = store->Get("t1/q/small.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, small);

  const std::string big = EveryByte(3 * 1024 * 1024);
  Status put = store->Put("t1/q/big.bin", big);
  ASSERT_TRUE(put.ok()) << put.ToString();
  got = store->Get("t1/q/big.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), big.size());
  EXPECT_TRUE(*got == big);

  ASSERT_TRUE(store->Put("t1/q/empty", "").ok());
  got = store->Get("t1/q/empty");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "");
}

TEST_F(S3ObjectStoreTest, PutReplaces) {
  std::unique_ptr<ObjectStore> store = Open(Options(*server_));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("t1/over", "first version, longer").ok());
  ASSERT_TRUE(store->Put("t1/over", "second").ok());
  Result<std::string> got = store->Get("t1/over");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "second");
}

TEST_F(S3ObjectStoreTest, GetOfMissingObjectIsNotFound) {
  std::unique_ptr<ObjectStore> store = Open(Options(*server_));
  ASSERT_NE(store, nullptr);
  Result<std::string> got = store->Get("t1/never-written");
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
}

TEST_F(S3ObjectStoreTest, DeleteIsIdempotent) {
  std::unique_ptr<ObjectStore> store = Open(Options(*server_));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("t1/gone", "x").ok());
  EXPECT_TRUE(store->Delete("t1/gone").ok());
  EXPECT_EQ(store->Get("t1/gone").status().code(), StatusCode::kNotFound);
  Status again = store->Delete("t1/gone");
  EXPECT_TRUE(again.ok()) << again.ToString();
  Status never = store->Delete("t1/never/existed");
  EXPECT_TRUE(never.ok()) << never.ToString();
}

TEST_F(S3ObjectStoreTest, DescribesEndpointAndBucket) {
  std::unique_ptr<ObjectStore> store = Open(Options(*server_));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Describe(), "s3:" + server_->endpoint() + "/bulwark-test");
  S3Options trailing_slash = Options(*server_);
  trailing_slash.endpoint += "/";
  std::unique_ptr<ObjectStore> other = Open(trailing_slash);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->Describe(), store->Describe());
}

TEST_F(S3ObjectStoreTest, BadKeysAreRefusedWithoutARequest) {
  // A server of its own, stopped once the store is open: any request would now fail with
  // kUnavailable, so kInvalidArgument shows that none was sent.
  Result<std::unique_ptr<S3Server>> own = S3Server::Start("own-bucket");
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  S3Options options = Options(**own);
  std::unique_ptr<ObjectStore> store = Open(options);
  ASSERT_NE(store, nullptr);
  own->reset();

  for (const char* key : {"", "/abs", "a//b", "a/../b", "..", ".hidden", "a/.b", "a b", "a?b",
                          "a%2Fb", "a\\b", "tr/"}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(store->Put(key, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store->Get(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store->Delete(key).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(store->Put(std::string(201, 'k'), "x").code(), StatusCode::kInvalidArgument);

  Status put = store->Put("valid/key", "x");
  EXPECT_EQ(put.code(), StatusCode::kUnavailable) << put.ToString();
  Result<std::unique_ptr<ObjectStore>> reopened = OpenS3ObjectStore(options);
  EXPECT_EQ(reopened.status().code(), StatusCode::kUnavailable) << reopened.status().ToString();
}

TEST_F(S3ObjectStoreTest, MissingBucketFailsAtOpen) {
  S3Options options = Options(*server_);
  options.bucket = "no-such-bucket";
  Result<std::unique_ptr<ObjectStore>> store = OpenS3ObjectStore(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("no-such-bucket"), std::string::npos)
      << store.status().ToString();
}

TEST_F(S3ObjectStoreTest, UnknownAccessKeyIsPermissionDenied) {
  S3Options options = Options(*server_);
  options.access_key = "NOT-A-KEY";
  Result<std::unique_ptr<ObjectStore>> store = OpenS3ObjectStore(options);
  EXPECT_EQ(store.status().code(), StatusCode::kPermissionDenied) << store.status().ToString();
}

TEST_F(S3ObjectStoreTest, ErrorsCarryTheS3CodeAndNeverObjectBytes) {
  ASSERT_EQ(SendUnsigned("PUT", "/doomed-bucket"), 200);
  S3Options options = Options(*server_);
  options.bucket = "doomed-bucket";
  std::unique_ptr<ObjectStore> store = Open(options);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(SendUnsigned("DELETE", "/doomed-bucket"), 204);

  Status put = store->Put("t1/secret", "SECRET-OBJECT-BYTES");
  EXPECT_EQ(put.code(), StatusCode::kFailedPrecondition) << put.ToString();
  EXPECT_NE(put.message().find("NoSuchBucket"), std::string::npos) << put.ToString();
  EXPECT_EQ(put.message().find("SECRET"), std::string::npos) << put.ToString();
  Result<std::string> got = store->Get("t1/secret");
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition) << got.status().ToString();
  EXPECT_EQ(store->Delete("t1/secret").code(), StatusCode::kFailedPrecondition);
}

TEST_F(S3ObjectStoreTest, RefusesBadOptions) {
  S3Options options = Options(*server_);
  options.endpoint = "ftp://127.0.0.1:1";
  EXPECT_EQ(OpenS3ObjectStore(options).status().code(), StatusCode::kInvalidArgument);
  options.endpoint = server_->endpoint() + "/prefix";
  EXPECT_EQ(OpenS3ObjectStore(options).status().code(), StatusCode::kInvalidArgument);
  options = Options(*server_);
  options.bucket = "Upper_Case";
  EXPECT_EQ(OpenS3ObjectStore(options).status().code(), StatusCode::kInvalidArgument);
  options = Options(*server_);
  options.secret_key.clear();
  EXPECT_EQ(OpenS3ObjectStore(options).status().code(), StatusCode::kInvalidArgument);
  options = Options(*server_);
  options.ca_file = "/nonexistent.pem";
  EXPECT_EQ(OpenS3ObjectStore(options).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3ObjectStoreTest, ConcurrentCallsEachGetTheirObject) {
  std::unique_ptr<ObjectStore> store = Open(Options(*server_));
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10 && results[t].ok(); ++i) {
        const std::string key = "t1/c/" + std::to_string(t) + "-" + std::to_string(i);
        const std::string value = key + std::string(1000 * (i + 1), static_cast<char>(t));
        results[t] = store->Put(key, value);
        if (!results[t].ok()) break;
        Result<std::string> got = store->Get(key);
        if (!got.ok()) {
          results[t] = got.status();
        } else if (*got != value) {
          results[t] = InternalError("wrong bytes for " + key);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Status& result : results) EXPECT_TRUE(result.ok()) << result.ToString();
}

}  // namespace
}  // namespace bulwark::security

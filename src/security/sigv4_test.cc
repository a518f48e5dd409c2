#include "security/sigv4.h"

#include <gtest/gtest.h>

#include <string>

namespace bulwark::security::sigv4 {
namespace {

// The examples of "Signature Calculations for the Authorization Header: Transferring Payload
// in a Single Chunk" in the Amazon S3 API Reference (docs.aws.amazon.com/AmazonS3/latest/API/
// sig-v4-header-based-auth.html): same credentials, bucket and time for all of them.
const Credentials kExampleCredentials = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
constexpr char kHost[] = "examplebucket.s3.amazonaws.com";
constexpr char kDate[] = "20130524T000000Z";
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(SigV4Test, AwsGetObjectExample) {
  Request request;
  request.method = "GET";
  request.path = "/test.txt";
  request.payload_sha256 = kEmptySha256;
  request.amz_date = kDate;
  request.headers = {{"Host", kHost},
                     {"Range", "bytes=0-9"},
                     {"x-amz-content-sha256", kEmptySha256},
                     {"x-amz-date", kDate}};
  Result<Signature> signature = Sign(request, kExampleCredentials);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(signature->canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(signature->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(signature->signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(signature->authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, AwsPutObjectExample) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = Sha256Hex(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Request request;
  request.method = "PUT";
  request.path = "/" + UriEncode("test$file.text", false);
  EXPECT_EQ(request.path, "/test%24file.text");
  request.payload_sha256 = hash;
  request.amz_date = kDate;
  request.headers = {{"Host", kHost},
                     {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                     {"x-amz-date", kDate},
                     {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                     {"x-amz-content-sha256", hash}};
  Result<Signature> signature = Sign(request, kExampleCredentials);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(signature->signed_headers,
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(signature->signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, AwsGetBucketLifecycleExample) {
  Request request;
  request.method = "GET";
  request.path = "/";
  request.query = {{"lifecycle", ""}};
  request.payload_sha256 = kEmptySha256;
  request.amz_date = kDate;
  request.headers = {
      {"Host", kHost}, {"x-amz-date", kDate}, {"x-amz-content-sha256", kEmptySha256}};
  Result<Signature> signature = Sign(request, kExampleCredentials);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(signature->signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, AwsListObjectsExample) {
  Request request;
  request.method = "GET";
  request.path = "/";
  request.query = {{"prefix", "J"}, {"max-keys", "2"}};  // sorted by the signer
  request.payload_sha256 = kEmptySha256;
  request.amz_date = kDate;
  request.headers = {
      {"Host", kHost}, {"x-amz-date", kDate}, {"x-amz-content-sha256", kEmptySha256}};
  Result<Signature> signature = Sign(request, kExampleCredentials);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(signature->signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndCollapsed) {
  Request request;
  request.method = "GET";
  request.path = "/k";
  request.payload_sha256 = kEmptySha256;
  request.amz_date = kDate;
  request.headers = {{"HOST", "  h  "}, {"X-Amz-Date", kDate}, {"X-Custom", " a   b  c "}};
  Result<Signature> signature = Sign(request, kExampleCredentials);
  ASSERT_TRUE(signature.ok());
  EXPECT_NE(signature->canonical_request.find("host:h\n"), std::string::npos);
  EXPECT_NE(signature->canonical_request.find("x-custom:a b c\n"), std::string::npos);
  EXPECT_EQ(signature->signed_headers, "host;x-amz-date;x-custom");
}

TEST(SigV4Test, Encoding) {
  EXPECT_EQ(UriEncode("a/b c~d_e.f-g", false), "a/b%20c~d_e.f-g");
  EXPECT_EQ(UriEncode("a/b+=&\xff", true), "a%2Fb%2B%3D%26%FF");
  EXPECT_EQ(CanonicalQuery({{"b", "2"}, {"a", "x y"}, {"a", "1"}}), "a=1&a=x%20y&b=2");
  EXPECT_EQ(CanonicalQuery({}), "");
  EXPECT_EQ(Sha256Hex(""), kEmptySha256);
  EXPECT_EQ(FormatAmzDate(1369353600), kDate);
}

TEST(SigV4Test, RefusesBadInput) {
  Request request;
  request.method = "GET";
  request.path = "/";
  request.payload_sha256 = kEmptySha256;
  request.headers = {{"host", kHost}, {"x-amz-date", kDate}};
  request.amz_date = "2013-05-24";
  EXPECT_EQ(Sign(request, kExampleCredentials).status().code(), StatusCode::kInvalidArgument);
  request.amz_date = kDate;
  Credentials no_secret = kExampleCredentials;
  no_secret.secret_key.clear();
  EXPECT_EQ(Sign(request, no_secret).status().code(), StatusCode::kInvalidArgument);
  request.headers = {{"x-amz-date", kDate}};
  EXPECT_EQ(Sign(request, kExampleCredentials).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bulwark::security::sigv4

#include "security/credentials.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace bulwark::security {
namespace {

// RFC 6238 / RFC 4226 test secret "12345678901234567890", base32.
constexpr char kRfcSecret[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

TEST(Base32Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base32Encode(""), "");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(Base32Encode("fo"), "MZXQ");
  EXPECT_EQ(Base32Encode("foo"), "MZXW6");
  EXPECT_EQ(Base32Encode("foob"), "MZXW6YQ");
  EXPECT_EQ(Base32Encode("fooba"), "MZXW6YTB");
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32Encode("12345678901234567890"), kRfcSecret);
}

TEST(Base32Test, DecodesRfc4648VectorsWithOrWithoutPaddingInEitherCase) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"MY======", "f"},
      {"MZXQ====", "fo"},
      {"MZXW6===", "foo"},
      {"MZXW6YQ=", "foob"},
      {"MZXW6YTB", "fooba"},
      {"MZXW6YTBOI======", "foobar"},
  };
  for (const auto& [encoded, decoded] : vectors) {
    SCOPED_TRACE(encoded);
    EXPECT_EQ(Base32Decode(encoded), std::optional<std::string>(decoded));
    std::string unpadded(encoded);
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(Base32Decode(unpadded), std::optional<std::string>(decoded));
    std::string lower = unpadded;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(Base32Decode(lower), std::optional<std::string>(decoded));
  }
}

TEST(Base32Test, RejectsMalformedInput) {
  EXPECT_FALSE(Base32Decode("M").has_value());         // impossible length
  EXPECT_FALSE(Base32Decode("MZX").has_value());       // impossible length
  EXPECT_FALSE(Base32Decode("MZXW6Y").has_value());    // impossible length
  EXPECT_FALSE(Base32Decode("MZ1Q").has_value());      // '1' is not base32
  EXPECT_FALSE(Base32Decode("MZ XQ").has_value());     // whitespace
  EXPECT_FALSE(Base32Decode("MY=").has_value());       // padding to a wrong length
  EXPECT_FALSE(Base32Decode("M=Y=====").has_value());  // data after padding
  EXPECT_FALSE(Base32Decode("MZ").has_value());        // non-zero unused bits
  EXPECT_FALSE(Base32Decode("========").has_value());  // padding only
  EXPECT_FALSE(Base32Decode("MZXW6YTB========").has_value());
}

TEST(Base32Test, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(Base32Decode(Base32Encode(bytes)), std::optional<std::string>(bytes));
    bytes.push_back(static_cast<char>(i * 37 + 255));
  }
}

TEST(TotpTest, MatchesRfc6238AppendixBSha1Vectors) {
  const TotpParameters params{.digits = 8, .period_seconds = 30, .allowed_drift_steps = 1};
  const std::pair<std::int64_t, const char*> vectors[] = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
  };
  for (const auto& [time, code] : vectors) {
    SCOPED_TRACE(time);
    Result<std::string> result = TotpCode(kRfcSecret, time, params);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(*result, code);
  }
}

TEST(TotpTest, MatchesRfc4226AppendixDHotpVectors) {
  // With a one-second period the TOTP step is the time itself: HOTP(counter).
  const TotpParameters params{.digits = 6, .period_seconds = 1, .allowed_drift_steps = 0};
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (int counter = 0; counter < 10; ++counter) {
    Result<std::string> code = TotpCode(kRfcSecret, counter, params);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, expected[counter]) << counter;
  }
}

TEST(TotpTest, RefusesBadSecretTimeAndParameters) {
  EXPECT_EQ(TotpCode("", 59).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TotpCode("not base32!", 59).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TotpCode(kRfcSecret, -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TotpCode(kRfcSecret, 59, {.digits = 5}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TotpCode(kRfcSecret, 59, {.digits = 9}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TotpCode(kRfcSecret, 59, {.period_seconds = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(TotpCode(kRfcSecret, 59, {.allowed_drift_steps = -1}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TotpTest, VerifyAcceptsNeighbouringStepsOnly) {
  const std::string secret = NewTotpSecret();
  const std::int64_t now = 1700000000;  // step 56666666, 20 s into it
  const std::int64_t step = now / 30;
  for (std::int64_t delta : {-1, 0, 1}) {
    Result<std::string> code = TotpCode(secret, now + 30 * delta);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(VerifyTotp(secret, *code, now, -1), std::optional<std::int64_t>(step + delta))
        << delta;
  }
  for (std::int64_t delta : {-3, -2, 2, 3}) {
    Result<std::string> code = TotpCode(secret, now + 30 * delta);
    ASSERT_TRUE(code.ok());
    // A collision with a neighbouring step's code is possible but one in a million.
    EXPECT_FALSE(VerifyTotp(secret, *code, now, -1).has_value()) << delta;
  }
  // A wider window accepts two steps away; no drift accepts only the current step.
  Result<std::string> two_back = TotpCode(secret, now - 60);
  ASSERT_TRUE(two_back.ok());
  EXPECT_EQ(VerifyTotp(secret, *two_back, now, -1, {.allowed_drift_steps = 2}),
            std::optional<std::int64_t>(step - 2));
  Result<std::string> one_back = TotpCode(secret, now - 30);
  ASSERT_TRUE(one_back.ok());
  EXPECT_FALSE(VerifyTotp(secret, *one_back, now, -1, {.allowed_drift_steps = 0}).has_value());
}

TEST(TotpTest, VerifyRefusesReplay) {
  const std::string secret = NewTotpSecret();
  const std::int64_t now = 1700000000;
  Result<std::string> code = TotpCode(secret, now);
  ASSERT_TRUE(code.ok());
  std::optional<std::int64_t> step = VerifyTotp(secret, *code, now, -1);
  ASSERT_TRUE(step.has_value());
  // The same code again, even a little later in the same window, is a replay.
  EXPECT_FALSE(VerifyTotp(secret, *code, now, *step).has_value());
  EXPECT_FALSE(VerifyTotp(secret, *code, now + 25, *step).has_value());
  // An older step's code after a newer one was used is also refused.
  Result<std::string> previous = TotpCode(secret, now - 30);
  ASSERT_TRUE(previous.ok());
  EXPECT_FALSE(VerifyTotp(secret, *previous, now, *step).has_value());
  // The next step's code is fine.
  Result<std::string> next = TotpCode(secret, now + 30);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(VerifyTotp(secret, *next, now + 30, *step), std::optional<std::int64_t>(*step + 1));
}

TEST(TotpTest, VerifyRefusesMalformedCodesAndSecrets) {
  const std::int64_t now = 59;
  EXPECT_EQ(VerifyTotp(kRfcSecret, "94287082", now, -1, {.digits = 8}),
            std::optional<std::int64_t>(1));
  EXPECT_FALSE(VerifyTotp(kRfcSecret, "9428708", now, -1, {.digits = 8}).has_value());
  EXPECT_FALSE(VerifyTotp(kRfcSecret, "942870822", now, -1, {.digits = 8}).has_value());
  EXPECT_FALSE(VerifyTotp(kRfcSecret, "9428708a", now, -1, {.digits = 8}).has_value());
  EXPECT_FALSE(VerifyTotp(kRfcSecret, "", now, -1).has_value());
  EXPECT_FALSE(VerifyTotp("", "94287082", now, -1, {.digits = 8}).has_value());
  EXPECT_FALSE(VerifyTotp("!!", "94287082", now, -1, {.digits = 8}).has_value());
  EXPECT_FALSE(VerifyTotp(kRfcSecret, "94287082", -5, -1, {.digits = 8}).has_value());
}

TEST(TotpTest, NewSecretIs160BitsOfBase32) {
  const std::string a = NewTotpSecret();
  EXPECT_EQ(a.size(), 32u);
  std::optional<std::string> decoded = Base32Decode(a);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->size(), 20u);
  EXPECT_NE(a, NewTotpSecret());
}

TEST(TotpTest, ProvisioningUriIsPercentEncoded) {
  EXPECT_EQ(TotpProvisioningUri("Bulwark", "alice@example.com", "gezdgnbv===="),
            "otpauth://totp/Bulwark:alice%40example.com?secret=GEZDGNBV&issuer=Bulwark"
            "&digits=6&period=30");
  EXPECT_EQ(TotpProvisioningUri("ACME Co: Mail", "bob smith+1@x.org", "MZXW6", {.digits = 8}),
            "otpauth://totp/ACME%20Co%3A%20Mail:bob%20smith%2B1%40x.org?secret=MZXW6"
            "&issuer=ACME%20Co%3A%20Mail&digits=8&period=30");
  EXPECT_EQ(TotpProvisioningUri("\xc3\xa9&=?/", "a~b-c_d.e", "MZXW6"),
            "otpauth://totp/%C3%A9%26%3D%3F%2F:a~b-c_d.e?secret=MZXW6"
            "&issuer=%C3%A9%26%3D%3F%2F&digits=6&period=30");
}

TEST(PasswordTest, HashesAndVerifies) {
  Result<std::string> hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(VerifyPassword(*hash, "Correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  // Salted: the same password hashes differently each time, and both verify.
  Result<std::string> again = HashPassword("correct horse battery staple");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);
  EXPECT_TRUE(VerifyPassword(*again, "correct horse battery staple"));
}

TEST(PasswordTest, PasswordsWithNulBytesAreWholeBytes) {
  const std::string password("abcdefghijkl\0mnop", 17);
  Result<std::string> hash = HashPassword(password);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(VerifyPassword(*hash, password));
  EXPECT_FALSE(VerifyPassword(*hash, "abcdefghijkl"));
}

TEST(PasswordTest, MalformedHashesNeverVerify) {
  Result<std::string> hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(VerifyPassword("", "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword("$argon2id$", "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword("not a hash at all", "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(hash->substr(0, hash->size() - 4), "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash + std::string(1, '\0'), "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(std::string(1000, '$'), "correct horse battery staple"));
  std::string tampered = *hash;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyPassword(tampered, "correct horse battery staple"));
}

TEST(PasswordTest, EnforcesLengthPolicy) {
  EXPECT_EQ(HashPassword("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(kMinPasswordBytes - 1, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(kMaxPasswordBytes + 1, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  Result<std::string> shortest = HashPassword(std::string(kMinPasswordBytes, 'a'));
  ASSERT_TRUE(shortest.ok());
  EXPECT_TRUE(VerifyPassword(*shortest, std::string(kMinPasswordBytes, 'a')));
  const std::string longest(kMaxPasswordBytes, 'z');
  Result<std::string> longest_hash = HashPassword(longest);
  ASSERT_TRUE(longest_hash.ok());
  EXPECT_TRUE(VerifyPassword(*longest_hash, longest));
  EXPECT_FALSE(VerifyPassword(*longest_hash, longest + "z"));
}

TEST(RandomTest, HexHasTheRequestedLengthAndVaries) {
  EXPECT_EQ(RandomHex(0), "");
  for (std::size_t n : {1u, 16u, 32u, 100u}) {
    const std::string hex = RandomHex(n);
    EXPECT_EQ(hex.size(), 2 * n);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  }
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

TEST(RandomTest, PasswordsAvoidLookAlikesAndSatisfyThePolicy) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string password = RandomPassword();
    EXPECT_EQ(password.size(), 20u);
    EXPECT_GE(password.size(), kMinPasswordBytes);
    EXPECT_EQ(password.find_first_of("0Oo1lIi"), std::string::npos) << password;
    for (char c : password) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << password;
    seen.insert(password);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(TokenTest, SecretHasTheDocumentedShape) {
  const std::string secret = NewTokenSecret("site1");
  ASSERT_EQ(secret.size(), 4 + 5 + 1 + 64u);
  EXPECT_EQ(secret.rfind("bwk_site1_", 0), 0u);
  EXPECT_EQ(secret.find_first_not_of("0123456789abcdef", 10), std::string::npos);
  EXPECT_NE(secret, NewTokenSecret("site1"));
}

TEST(TokenTest, HashIsSha256Hex) {
  EXPECT_EQ(TokenSecretHash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string secret = NewTokenSecret("site1");
  EXPECT_EQ(TokenSecretHash(secret), TokenSecretHash(secret));
  EXPECT_NE(TokenSecretHash(secret), TokenSecretHash(NewTokenSecret("site1")));
}

TEST(TokenTest, SiteIsExtractedEvenWithUnderscores) {
  EXPECT_EQ(TokenSite(NewTokenSecret("site1")), std::optional<std::string>("site1"));
  EXPECT_EQ(TokenSite(NewTokenSecret("eu_west_2")), std::optional<std::string>("eu_west_2"));
  const std::string hex(64, 'a');
  EXPECT_EQ(TokenSite("bwk_s_" + hex), std::optional<std::string>("s"));
  EXPECT_FALSE(TokenSite("bwk__" + hex).has_value());                        // empty site
  EXPECT_FALSE(TokenSite("bwk_site1" + hex).has_value());                    // no separator
  EXPECT_FALSE(TokenSite("xyz_site1_" + hex).has_value());                   // wrong prefix
  EXPECT_FALSE(TokenSite("bwk_site1_" + hex.substr(1)).has_value());         // short
  EXPECT_FALSE(TokenSite("bwk_site1_" + std::string(64, 'A')).has_value());  // upper case
  EXPECT_FALSE(TokenSite("bwk_si te_" + hex).has_value());                   // whitespace
  EXPECT_FALSE(TokenSite("").has_value());
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace bulwark::security

#include "security/envelope.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "security/test_dir.h"

namespace bulwark::security {
namespace {

constexpr char kHexKey[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

Key SequentialKey() {
  std::array<std::uint8_t, Key::kSize> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
  return Key(bytes);
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::binary) << content;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(KeyTest, RandomKeysDifferAndHaveAnId) {
  const Key a = Key::Random();
  const Key b = Key::Random();
  EXPECT_NE(a.bytes(), b.bytes());
  EXPECT_NE(a.bytes(), Key().bytes());
  EXPECT_EQ(KeyId(a).size(), 8u);
  EXPECT_EQ(KeyId(a), KeyId(Key(a)));
  EXPECT_NE(KeyId(a), KeyId(b));
  // SHA-256 of 32 zero bytes is 66687aad…
  EXPECT_EQ(KeyId(Key()), "66687aad");
}

TEST(KekTest, ParsesHexInEitherCase) {
  Result<Key> key = ParseKekHex(kHexKey);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->bytes(), SequentialKey().bytes());
  std::string upper(kHexKey);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Result<Key> upper_key = ParseKekHex(upper);
  ASSERT_TRUE(upper_key.ok());
  EXPECT_EQ(upper_key->bytes(), SequentialKey().bytes());
}

TEST(KekTest, ParseRefusesAnythingButSixtyFourHexDigits) {
  EXPECT_EQ(ParseKekHex("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKekHex(std::string(kHexKey).substr(0, 62)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKekHex(std::string(kHexKey) + "00").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKekHex(std::string(kHexKey) + "\n").status().code(), StatusCode::kInvalidArgument);
  std::string bad(kHexKey);
  bad[10] = 'g';
  EXPECT_EQ(ParseKekHex(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(KekTest, LoadsHexFilesWithOrWithoutNewlineAndRawFiles) {
  TestDir dir;
  const std::pair<const char*, std::string> files[] = {
      {"plain", kHexKey},
      {"newline", std::string(kHexKey) + "\n"},
      {"crlf", std::string(kHexKey) + "\r\n"},
      {"raw", std::string(reinterpret_cast<const char*>(SequentialKey().bytes().data()), 32)},
  };
  for (const auto& [name, content] : files) {
    SCOPED_TRACE(name);
    WriteFile(dir.Join(name), content, 0600);
    Result<Key> key = LoadKekFile(dir.Join(name));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(key->bytes(), SequentialKey().bytes());
  }
  WriteFile(dir.Join("read-only"), kHexKey, 0400);
  EXPECT_TRUE(LoadKekFile(dir.Join("read-only")).ok());
}

TEST(KekTest, LoadRefusesFilesOthersCanAccess) {
  TestDir dir;
  for (mode_t mode : {0640, 0604, 0644, 0660, 0601, 0610, 0666}) {
    SCOPED_TRACE(mode);
    const std::string path = dir.Join("kek");
    WriteFile(path, kHexKey, mode);
    Result<Key> key = LoadKekFile(path);
    EXPECT_EQ(key.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos)
        << key.status().message();
    ASSERT_EQ(::unlink(path.c_str()), 0);
  }
}

TEST(KekTest, LoadRefusesBadContentAndMissingFiles) {
  TestDir dir;
  EXPECT_EQ(LoadKekFile(dir.Join("absent")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadKekFile(dir.path()).status().code(), StatusCode::kInvalidArgument);
  const std::string bad_contents[] = {
      "",
      std::string(kHexKey).substr(0, 32),  // 32 hex digits: half a key, not raw bytes
      std::string(kHexKey).substr(0, 63) + "\n",
      std::string(kHexKey) + "\n\n",
      std::string(kHexKey) + " ",
      " " + std::string(kHexKey),
      std::string(31, 'x'),
      std::string(33, 'x'),
      std::string(10000, 'a'),
  };
  for (const std::string& content : bad_contents) {
    SCOPED_TRACE(content.size());
    const std::string path = dir.Join("kek");
    WriteFile(path, content, 0600);
    EXPECT_EQ(LoadKekFile(path).status().code(), StatusCode::kInvalidArgument);
    ASSERT_EQ(::unlink(path.c_str()), 0);
  }
}

TEST(KekTest, CreatesAPrivateFileAndNeverReplacesIt) {
  TestDir dir;
  const std::string path = dir.Join("etc/bulwark/kek");
  Result<Key> created = CreateKekFile(path);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(dir.Join("etc")), 0700u);
  EXPECT_EQ(ModeOf(dir.Join("etc/bulwark")), 0700u);
  const std::string content = ReadFile(path);
  EXPECT_EQ(content.size(), 65u);
  EXPECT_EQ(content.back(), '\n');
  EXPECT_EQ(content.find_first_not_of("0123456789abcdef"), 64u);

  Result<Key> loaded = LoadKekFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->bytes(), created->bytes());

  EXPECT_EQ(CreateKekFile(path).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(path), content);
}

TEST(KekTest, CreateIgnoresTheUmask) {
  TestDir dir;
  const mode_t old_umask = ::umask(0277);
  Result<Key> created = CreateKekFile(dir.Join("kek"));
  ::umask(old_umask);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(ModeOf(dir.Join("kek")), 0600u);
  EXPECT_TRUE(LoadKekFile(dir.Join("kek")).ok());
}

TEST(KekTest, CreateRefusesAParentThatIsAFile) {
  TestDir dir;
  WriteFile(dir.Join("file"), "x", 0600);
  EXPECT_FALSE(CreateKekFile(dir.Join("file/kek")).ok());
  EXPECT_EQ(CreateKekFile("").status().code(), StatusCode::kInvalidArgument);
}

TEST(SealTest, RoundTripsWithTheDocumentedLayout) {
  const Key key = Key::Random();
  for (const std::string& plaintext :
       {std::string(), std::string("x"), std::string("hello, world"), std::string(100000, 'q')}) {
    SCOPED_TRACE(plaintext.size());
    Result<std::string> sealed = Seal(key, plaintext, "tenant-1/object-9");
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    EXPECT_EQ(sealed->size(), 1 + 12 + plaintext.size() + 16);
    EXPECT_EQ((*sealed)[0], '\x01');
    Result<std::string> opened = Open(key, *sealed, "tenant-1/object-9");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(SealTest, NoncesAreFreshEachTime) {
  const Key key = Key::Random();
  Result<std::string> a = Seal(key, "same", "aad");
  Result<std::string> b = Seal(key, "same", "aad");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->substr(1, 12), b->substr(1, 12));
  EXPECT_NE(*a, *b);
}

TEST(SealTest, AnyFlippedByteIsRefused) {
  const Key key = Key::Random();
  Result<std::string> sealed = Seal(key, "quarantined invoice.exe", "t1/o1");
  ASSERT_TRUE(sealed.ok());
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string tampered = *sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ flip);
      Result<std::string> opened = Open(key, tampered, "t1/o1");
      ASSERT_FALSE(opened.ok()) << i;
      // The version byte is format, checked before authentication.
      EXPECT_EQ(opened.status().code(),
                i == 0 ? StatusCode::kInvalidArgument : StatusCode::kPermissionDenied)
          << i;
    }
  }
}

TEST(SealTest, WrongKeyOrAadIsRefused) {
  const Key key = Key::Random();
  Result<std::string> sealed = Seal(key, "secret", "tenant-1/object-1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(Open(Key::Random(), *sealed, "tenant-1/object-1").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Open(key, *sealed, "tenant-2/object-1").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Open(key, *sealed, "").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Open(key, *sealed, "tenant-1/object-1 ").status().code(),
            StatusCode::kPermissionDenied);
}

TEST(SealTest, TruncatedOrUnknownInputIsInvalid) {
  const Key key = Key::Random();
  Result<std::string> sealed = Seal(key, "", "aad");  // exactly the minimum, 29 bytes
  ASSERT_TRUE(sealed.ok());
  for (std::size_t size = 0; size < sealed->size(); ++size) {
    EXPECT_EQ(Open(key, sealed->substr(0, size), "aad").status().code(),
              StatusCode::kInvalidArgument)
        << size;
  }
  std::string version_two = *sealed;
  version_two[0] = '\x02';
  EXPECT_EQ(Open(key, version_two, "aad").status().code(), StatusCode::kInvalidArgument);
  // Past the minimum size, a cut shows as a failed authentication.
  Result<std::string> longer = Seal(key, "some plaintext", "aad");
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(Open(key, longer->substr(0, longer->size() - 1), "aad").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Open(key, *longer + "x", "aad").status().code(), StatusCode::kPermissionDenied);
}

TEST(WrapKeyTest, RoundTripsAsPrintableText) {
  const Key kek = Key::Random();
  const Key dek = Key::Random();
  Result<std::string> wrapped = WrapKey(kek, dek, "tenant-1");
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(wrapped->size(), 84u);  // base64 of 1 + 12 + 32 + 16 = 61 bytes
  EXPECT_EQ(wrapped->find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
            std::string::npos);
  Result<Key> unwrapped = UnwrapKey(kek, *wrapped, "tenant-1");
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(unwrapped->bytes(), dek.bytes());
}

TEST(WrapKeyTest, IsBoundToTenantAndKek) {
  const Key kek = Key::Random();
  Result<std::string> wrapped = WrapKey(kek, Key::Random(), "tenant-1");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(UnwrapKey(kek, *wrapped, "tenant-2").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(UnwrapKey(kek, *wrapped, "tenant-10").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(UnwrapKey(Key::Random(), *wrapped, "tenant-1").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(WrapKey(kek, Key(), "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(UnwrapKey(kek, *wrapped, "").status().code(), StatusCode::kInvalidArgument);
}

TEST(WrapKeyTest, RefusesTextThatIsNotStrictBase64) {
  const Key kek = Key::Random();
  Result<std::string> wrapped = WrapKey(kek, Key::Random(), "t");
  ASSERT_TRUE(wrapped.ok());
  ASSERT_EQ(wrapped->substr(wrapped->size() - 2), "==");
  const std::string bad[] = {
      "",
      *wrapped + "\n",
      " " + *wrapped,
      wrapped->substr(0, wrapped->size() - 2),  // padding missing
      wrapped->substr(0, 40) + "*" + wrapped->substr(41),
      wrapped->substr(0, 40) + "=" + wrapped->substr(41),
      wrapped->substr(0, wrapped->size() - 3) + "B==",  // non-zero unused bits
      "AAAA",                                           // valid base64, too short to be sealed
  };
  for (const std::string& text : bad) {
    SCOPED_TRACE(text);
    EXPECT_EQ(UnwrapKey(kek, text, "t").status().code(), StatusCode::kInvalidArgument);
  }
  // Valid base64 of other bytes fails authentication.
  std::string altered = *wrapped;
  altered[40] = altered[40] == 'A' ? 'B' : 'A';
  EXPECT_EQ(UnwrapKey(kek, altered, "t").status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace bulwark::security

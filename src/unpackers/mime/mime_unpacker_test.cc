#include "unpackers/mime/mime_unpacker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "unpackers/mime/mime_walker.h"

namespace bulwark::unpackers {
namespace {

using engine::Finding;
using engine::UnscannableReason;

struct Child {
  std::string name;
  std::string bytes;
  std::optional<engine::ByteRange> stored;  // given with AddStored
};

// Keeps the children it receives; refuses (budget spent) once it holds `capacity`.
class FakeChildSink : public engine::ChildSink {
 public:
  explicit FakeChildSink(std::optional<std::size_t> capacity = std::nullopt)
      : capacity_(capacity) {}
  Status Add(std::string name, content::Blob data) override {
    if (capacity_.has_value() && children.size() >= *capacity_) {
      ++refused;
      return ResourceExhaustedError("object budget spent");
    }
    children.push_back({std::move(name), std::string(data.view()), std::nullopt});
    return OkStatus();
  }
  Status AddStored(std::string name, content::Blob data, engine::ByteRange stored) override {
    Status status = Add(std::move(name), std::move(data));
    if (status.ok()) children.back().stored = stored;
    return status;
  }

  std::vector<Child> children;
  int refused = 0;

 private:
  std::optional<std::size_t> capacity_;
};

struct Outcome {
  Status status;
  std::vector<Child> children;
  std::vector<Finding> findings;
  int refused = 0;

  const Child* Find(const std::string& name) const {
    for (const Child& child : children) {
      if (child.name == name) return &child;
    }
    return nullptr;
  }
  int Count(UnscannableReason reason) const {
    return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                          [&](const Finding& f) { return f.reason == reason; }));
  }
};

content::Object EmailObject(std::string_view bytes) {
  content::Object object;
  object.info.name = "message.eml";
  object.info.type.kind = content::FileKind::kEmail;
  object.info.size = bytes.size();
  object.data = content::Blob::Copy(bytes);
  return object;
}

Outcome Unpack(std::string_view message, const engine::Limits& limits = {},
               std::optional<std::size_t> capacity = std::nullopt) {
  engine::UnpackerPtr unpacker = CreateMimeUnpacker();
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  FakeChildSink children(capacity);
  engine::FindingList findings;
  content::Object object = EmailObject(message);
  Outcome outcome;
  outcome.status = unpacker->Unpack(object, ctx, children, findings);
  outcome.children = std::move(children.children);
  outcome.findings = std::move(findings.findings());
  outcome.refused = children.refused;
  return outcome;
}

constexpr std::string_view kMixedBase64 =
    "From: a@example.com\n"
    "To: b@example.com\n"
    "Subject: report\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\n"
    "\n"
    "preamble\n"
    "--XYZ\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "See the attachment.\n"
    "--XYZ\n"
    "Content-Type: application/zip; name=\"report.zip\"\n"
    "Content-Disposition: attachment; filename=\"report.zip\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "UEsDBCBmYWtlIHppcCAAAf7/\n"
    "IGVuZA==\n"
    "--XYZ--\n";

// A multipart whose boundary parameter is lost (no ';' before it): GMime sees none, and
// the walker splits the body on the boundary its first "--" line shows.
constexpr std::string_view kLostBoundary =
    "From: a@example.com\n"
    "Content-Type: multipart/mixed\n"
    "\tboundary=\"lost\"\n"
    "\n"
    "--lost\n"
    "Content-Type: text/plain\n"
    "\n"
    "payload text\n"
    "--lost\n"
    "Content-Type: application/octet-stream; name=a.bin\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "aGVsbG8=\n"
    "--lost--\n";

TEST(MimeUnpackerTest, AcceptsOnlyEmail) {
  engine::UnpackerPtr unpacker = CreateMimeUnpacker();
  EXPECT_EQ(unpacker->Name(), "mime");
  content::ObjectInfo info;
  info.type.kind = content::FileKind::kEmail;
  EXPECT_TRUE(unpacker->Accepts(info));
  info.type.kind = content::FileKind::kZip;
  EXPECT_FALSE(unpacker->Accepts(info));
  info.type.kind = content::FileKind::kText;
  EXPECT_FALSE(unpacker->Accepts(info));
}

TEST(MimeUnpackerTest, MultipartMixedEmitsDecodedBase64Attachment) {
  Outcome out = Unpack(kMixedBase64);
  ASSERT_TRUE(out.status.ok());
  EXPECT_TRUE(out.findings.empty());
  ASSERT_EQ(out.children.size(), 2u);
  EXPECT_EQ(out.children[0].name, "body.txt");
  EXPECT_EQ(out.children[0].bytes, "See the attachment.");
  EXPECT_EQ(out.children[1].name, "report.zip");
  EXPECT_EQ(out.children[1].bytes, std::string("PK\x03\x04 fake zip \x00\x01\xfe\xff end", 22));
}

// The stored text of a part: where its body stands in the message, as the engine cuts it
// out of what signature scanners read of the message itself.
std::string StoredText(std::string_view message, const Child& child) {
  if (!child.stored) return "<none>";
  EXPECT_LE(child.stored->begin, child.stored->end);
  EXPECT_LE(child.stored->end, message.size());
  return std::string(message.substr(child.stored->begin, child.stored->end - child.stored->begin));
}

TEST(MimeUnpackerTest, EachPartSaysWhereItsEncodedBodyStandsInTheMessage) {
  Outcome out = Unpack(kMixedBase64);
  ASSERT_EQ(out.children.size(), 2u);
  EXPECT_EQ(StoredText(kMixedBase64, out.children[0]), "See the attachment.");
  EXPECT_EQ(StoredText(kMixedBase64, out.children[1]), "UEsDBCBmYWtlIHppcCAAAf7/\nIGVuZA==");
}

TEST(MimeUnpackerTest, PartsThatDoNotComeFromTheMessageAsGivenHaveNoPlaceInIt) {
  // Re-parsed with a guessed boundary: the bodies are in a copy, not in the message.
  Outcome guessed = Unpack(kLostBoundary);
  ASSERT_EQ(guessed.children.size(), 2u);
  EXPECT_FALSE(guessed.children[0].stored.has_value());
  EXPECT_FALSE(guessed.children[1].stored.has_value());
  // An embedded message is written out again from GMime's objects.
  Outcome nested = Unpack(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: inner@example.com\n"
      "Subject: inner\n"
      "\n"
      "inner body\n"
      "--b--\n");
  ASSERT_EQ(nested.children.size(), 1u);
  EXPECT_FALSE(nested.children[0].stored.has_value());
}

TEST(MimeUnpackerTest, DecodesQuotedPrintableBody) {
  Outcome out = Unpack(
      "From: a@example.com\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "caf=C3=A9 au lait, a soft=\n"
      " break and =3D sign\n");
  ASSERT_EQ(out.children.size(), 1u);
  EXPECT_EQ(out.children[0].name, "body.txt");
  EXPECT_EQ(out.children[0].bytes, "caf\xc3\xa9 au lait, a soft break and = sign\n");
}

TEST(MimeUnpackerTest, DecodesRfc2231AndRfc2047FileNames) {
  Outcome out = Unpack(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b1\n"
      "\n"
      "--b1\n"
      "Content-Type: text/plain\n"
      "Content-Disposition: attachment; filename*=UTF-8''na%C3%AFve.txt\n"
      "\n"
      "first\n"
      "--b1\n"
      "Content-Type: application/pdf; name=\"=?UTF-8?B?0YTQsNC50LsucGRm?=\"\n"
      "Content-Disposition: attachment\n"
      "\n"
      "%PDF-1.4\n"
      "--b1--\n");
  ASSERT_EQ(out.children.size(), 2u);
  EXPECT_EQ(out.children[0].name, "na\xc3\xafve.txt");
  EXPECT_EQ(out.children[0].bytes, "first");
  EXPECT_EQ(out.children[1].name, "\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb.pdf");  // "файл.pdf"
  EXPECT_EQ(out.children[1].bytes, "%PDF-1.4");
}

TEST(MimeUnpackerTest, NestedMessageIsOneChildAndNotDescended) {
  Outcome out = Unpack(
      "From: outer@example.com\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: text/plain\n"
      "\n"
      "Forwarding.\n"
      "--outer\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: inner@example.com\n"
      "Subject: inner\n"
      "Content-Type: multipart/mixed; boundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: application/octet-stream; name=evil.exe\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "TVqQAAMAAAAEAAAA\n"
      "--inner--\n"
      "--outer--\n");
  ASSERT_EQ(out.children.size(), 2u) << out.children.back().name;
  EXPECT_EQ(out.children[0].name, "body.txt");
  EXPECT_EQ(out.children[1].name, "attached-message.eml");
  const std::string& inner = out.children[1].bytes;
  EXPECT_NE(inner.find("Subject: inner"), std::string::npos);
  EXPECT_NE(inner.find("TVqQAAMAAAAEAAAA"), std::string::npos);  // still encoded: not ours
  EXPECT_EQ(out.Find("evil.exe"), nullptr);
}

TEST(MimeUnpackerTest, ExtractsUuencodedBlockFromTextBody) {
  Outcome out = Unpack(
      "From: a@example.com\r\n"
      "Subject: old school\r\n"
      "\r\n"
      "Here is the file:\r\n"
      "\r\n"
      "begin 644 hello.txt\r\n"
      R"(=2&5L;&\@9G)O;2!A('5U96YC;V1E9"!F:6QE(0H`)"
      "\r\n"
      "`\r\n"
      "end\r\n"
      "\r\n"
      "Bye.\r\n");
  ASSERT_EQ(out.children.size(), 2u);
  EXPECT_EQ(out.children[0].name, "body.txt");
  EXPECT_NE(out.children[0].bytes.find("begin 644 hello.txt"), std::string::npos);
  EXPECT_EQ(out.children[1].name, "hello.txt");
  EXPECT_EQ(out.children[1].bytes, "Hello from a uuencoded file!\n");
}

TEST(MimeUnpackerTest, UnparsableMessageIsMalformedButUuencodedFilesAreExtracted) {
  Outcome out = Unpack(
      "Send mailing list submissions to\n"
      "\tlist@example.org\n"
      "\n"
      "begin 644 hello.txt\n"
      R"(=2&5L;&\@9G)O;2!A('5U96YC;V1E9"!F:6QE(0H`)"
      "\n`\nend\n");
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.Count(UnscannableReason::kMalformed), 1);
  ASSERT_EQ(out.children.size(), 1u);
  EXPECT_EQ(out.children[0].name, "hello.txt");
  EXPECT_EQ(out.children[0].bytes, "Hello from a uuencoded file!\n");
}

TEST(MimeUnpackerTest, ProseMentioningBeginIsNotUuencode) {
  Outcome out = Unpack(
      "From: a@example.com\n"
      "\n"
      "begin 644 notes\n"
      "this is just a sentence, not data\n"
      "end\n");
  ASSERT_EQ(out.children.size(), 1u);
  EXPECT_EQ(out.children[0].name, "body.txt");
}

TEST(MimeUnpackerTest, DecodesXUuencodeTransferEncoding) {
  Outcome out = Unpack(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: image/png; name=\"dot.png\"\n"
      "Content-Transfer-Encoding: x-uuencode\n"
      "Content-Disposition: attachment; filename=\"dot.png\"\n"
      "\n"
      "begin 600 dot.png\n"
      "2B5!.1PT*&@H@8FEN87)Y(`#_\n"
      "`\n"
      "end\n"
      "--b--\n");
  ASSERT_EQ(out.children.size(), 1u);
  EXPECT_EQ(out.children[0].name, "dot.png");
  EXPECT_EQ(out.children[0].bytes, std::string("\x89PNG\r\n\x1a\n binary \x00\xff", 18));
}

TEST(MimeUnpackerTest, MultipartWithoutBoundaryIsMalformedAndSplitOnGuessedBoundary) {
  Outcome out = Unpack(kLostBoundary);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.Count(UnscannableReason::kMalformed), 1);
  ASSERT_EQ(out.children.size(), 2u);
  EXPECT_EQ(out.children[0].bytes, "payload text");
  EXPECT_EQ(out.children[1].name, "a.bin");
  EXPECT_EQ(out.children[1].bytes, "hello");
}

TEST(MimeUnpackerTest, MultipartThatCannotBeSplitIsMalformedAndKeptAsText) {
  for (const char* content_type : {"multipart/mixed", "multipart/mixed; boundary=never"}) {
    Outcome out = Unpack(std::string("From: a@example.com\nContent-Type: ") + content_type +
                         "\n\nno boundary lines at all, just payload text\n");
    ASSERT_TRUE(out.status.ok());
    EXPECT_EQ(out.Count(UnscannableReason::kMalformed), 1) << content_type;
    ASSERT_EQ(out.children.size(), 1u) << content_type;
    EXPECT_NE(out.children[0].bytes.find("payload text"), std::string::npos);
  }
}

TEST(MimeUnpackerTest, Base64ThatDecodesToNothingIsMalformedAndKeptRaw) {
  Outcome out = Unpack(
      "From: a@example.com\n"
      "Content-Type: application/octet-stream; name=x.bin\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "!!!! ???? ~~~~\n");
  ASSERT_EQ(out.Count(UnscannableReason::kMalformed), 1);
  EXPECT_EQ(out.findings[0].path, content::ObjectPath({"x.bin"}));
  ASSERT_EQ(out.children.size(), 1u);
  EXPECT_NE(out.children[0].bytes.find("!!!!"), std::string::npos);
}

TEST(MimeUnpackerTest, StopsWhenTheChildBudgetIsSpent) {
  std::string message =
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 5; ++i) {
    message += "--b\nContent-Type: text/plain; name=f" + std::to_string(i) + ".txt\n\nbody\n";
  }
  message += "--b--\n";
  Outcome out = Unpack(message, {}, /*capacity=*/1);
  EXPECT_TRUE(out.status.ok());
  ASSERT_EQ(out.children.size(), 1u);
  EXPECT_EQ(out.children[0].name, "f0.txt");
  EXPECT_EQ(out.refused, 1);  // asked once more, then stopped
}

TEST(MimeUnpackerTest, PartOverTheObjectSizeLimitIsAFinding) {
  engine::Limits limits;
  limits.max_object_bytes = 10;
  Outcome out = Unpack(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "\n"
      "short\n"
      "--b\n"
      "Content-Type: application/octet-stream; name=big.bin\n"
      "\n"
      "0123456789abcdefghij\n"
      "--b--\n",
      limits);
  ASSERT_EQ(out.children.size(), 1u);
  EXPECT_EQ(out.children[0].name, "body.txt");
  ASSERT_EQ(out.findings.size(), 1u);
  EXPECT_EQ(out.findings[0].reason, UnscannableReason::kObjectSizeLimit);
  EXPECT_EQ(out.findings[0].detector, "mime");
  EXPECT_EQ(out.findings[0].path, content::ObjectPath({"big.bin"}));
}

TEST(MimeUnpackerTest, ExpiredDeadlineStopsWithTimeLimitFinding) {
  engine::Limits limits;
  limits.max_scan_time = std::chrono::milliseconds(0);
  Outcome out = Unpack(kMixedBase64, limits);
  EXPECT_TRUE(out.status.ok());
  EXPECT_TRUE(out.children.empty());
  EXPECT_EQ(out.Count(UnscannableReason::kTimeLimit), 1);
}

TEST(MimeUnpackerTest, EncryptedSmimeAndPgpAreFlaggedAndEmitted) {
  Outcome out = Unpack(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "MIAGCSqGSIb3DQEHA6CAMIACAQAx\n"
      "--b\n"
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; "
      "boundary=pgp\n"
      "\n"
      "--pgp\n"
      "Content-Type: application/pgp-encrypted\n"
      "\n"
      "Version: 1\n"
      "--pgp\n"
      "Content-Type: application/octet-stream; name=encrypted.asc\n"
      "\n"
      "-----BEGIN PGP MESSAGE-----\n"
      "hQEMA1234\n"
      "-----END PGP MESSAGE-----\n"
      "--pgp--\n"
      "--b--\n");
  ASSERT_EQ(out.children.size(), 3u);
  EXPECT_NE(out.Find("smime.p7m"), nullptr);
  EXPECT_NE(out.Find("encrypted.asc"), nullptr);
  ASSERT_EQ(out.Count(UnscannableReason::kEncrypted), 2);
  std::vector<content::ObjectPath> paths;
  for (const Finding& f : out.findings) paths.push_back(f.path);
  EXPECT_NE(std::find(paths.begin(), paths.end(), content::ObjectPath({"smime.p7m"})), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), content::ObjectPath({"encrypted.asc"})),
            paths.end());
}

TEST(MimeUnpackerTest, DeepMultipartNestingIsCutAtTheDepthLimit) {
  constexpr int kLevels = kMaxMultipartDepth + 20;
  std::string message = "From: a@example.com\n";
  for (int i = 0; i < kLevels; ++i) {
    message += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" +
               std::to_string(i) + "\n";
  }
  message += "Content-Type: text/plain\n\ndeep\n";
  for (int i = kLevels - 1; i >= 0; --i) message += "--b" + std::to_string(i) + "--\n";
  Outcome out = Unpack(message);
  EXPECT_TRUE(out.status.ok());
  EXPECT_EQ(out.Count(UnscannableReason::kDepthLimit), 1);
  EXPECT_TRUE(out.children.empty());
}

TEST(MimeUnpackerTest, GarbageAndEdgeInputsDoNotCrash) {
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>((i * 7919) & 0xff));
  const std::vector<std::string> inputs = {
      "",
      "\n\n\n",
      "From: only-headers@example.com\n",
      binary,
      "Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n",
      "Content-Type: multipart/mixed; boundary=x\n\n--x\n--x\n--x\n",
      "Content-Type: message/rfc822\n\n",
      "Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\nM\n",
      "begin 644 half\nM86)C9&5F\n",
  };
  for (const std::string& input : inputs) {
    Outcome out = Unpack(input);
    EXPECT_TRUE(out.status.ok());
    EXPECT_LE(out.children.size(), 16u);
  }
}

TEST(MimeUnpackerTest, EmptyMessageHasNoFindings) {
  for (const char* input : {"", "\n", " \r\n\t\n"}) {
    Outcome out = Unpack(input);
    EXPECT_TRUE(out.status.ok());
    EXPECT_TRUE(out.findings.empty()) << out.findings[0].detail;
    EXPECT_LE(out.children.size(), 1u);
  }
}

TEST(MimeUnpackerTest, NamesUnnamedPartsByContentType) {
  Outcome out = Unpack(
      "From: a@example.com\n"
      "Content-Type: multipart/alternative; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/plain\n\nplain\n"
      "--b\n"
      "Content-Type: text/html\n\n<p>html</p>\n"
      "--b\n"
      "Content-Type: text/plain\n\nsecond plain\n"
      "--b\n"
      "Content-Type: application/pdf\n\n%PDF\n"
      "--b--\n");
  ASSERT_EQ(out.children.size(), 4u);
  EXPECT_EQ(out.children[0].name, "body.txt");
  EXPECT_EQ(out.children[1].name, "body.html");
  EXPECT_EQ(out.children[2].name, "part-3.txt");
  EXPECT_EQ(out.children[3].name, "part-4.pdf");
}

// Unpack() is const and shared: many threads parse separate messages at once.
TEST(MimeUnpackerTest, ConcurrentUnpacksAgree) {
  engine::UnpackerPtr unpacker = CreateMimeUnpacker();
  std::vector<std::thread> threads;
  std::vector<int> good(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        engine::Limits limits;
        engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
        FakeChildSink children;
        engine::FindingList findings;
        content::Object object = EmailObject(kMixedBase64);
        if (unpacker->Unpack(object, ctx, children, findings).ok() &&
            children.children.size() == 2 && children.children[1].bytes.size() == 22) {
          ++good[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int count : good) EXPECT_EQ(count, 200);
}

}  // namespace
}  // namespace bulwark::unpackers

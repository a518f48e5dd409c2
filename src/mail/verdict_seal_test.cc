// The signed verdict header: a seal verifies on the message it was made for and on
// nothing else — not with another key, site, body, sender or Message-ID, and not after a
// signature update or past its age.
#include "mail/verdict_seal.h"

#include <gtest/gtest.h>

namespace bulwark::mail {
namespace {

const VerdictSealKey kKey{std::string(32, 'k'), "local", "sigs-1"};
constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kWeek = 7 * 86400;

const std::string kMessage =
    "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\n"
    "Message-ID: <1@example.com>\r\nSubject: hello\r\n\r\nBody line\r\n";

std::string Sealed(const std::string& message, const VerdictSealKey& key = kKey) {
  return FormatHeaderField(SealVerdict(key, "clean", message, kNow)) + message;
}

TEST(VerdictSealTest, VerifiesOnTheSealedMessageEvenWithLineEndsRewritten) {
  std::string sealed = Sealed(kMessage);
  SealVerification v = VerifyVerdictSeal(kKey, sealed, kNow + 60, kWeek);
  EXPECT_EQ(v.check, SealCheck::kValid);
  EXPECT_EQ(v.verdict, "clean");
  // A mail store that keeps bare LF and appends a newline.
  std::string lf;
  for (char c : sealed) {
    if (c != '\r') lf.push_back(c);
  }
  EXPECT_EQ(VerifyVerdictSeal(kKey, lf + "\n", kNow, kWeek).check, SealCheck::kValid);
  // Other fields added above it by later hops do not matter.
  EXPECT_EQ(VerifyVerdictSeal(kKey, "Received: from mx\r\n" + sealed, kNow, kWeek).check,
            SealCheck::kValid);
}

TEST(VerdictSealTest, CopiedOrEditedSealsDoNotVerify) {
  std::string sealed = Sealed(kMessage);
  auto check = [](const std::string& m) { return VerifyVerdictSeal(kKey, m, kNow, kWeek).check; };
  std::string other_body = sealed;
  other_body.replace(other_body.find("Body line"), 9, "Evil line");
  EXPECT_EQ(check(other_body), SealCheck::kForged);
  std::string other_sender = sealed;
  other_sender.replace(other_sender.find("alice@"), 6, "ceo@ex");
  EXPECT_EQ(check(other_sender), SealCheck::kForged);
  std::string other_id = sealed;
  other_id.replace(other_id.find("<1@"), 3, "<2@");
  EXPECT_EQ(check(other_id), SealCheck::kForged);
  std::string verdict_edited = sealed;
  verdict_edited.replace(verdict_edited.find("r=clean"), 7, "r=clean");  // same: control
  EXPECT_EQ(check(verdict_edited), SealCheck::kValid);
  verdict_edited.replace(verdict_edited.find("t="), 3, "t=2");
  EXPECT_EQ(check(verdict_edited), SealCheck::kForged);
  EXPECT_EQ(check(Sealed(kMessage, {std::string(32, 'x'), "local", "sigs-1"})), SealCheck::kForged);
  EXPECT_EQ(check(Sealed(kMessage, {std::string(32, 'k'), "other-site", "sigs-1"})),
            SealCheck::kForged);
  EXPECT_EQ(check("X-Bulwark-Signature: v=1; r=clean; m=00\r\n" + kMessage), SealCheck::kForged);
  EXPECT_EQ(check(kMessage), SealCheck::kAbsent);
}

TEST(VerdictSealTest, OldSealsAndSealsOfOtherSignaturesAreStale) {
  std::string sealed = Sealed(kMessage);
  EXPECT_EQ(VerifyVerdictSeal(kKey, sealed, kNow + kWeek + 1, kWeek).check, SealCheck::kStale);
  EXPECT_EQ(VerifyVerdictSeal(kKey, sealed, kNow, 0).check, SealCheck::kStale);
  VerdictSealKey updated = kKey;
  updated.signature_version = "sigs-2";
  EXPECT_EQ(VerifyVerdictSeal(updated, sealed, kNow, kWeek).check, SealCheck::kStale);
  // A forged seal above a valid one does not hide it.
  std::string both = "X-Bulwark-Signature: v=1; m=bad\r\n" + sealed;
  EXPECT_EQ(VerifyVerdictSeal(kKey, both, kNow, kWeek).check, SealCheck::kValid);
}

}  // namespace
}  // namespace bulwark::mail

// The trigger windows: which digit and colon shapes open a window, where it lies, and the
// near misses that must not (they would only cost time) or must (a miss loses recall).

#include "detectors/dlp/trigger_windows.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bulwark::detectors::dlp {
namespace {

constexpr std::size_t kLetterWidth = 65;  // the spaced IBAN expression's longest match

std::vector<std::string> Windows(TriggerKind kind, const std::string& text) {
  TriggerWindows out;
  FindTriggerWindows(text, kLetterWidth, out);
  std::vector<std::string> found;
  for (const Span& w : out.of(kind)) found.push_back(text.substr(w.begin, w.end - w.begin));
  return found;
}

using V = std::vector<std::string>;

TEST(TriggerWindowsTest, DigitChainsOfNineDigitsOrThreeDots) {
  // The chain and two bytes either side.
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "card 4111 1111 1111 1111, ok"),
            V{"d 4111 1111 1111 1111, "});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "tel +1 (415) 555-0132."), V{" +1 (415) 555-0132."});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "ssn 457-55-5462"), V{"n 457-55-5462"});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "457555462"), V{"457555462"});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "ip 10.0.0.1 up"), V{"p 10.0.0.1 u"});
  // Near misses: 8 digits, two dots, prose numbers, separators a chain does not take.
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "call 555-1234 or 1234 5678"), V{});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "version 1.2.3 of 12 March 2024"), V{});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "in 2024. 12 of 2024, 12"), V{});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "1234  5678 9012 and 12/34/56789"), V{});
  // Every separator of the phone expressions joins a chain: ") (", ")-", " (".
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "x(12) (345)-678 9"), V{"x(12) (345)-678 9"});
  // Windows that touch merge; a long table of numbers is one window.
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "123456789 987654321"), V{"123456789 987654321"});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "123456789 x 987654321"), V{"123456789 x 987654321"});
}

TEST(TriggerWindowsTest, LetterDigitStarts) {
  std::string iban = "DE89370400440532013000";
  auto w = Windows(TriggerKind::kLetterDigits, "IBAN: " + iban + ".");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], " " + iban + ".");  // clamped at the text's end
  std::string padded = "x GB82 WEST 1234 5698 7654 32" + std::string(80, ' ');
  w = Windows(TriggerKind::kLetterDigits, padded);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].size(), 1 + kLetterWidth + 1);
  EXPECT_EQ(w[0].substr(0, 5), " GB82");
  EXPECT_EQ(Windows(TriggerKind::kLetterDigits, "NI AB 12 34 56 C").size(), 1u);
  EXPECT_EQ(Windows(TriggerKind::kLetterDigits, "nl91abna0417164300").size(), 1u);
  // Near misses: one digit, no word start, lower-case letters before a space, three letters.
  for (const char* text : {"an mp3 file", "xDE89370400440532013000", "on 12 March", "at 2024",
                           "ABC12345678", "_DE89370400440532013000"}) {
    EXPECT_EQ(Windows(TriggerKind::kLetterDigits, text), V{}) << text;
  }
}

TEST(TriggerWindowsTest, HexColonRuns) {
  EXPECT_EQ(Windows(TriggerKind::kHexColons, "host 2001:db8::8a2e:370:7334 up"),
            V{" 2001:db8::8a2e:370:7334 "});
  EXPECT_EQ(Windows(TriggerKind::kHexColons, "::1"), V{"::1"});
  EXPECT_EQ(Windows(TriggerKind::kHexColons, "dead:beef:cafe"), V{"dead:beef:cafe"});
  // One colon is never an address: "Subject: x", "12:30".
  EXPECT_EQ(Windows(TriggerKind::kHexColons, "Subject: hello at 12:30"), V{});
  // A run is walked once, however many colons it has.
  EXPECT_EQ(Windows(TriggerKind::kHexColons, "a:b:c:d:e:f x"), V{"a:b:c:d:e:f "});
}

TEST(TriggerWindowsTest, BlockEdgesAndLongText) {
  // Digits straddling the SIMD blocks and the scalar tail are all seen.
  for (std::size_t pad = 50; pad < 80; ++pad) {
    std::string text = std::string(pad, 'a') + " 4111111111111111 " + std::string(pad % 7, 'b');
    auto w = Windows(TriggerKind::kDigitChain, text);
    ASSERT_EQ(w.size(), 1u) << pad;
    EXPECT_EQ(w[0], "a 4111111111111111 " + std::string(pad % 7 ? 1 : 0, 'b')) << pad;
  }
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, ""), V{});
  EXPECT_EQ(Windows(TriggerKind::kDigitChain, "1"), V{});
}

TEST(TriggerWindowsTest, BlocksThatAreAllDigits) {
  // A 64-byte block of digits only, at the start or after a shorter run (found by the
  // fuzzer: the run length must not be taken from an all-ones mask).
  for (std::size_t digits : {64u, 65u, 86u, 128u, 200u}) {
    std::string text = std::string(digits, '7') + " tail";
    auto w = Windows(TriggerKind::kDigitChain, text);
    ASSERT_EQ(w.size(), 1u) << digits;
    EXPECT_EQ(w[0], std::string(digits, '7') + " t") << digits;
    w = Windows(TriggerKind::kDigitChain, "ab " + text);
    ASSERT_EQ(w.size(), 1u) << digits;
    EXPECT_EQ(w[0], "b " + std::string(digits, '7') + " t") << digits;
  }
}

}  // namespace
}  // namespace bulwark::detectors::dlp

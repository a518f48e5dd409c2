#include "detectors/phishing/word_set.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace bulwark::phishing {
namespace {

TEST(WordSetTest, TellsWhichWordsOccurAnywhereInTheText) {
  WordSet words({"verify your", "désabonner", "kyc", "absent", "opt-out"});
  const std::vector<bool> expected = {true, true, true, false, false};
  EXPECT_EQ(words.Find("please verify your kyc details. désabonner: opt out"), expected);
}

TEST(WordSetTest, MatchesBytesExactlyAndInsideOtherWords) {
  WordSet words({"suspend", "Suspend"});
  const std::vector<bool> expected = {true, false};
  EXPECT_EQ(words.Find("your account was suspended"), expected);
}

TEST(WordSetTest, EmptyTextAndEmptySet) {
  WordSet words({"a"});
  EXPECT_EQ(words.Find(""), std::vector<bool>{false});
  WordSet none({});
  EXPECT_TRUE(none.Find("anything").empty());
}

TEST(WordSetTest, AgreesWithASearchPerWordOnManyThreads) {
  std::vector<std::string> list;
  for (int i = 0; i < 200; ++i) list.push_back("w" + std::to_string(i * 7) + "x");
  WordSet words(list);
  std::string text;
  for (int i = 0; i < 3000; i += 3) text += "w" + std::to_string(i) + "x ";
  std::vector<bool> expected;
  for (const std::string& w : list) expected.push_back(text.find(w) != std::string::npos);
  std::vector<std::thread> threads;
  std::vector<int> agreed(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) agreed[t] += words.Find(text) == expected;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(agreed[t], 50);
}

}  // namespace
}  // namespace bulwark::phishing

#pragma once
// Which of a fixed set of words occur in a text, found in one Hyperscan pass instead of a
// search per word (the phishing score asks about some two hundred words per message).
// The database is compiled at the first search, not at construction: every process that
// builds a site engine builds the phishing scorer, and most of them (the clamd and ICAP
// front-ends, `bulwark scan` of files) may never score a mail.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::phishing {

class WordSet {
 public:
  // `words`: byte strings, matched exactly (case and all) anywhere in a text.
  explicit WordSet(std::vector<std::string> words);
  ~WordSet();
  WordSet(const WordSet&) = delete;
  WordSet& operator=(const WordSet&) = delete;

  // found[i] tells whether words[i] occurs in `text`.
  // Thread safety: const; may run on many threads at once.
  std::vector<bool> Find(std::string_view text) const;

 private:
  struct Database;
  static std::unique_ptr<Database> Compile(const std::vector<std::string>& words);

  std::vector<std::string> words_;
  mutable std::once_flag compiled_;
  mutable std::unique_ptr<Database> database_;  // null if Hyperscan refused: each word is searched
};

}  // namespace bulwark::phishing

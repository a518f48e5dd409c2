#include "detectors/phishing/word_set.h"

#include <hs.h>

#include <utility>

namespace bulwark::phishing {

struct WordSet::Database {
  struct DatabaseFree {
    void operator()(hs_database_t* database) const { hs_free_database(database); }
  };
  struct ScratchFree {
    void operator()(hs_scratch_t* region) const { hs_free_scratch(region); }
  };
  std::unique_ptr<hs_database_t, DatabaseFree> db;
  // Cloned for each search: a scratch region serves one scan at a time.
  std::unique_ptr<hs_scratch_t, ScratchFree> prototype;
  using Scratch = std::unique_ptr<hs_scratch_t, ScratchFree>;
};

WordSet::WordSet(std::vector<std::string> words) : words_(std::move(words)) {}

WordSet::~WordSet() = default;

std::unique_ptr<WordSet::Database> WordSet::Compile(const std::vector<std::string>& words) {
  if (words.empty()) return nullptr;
  std::vector<const char*> expressions;
  std::vector<std::size_t> lengths;
  std::vector<unsigned> flags(words.size(), HS_FLAG_SINGLEMATCH);
  std::vector<unsigned> ids;
  for (std::size_t i = 0; i < words.size(); ++i) {
    expressions.push_back(words[i].data());
    lengths.push_back(words[i].size());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_lit_multi(expressions.data(), flags.data(), ids.data(), lengths.data(),
                           static_cast<unsigned>(words.size()), HS_MODE_BLOCK, nullptr, &db,
                           &error) != HS_SUCCESS) {
    hs_free_compile_error(error);
    return nullptr;
  }
  auto database = std::make_unique<Database>();
  database->db.reset(db);
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) return nullptr;
  database->prototype.reset(scratch);
  return database;
}

std::vector<bool> WordSet::Find(std::string_view text) const {
  std::call_once(compiled_, [this] { database_ = Compile(words_); });
  std::vector<bool> found(words_.size());
  hs_scratch_t* clone = nullptr;
  if (database_ != nullptr && text.size() <= 0xFFFFFFFFu &&
      hs_clone_scratch(database_->prototype.get(), &clone) == HS_SUCCESS) {
    Database::Scratch scratch(clone);
    auto on_match = [](unsigned id, unsigned long long, unsigned long long, unsigned,
                       void* context) -> int {
      (*static_cast<std::vector<bool>*>(context))[id] = true;
      return 0;
    };
    if (hs_scan(database_->db.get(), text.data(), static_cast<unsigned>(text.size()), 0,
                scratch.get(), on_match, &found) == HS_SUCCESS) {
      return found;
    }
    found.assign(words_.size(), false);
  }
  for (std::size_t i = 0; i < words_.size(); ++i) {
    found[i] = text.find(words_[i]) != std::string_view::npos;
  }
  return found;
}

}  // namespace bulwark::phishing

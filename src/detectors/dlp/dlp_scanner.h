#pragma once
// DlpScanner: the identifiers keyed on literals (secrets, anchor words), the context words
// and custom patterns compiled into one Hyperscan block-mode database, matched in one pass
// that reports match ends only; the start of each candidate is then found by a bounded
// rescan, and a few identifiers are looked for only in bounded windows around their anchor
// words. The digit- and colon-shaped identifiers (cards, IBAN, SSN, NINO, phone, IP) are
// matched only inside the trigger windows one SIMD pass finds (trigger_windows.h), with a
// small database per kind of window (docs/dlp.md). Validators then run on the candidates
// only. Built once, shared read-only by every scan.
//
// Thread safety: Scan() may be called from any number of threads at once. Each call
// borrows an hs_scratch_t from a small pool (cloning the prototype when the pool is
// empty) and gives it back afterwards.

#include <array>
#include <bitset>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"
#include "detectors/dlp/dlp_config.h"
#include "detectors/dlp/identifiers.h"
#include "detectors/dlp/trigger_windows.h"

struct hs_database;
struct hs_scratch;

namespace bulwark::detectors::dlp {

// Words near or in a text that raise or lower confidence in a template.
enum class Context {
  kPayment,     // "credit card", "cvv", "expiry", …
  kPersonal,    // "personal data", "passport", "bank account", …
  kUsPersonal,  // "ssn", "social security", …
  kCredential,  // "password", "api key", "token", …
  kNotReal,     // "example", "sample", "dummy", "test card", …
};
inline constexpr int kContextCount = static_cast<int>(Context::kNotReal) + 1;

struct DlpMatch {
  Identifier id;
  Span span;              // offsets into the scanned text
  int custom_index = -1;  // index into custom_keywords/custom_regexes for custom matches
};

struct DlpScanResult {
  std::vector<DlpMatch> matches;  // validated, ordered by identifier then offset
  std::bitset<kContextCount> contexts;
  bool truncated = false;  // too many candidates: the text was only partly examined
};

class DlpScanner {
 public:
  // Compiles the database for `config`. A custom regex Hyperscan refuses yields
  // kInvalidArgument naming its index and Hyperscan's message (never the text it was
  // meant to find); anything else failing is kInternal.
  static Result<std::unique_ptr<DlpScanner>> Create(const DlpConfig& config);

  ~DlpScanner();
  DlpScanner(const DlpScanner&) = delete;
  DlpScanner& operator=(const DlpScanner&) = delete;

  // Finds and validates identifiers in `text`. kResourceExhausted when no scratch space
  // could be allocated; kInternal when Hyperscan fails.
  Status Scan(std::string_view text, DlpScanResult& result) const;

  // Borrows a scratch from the pool (or clones one); exposed for the benchmark.
  hs_scratch* AcquireScratch() const;
  void ReleaseScratch(hs_scratch* scratch) const;
  // Clones a fresh scratch from the prototype, bypassing the pool (benchmark only).
  hs_scratch* CloneScratch() const;
  static void FreeScratch(hs_scratch* scratch);

 private:
  // What a Hyperscan expression id stands for.
  struct Pattern {
    Identifier id = Identifier::kCustomRegex;
    int custom_index = -1;
    bool is_context = false;  // a context word: sets a bit, is no match
    Context context = Context::kNotReal;
    // The same expression alone with HS_FLAG_SOM_LEFTMOST (null for context words): the
    // main database reports match ends only, which is several times faster; the start
    // of a candidate is then found by scanning this database over a bounded window that
    // ends at the match end.
    hs_database* refiner = nullptr;
    // Longest match the expression can make (hs_expression_info), or 0 when unbounded.
    std::size_t max_width = 0;
    // Not in the main database: found only by scanning `refiner` just after its anchor.
    bool anchored = false;
    // >= 0: this expression is the context anchor of patterns_[anchor_of] (date of birth:
    // the words that must precede a date); its matches are where to look, not candidates.
    int anchor_of = -1;
    // For an anchor: its target's candidates start in [end - reach_before, end +
    // reach_after], `end` being where the anchor's match ends.
    std::size_t reach_before = 0;
    std::size_t reach_after = 0;
    // For an anchor, when set: the characters every match of its target is made of; the
    // window is cut down to the run of them around the anchor match.
    bool (*in_match)(char) = nullptr;
    // >= 0: not in the main database but in window_db_[trigger], matched only inside the
    // trigger windows of that TriggerKind (no refiner: that database reports starts).
    int trigger = -1;
    // For a kDigitChain expression: what a window must hold for it to match there
    // (dlp_scanner.cc, kNeeds*); windows without it use a database without it.
    unsigned needs = 0;
    // In the main database; a match marks only its last byte for the validator, which
    // finds the candidate around it (no refiner).
    bool end_only = false;
  };
  // The leftmost start of a match of `pattern` that ends at `end`, or std::nullopt when
  // none is found within the bounded look-back window.
  std::optional<std::size_t> FindStart(const Pattern& pattern, std::string_view text,
                                       std::size_t end, hs_scratch* scratch,
                                       std::size_t& budget) const;
  // Appends to `out` the matches of the target of `anchor` that start within its reach of
  // an anchor match ending at `anchor_end` (a bounded window around it).
  // Both rescan at most `budget` bytes and take what they scan from it; when it runs
  // out they find nothing and leave it 0.
  void FindAnchored(const Pattern& anchor, std::string_view text, std::size_t anchor_end,
                    hs_scratch* scratch, std::size_t& budget, std::vector<Span>& out) const;
  DlpScanner() = default;

  // Constant after construction.
  hs_database* database_ = nullptr;
  hs_scratch* prototype_ = nullptr;
  std::vector<Pattern> patterns_;  // indexed by Hyperscan expression id
  // Per TriggerKind: its expressions with HS_FLAG_SOM_LEFTMOST (ids index patterns_); then
  // the digit-chain expressions for windows without a "+", without 12 digits, or without
  // either (the expressions that need them left out).
  static constexpr std::size_t kWindowDbCount = kTriggerKindCount + 3;
  std::array<hs_database*, kWindowDbCount> window_db_{};
  // Longest match of a TriggerKind::kLetterDigits expression.
  std::size_t letter_width_ = 0;

  mutable std::mutex mu_;
  mutable std::vector<hs_scratch*> pool_;  // guarded by mu_
};

}  // namespace bulwark::detectors::dlp

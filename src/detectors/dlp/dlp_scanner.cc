#include "detectors/dlp/dlp_scanner.h"

#include <hs.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>
#include <tuple>
#include <utility>

namespace bulwark::detectors::dlp {
namespace {

// Bounds the candidates of one scan: past this Hyperscan is stopped and the result says
// the text was only partly examined.
constexpr std::size_t kMaxCandidates = 1u << 20;
constexpr std::size_t kMaxPooledScratch = 64;
// Look-back when finding the start of a match of an unbounded expression: first window,
// and the largest it grows to. A match that starts further back than kMaxLookBack is
// reported from kMaxLookBack before its end (no validator accepts anything that long).
constexpr std::size_t kFirstLookBack = 1024;
constexpr std::size_t kMaxLookBack = 64 * 1024;
// Bytes the look-backs and anchor windows of one scan may rescan, as a multiple of the
// text size (plus a floor): keeps a scan linear when a hostile text makes a long match
// end at every byte. Past it the result says the text was only partly examined.
constexpr std::size_t kRescanFactor = 16;
constexpr std::size_t kRescanFloor = 4u << 20;
// Trigger windows are scanned in batches of about this many bytes (one Hyperscan call each).
constexpr std::size_t kWindowBatchBytes = 64 * 1024;

constexpr unsigned kSom = HS_FLAG_SOM_LEFTMOST;
constexpr unsigned kCaseless = HS_FLAG_CASELESS;

// Where an expression is matched.
enum class Where {
  kMain,  // the main database, over the whole text
  // Only inside the trigger windows of that kind (trigger_windows.h): the expression
  // never matches anywhere a validator could accept without a trigger of that kind there.
  kDigitChain,
  kLetterDigits,
  kHexColons,
  // The main database; a match is not a candidate itself but marks the text around its
  // last byte for the validator, which finds the candidate there (secret assignments:
  // the key name around a keyword).
  kEndOnly,
};

// What a digit-chain window must hold for an expression to match in it (no match without
// it): lets windows that lack it be scanned with a database without that expression.
constexpr unsigned kNeedsPlus = 1;         // a "+"
constexpr unsigned kNeedsTwelve = 2;       // 12 digits
constexpr std::size_t kChainVariants = 4;  // every combination of the two

// The window database of the digit-chain windows holding what `variant` says: the whole
// set (both) in the kDigitChain slot, the others after the trigger kinds.
std::size_t ChainSlot(std::size_t variant) {
  return variant == kChainVariants - 1 ? static_cast<std::size_t>(TriggerKind::kDigitChain)
                                       : kTriggerKindCount + variant;
}

struct Builtin {
  Identifier id;
  const char* expression;
  unsigned flags;
  Where where = Where::kMain;
  unsigned needs = 0;  // kNeeds* (kDigitChain expressions only)
};

// One entry per expression. Validators (identifiers.cc) do what Hyperscan cannot:
// checksums, ranges, context windows and the characters just outside a match.
constexpr Builtin kBuiltins[] = {
    {Identifier::kPaymentCard, R"(\b\d(?:[ -]?\d){11,18}\b)", kSom, Where::kDigitChain,
     kNeedsTwelve},
    // Compact in any case (as typed), or upper case with single spaces anywhere.
    {Identifier::kIban, R"(\b[A-Za-z]{2}\d{2}[A-Za-z0-9]{11,30}\b)", kSom, Where::kLetterDigits},
    {Identifier::kIban, R"(\b[A-Z]{2} ?\d{2}(?: ?[A-Z0-9]){11,30}\b)", kSom, Where::kLetterDigits},
    {Identifier::kUsSsn, R"(\b\d{3}-\d{2}-\d{4}\b)", kSom, Where::kDigitChain},
    {Identifier::kUsSsn, R"(\b\d{3} \d{2} \d{4}\b)", kSom, Where::kDigitChain},
    {Identifier::kUsSsn, R"(\b\d{9}\b)", kSom, Where::kDigitChain},
    {Identifier::kUkNino, R"(\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b)",
     kSom, Where::kLetterDigits},
    {Identifier::kEmail, R"([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b)",
     kSom},
    {Identifier::kPhone, R"(\+[1-9]\d{0,3}(?:[ .-]?\(?\d{1,5}\)?){1,6})", kSom, Where::kDigitChain,
     kNeedsPlus},
    {Identifier::kPhone,
     R"((?:\(\d{2,5}\) ?|\b\d{2,5}[ .-])\d{2,4}[ .-]\d{2,4}(?:[ .-]\d{2,4})?\b)", kSom,
     Where::kDigitChain},
    {Identifier::kPhone, R"(\b0\d{9,10}\b)", kSom, Where::kDigitChain},
    {Identifier::kIpv4, R"(\b(?:\d{1,3}\.){3}\d{1,3}\b)", kSom, Where::kDigitChain},
    {Identifier::kIpv6, R"([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})", kSom, Where::kHexColons},
    {Identifier::kDateOfBirth,
     R"(\b(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}|(?:19|20)\d{2}[./-]\d{1,2}[./-]\d{1,2})"
     R"(|\d{1,2}(?:st|nd|rd|th)?\.? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)"
     R"(\.?,? (?:19|20)\d{2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? )"
     R"(\d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\d{2})\b)",
     kSom | kCaseless},
    {Identifier::kAwsAccessKey, R"(\b(?:AKIA|ASIA)[A-Z0-9]{16}\b)", kSom},
    {Identifier::kAwsSecretKey, R"((?:^|[^A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?:[^A-Za-z0-9/+=]|$))",
     kSom},
    {Identifier::kGithubToken, R"(\bgh[pousr]_[A-Za-z0-9]{36}\b)", kSom},
    {Identifier::kGithubToken, R"(\bgithub_pat_[A-Za-z0-9_]{70,}\b)", kSom},
    {Identifier::kGitlabToken, R"(\bglpat-[A-Za-z0-9_-]{20,})", kSom},
    {Identifier::kSlackToken, R"(\bxox[abprse]-[A-Za-z0-9-]{10,})", kSom},
    {Identifier::kSlackWebhook,
     R"(hooks\.slack\.com/services/T[A-Za-z0-9_]{6,12}/B[A-Za-z0-9_]{6,12}/[A-Za-z0-9_]{20,32})",
     kSom},
    {Identifier::kStripeKey, R"(\b[rs]k_live_[A-Za-z0-9]{20,})", kSom},
    {Identifier::kGoogleApiKey, R"(\bAIza[0-9A-Za-z_-]{35})", kSom},
    {Identifier::kPrivateKey, R"(-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----)", kSom},
    {Identifier::kJwt, R"(\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)", kSom},
    {Identifier::kConnectionPassword,
     R"(\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/@]+:[^\s:/@]+@[A-Za-z0-9.-]+)", kSom},
    {Identifier::kConnectionPassword, R"(\b(?:password|pwd)[ \t]*=[ \t]*[^;\s'"]+)",
     kSom | kCaseless},
    // Key names that say "password", "secret", "token", "api key", …: the validator finds
    // the whole key around the keyword, then a separator and a value that looks like one.
    {Identifier::kSecretAssignment,
     R"((?:pass|pwd|secret|token|api_?key|api-key|access_?key|access-key))", kCaseless,
     Where::kEndOnly},
};

// The words DobContext() (identifiers.cc) requires within 40 bytes before a date of
// birth, matched as plain case-insensitive substrings like it does. Dates are looked for
// only after them.
constexpr const char* kDobAnchors[] = {"dob", "d.o.b", "date of birth", "birth date", "birthdate",
                                       "birthday", "born", "geboren", "geburtsdatum", "geb.",
                                       "date de naissance", "fecha de nacimiento",
                                       "data di nascita", "data de nascimento", "geboortedatum",
                                       // "født"; split so "\xb8d" is not read as one escape
                                       ("f\xc3\xb8"
                                        "dt")};
// What ValidateAwsSecret() requires within 160 bytes of a secret key.
constexpr const char* kAwsAnchors[] = {"aws"};
// Every e-mail address has one.
constexpr const char* kEmailAnchors[] = {"@"};
// How far before its "@" an address is looked for: ValidateEmail() accepts at most 64
// characters there once leading dots and dashes are trimmed; a longer run of local-part
// characters is dropped (it was rejected before too, unless it began with ~200 dots).
constexpr std::size_t kEmailLookBack = 256;

// Identifiers looked for only near the words their validator requires anyway: a
// candidate starts within [anchor end - before, anchor end + after].
struct Anchor {
  Identifier id;
  const char* const* words;
  std::size_t word_count;
  std::size_t before;
  std::size_t after;
  // When set: every character of a match is one of these, so the window shrinks to the run
  // of them around the anchor (and a byte either side).
  bool (*in_match)(char) = nullptr;
};

// The characters of an e-mail address (local part, "@", domain).
bool InEmail(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '%' || c == '+' || c == '-' || c == '@';
}
constexpr Anchor kAnchors[] = {
    // 40 bytes of context before the date, minus the shortest word ("dob").
    {Identifier::kDateOfBirth, kDobAnchors, std::size(kDobAnchors), 0, 40 - 3},
    // "aws" within 160 bytes of the 40 characters; the candidate has one delimiter more
    // on each side.
    {Identifier::kAwsSecretKey, kAwsAnchors, std::size(kAwsAnchors), 160 + 42 + 1, 160},
    {Identifier::kEmail, kEmailAnchors, std::size(kEmailAnchors), kEmailLookBack + 1, 0, InEmail},
};

struct ContextWords {
  Context context;
  const char* expression;
};

constexpr ContextWords kContextWords[] = {
    {Context::kPayment,
     R"(\b(?:credit ?card|debit card|card ?number|card ?holder|cvv|cvc|expiry|expiration date|)"
     R"(visa|mastercard|amex|american express|kreditkarte|carte bancaire|tarjeta)\b)"},
    {Context::kPersonal,
     R"(\b(?:personal data|personal information|date of birth|passport|bank account|iban|)"
     R"(national insurance|gdpr|dsgvo|personenbezogen|customer record|patient)\b)"},
    {Context::kUsPersonal, R"(\b(?:ssn|social security|taxpayer|driver'?s licen[cs]e|tax id)\b)"},
    {Context::kCredential,
     R"(\b(?:password|passwd|secret|token|api[ _-]?key|credential|private key|access key)s?\b)"},
    {Context::kNotReal,
     R"(\b(?:example|sample|dummy|fake|placeholder|lorem ipsum|test (?:card|number|data))\b)"},
};

// Escapes `literal` for a Hyperscan expression.
std::string EscapeLiteral(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    auto u = static_cast<unsigned char>(c);
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == ' ' || c == '_' || u >= 0x80;
    if (plain) {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct Candidate {
  std::uint32_t pattern;
  std::uint64_t begin;
  std::uint64_t end;
};

// Collects the leftmost start of the matches of one refiner that end at `end`.
struct RefineState {
  unsigned long long end;
  unsigned long long best = ~0ull;
};

int OnRefine(unsigned int, unsigned long long from, unsigned long long to, unsigned int,
             void* ctx) {
  auto* state = static_cast<RefineState*>(ctx);
  if (to == state->end && from < state->best) state->best = from;
  return 0;
}

// The longest match `expression` can make, or 0 when unbounded or unknown.
std::size_t MaxWidth(const char* expression, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_expression_info(expression, flags, &info, &error) != HS_SUCCESS) {
    hs_free_compile_error(error);
    return 0;
  }
  std::size_t width = info->max_width == UINT_MAX ? 0 : info->max_width;
  free(info);  // allocated by Hyperscan's misc allocator, malloc by default
  return width > kMaxLookBack ? 0 : width;
}

// Collects every match of a refiner or a window database in a window.
struct WindowMatch {
  unsigned id;
  unsigned long long from;
  unsigned long long to;
};
struct WindowState {
  std::vector<WindowMatch> matches;
};

int OnWindow(unsigned int id, unsigned long long from, unsigned long long to, unsigned int,
             void* ctx) {
  static_cast<WindowState*>(ctx)->matches.push_back({id, from, to});
  return 0;
}

struct CallbackState {
  std::vector<Candidate>* candidates;
  std::bitset<kContextCount>* contexts;
  const std::vector<bool>* is_context;
  const std::vector<Context>* context_of;
  bool truncated = false;
};

int OnMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int,
            void* ctx) {
  auto* state = static_cast<CallbackState*>(ctx);
  if ((*state->is_context)[id]) {
    state->contexts->set(static_cast<std::size_t>((*state->context_of)[id]));
    return 0;
  }
  if (state->candidates->size() >= kMaxCandidates) {
    state->truncated = true;
    return 1;  // stop scanning
  }
  state->candidates->push_back({id, from, to});  // `from` is 0: no SOM in the main database
  return 0;
}

// The order in which identifiers claim text: a phone number that overlaps a card, an
// IBAN, an SSN, an address or a date is part of that, not a phone; a secret assignment
// whose value is a token of a known kind (a GitHub token, a connection string) is that.
int ClaimOrder(Identifier id) {
  return id == Identifier::kPhone || id == Identifier::kSecretAssignment ? 1 : 0;
}

}  // namespace

Result<std::unique_ptr<DlpScanner>> DlpScanner::Create(const DlpConfig& config) {
  std::vector<std::string> expressions;
  std::vector<unsigned> flags;
  std::unique_ptr<DlpScanner> scanner(new DlpScanner());
  for (const Builtin& b : kBuiltins) {
    expressions.emplace_back(b.expression);
    flags.push_back(b.flags);
    Pattern p{b.id, -1, false, Context::kNotReal};
    p.needs = b.needs;
    switch (b.where) {
      case Where::kMain:
        break;
      case Where::kDigitChain:
        p.trigger = static_cast<int>(TriggerKind::kDigitChain);
        break;
      case Where::kLetterDigits:
        p.trigger = static_cast<int>(TriggerKind::kLetterDigits);
        break;
      case Where::kHexColons:
        p.trigger = static_cast<int>(TriggerKind::kHexColons);
        break;
      case Where::kEndOnly:
        p.end_only = true;
        break;
    }
    scanner->patterns_.push_back(p);
  }
  // Anchored identifiers are looked for only near their context words.
  for (std::size_t i = 0, n = scanner->patterns_.size(); i < n; ++i) {
    for (const Anchor& a : kAnchors) {
      if (scanner->patterns_[i].id != a.id) continue;
      scanner->patterns_[i].anchored = true;
      std::string words;
      for (std::size_t w = 0; w < a.word_count; ++w) {
        words += words.empty() ? "(?:" : "|";
        words += EscapeLiteral(a.words[w]);
      }
      expressions.push_back(words + ")");
      flags.push_back(kCaseless);
      Pattern anchor{a.id, -1, false, Context::kNotReal};
      anchor.anchor_of = static_cast<int>(i);
      anchor.reach_before = a.before;
      anchor.reach_after = a.after;
      anchor.in_match = a.in_match;
      scanner->patterns_.push_back(anchor);
    }
  }
  // Builtins and custom keywords get their refiner below; custom regexes get theirs from
  // the check that names a faulty one.
  for (const ContextWords& w : kContextWords) {
    expressions.emplace_back(w.expression);
    flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
    scanner->patterns_.push_back({Identifier::kCustomKeyword, -1, true, w.context});
  }
  for (std::size_t i = 0; i < config.custom_keywords.size(); ++i) {
    const std::string& keyword = config.custom_keywords[i];
    if (keyword.empty()) {
      return InvalidArgumentError("dlp: custom keyword #" + std::to_string(i) + " is empty");
    }
    std::string expr = EscapeLiteral(keyword);
    if (IsWordByte(keyword.front())) expr = "\\b" + expr;
    if (IsWordByte(keyword.back())) expr += "\\b";
    expressions.push_back(std::move(expr));
    flags.push_back(kSom | kCaseless);
    scanner->patterns_.push_back(
        {Identifier::kCustomKeyword, static_cast<int>(i), false, Context::kNotReal});
  }
  // Each custom regex alone first, so that an error names the one at fault.
  for (std::size_t i = 0; i < config.custom_regexes.size(); ++i) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile(config.custom_regexes[i].c_str(), kSom, HS_MODE_BLOCK, nullptr, &db, &error) !=
        HS_SUCCESS) {
      std::string message = error != nullptr && error->message != nullptr
                                ? error->message
                                : "unknown Hyperscan error";
      hs_free_compile_error(error);
      return InvalidArgumentError("dlp: custom regex #" + std::to_string(i) + ": " + message);
    }
    expressions.push_back(config.custom_regexes[i]);
    flags.push_back(kSom);
    scanner->patterns_.push_back(
        {Identifier::kCustomRegex, static_cast<int>(i), false, Context::kNotReal, db});
  }

  std::vector<const char*> c_expressions;
  std::vector<unsigned> c_flags;
  std::vector<unsigned> ids;
  std::array<std::vector<const char*>, kWindowDbCount> w_expressions;
  std::array<std::vector<unsigned>, kWindowDbCount> w_flags, w_ids;
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    Pattern& p = scanner->patterns_[i];
    if (p.trigger >= 0) {
      auto k = static_cast<std::size_t>(p.trigger);
      bool chain = k == static_cast<std::size_t>(TriggerKind::kDigitChain);
      for (std::size_t v = 0; v < (chain ? kChainVariants : 1); ++v) {
        // Variant v: digit-chain windows that hold what v says (kNeeds* bits) and no more.
        if ((p.needs & ~v) != 0) continue;
        std::size_t slot = chain ? ChainSlot(v) : k;
        w_expressions[slot].push_back(expressions[i].c_str());
        w_flags[slot].push_back(flags[i] | kSom);
        w_ids[slot].push_back(static_cast<unsigned>(i));
      }
      if (p.trigger == static_cast<int>(TriggerKind::kLetterDigits)) {
        std::size_t width = MaxWidth(expressions[i].c_str(), flags[i]);
        if (width == 0) return InternalError("dlp: a letter-digit expression is unbounded");
        scanner->letter_width_ = std::max(scanner->letter_width_, width);
      }
      continue;
    }
    if (!p.is_context && p.anchor_of < 0 && !p.end_only) {
      p.max_width = MaxWidth(expressions[i].c_str(), flags[i]);
      if (p.refiner == nullptr) {
        hs_compile_error_t* error = nullptr;
        if (hs_compile(expressions[i].c_str(), flags[i] | kSom, HS_MODE_BLOCK, nullptr, &p.refiner,
                       &error) != HS_SUCCESS) {
          std::string message =
              error != nullptr && error->message != nullptr ? error->message : "?";
          hs_free_compile_error(error);
          return InternalError("dlp: Hyperscan refused expression " + std::to_string(i) + ": " +
                               message);
        }
      }
    }
    flags[i] &= ~kSom;  // match ends only: FindStart() recovers the start of candidates
    if (p.anchored) continue;
    c_expressions.push_back(expressions[i].c_str());
    c_flags.push_back(flags[i]);
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(c_expressions.data(), c_flags.data(), ids.data(),
                       static_cast<unsigned>(c_expressions.size()), HS_MODE_BLOCK, nullptr,
                       &scanner->database_, &error) != HS_SUCCESS) {
    std::string message = error != nullptr && error->message != nullptr ? error->message : "?";
    int expression = error != nullptr ? error->expression : -1;
    hs_free_compile_error(error);
    return InternalError("dlp: Hyperscan refused expression " + std::to_string(expression) + ": " +
                         message);
  }
  for (std::size_t k = 0; k < w_expressions.size(); ++k) {
    if (hs_compile_multi(w_expressions[k].data(), w_flags[k].data(), w_ids[k].data(),
                         static_cast<unsigned>(w_expressions[k].size()), HS_MODE_BLOCK, nullptr,
                         &scanner->window_db_[k], &error) != HS_SUCCESS) {
      std::string message = error != nullptr && error->message != nullptr ? error->message : "?";
      hs_free_compile_error(error);
      return InternalError("dlp: Hyperscan refused a window expression: " + message);
    }
  }
  if (hs_alloc_scratch(scanner->database_, &scanner->prototype_) != HS_SUCCESS) {
    return ResourceExhaustedError("dlp: cannot allocate Hyperscan scratch");
  }
  for (hs_database_t* db : scanner->window_db_) {
    if (hs_alloc_scratch(db, &scanner->prototype_) != HS_SUCCESS) {
      return ResourceExhaustedError("dlp: cannot allocate Hyperscan scratch");
    }
  }
  // One scratch serves the main database and every refiner.
  for (const Pattern& p : scanner->patterns_) {
    if (p.refiner != nullptr && hs_alloc_scratch(p.refiner, &scanner->prototype_) != HS_SUCCESS) {
      return ResourceExhaustedError("dlp: cannot allocate Hyperscan scratch");
    }
  }
  return scanner;
}

DlpScanner::~DlpScanner() {
  for (hs_scratch_t* s : pool_) hs_free_scratch(s);
  if (prototype_ != nullptr) hs_free_scratch(prototype_);
  if (database_ != nullptr) hs_free_database(database_);
  for (hs_database_t* db : window_db_) {
    if (db != nullptr) hs_free_database(db);
  }
  for (const Pattern& p : patterns_) {
    if (p.refiner != nullptr) hs_free_database(p.refiner);
  }
}

std::optional<std::size_t> DlpScanner::FindStart(const Pattern& pattern, std::string_view text,
                                                 std::size_t end, hs_scratch* scratch,
                                                 std::size_t& budget) const {
  // One byte past the end is scanned too, so that \b and $ at the end see the real
  // text; matches are taken only when they end at `end`.
  std::size_t stop = std::min(text.size(), end + 1);
  std::size_t look_back = pattern.max_width != 0 ? pattern.max_width + 1 : kFirstLookBack;
  for (;;) {
    std::size_t from = end > look_back ? end - look_back : 0;
    if (stop - from > budget) {
      budget = 0;
      return std::nullopt;
    }
    budget -= stop - from;
    RefineState state{end - from};
    hs_error_t rc = hs_scan(pattern.refiner, text.data() + from, static_cast<unsigned>(stop - from),
                            0, scratch, OnRefine, &state);
    if (rc != HS_SUCCESS) return std::nullopt;
    // Exact when the window starts at the text, is longer than any match, or the
    // leftmost match found does not start at its edge (where \b and ^ see no text).
    bool found = state.best != ~0ull;
    if (from == 0 || pattern.max_width != 0 || (found && state.best > 0) ||
        look_back >= kMaxLookBack) {
      if (!found) return std::nullopt;
      return from + state.best;
    }
    look_back *= 2;
  }
}

void DlpScanner::FindAnchored(const Pattern& anchor, std::string_view text, std::size_t anchor_end,
                              hs_scratch* scratch, std::size_t& budget,
                              std::vector<Span>& out) const {
  const Pattern& p = patterns_[static_cast<std::size_t>(anchor.anchor_of)];
  std::size_t first_begin = anchor_end > anchor.reach_before ? anchor_end - anchor.reach_before : 0;
  // Start one byte before the reach so that \b at the first possible start sees the real
  // text; end one byte past the furthest possible end for the same reason at the end.
  std::size_t from = first_begin > 0 ? first_begin - 1 : 0;
  std::size_t width = p.max_width != 0 ? p.max_width : kFirstLookBack;
  std::size_t last_begin = anchor_end + anchor.reach_after;
  std::size_t stop = std::min(text.size(), last_begin + width + 1);
  if (anchor.in_match != nullptr && anchor_end > 0) {
    std::size_t run_begin = anchor_end - 1, run_end = anchor_end;
    while (run_begin > from && anchor.in_match(text[run_begin - 1])) --run_begin;
    while (run_end < stop && anchor.in_match(text[run_end])) ++run_end;
    from = std::max(from, run_begin > 0 ? run_begin - 1 : 0);
    stop = std::min(stop, run_end + 1);
  }
  if (from >= stop) return;
  if (stop - from > budget) {
    budget = 0;
    return;
  }
  budget -= stop - from;
  WindowState state;
  if (hs_scan(p.refiner, text.data() + from, static_cast<unsigned>(stop - from), 0, scratch,
              OnWindow, &state) != HS_SUCCESS) {
    return;
  }
  for (const WindowMatch& m : state.matches) {
    std::size_t begin = from + m.from, end = from + m.to;
    if (begin < first_begin || begin > last_begin) continue;
    if (begin == from && from != 0) continue;  // \b or ^ there saw no text before it
    if (end == stop && stop != text.size()) continue;
    out.push_back({begin, end});
  }
}

hs_scratch* DlpScanner::CloneScratch() const {
  hs_scratch_t* scratch = nullptr;
  if (hs_clone_scratch(prototype_, &scratch) != HS_SUCCESS) return nullptr;
  return scratch;
}

void DlpScanner::FreeScratch(hs_scratch* scratch) {
  if (scratch != nullptr) hs_free_scratch(scratch);
}

hs_scratch* DlpScanner::AcquireScratch() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pool_.empty()) {
      hs_scratch_t* s = pool_.back();
      pool_.pop_back();
      return s;
    }
  }
  return CloneScratch();
}

void DlpScanner::ReleaseScratch(hs_scratch* scratch) const {
  if (scratch == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pool_.size() < kMaxPooledScratch) {
      pool_.push_back(scratch);
      return;
    }
  }
  hs_free_scratch(scratch);
}

Status DlpScanner::Scan(std::string_view text, DlpScanResult& result) const {
  result = DlpScanResult();
  if (text.empty()) return OkStatus();
  std::vector<bool> is_context(patterns_.size());
  std::vector<Context> context_of(patterns_.size());
  for (std::size_t i = 0; i < patterns_.size(); ++i) {
    is_context[i] = patterns_[i].is_context;
    context_of[i] = patterns_[i].context;
  }
  std::vector<Candidate> candidates;
  CallbackState state{&candidates, &result.contexts, &is_context, &context_of};

  hs_scratch_t* scratch = AcquireScratch();
  if (scratch == nullptr) return ResourceExhaustedError("dlp: cannot allocate Hyperscan scratch");
  // Hyperscan takes an unsigned int length; callers bound text to max_scan_bytes.
  std::size_t length = std::min<std::size_t>(text.size(), 0xFFFFFFFFu);
  hs_error_t rc =
      hs_scan(database_, text.data(), static_cast<unsigned>(length), 0, scratch, OnMatch, &state);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
    ReleaseScratch(scratch);
    return InternalError("dlp: hs_scan failed with code " + std::to_string(rc));
  }
  result.truncated = state.truncated;
  // The main database reports ends only: find each candidate's leftmost start.
  std::string_view scanned = text.substr(0, length);
  std::size_t kept = 0;
  std::vector<Candidate> anchored;
  std::size_t budget = kRescanFloor + kRescanFactor * length;
  for (const Candidate& c : candidates) {
    if (patterns_[c.pattern].anchor_of >= 0) {
      std::vector<Span> found;
      int target = patterns_[c.pattern].anchor_of;
      FindAnchored(patterns_[c.pattern], scanned, c.end, scratch, budget, found);
      for (const Span& f : found) {
        anchored.push_back({static_cast<std::uint32_t>(target), f.begin, f.end});
      }
      continue;
    }
    if (patterns_[c.pattern].end_only) {
      candidates[kept++] = {c.pattern, c.end - 1, c.end};
      continue;
    }
    std::optional<std::size_t> begin =
        FindStart(patterns_[c.pattern], scanned, c.end, scratch, budget);
    if (!begin) continue;
    candidates[kept++] = {c.pattern, *begin, c.end};
  }
  candidates.resize(kept);
  if (budget == 0) result.truncated = true;
  // The digit- and colon-shaped identifiers: only inside their trigger windows, which are
  // disjoint per kind and hold each possible match whole with a byte of context on either
  // side. A match touching a window edge that is not the text's saw no real text there.
  TriggerWindows windows;
  FindTriggerWindows(scanned, letter_width_, windows);
  // The windows of a kind are scanned together: copied one after the other into a batch,
  // a newline between two (no window expression matches a newline, so no match spans
  // two windows, and \b sees a non-word byte at each edge as it would at a buffer's end).
  // One Hyperscan call per batch instead of one per window: its start-up cost per call,
  // not the bytes, dominated.
  std::string batch;
  std::vector<std::size_t> batch_at;  // offset in `batch` of each window of the batch
  std::vector<Span> batch_windows;
  // Digit-chain windows go to the database of what they hold (a "+", 12 digits).
  std::array<std::vector<Span>, kWindowDbCount> by_db;
  for (std::size_t k = 0; k < windows.windows.size(); ++k) {
    if (k != static_cast<std::size_t>(TriggerKind::kDigitChain)) {
      by_db[k] = std::move(windows.windows[k]);
      continue;
    }
    for (const Span& w : windows.windows[k]) {
      std::size_t digits = 0;
      bool plus = false;
      for (std::size_t j = w.begin; j < w.end; ++j) {
        char c = scanned[j];
        digits += c >= '0' && c <= '9' ? 1 : 0;
        plus |= c == '+';
      }
      by_db[ChainSlot((plus ? kNeedsPlus : 0) | (digits >= 12 ? kNeedsTwelve : 0))].push_back(w);
    }
  }
  for (std::size_t k = 0; k < by_db.size(); ++k) {
    const std::vector<Span>& spans = by_db[k];
    for (std::size_t first = 0; first < spans.size();) {
      if (candidates.size() >= kMaxCandidates) {
        result.truncated = true;
        break;
      }
      batch.clear();
      batch_at.clear();
      batch_windows.clear();
      std::size_t next = first;
      for (; next < spans.size() && (next == first || batch.size() < kWindowBatchBytes); ++next) {
        const Span& w = spans[next];
        if (!batch.empty()) batch.push_back('\n');
        batch_at.push_back(batch.size());
        batch_windows.push_back(w);
        batch.append(scanned.data() + w.begin, w.end - w.begin);
      }
      first = next;
      WindowState found;
      if (hs_scan(window_db_[k], batch.data(), static_cast<unsigned>(batch.size()), 0, scratch,
                  OnWindow, &found) != HS_SUCCESS) {
        continue;
      }
      for (const WindowMatch& m : found.matches) {
        // The window holding the match: the last that starts at or before it.
        auto at =
            std::upper_bound(batch_at.begin(), batch_at.end(), static_cast<std::size_t>(m.from)) -
            1;
        const Span& w = batch_windows[static_cast<std::size_t>(at - batch_at.begin())];
        std::size_t begin = w.begin + (m.from - *at), end = w.begin + (m.to - *at);
        if (begin == w.begin && w.begin != 0) continue;
        if (end == w.end && w.end != scanned.size()) continue;
        candidates.push_back({m.id, begin, end});
      }
    }
  }
  std::sort(anchored.begin(), anchored.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.pattern, a.begin, a.end) < std::tie(b.pattern, b.begin, b.end);
  });
  for (std::size_t i = 0; i < anchored.size(); ++i) {
    if (i > 0 && anchored[i].pattern == anchored[i - 1].pattern &&
        anchored[i].begin == anchored[i - 1].begin && anchored[i].end == anchored[i - 1].end) {
      continue;  // overlapping anchors found the same date
    }
    candidates.push_back(anchored[i]);
  }
  ReleaseScratch(scratch);

  // Per identifier, by start, longest first: the first candidate of a start that
  // validates claims [begin, end); candidates starting inside a claimed span are skipped.
  auto key = [&](const Candidate& c) {
    const Pattern& p = patterns_[c.pattern];
    return std::make_tuple(ClaimOrder(p.id), static_cast<int>(p.id), p.custom_index);
  };
  std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
    auto ka = key(a), kb = key(b);
    if (ka != kb) return ka < kb;
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end > b.end;
  });
  std::vector<Span> claimed;           // spans of identifiers with ClaimOrder 0
  std::vector<std::uint64_t> max_end;  // max_end[i]: largest end among claimed[0..i]
  bool claimed_sorted = false;
  std::size_t group_begin = 0;
  std::uint64_t claimed_end = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (i == 0 || key(c) != key(candidates[group_begin])) {
      group_begin = i;
      claimed_end = 0;
    }
    if (c.begin < claimed_end && claimed_end != 0) continue;
    const Pattern& p = patterns_[c.pattern];
    std::optional<Span> span = Validate(p.id, text, Span{c.begin, c.end});
    if (!span) continue;
    if (ClaimOrder(p.id) > 0) {
      if (!claimed_sorted) {
        std::sort(claimed.begin(), claimed.end(),
                  [](const Span& a, const Span& b) { return a.begin < b.begin; });
        for (const Span& s : claimed) {
          max_end.push_back(max_end.empty() ? s.end
                                            : std::max<std::uint64_t>(max_end.back(), s.end));
        }
        claimed_sorted = true;
      }
      // Claimed spans that start before this one ends overlap it when any ends after its start.
      auto first_after =
          std::lower_bound(claimed.begin(), claimed.end(), span->end,
                           [](const Span& s, std::size_t end) { return s.begin < end; });
      std::size_t n = static_cast<std::size_t>(first_after - claimed.begin());
      if (n > 0 && max_end[n - 1] > span->begin) continue;
    } else if (p.id != Identifier::kCustomKeyword && p.id != Identifier::kCustomRegex) {
      claimed.push_back(*span);
    }
    claimed_end = std::max<std::uint64_t>(c.end, span->end);
    result.matches.push_back({p.id, *span, p.custom_index});
  }
  return OkStatus();
}

}  // namespace bulwark::detectors::dlp

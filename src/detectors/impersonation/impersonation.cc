#include "detectors/impersonation/impersonation.h"

#include <gmime/gmime.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "bulwark/common/text.h"
#include "detectors/urls/url.h"
#include "detectors/urls/url_heuristics.h"
#include "mime/gmime_support.h"

namespace bulwark::impersonation {
namespace {

using mime::GObjectPtr;
using mime::InitGMimeOnce;

struct SpoofCheckerClose {
  void operator()(USpoofChecker* checker) const { uspoof_close(checker); }
};

// UTS #39 skeleton of `text` (UTF-8): strings that look alike have the same skeleton
// ("paypa1", "pаypal" with a Cyrillic а, and "paypal"; "rn" and "m"). Empty on error.
std::string Skeleton(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<USpoofChecker, SpoofCheckerClose> checker(uspoof_open(&status));
  if (U_FAILURE(status)) return {};
  std::string out(text.size() * 4 + 16, '\0');
  int32_t length =
      uspoof_getSkeletonUTF8(checker.get(), 0, text.data(), static_cast<int32_t>(text.size()),
                             out.data(), static_cast<int32_t>(out.size()), &status);
  if (U_FAILURE(status) || length < 0) return {};
  out.resize(static_cast<std::size_t>(length));
  return out;
}

// Lower-case Unicode form of a host ("xn--pypal-4ve.com" → "pаypal.com").
std::string UnicodeLower(std::string_view host) {
  std::string unicode = urls::UnicodeHost(AsciiLower(host));
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(unicode);
  u.toLower();
  std::string out;
  u.toUTF8String(out);
  return out;
}

// Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions),
// on bytes: domain labels are ASCII here (IDN labels are compared by skeleton first).
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::pair<std::string_view, std::string_view> SplitFirstLabel(std::string_view domain) {
  std::size_t dot = domain.find('.');
  if (dot == std::string_view::npos) return {domain, {}};
  return {domain.substr(0, dot), domain.substr(dot + 1)};
}

std::string DomainOf(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string domain = AsciiLower(address.substr(at + 1));
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  return domain;
}

struct Sender {
  std::string name;
  std::string address;
};

Sender FirstMailbox(InternetAddressList* list) {
  if (list == nullptr) return {};
  const int count = internet_address_list_length(list);
  for (int i = 0; i < count; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (!INTERNET_ADDRESS_IS_MAILBOX(address)) continue;
    const char* name = internet_address_get_name(address);
    const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
    return {name ? name : "", AsciiLower(addr ? addr : "")};
  }
  return {};
}

std::vector<std::string> Words(std::string_view key) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < key.size()) {
    std::size_t space = key.find(' ', start);
    if (space == std::string_view::npos) space = key.size();
    if (space > start) words.emplace_back(key.substr(start, space - start));
    start = space + 1;
  }
  return words;
}

engine::Finding Finding(std::string name, std::string detail) {
  engine::Finding f;
  f.detector = "impersonation";
  f.name = std::move(name);
  f.category = engine::Category::kSuspicious;
  f.severity = engine::Severity::kHigh;
  f.detail = std::move(detail);
  return f;
}

struct Reason {
  std::string signal;
  double weight = 0;
  std::string evidence;
};

std::string FormatWeight(double weight) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%g", weight);
  return buffer;
}

// Words of payment changes and of pressure, the supporting evidence of business email
// compromise (English, German, French, Spanish, Portuguese, Dutch).
const std::vector<std::string_view>& PaymentWords() {
  static const std::vector<std::string_view> words = {
      "wire transfer",   "bank transfer",   "bank details",   "banking details",
      "account details", "new account",     "change of bank", "updated bank",
      "gift card",       "giftcard",        "itunes card",    "invoice",
      "payment",         "remittance",      "iban",           "swift",
      "überweisung",     "bankverbindung",  "virement",       "coordonnées bancaires",
      "transferencia",   "datos bancarios", "transferência",  "dados bancários",
      "overboeking",     "bankgegevens"};
  return words;
}
const std::vector<std::string_view>& UrgencyWords() {
  static const std::vector<std::string_view> words = {"urgent",
                                                      "asap",
                                                      "immediately",
                                                      "today",
                                                      "confidential",
                                                      "are you available",
                                                      "are you at your desk",
                                                      "quick favor",
                                                      "quick favour",
                                                      "dringend",
                                                      "vertraulich",
                                                      "urgente",
                                                      "confidentiel",
                                                      "confidencial",
                                                      "spoed",
                                                      "vertrouwelijk"};
  return words;
}

// The words of `list` that occur in `text` (lower-case), comma-separated, at most three.
std::string FoundWords(std::string_view text, const std::vector<std::string_view>& list) {
  std::string found;
  int count = 0;
  for (std::string_view word : list) {
    if (text.find(word) == std::string_view::npos) continue;
    found += (found.empty() ? "" : ", ") + std::string(word);
    if (++count == 3) break;
  }
  return found;
}

// Subject and the text parts of the message, lower-case, at most 64 KiB.
std::string MessageText(GMimeMessage* message) {
  std::string text;
  if (const char* subject = g_mime_message_get_subject(message)) text = AsciiLower(subject) + " ";
  GMimeObject* body = g_mime_message_get_mime_part(message);
  std::vector<GMimeObject*> stack;
  if (body != nullptr) stack.push_back(body);
  while (!stack.empty() && text.size() < 64 * 1024) {
    GMimeObject* part = stack.back();
    stack.pop_back();
    if (GMIME_IS_MULTIPART(part)) {
      GMimeMultipart* multipart = GMIME_MULTIPART(part);
      const int count = g_mime_multipart_get_count(multipart);
      for (int i = count - 1; i >= 0 && stack.size() < 256; --i) {
        stack.push_back(g_mime_multipart_get_part(multipart, i));
      }
      continue;
    }
    if (!GMIME_IS_TEXT_PART(part)) continue;
    std::unique_ptr<char, decltype(&g_free)> content(
        g_mime_text_part_get_text(GMIME_TEXT_PART(part)), &g_free);
    if (content != nullptr)
      text += AsciiLower(std::string_view(content.get()).substr(0, 64 * 1024)) + " ";
  }
  return text;
}

}  // namespace

std::string NameKey(std::string_view display_name) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) return {};
  icu::UnicodeString name = icu::UnicodeString::fromUTF8(
      icu::StringPiece(display_name.data(), static_cast<int32_t>(display_name.size())));
  name.toLower();
  icu::UnicodeString decomposed = nfd->normalize(name, status);
  if (U_FAILURE(status)) return {};
  icu::UnicodeString cleaned;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;  // accents
    cleaned.append(u_isalnum(c) ? c : UChar32{' '});
  }
  std::string flat;
  cleaned.toUTF8String(flat);
  std::vector<std::string> words = Words(flat);
  std::sort(words.begin(), words.end());
  std::string key;
  for (const auto& w : words) key += (key.empty() ? "" : " ") + w;
  return key;
}

std::optional<std::string> LookalikeReason(std::string_view candidate,
                                           std::string_view protected_domain) {
  const std::string c = UnicodeLower(candidate);
  const std::string p = UnicodeLower(protected_domain);
  if (c.empty() || p.empty() || c == p) return std::nullopt;
  auto [c_label, c_rest] = SplitFirstLabel(c);
  auto [p_label, p_rest] = SplitFirstLabel(p);
  if (p_label.size() < 3) return std::nullopt;  // "hp.com": too short to tell
  const std::string c_skeleton = Skeleton(c_label);
  const std::string p_skeleton = Skeleton(p_label);
  if (!c_skeleton.empty() && c_skeleton == p_skeleton) {
    return c_label == p_label ? "other TLD" : "homoglyph";
  }
  const std::size_t allowed = p_label.size() >= 9 ? 2 : (p_label.size() >= 5 ? 1 : 0);
  if (allowed > 0 && EditDistance(c_label, p_label) <= allowed) return "typo";
  if (p_label.size() >= 4 && c_label.size() > p_label.size()) {
    const std::string name(p_label);
    if (c_label.starts_with(name + "-") || c_label.ends_with("-" + name) ||
        c_label.find("-" + name + "-") != std::string_view::npos ||
        (c_label.size() >= p_label.size() + 3 &&
         (c_label.starts_with(name) || c_label.ends_with(name)))) {
      return "name with a word added";
    }
  }
  return std::nullopt;
}

std::optional<engine::Finding> CheckLinks(std::span<const std::string> urls,
                                          const ProtectedIdentities& identities) {
  if (identities.domains.empty() || urls.empty()) return std::nullopt;
  static const urls::DomainRules rules;
  std::vector<std::pair<std::string, std::string>> protected_orgs;  // (domain, registrable)
  for (const auto& d : identities.domains) {
    const std::string domain = AsciiLower(d);
    protected_orgs.emplace_back(domain, rules.RegistrableDomain(domain));
  }
  // Each registrable domain once; a message names few, a bound keeps a hostile one cheap.
  constexpr std::size_t kMaxDomains = 200;
  std::vector<std::string> checked;
  std::size_t links = 0;
  std::vector<std::string> samples;
  for (const std::string& text : urls) {
    auto url = urls::ParseUrl(text);
    if (!url || url->host_kind != urls::HostKind::kDomain) continue;
    const bool is_protected =
        std::any_of(protected_orgs.begin(), protected_orgs.end(),
                    [&](const auto& p) { return IsDomainOrSubdomain(url->host, p.first); });
    if (is_protected) continue;
    const std::string org = rules.RegistrableDomain(url->host);
    if (std::find(checked.begin(), checked.end(), org) != checked.end()) continue;
    if (checked.size() >= kMaxDomains) break;
    checked.push_back(org);
    for (const auto& [domain, protected_org] : protected_orgs) {
      std::optional<std::string> reason = LookalikeReason(org, protected_org);
      if (!reason) continue;
      ++links;
      if (samples.size() < 3) {
        samples.push_back(urls::UnicodeHost(url->host) + ", which imitates " + domain + " (" +
                          *reason + ")");
      }
      break;
    }
  }
  if (links == 0) return std::nullopt;
  std::string detail = links == 1 ? "a link to " : std::to_string(links) + " link domains: ";
  for (std::size_t i = 0; i < samples.size(); ++i) detail += (i == 0 ? "" : "; ") + samples[i];
  engine::Finding f = Finding("Url.LookalikeDomain", std::move(detail));
  f.detector = "urls";
  return f;
}

std::vector<engine::Finding> CheckImpersonation(std::string_view message,
                                                const ProtectedIdentities& identities,
                                                const SenderContext& sender) {
  std::vector<engine::Finding> findings;
  if (identities.empty()) return findings;
  InitGMimeOnce();
  GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GObjectPtr<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
  if (parsed == nullptr) return findings;
  const Sender from = FirstMailbox(g_mime_message_get_from(parsed.get()));
  const Sender reply_to = FirstMailbox(g_mime_message_get_reply_to(parsed.get()));
  const std::string from_domain = DomainOf(from.address);
  const std::string reply_domain = DomainOf(reply_to.address);

  std::vector<std::string> protected_domains;
  for (const auto& d : identities.domains) protected_domains.push_back(AsciiLower(d));
  auto is_protected = [&](const std::string& domain) {
    return std::any_of(protected_domains.begin(), protected_domains.end(),
                       [&](const std::string& p) { return IsDomainOrSubdomain(domain, p); });
  };
  static const urls::DomainRules rules;

  // The triggers: a protected person's name on a foreign address; a lookalike domain.
  std::vector<Reason> triggers;
  std::string person_named;
  const std::vector<std::string> display_words = Words(NameKey(from.name));
  for (const auto& person : identities.people) {
    const std::vector<std::string> person_words = Words(NameKey(person.name));
    if (person_words.size() < 2 || display_words.empty()) continue;
    const bool named = std::all_of(person_words.begin(), person_words.end(), [&](const auto& w) {
      return std::find(display_words.begin(), display_words.end(), w) != display_words.end();
    });
    if (!named) continue;
    const bool theirs =
        std::any_of(person.addresses.begin(), person.addresses.end(),
                    [&](const std::string& a) { return AsciiLower(a) == from.address; });
    if (theirs || (!from_domain.empty() && is_protected(from_domain))) continue;
    person_named = person.name;
    triggers.push_back({"display_name", 3,
                        "the sender calls itself " + person.name + " but writes from " +
                            (from_domain.empty() ? "no domain" : from_domain)});
    break;
  }
  std::string lookalike_evidence;
  auto check_domain = [&](const std::string& domain, std::string_view role, double weight) {
    if (domain.empty() || is_protected(domain)) return;
    const std::string org = rules.RegistrableDomain(domain);
    for (const auto& p : protected_domains) {
      std::optional<std::string> reason = LookalikeReason(org, rules.RegistrableDomain(p));
      if (!reason) continue;
      std::string evidence =
          std::string(role) + " domain " + domain + " imitates " + p + " (" + *reason + ")";
      if (lookalike_evidence.empty()) lookalike_evidence = evidence;
      triggers.push_back({std::string(role) + "_lookalike", weight, std::move(evidence)});
      return;
    }
  };
  check_domain(from_domain, "sender", 3);
  if (reply_domain != from_domain) check_domain(reply_domain, "reply-to", 3);
  if (triggers.empty()) return findings;

  // Supporting evidence, which alone is no impersonation.
  std::vector<Reason> support;
  if (!reply_domain.empty() && !from_domain.empty() &&
      rules.RegistrableDomain(reply_domain) != rules.RegistrableDomain(from_domain)) {
    support.push_back(
        {"reply_to_other_domain", 1.5, "replies go to " + rules.RegistrableDomain(reply_domain)});
  }
  const std::string text = MessageText(parsed.get());
  if (std::string words = FoundWords(text, PaymentWords()); !words.empty()) {
    support.push_back({"payment_language", 1, words});
  }
  if (std::string words = FoundWords(text, UrgencyWords()); !words.empty()) {
    support.push_back({"urgency_language", 1, words});
  }
  if (sender.first_seen) {
    support.push_back({"first_seen_sender", 1, "the sender has not written to the tenant before"});
  }

  double score = 0;
  std::string reasons;
  for (const auto* list : {&triggers, &support}) {
    for (const auto& r : *list) {
      score += r.weight;
      reasons += (reasons.empty() ? "" : "; ") + r.signal + " +" + FormatWeight(r.weight) + " (" +
                 r.evidence + ")";
    }
  }
  const std::string detail = "score " + FormatWeight(score) + ": " + reasons;
  if (!person_named.empty()) findings.push_back(Finding("Impersonation.DisplayName", detail));
  if (!lookalike_evidence.empty()) {
    findings.push_back(Finding("Impersonation.LookalikeDomain", detail));
  }
  return findings;
}

}  // namespace bulwark::impersonation

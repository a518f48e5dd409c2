#include "detectors/senderauth/arc_check.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "detectors/senderauth/auth_headers.h"

namespace bulwark::senderauth {
namespace {

constexpr int kMaxInstances = 50;  // RFC 8617 §4.2.1

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  auto ws = [](char c) { return IsWsp(c) || c == '\r' || c == '\n'; };
  while (!text.empty() && ws(text.front())) text.remove_prefix(1);
  while (!text.empty() && ws(text.back())) text.remove_suffix(1);
  return text;
}

// `message` with every bare LF made CR LF.
std::string WithCrlf(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 32);
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r')) out.push_back('\r');
    out.push_back(message[i]);
  }
  return out;
}

// One header field as written: its name and the raw text "Name: value\r\n continued"
// without the final CR LF.
struct RawField {
  std::string name;
  std::string raw;
};

// Splits a CR LF message into header fields and body.
void SplitMessage(std::string_view message, std::vector<RawField>& fields, std::string_view& body) {
  std::size_t pos = 0;
  body = {};
  while (pos < message.size()) {
    if (message.compare(pos, 2, "\r\n") == 0) {  // the empty line
      body = message.substr(pos + 2);
      return;
    }
    std::size_t end = pos;
    while (true) {
      std::size_t eol = message.find("\r\n", end);
      if (eol == std::string_view::npos) {
        end = message.size();
        break;
      }
      end = eol + 2;
      if (end >= message.size() || !IsWsp(message[end])) break;
    }
    std::string_view field = message.substr(pos, end - pos);
    if (field.ends_with("\r\n")) field.remove_suffix(2);
    std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || fields.size() >= kMaxHeaderFields) return;
    fields.push_back({std::string(Trim(field.substr(0, colon))), std::string(field)});
    pos = end;
  }
}

// RFC 6376 §3.4.2: lower-case name, unfolded, runs of white space as one space, none
// around the colon or at the end.
std::string RelaxedHeader(const RawField& field) {
  std::string_view raw = field.raw;
  std::string_view value = raw.substr(raw.find(':') + 1);
  std::string out = Lower(field.name) + ":";
  bool space = false;
  bool started = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;
    if (IsWsp(c)) {
      space = started;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    started = true;
    out.push_back(c);
  }
  return out + "\r\n";
}

std::string CanonicalHeader(const RawField& field, bool relaxed) {
  return relaxed ? RelaxedHeader(field) : field.raw + "\r\n";
}

// RFC 6376 §3.4.3 and §3.4.4.
std::string CanonicalBody(std::string_view body, bool relaxed) {
  std::string out;
  if (relaxed) {
    std::size_t pos = 0;
    while (pos < body.size()) {
      std::size_t eol = body.find("\r\n", pos);
      std::string_view line = body.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
      std::string cooked;
      bool space = false;
      for (char c : line) {
        if (IsWsp(c)) {
          space = true;
          continue;
        }
        if (space) cooked.push_back(' ');
        space = false;
        cooked.push_back(c);
      }
      out += cooked;
      out += "\r\n";
      if (eol == std::string_view::npos) break;
      pos = eol + 2;
    }
  } else {
    out.assign(body);
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  }
  while (out.ends_with("\r\n\r\n")) out.resize(out.size() - 2);
  if (out == "\r\n") out.clear();
  if (!relaxed && out.empty()) out = "\r\n";
  return out;
}

// RFC 6376 §3.2: tag-name = ALPHA *ALNUMPUNC (letters, digits, '_').
bool ValidTagName(std::string_view name) {
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// A DKIM-style tag list ("i=1; a=rsa-sha256; b=…"; RFC 6376 §3.2). Empty optional when
// malformed: a tag without '=', an invalid or duplicate tag name, an empty tag-spec (";;")
// other than after the final ';'.
std::optional<std::map<std::string, std::string>> ParseTags(std::string_view value) {
  std::map<std::string, std::string> tags;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t semi = value.find(';', pos);
    std::string_view part =
        Trim(value.substr(pos, semi == std::string_view::npos ? semi : semi - pos));
    const bool last = semi == std::string_view::npos;
    pos = last ? value.size() + 1 : semi + 1;
    if (part.empty()) {
      if (last) break;  // a trailing ';' is allowed
      return std::nullopt;
    }
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string name(Trim(part.substr(0, eq)));
    std::string tag_value(Trim(part.substr(eq + 1)));
    if (!ValidTagName(name) || tags.contains(name)) return std::nullopt;
    tags.emplace(std::move(name), std::move(tag_value));
  }
  return tags;
}

std::string WithoutWhitespace(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (!IsWsp(c) && c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string clean = WithoutWhitespace(text);
  if (clean.empty() || clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  std::size_t padding = 0;
  if (clean.ends_with("==")) {
    padding = 2;
  } else if (clean.ends_with("=")) {
    padding = 1;
  }
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

// The raw field with the value of its b= tag removed ("b=" stays), for signing.
std::string WithEmptySignature(const RawField& field) {
  const std::string& raw = field.raw;
  std::size_t colon = raw.find(':');
  std::size_t pos = colon + 1;
  while (pos < raw.size()) {
    // Find the start of a tag: after ':' or ';' and white space.
    std::size_t start = pos;
    while (start < raw.size() && (IsWsp(raw[start]) || raw[start] == '\r' || raw[start] == '\n')) {
      ++start;
    }
    std::size_t semi = raw.find(';', start);
    std::size_t end = semi == std::string::npos ? raw.size() : semi;
    std::size_t eq = raw.find('=', start);
    if (eq != std::string::npos && eq < end &&
        std::string_view(Trim(std::string_view(raw).substr(start, eq - start))) == "b") {
      return raw.substr(0, eq + 1) + raw.substr(end);
    }
    pos = end + 1;
  }
  return raw;
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Fetches the public key of selector `s` in domain `d`; the reason when it cannot.
std::unique_ptr<EVP_PKEY, PkeyFree> FetchKey(const Resolver& resolver, const std::string& selector,
                                             const std::string& domain, std::string& reason) {
  const std::string name = selector + "._domainkey." + domain;
  DnsAnswer answer = resolver.Lookup(name, DnsType::kTxt);
  if (answer.status != DnsStatus::kOk || answer.records.empty()) {
    reason = "no key at " + name;
    return nullptr;
  }
  auto tags = ParseTags(answer.records.front().data);
  if (!tags || !tags->contains("p") || tags->at("p").empty()) {
    reason = "no usable key at " + name;
    return nullptr;
  }
  if (auto k = tags->find("k"); k != tags->end() && k->second != "rsa") {
    reason = "key type " + k->second + " at " + name;
    return nullptr;
  }
  std::optional<std::string> der = Base64Decode(tags->at("p"));
  if (!der) {
    reason = "key at " + name + " is not base64";
    return nullptr;
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<EVP_PKEY, PkeyFree> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
  if (key == nullptr) {
    reason = "key at " + name + " does not parse";
    return nullptr;
  }
  if (EVP_PKEY_get_bits(key.get()) < 1024) {  // RFC 8301 §3.2
    reason = "key at " + name + " is shorter than 1024 bits";
    return nullptr;
  }
  return key;
}

bool VerifyRsaSha256(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

// One ARC set: its three fields and their tags.
struct ArcSet {
  const RawField* results = nullptr;    // ARC-Authentication-Results
  const RawField* signature = nullptr;  // ARC-Message-Signature
  const RawField* seal = nullptr;       // ARC-Seal
  std::map<std::string, std::string> signature_tags, seal_tags;
};

// The instance number of an ARC field: its i= tag (the first segment of an AAR, any tag of
// an AMS or AS).
std::optional<int> InstanceOf(const RawField& field, bool first_only) {
  std::string_view value = std::string_view(field.raw).substr(field.raw.find(':') + 1);
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t semi = value.find(';', pos);
    std::string_view part =
        Trim(value.substr(pos, semi == std::string_view::npos ? semi : semi - pos));
    pos = semi == std::string_view::npos ? value.size() + 1 : semi + 1;
    std::size_t eq = part.find('=');
    if (eq != std::string_view::npos && Trim(part.substr(0, eq)) == "i") {
      std::string_view i = Trim(part.substr(eq + 1));
      if (i.empty() || i.size() > 3 || !std::all_of(i.begin(), i.end(), ::isdigit)) {
        return std::nullopt;
      }
      int n = std::stoi(std::string(i));
      if (n < 1 || n > kMaxInstances) return std::nullopt;
      return n;
    }
    if (first_only) return std::nullopt;
  }
  return std::nullopt;
}

// The dmarc= result an ARC-Authentication-Results field records ("" when none): its value
// is "i=N; " followed by an Authentication-Results value.
std::string RecordedDmarc(const RawField& field) {
  std::string_view value = std::string_view(field.raw).substr(field.raw.find(':') + 1);
  const std::size_t semi = value.find(';');
  if (semi == std::string_view::npos) return "";
  const auto results = ParseAuthenticationResults(value.substr(semi + 1));
  if (!results) return "";
  for (const AuthResultsEntry& entry : results->results) {
    if (entry.method == "dmarc") return entry.result;
  }
  return "";
}

ArcCheck Fail(ArcCheck check, std::string reason) {
  check.result = AuthResult::kFail;
  check.reason = std::move(reason);
  return check;
}

// Verifies the ARC-Message-Signature of `set` over the message.
bool VerifyMessageSignature(const ArcSet& set, const std::vector<RawField>& fields,
                            std::string_view body, const Resolver& resolver, std::string& reason) {
  const auto& tags = set.signature_tags;
  for (const char* required : {"a", "b", "bh", "d", "h", "s"}) {
    if (!tags.contains(required)) {
      reason = std::string("no ") + required + "= tag";
      return false;
    }
  }
  if (Lower(tags.at("a")) != "rsa-sha256") {
    reason = "algorithm " + tags.at("a");
    return false;
  }
  // Without c=, relaxed/relaxed: what ARC signers write and the ValiMail suite expects
  // (ams_fields_c_na), unlike DKIM's simple/simple default.
  bool relaxed_header = true, relaxed_body = true;
  if (auto c = tags.find("c"); c != tags.end()) {
    std::string_view canon = c->second;
    std::size_t slash = canon.find('/');
    std::string_view header = canon.substr(0, slash);
    std::string_view body_canon =
        slash == std::string_view::npos ? "simple" : canon.substr(slash + 1);
    if ((header != "relaxed" && header != "simple") ||
        (body_canon != "relaxed" && body_canon != "simple")) {
      reason = "canonicalization " + c->second;
      return false;
    }
    relaxed_header = header == "relaxed";
    relaxed_body = body_canon == "relaxed";
  }
  std::optional<std::string> body_hash = Base64Decode(tags.at("bh"));
  if (!body_hash || *body_hash != Sha256(CanonicalBody(body, relaxed_body))) {
    reason = "body hash does not match";
    return false;
  }
  // Signed fields, each name taken from the bottom up (RFC 6376 §5.4.2).
  std::string data;
  std::map<std::string, std::size_t> used;  // lower-case name → instances consumed
  std::string_view names = tags.at("h");
  std::size_t pos = 0;
  while (pos <= names.size()) {
    std::size_t colon = names.find(':', pos);
    std::string name =
        Lower(Trim(names.substr(pos, colon == std::string_view::npos ? colon : colon - pos)));
    pos = colon == std::string_view::npos ? names.size() + 1 : colon + 1;
    if (name.empty()) continue;
    if (name == "arc-seal") {
      reason = "h= names ARC-Seal";
      return false;
    }
    std::size_t skip = used[name]++;
    for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
      if (Lower(it->name) != name) continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      data += CanonicalHeader(*it, relaxed_header);
      break;
    }
  }
  RawField unsigned_field{set.signature->name, WithEmptySignature(*set.signature)};
  std::string self = CanonicalHeader(unsigned_field, relaxed_header);
  self.resize(self.size() - 2);  // no CR LF after the signature field itself
  data += self;
  auto key = FetchKey(resolver, tags.at("s"), Lower(tags.at("d")), reason);
  if (key == nullptr) return false;
  std::optional<std::string> signature = Base64Decode(tags.at("b"));
  if (!signature || !VerifyRsaSha256(key.get(), data, *signature)) {
    reason = "signature does not verify";
    return false;
  }
  return true;
}

// Verifies ARC-Seal `n` over the sets 1..n (relaxed header canonicalisation only).
bool VerifySeal(const std::vector<ArcSet>& sets, int n, const Resolver& resolver,
                std::string& reason) {
  const auto& tags = sets[static_cast<std::size_t>(n)].seal_tags;
  for (const char* required : {"a", "b", "cv", "d", "s"}) {
    if (!tags.contains(required)) {
      reason = std::string("no ") + required + "= tag";
      return false;
    }
  }
  if (tags.contains("h")) {
    reason = "h= in an ARC-Seal";
    return false;
  }
  if (Lower(tags.at("a")) != "rsa-sha256") {
    reason = "algorithm " + tags.at("a");
    return false;
  }
  std::string data;
  for (int i = 1; i <= n; ++i) {
    const ArcSet& set = sets[static_cast<std::size_t>(i)];
    data += RelaxedHeader(*set.results);
    data += RelaxedHeader(*set.signature);
    if (i < n) {
      data += RelaxedHeader(*set.seal);
    } else {
      std::string self = RelaxedHeader(RawField{set.seal->name, WithEmptySignature(*set.seal)});
      self.resize(self.size() - 2);
      data += self;
    }
  }
  auto key = FetchKey(resolver, tags.at("s"), Lower(tags.at("d")), reason);
  if (key == nullptr) return false;
  std::optional<std::string> signature = Base64Decode(tags.at("b"));
  if (!signature || !VerifyRsaSha256(key.get(), data, *signature)) {
    reason = "signature does not verify";
    return false;
  }
  return true;
}

}  // namespace

ArcCheck VerifyArc(std::string_view message, const Resolver& resolver) {
  ArcCheck check;
  const std::string crlf = WithCrlf(message);
  std::vector<RawField> fields;
  std::string_view body;
  SplitMessage(crlf, fields, body);

  // Gather the sets by instance.
  std::vector<ArcSet> sets(kMaxInstances + 1);
  int highest = 0;
  bool any = false;
  for (const auto& field : fields) {
    const std::string name = Lower(field.name);
    const RawField* ArcSet::*slot = nullptr;
    if (name == "arc-authentication-results") slot = &ArcSet::results;
    if (name == "arc-message-signature") slot = &ArcSet::signature;
    if (name == "arc-seal") slot = &ArcSet::seal;
    if (slot == nullptr) continue;
    any = true;
    std::optional<int> instance = InstanceOf(field, slot == &ArcSet::results);
    if (!instance) return Fail(check, field.name + " without a valid i= tag");
    ArcSet& set = sets[static_cast<std::size_t>(*instance)];
    if (set.*slot != nullptr) {
      return Fail(check, "two " + field.name + " fields with i=" + std::to_string(*instance));
    }
    set.*slot = &field;
    highest = std::max(highest, *instance);
  }
  if (!any) return check;  // cv=none
  check.instances = highest;
  for (int i = 1; i <= highest; ++i) {
    ArcSet& set = sets[static_cast<std::size_t>(i)];
    if (set.results == nullptr || set.signature == nullptr || set.seal == nullptr) {
      return Fail(check, "ARC set i=" + std::to_string(i) + " is incomplete");
    }
    const std::string_view sig_value =
        std::string_view(set.signature->raw).substr(set.signature->raw.find(':') + 1);
    const std::string_view seal_value =
        std::string_view(set.seal->raw).substr(set.seal->raw.find(':') + 1);
    auto sig_tags = ParseTags(sig_value);
    auto seal_tags = ParseTags(seal_value);
    if (!sig_tags || !seal_tags) {
      return Fail(check, "malformed tags in ARC set i=" + std::to_string(i));
    }
    set.signature_tags = std::move(*sig_tags);
    set.seal_tags = std::move(*seal_tags);
    const std::string cv = Lower(set.seal_tags.count("cv") ? set.seal_tags.at("cv") : "");
    if (i == highest && cv == "fail") return Fail(check, "the latest ARC-Seal says cv=fail");
    if ((i == 1 && cv != "none") || (i > 1 && cv != "pass")) {
      return Fail(check, "ARC-Seal i=" + std::to_string(i) + " has cv=" + cv);
    }
  }
  std::string reason;
  if (!VerifyMessageSignature(sets[static_cast<std::size_t>(highest)], fields, body, resolver,
                              reason)) {
    return Fail(check, "ARC-Message-Signature i=" + std::to_string(highest) + ": " + reason);
  }
  for (int i = highest; i >= 1; --i) {
    if (!VerifySeal(sets, i, resolver, reason)) {
      return Fail(check, "ARC-Seal i=" + std::to_string(i) + ": " + reason);
    }
  }
  check.result = AuthResult::kPass;
  for (int i = 1; i <= highest; ++i) {
    const ArcSet& set = sets[static_cast<std::size_t>(i)];
    ArcCheck::Hop hop;
    hop.sealer = Lower(set.seal_tags.at("d"));
    hop.dmarc = RecordedDmarc(*set.results);
    check.hops.push_back(std::move(hop));
  }
  return check;
}

}  // namespace bulwark::senderauth

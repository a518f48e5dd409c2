#include "mail/verdict_seal.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <vector>

#include "bulwark/common/text.h"
#include "crypto/sha256.h"
#include "detectors/senderauth/auth_headers.h"

namespace bulwark::mail {
namespace {

// A field as read from the message (mail::HeaderField is one we write).
using ParsedField = senderauth::HeaderField;

// The first `name` field's value (unfolded, trimmed); "" when absent.
std::string FieldValue(const std::vector<ParsedField>& fields, std::string_view name) {
  for (const ParsedField& f : fields) {
    if (EqualsIgnoreCase(f.name, name)) return f.value;
  }
  return "";
}

// SHA-256 hex of the body with CR LF → LF and trailing empty lines removed.
std::string BodyHash(std::string_view message) {
  std::size_t start = message.find("\r\n\r\n");
  std::size_t lf = message.find("\n\n");
  std::string_view body;
  if (start != std::string_view::npos && (lf == std::string_view::npos || start < lf)) {
    body = message.substr(start + 4);
  } else if (lf != std::string_view::npos) {
    body = message.substr(lf + 2);
  }
  std::string normal;
  normal.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') continue;
    normal.push_back(body[i]);
  }
  while (!normal.empty() && (normal.back() == '\n' || normal.back() == '\r')) normal.pop_back();
  return crypto::ToHex(crypto::Sha256(normal));
}

std::string Mac(const VerdictSealKey& key, const std::map<std::string, std::string>& tags,
                const std::string& from, const std::string& message_id) {
  std::string input = "bulwark-verdict-seal";
  for (const auto& [name, value] : tags) input += "\n" + name + "=" + value;
  input += "\nfrom=" + from + "\nmessage-id=" + message_id;
  return crypto::HmacSha256Hex(key.key, input);
}

std::map<std::string, std::string> SignedTags(const VerdictSealKey& key, std::string_view verdict,
                                              std::string_view message, std::int64_t now) {
  return {{"v", "1"},
          {"s", key.site_id},
          {"t", std::to_string(now)},
          {"e", key.signature_version},
          {"r", std::string(verdict)},
          {"b", BodyHash(message)}};
}

// "v=1; s=local; …" → tags; nullopt when malformed.
std::optional<std::map<std::string, std::string>> ParseTags(std::string_view value) {
  std::map<std::string, std::string> tags;
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t semi = value.find(';', pos);
    std::string_view part = value.substr(pos, semi == std::string_view::npos ? semi : semi - pos);
    pos = semi == std::string_view::npos ? value.size() : semi + 1;
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      if (part.find_first_not_of(" \t") == std::string_view::npos) continue;
      return std::nullopt;
    }
    auto trim = [](std::string_view s) {
      std::size_t a = s.find_first_not_of(" \t");
      std::size_t b = s.find_last_not_of(" \t");
      return a == std::string_view::npos ? std::string() : std::string(s.substr(a, b - a + 1));
    };
    std::string name = trim(part.substr(0, eq));
    std::string text = trim(part.substr(eq + 1));
    text.erase(std::remove(text.begin(), text.end(), ' '), text.end());  // folded
    if (name.empty() || tags.count(name) != 0 || tags.size() > 16) return std::nullopt;
    tags[name] = text;
  }
  return tags;
}

}  // namespace

std::string_view SealCheckName(SealCheck check) {
  switch (check) {
    case SealCheck::kAbsent: return "absent";
    case SealCheck::kValid: return "valid";
    case SealCheck::kForged: return "forged";
    case SealCheck::kStale: return "stale";
  }
  return "absent";
}

HeaderField SealVerdict(const VerdictSealKey& key, std::string_view verdict,
                        std::string_view message, std::int64_t now) {
  std::vector<ParsedField> fields = senderauth::ParseHeaderFields(message);
  std::map<std::string, std::string> tags = SignedTags(key, verdict, message, now);
  std::string mac = Mac(key, tags, FieldValue(fields, "From"), FieldValue(fields, "Message-ID"));
  std::string value;
  for (std::string_view name : {"v", "s", "t", "e", "r", "b"}) {
    value += std::string(name) + "=" + tags.at(std::string(name)) + "; ";
  }
  value += "m=" + mac;
  return {std::string(kVerdictSealField), value};
}

SealVerification VerifyVerdictSeal(const VerdictSealKey& key, std::string_view message,
                                   std::int64_t now, std::int64_t max_age_seconds) {
  std::vector<ParsedField> fields = senderauth::ParseHeaderFields(message);
  const std::string from = FieldValue(fields, "From");
  const std::string message_id = FieldValue(fields, "Message-ID");
  SealVerification best;
  std::optional<std::string> body_hash;
  for (const ParsedField& field : fields) {
    if (!EqualsIgnoreCase(field.name, kVerdictSealField)) continue;
    if (best.check == SealCheck::kAbsent) best.check = SealCheck::kForged;
    std::optional<std::map<std::string, std::string>> tags = ParseTags(field.value);
    if (!tags || tags->count("m") == 0 || (*tags)["v"] != "1") continue;
    std::string mac = (*tags)["m"];
    tags->erase("m");
    if (tags->size() != 6) continue;
    std::string expected = Mac(key, *tags, from, message_id);
    if (mac.size() != expected.size() ||
        CRYPTO_memcmp(mac.data(), expected.data(), mac.size()) != 0) {
      continue;
    }
    if (!body_hash) body_hash = BodyHash(message);
    if ((*tags)["b"] != *body_hash || (*tags)["s"] != key.site_id) continue;
    std::int64_t signed_at = 0;
    const std::string& t = (*tags)["t"];
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), signed_at);
    bool fresh = ec == std::errc() && end == t.data() + t.size() && max_age_seconds > 0 &&
                 signed_at <= now + 300 && now - signed_at <= max_age_seconds &&
                 (*tags)["e"] == key.signature_version;
    if (fresh) return {SealCheck::kValid, (*tags)["r"]};
    best.check = SealCheck::kStale;
  }
  return best;
}

}  // namespace bulwark::mail

#include "detectors/hashes/hash_list.h"

#include <cstring>
#include <vector>

namespace bulwark::detectors {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool IsPrintableName(std::string_view name) {
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::size_t DigestHash::operator()(const crypto::Sha256Digest& digest) const {
  std::size_t value;
  std::memcpy(&value, digest.data(), sizeof(value));
  return value;
}

Status HashList::Parse(std::string_view text, std::string_view source) {
  std::vector<std::pair<crypto::Sha256Digest, std::string>> parsed;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    auto error = [&](std::string_view why) {
      return InvalidArgumentError(std::string(source) + ":" + std::to_string(line_number) + ": " +
                                  std::string(why));
    };
    if (line.size() > kMaxLineBytes) return error("line longer than 4096 bytes");
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    crypto::Sha256Digest digest{};
    if (!crypto::ParseSha256Hex(line.substr(0, 64), digest)) {
      return error("expected 64 hexadecimal digits of a SHA-256 hash");
    }
    std::string_view rest = line.substr(64);
    std::string name;
    if (!rest.empty()) {
      if (rest.front() != ':' && rest.front() != ' ' && rest.front() != '\t') {
        return error("expected ':' or whitespace after the hash");
      }
      rest.remove_prefix(1);
      rest = Trim(rest);
      if (!rest.empty() && rest.front() == '*') rest.remove_prefix(1);  // sha256sum binary mark
      if (!IsPrintableName(rest)) return error("name contains control characters");
      name = std::string(rest);
    }
    if (name.empty()) name = "Hash.Listed";
    parsed.emplace_back(digest, std::move(name));
    if (entries_.size() + parsed.size() > kMaxEntries) return error("too many entries");
  }
  for (auto& [digest, name] : parsed) entries_.insert_or_assign(digest, std::move(name));
  return OkStatus();
}

const std::string* HashList::Find(const crypto::Sha256Digest& digest) const {
  auto it = entries_.find(digest);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace bulwark::detectors

#pragma once
// HashList: SHA-256 reputation lists, parsed from operator-supplied files.
//
// Accepted line forms (one hash a line; blank lines and lines starting with '#' ignored):
//   <64 hex digits>
//   <64 hex digits> <whitespace> <name>      (sha256sum output: the name is the file name)
//   <64 hex digits>:<name>                   (name of the threat)
// Bad lines are errors with the line number: an operator must know a list was not loaded.

#include <string>
#include <string_view>
#include <unordered_map>

#include "bulwark/common/result.h"
#include "crypto/sha256.h"

namespace bulwark::detectors {

struct DigestHash {
  std::size_t operator()(const crypto::Sha256Digest& digest) const;
};

class HashList {
 public:
  static constexpr std::size_t kMaxLineBytes = 4096;
  static constexpr std::size_t kMaxEntries = 50'000'000;

  // Adds every entry of `text` (the contents of `source`, used in error messages).
  // kInvalidArgument with "source:line: reason" on the first bad line; on error no
  // entry of `text` is added.
  Status Parse(std::string_view text, std::string_view source);

  // The listed name of `digest`, or nullptr.
  const std::string* Find(const crypto::Sha256Digest& digest) const;
  std::size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<crypto::Sha256Digest, std::string, DigestHash> entries_;
};

}  // namespace bulwark::detectors

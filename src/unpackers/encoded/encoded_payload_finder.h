#pragma once
// Finds PowerShell encoded commands (`-EncodedCommand <base64 of UTF-16LE>`) in any bytes and
// decodes them. Pure functions over bytes: no engine, no I/O, easy to test and fuzz.
//
// What counts as a payload:
//   - a switch: `-`, `/`, an en/em dash (UTF-8 or Windows-1252) or U+2015, then a
//     case-insensitive non-empty prefix of "encodedcommand" (-e, -en, -enc, …) or "ec",
//     ended by a non-letter;
//   - then at least one whitespace character, possibly with quotes or backslashes around it
//     (`-e "…"`, `-e \"…\"`); the separator may be written %20, %09, &#32;, &#x20;, &quot;…;
//   - then at least 16 base64 characters (%2B, %2F, %3D and character references decoded),
//     an optional `=` padding, that decode to UTF-16LE text (see Utf16LeTextToUtf8).
// Invalid base64 or anything that is not UTF-16LE text is not a payload and is skipped.
//
// The bytes are searched as they are (ASCII, UTF-8, Windows-1252) and, when they hold a NUL
// byte, also as UTF-16LE: runs of at least 32 printable code units, at both byte alignments,
// are narrowed to ASCII and searched the same way. Equal payloads are reported once.
//
// Cost: linear in the size of the input: one table-driven pass over the bytes (a second,
// mostly skipping one for UTF-16LE when there are NULs), a look at the byte after each dash,
// bounded look-ahead per candidate, no backtracking. Thread safety: reentrant; no shared state.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::unpackers {

struct PayloadFinderLimits {
  // Payloads reported (oversized ones included) before the search stops with kPayloadLimit.
  std::size_t max_payloads = 64;
  // A decoded payload (UTF-8) larger than this is counted as oversized and not reported.
  std::size_t max_payload_bytes = 64u << 20;
  // The expiry callback is consulted each time the search has advanced this many bytes.
  std::size_t expiry_check_bytes = 1u << 20;
};

enum class PayloadSearchEnd {
  kComplete,      // the whole input was searched
  kStopped,       // the visitor returned false
  kPayloadLimit,  // a payload beyond max_payloads was found; the rest was not searched
  kExpired,       // the expiry callback returned true
};

struct PayloadSearchSummary {
  PayloadSearchEnd end = PayloadSearchEnd::kComplete;
  std::size_t payloads = 0;   // handed to the visitor
  std::size_t oversized = 0;  // found but larger than max_payload_bytes
};

// Receives one decoded payload (UTF-8 text); returns false to stop the search.
using PayloadVisitor = std::function<bool(std::string payload)>;
// Returns true when the search must stop (scan deadline passed). May be empty.
using ExpiryCheck = std::function<bool()>;

// Searches `bytes` and hands each distinct decoded payload to `visitor`, in the order found.
PayloadSearchSummary FindEncodedPayloads(std::string_view bytes, const PayloadFinderLimits& limits,
                                         const PayloadVisitor& visitor,
                                         const ExpiryCheck& expired = {});

// Strict base64 (RFC 4648 alphabet, no whitespace). Padding is optional, but when present it
// must complete the last quantum; a length of 4n+1 is invalid. nullopt when invalid.
std::optional<std::string> DecodeBase64(std::string_view text);

// UTF-16LE bytes to UTF-8 when they are text as PowerShell would run it: an even length, well
// formed surrogate pairs, no control characters other than tab, CR, LF and form feed, no
// non-characters U+FFFE/U+FFFF, and at least half the characters ASCII. A leading byte order
// mark and trailing NULs are dropped. nullopt when the bytes are not such text.
std::optional<std::string> Utf16LeTextToUtf8(std::string_view bytes);

}  // namespace bulwark::unpackers

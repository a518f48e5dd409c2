#pragma once
// Request-target parsing for the server: percent-decoding, the path and the query string.
// Pure functions on strings (no I/O), so they are easy to test and fuzz.

#include <map>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"

namespace bulwark::http {

// Decodes %XX escapes (either case); with `plus_as_space` also '+' → ' ' (query strings).
// kInvalidArgument for '%' not followed by two hex digits.
Result<std::string> PercentDecode(std::string_view text, bool plus_as_space);

// Splits "a=1&b=x%20y&flag" into decoded pairs ("flag" → ""); empty pieces are skipped.
// kInvalidArgument for a bad escape.
Result<std::multimap<std::string, std::string>> ParseQuery(std::string_view query);

struct ParsedTarget {
  std::string path;  // decoded, starts with '/'
  std::multimap<std::string, std::string> query;
};

// Parses an origin-form request target ("/a/b?x=1"). kInvalidArgument when it does not start
// with '/', holds a bad escape, or the decoded path holds NUL or a "." or ".." segment.
Result<ParsedTarget> ParseTarget(std::string_view target);

}  // namespace bulwark::http

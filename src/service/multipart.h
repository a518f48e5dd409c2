#pragma once
// The first file part of a multipart/form-data body (RFC 7578), for POST /api/v1/scan.
// Untrusted input: bounded, never copies more than the part itself (fuzz/multipart_fuzz.cc).

#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::service {

struct FormFile {
  std::string field;      // the part's form field name
  std::string filename;   // from Content-Disposition; "" if absent
  std::string_view data;  // points into the body
};

// The boundary parameter of a Content-Type header ("multipart/form-data; boundary=…").
// kInvalidArgument when it is not multipart/form-data or the boundary is missing/too long.
Result<std::string> MultipartBoundary(std::string_view content_type);
// Every part in order (ICAP uploads), at most `max_parts`: kResourceExhausted beyond.
// kInvalidArgument for a body without a closed part or with a malformed one.
Result<std::vector<FormFile>> FormParts(std::string_view body, std::string_view boundary,
                                        std::size_t max_parts = 1000);
// The first part with a filename (or else the first part). kInvalidArgument for a body
// without a closed part.
Result<FormFile> FirstFormFile(std::string_view body, std::string_view boundary);

}  // namespace bulwark::service

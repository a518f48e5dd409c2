#include "service/multipart.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "bulwark/common/text.h"

namespace bulwark::service {
namespace {

constexpr std::size_t kMaxBoundary = 70;  // RFC 2046
constexpr std::size_t kMaxPartHeaders = 8192;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The value of `name=` in a header's parameters (quoted or token), if present.
std::optional<std::string> Parameter(std::string_view header, std::string_view name) {
  std::string lower = AsciiLower(header);
  std::size_t pos = 0;
  while ((pos = lower.find(name, pos)) != std::string::npos) {
    bool starts = pos == 0 || lower[pos - 1] == ';' || lower[pos - 1] == ' ' ||
                  lower[pos - 1] == '\t';
    std::size_t eq = pos + name.size();
    if (!starts || eq >= header.size() || header[eq] != '=') {
      pos = eq;
      continue;
    }
    std::string_view rest = header.substr(eq + 1);
    if (!rest.empty() && rest.front() == '"') {
      std::string value;
      for (std::size_t i = 1; i < rest.size(); ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) {
          value += rest[++i];
        } else if (rest[i] == '"') {
          return value;
        } else {
          value += rest[i];
        }
      }
      return std::nullopt;  // unterminated quote
    }
    std::size_t end = rest.find(';');
    return std::string(Trim(rest.substr(0, end)));
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  if (AsciiLower(Trim(content_type.substr(0, content_type.find(';')))) != "multipart/form-data") {
    return InvalidArgumentError("not multipart/form-data");
  }
  std::optional<std::string> boundary = Parameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > kMaxBoundary) {
    return InvalidArgumentError("multipart/form-data without a valid boundary");
  }
  return *boundary;
}

Result<std::vector<FormFile>> FormParts(std::string_view body, std::string_view boundary,
                                        std::size_t max_parts) {
  if (boundary.empty() || boundary.size() > kMaxBoundary) {
    return InvalidArgumentError("invalid multipart boundary");
  }
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t pos = body.find(delimiter);
  std::vector<FormFile> parts;
  while (pos != std::string_view::npos) {
    if (parts.size() >= max_parts) return ResourceExhaustedError("too many multipart parts");
    std::size_t line_end = body.find("\r\n", pos);
    if (line_end == std::string_view::npos) break;
    if (body.substr(pos + delimiter.size(), 2) == "--") break;  // closing delimiter
    std::size_t headers_end = body.find("\r\n\r\n", line_end);
    if (headers_end == std::string_view::npos || headers_end - line_end > kMaxPartHeaders) {
      return InvalidArgumentError("malformed multipart part headers");
    }
    std::string_view headers = body.substr(line_end + 2, headers_end - line_end - 2);
    std::size_t data_start = headers_end + 4;
    std::size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) {
      return InvalidArgumentError("multipart part without a closing boundary");
    }
    FormFile part;
    part.data = body.substr(data_start, next - data_start);
    std::size_t start = 0;
    while (start <= headers.size()) {
      std::size_t end = headers.find("\r\n", start);
      std::string_view line =
          headers.substr(start, end == std::string_view::npos ? std::string_view::npos
                                                              : end - start);
      std::size_t colon = line.find(':');
      if (colon != std::string_view::npos &&
          AsciiLower(Trim(line.substr(0, colon))) == "content-disposition") {
        std::string_view value = line.substr(colon + 1);
        part.field = Parameter(value, "name").value_or("");
        part.filename = Parameter(value, "filename").value_or("");
      }
      if (end == std::string_view::npos) break;
      start = end + 2;
    }
    parts.push_back(std::move(part));
    pos = next + 2;
  }
  if (parts.empty()) return InvalidArgumentError("multipart body without a part");
  return parts;
}

Result<FormFile> FirstFormFile(std::string_view body, std::string_view boundary) {
  BULWARK_ASSIGN_OR_RETURN(std::vector<FormFile> parts, FormParts(body, boundary));
  for (FormFile& part : parts) {
    if (!part.filename.empty()) return std::move(part);
  }
  return std::move(parts.front());
}

}  // namespace bulwark::service

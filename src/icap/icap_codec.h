#pragma once
// The ICAP wire format (RFC 3507): request heads, the Encapsulated header, encapsulated HTTP
// header blocks and chunk-size lines. No I/O and no engine: every function takes bytes and
// returns a parsed value or kInvalidArgument (malformed) / kResourceExhausted (over a limit),
// so the session can answer with ICAP's own error forms (fuzz/icap_protocol_fuzz.cc).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::icap {

// Limits on what a client may send (docs/icap.md, "Limits").
inline constexpr std::size_t kMaxRequestHead = 16 * 1024;       // ICAP request line + headers
inline constexpr std::size_t kMaxEncapsulatedHeaders = 64 * 1024;  // HTTP header blocks
inline constexpr std::size_t kMaxHeaderFields = 100;            // per header block
inline constexpr std::size_t kMaxChunkLine = 1024;              // chunk-size line + extensions
inline constexpr std::uint64_t kMaxChunkSize = std::uint64_t{1} << 32;

enum class IcapMethod { kOptions, kReqmod, kRespmod };
std::string_view IcapMethodName(IcapMethod method);

struct HeaderField {
  std::string name;  // as sent
  std::string value;  // leading and trailing blanks removed
};

// Header fields in their order, looked up case-insensitively.
class HeaderList {
 public:
  void Add(std::string name, std::string value);
  // The first field called `name`.
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<HeaderField>& fields() const { return fields_; }

 private:
  std::vector<HeaderField> fields_;
};

struct IcapRequestHead {
  std::string method_name;  // as sent ("RESPMOD")
  std::optional<IcapMethod> method;  // nullopt: a method ICAP does not define (501)
  std::string uri;          // "icap://host:1344/respmod"
  std::string version;      // "ICAP/1.0"
  std::string path;         // the URI's path without query: "/respmod"
  HeaderList headers;
};

// `head`: the request line and header lines, without the blank line that ends them. Lines
// end with CRLF (a bare LF is accepted, as c-icap does). Obsolete line folding, a field
// without a colon, control characters or more than kMaxHeaderFields fields: kInvalidArgument.
Result<IcapRequestHead> ParseRequestHead(std::string_view head);

// The Encapsulated header (RFC 3507 4.4.1) as sections with their byte lengths.
enum class BodyKind { kNone, kNull, kReqBody, kResBody, kOptBody };
struct Encapsulation {
  std::optional<std::size_t> req_hdr_length;  // present when req-hdr is listed
  std::optional<std::size_t> res_hdr_length;
  BodyKind body = BodyKind::kNone;
  std::size_t headers_length = 0;  // bytes of HTTP headers before the body (the body's offset)
};
// Checks the section names allowed for `method`, that offsets start at 0 and increase
// strictly, that headers come before the single body entry which is last, and that the
// header bytes stay within kMaxEncapsulatedHeaders (kResourceExhausted beyond).
Result<Encapsulation> ParseEncapsulated(std::string_view value, IcapMethod method);

// One encapsulated HTTP header block: start line and fields. `block` must end with the
// blank line (CRLF CRLF) that closes it.
struct HttpHead {
  std::string start_line;  // "GET http://example.com/a HTTP/1.1", "HTTP/1.1 200 OK"
  HeaderList headers;
};
Result<HttpHead> ParseHttpHead(std::string_view block);

// A chunk-size line without its CRLF: hex size, then optional extensions; `ieof` is the
// extension that ends a preview with the whole body (RFC 3507 4.5).
struct ChunkHeader {
  std::uint64_t size = 0;
  bool ieof = false;
};
Result<ChunkHeader> ParseChunkLine(std::string_view line);

// A whole chunked body in memory (the fuzzer's and tests' view of what the session reads
// piece by piece): the decoded bytes, whether it ended with ieof, and the bytes consumed
// through the final CRLF. kInvalidArgument when malformed or truncated.
struct DecodedBody {
  std::string data;
  bool ieof = false;
  std::size_t consumed = 0;
};
Result<DecodedBody> DecodeChunkedBody(std::string_view wire, std::uint64_t max_bytes);

// The parts of a request URI the service cares about.
struct RequestTarget {
  std::string url;        // absolute URL without query or fragment ("http://h/p/f.zip")
  std::string file_name;  // last path segment, percent-decoded; "" when the path ends in '/'
};
// From a request line "GET <target> HTTP/1.1" and its Host header.
RequestTarget ParseRequestTarget(std::string_view request_line, std::string_view host);

// The filename parameter of a Content-Disposition value ("" when absent).
std::string DispositionFileName(std::string_view content_disposition);

// Appends one chunk ("<hex>\r\n<data>\r\n"); nothing for empty data.
void AppendChunk(std::string& out, std::string_view data);

}  // namespace bulwark::icap

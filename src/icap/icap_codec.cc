#include "icap/icap_codec.h"

#include <array>
#include <charconv>

#include "bulwark/common/text.h"

namespace bulwark::icap {
namespace {

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTokenChar(unsigned char c) {
  if (c <= 32 || c >= 127) return false;
  constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={}";
  return kSeparators.find(static_cast<char>(c)) == std::string_view::npos;
}

// Splits `text` into lines ending in CRLF or LF (the last may lack it).
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string_view line =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return lines;
}

// Header lines (after the start line) into `headers`.
Status ParseFields(const std::vector<std::string_view>& lines, std::size_t first,
                   HeaderList& headers) {
  if (lines.size() - first > kMaxHeaderFields) {
    return InvalidArgumentError("too many header fields");
  }
  for (std::size_t i = first; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.empty()) return InvalidArgumentError("empty line inside the headers");
    if (line.front() == ' ' || line.front() == '\t') {
      return InvalidArgumentError("obsolete header line folding");
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgumentError("header line without a name");
    }
    std::string_view name = line.substr(0, colon);
    for (unsigned char c : name) {
      if (!IsTokenChar(c)) return InvalidArgumentError("invalid header name");
    }
    std::string_view value = TrimBlanks(line.substr(colon + 1));
    for (unsigned char c : value) {
      if ((c < 32 && c != '\t') || c == 127) {
        return InvalidArgumentError("control character in a header value");
      }
    }
    headers.Add(std::string(name), std::string(value));
  }
  return OkStatus();
}

bool ParseDecimal(std::string_view text, std::size_t& out) {
  if (text.empty() || text.size() > 12) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

void PercentDecode(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = HexDigitValue(static_cast<unsigned char>(in[i + 1]));
      int lo = HexDigitValue(static_cast<unsigned char>(in[i + 2]));
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
}

}  // namespace

std::string_view IcapMethodName(IcapMethod method) {
  switch (method) {
    case IcapMethod::kOptions: return "OPTIONS";
    case IcapMethod::kReqmod: return "REQMOD";
    case IcapMethod::kRespmod: return "RESPMOD";
  }
  return "";
}

void HeaderList::Add(std::string name, std::string value) {
  fields_.push_back({std::move(name), std::move(value)});
}

std::optional<std::string_view> HeaderList::Get(std::string_view name) const {
  std::string wanted = AsciiLower(name);
  for (const auto& field : fields_) {
    if (field.name.size() == wanted.size() && AsciiLower(field.name) == wanted) {
      return std::string_view(field.value);
    }
  }
  return std::nullopt;
}

Result<IcapRequestHead> ParseRequestHead(std::string_view head) {
  if (head.size() > kMaxRequestHead) return ResourceExhaustedError("ICAP header too large");
  std::vector<std::string_view> lines = SplitLines(head);
  if (lines.empty() || lines[0].empty()) return InvalidArgumentError("empty request line");
  std::string_view line = lines[0];
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return InvalidArgumentError("malformed request line");
  }
  IcapRequestHead out;
  out.method_name = std::string(line.substr(0, sp1));
  out.uri = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  out.version = std::string(line.substr(sp2 + 1));
  if (out.method_name.empty() || out.uri.empty() || out.version.empty()) {
    return InvalidArgumentError("malformed request line");
  }
  for (unsigned char c : line) {
    if (c < 32 || c == 127) return InvalidArgumentError("control character in request line");
  }
  for (unsigned char c : out.method_name) {
    if (!IsTokenChar(c)) return InvalidArgumentError("invalid method");
  }
  if (out.method_name == "OPTIONS") out.method = IcapMethod::kOptions;
  if (out.method_name == "REQMOD") out.method = IcapMethod::kReqmod;
  if (out.method_name == "RESPMOD") out.method = IcapMethod::kRespmod;
  if (out.version.rfind("ICAP/", 0) != 0) return InvalidArgumentError("not an ICAP request");

  // icap://host[:port]/path[?query]; a bare /path is accepted too.
  std::string_view uri = out.uri;
  std::string_view lower_scheme = uri.substr(0, 7);
  if (AsciiLower(lower_scheme) == "icap://") {
    uri.remove_prefix(7);
    std::size_t slash = uri.find('/');
    uri = slash == std::string_view::npos ? std::string_view("/") : uri.substr(slash);
  } else if (uri.empty() || uri.front() != '/') {
    return InvalidArgumentError("malformed ICAP URI");
  }
  out.path = std::string(uri.substr(0, uri.find_first_of("?#")));
  BULWARK_RETURN_IF_ERROR(ParseFields(lines, 1, out.headers));
  return out;
}

Result<Encapsulation> ParseEncapsulated(std::string_view value, IcapMethod method) {
  struct Entry {
    std::string name;
    std::size_t offset;
  };
  std::vector<Entry> entries;
  for (const std::string& item : SplitList(value)) {
    std::size_t eq = item.find('=');
    std::size_t offset = 0;
    if (eq == std::string::npos ||
        !ParseDecimal(TrimBlanks(std::string_view(item).substr(eq + 1)), offset)) {
      return InvalidArgumentError("malformed Encapsulated entry");
    }
    entries.push_back({AsciiLower(TrimBlanks(std::string_view(item).substr(0, eq))), offset});
    if (entries.size() > 4) return InvalidArgumentError("too many Encapsulated entries");
  }
  if (entries.empty()) return InvalidArgumentError("empty Encapsulated header");
  Encapsulation out;
  std::size_t previous = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (i == 0 ? e.offset != 0 : e.offset <= previous) {
      return InvalidArgumentError("Encapsulated offsets must start at 0 and increase");
    }
    if (e.offset > kMaxEncapsulatedHeaders) {
      return ResourceExhaustedError("encapsulated HTTP headers too large");
    }
    if (i > 0) {
      std::size_t length = e.offset - previous;
      if (entries[i - 1].name == "req-hdr") out.req_hdr_length = length;
      if (entries[i - 1].name == "res-hdr") out.res_hdr_length = length;
    }
    previous = e.offset;
    bool last = i + 1 == entries.size();
    bool header = e.name == "req-hdr" || e.name == "res-hdr";
    if (header) {
      if (last) return InvalidArgumentError("Encapsulated must end with a body entry");
      if ((e.name == "req-hdr" && (out.req_hdr_length || out.res_hdr_length)) ||
          (e.name == "res-hdr" && out.res_hdr_length)) {
        return InvalidArgumentError("Encapsulated sections out of order");
      }
      if (method == IcapMethod::kOptions ||
          (method == IcapMethod::kReqmod && e.name == "res-hdr")) {
        return InvalidArgumentError("Encapsulated section not allowed for this method");
      }
      continue;
    }
    if (!last) return InvalidArgumentError("the body entry must be the last");
    if (e.name == "null-body") {
      out.body = BodyKind::kNull;
    } else if (e.name == "req-body" && method == IcapMethod::kReqmod) {
      out.body = BodyKind::kReqBody;
    } else if (e.name == "res-body" && method == IcapMethod::kRespmod) {
      out.body = BodyKind::kResBody;
    } else if (e.name == "opt-body" && method == IcapMethod::kOptions) {
      out.body = BodyKind::kOptBody;
    } else {
      return InvalidArgumentError("Encapsulated section not allowed for this method");
    }
    out.headers_length = e.offset;
  }
  if (method == IcapMethod::kReqmod && !out.req_hdr_length) {
    return InvalidArgumentError("REQMOD without req-hdr");
  }
  return out;
}

Result<HttpHead> ParseHttpHead(std::string_view block) {
  if (block.size() < 4 || block.substr(block.size() - 4) != "\r\n\r\n") {
    return InvalidArgumentError("encapsulated HTTP header block does not end with a blank line");
  }
  std::vector<std::string_view> lines = SplitLines(block.substr(0, block.size() - 4));
  if (lines.empty() || lines[0].empty()) return InvalidArgumentError("empty HTTP start line");
  for (unsigned char c : lines[0]) {
    if (c < 32 || c == 127) return InvalidArgumentError("control character in HTTP start line");
  }
  HttpHead out;
  out.start_line = std::string(lines[0]);
  BULWARK_RETURN_IF_ERROR(ParseFields(lines, 1, out.headers));
  return out;
}

Result<ChunkHeader> ParseChunkLine(std::string_view line) {
  if (line.size() > kMaxChunkLine) return InvalidArgumentError("chunk-size line too long");
  std::size_t digits = 0;
  ChunkHeader out;
  while (digits < line.size()) {
    int v = HexDigitValue(static_cast<unsigned char>(line[digits]));
    if (v < 0) break;
    if (digits >= 16) return InvalidArgumentError("chunk size too large");
    out.size = out.size * 16 + static_cast<std::uint64_t>(v);
    ++digits;
  }
  if (digits == 0) return InvalidArgumentError("chunk-size line without a size");
  if (out.size > kMaxChunkSize) return InvalidArgumentError("chunk size too large");
  std::string_view rest = TrimBlanks(line.substr(digits));
  while (!rest.empty()) {
    if (rest.front() != ';') return InvalidArgumentError("malformed chunk extension");
    rest = TrimBlanks(rest.substr(1));
    std::size_t end = rest.find(';');
    std::string_view extension = TrimBlanks(rest.substr(0, end));
    if (extension.empty()) return InvalidArgumentError("empty chunk extension");
    for (unsigned char c : extension) {
      if (c < 32 || c == 127) return InvalidArgumentError("control character in chunk extension");
    }
    if (extension == "ieof") out.ieof = true;
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  if (out.ieof && out.size != 0) return InvalidArgumentError("ieof on a non-final chunk");
  return out;
}

Result<DecodedBody> DecodeChunkedBody(std::string_view wire, std::uint64_t max_bytes) {
  DecodedBody out;
  std::size_t pos = 0;
  while (true) {
    std::size_t eol = wire.find("\r\n", pos);
    if (eol == std::string_view::npos) return InvalidArgumentError("truncated chunk-size line");
    BULWARK_ASSIGN_OR_RETURN(ChunkHeader chunk, ParseChunkLine(wire.substr(pos, eol - pos)));
    pos = eol + 2;
    if (chunk.size == 0) {
      // Trailer fields (ignored), then the blank line.
      while (true) {
        std::size_t end = wire.find("\r\n", pos);
        if (end == std::string_view::npos) return InvalidArgumentError("truncated trailer");
        bool blank = end == pos;
        pos = end + 2;
        if (blank) break;
      }
      out.ieof = chunk.ieof;
      out.consumed = pos;
      return out;
    }
    if (chunk.size > wire.size() - pos || wire.size() - pos - chunk.size < 2) {
      return InvalidArgumentError("truncated chunk");
    }
    if (out.data.size() + chunk.size > max_bytes) return ResourceExhaustedError("body too large");
    out.data.append(wire.substr(pos, chunk.size));
    pos += chunk.size;
    if (wire.substr(pos, 2) != "\r\n") return InvalidArgumentError("chunk without its CRLF");
    pos += 2;
  }
}

RequestTarget ParseRequestTarget(std::string_view request_line, std::string_view host) {
  RequestTarget out;
  std::size_t sp1 = request_line.find(' ');
  if (sp1 == std::string_view::npos) return out;
  std::string_view target = request_line.substr(sp1 + 1);
  target = target.substr(0, target.find(' '));
  target = target.substr(0, target.find_first_of("?#"));
  std::string_view path = target;
  std::size_t scheme = target.find("://");
  if (scheme != std::string_view::npos && scheme < 10) {
    out.url = std::string(target);
    std::size_t slash = target.find('/', scheme + 3);
    path = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  } else if (!host.empty() && !target.empty() && target.front() == '/') {
    out.url = "http://" + std::string(host) + std::string(target);
  } else {
    out.url = std::string(target);
  }
  std::size_t last = path.rfind('/');
  PercentDecode(last == std::string_view::npos ? path : path.substr(last + 1), out.file_name);
  return out;
}

std::string DispositionFileName(std::string_view value) {
  std::string lower = AsciiLower(value);
  std::size_t pos = lower.find("filename=");
  if (pos == std::string::npos) return "";
  std::string_view rest = value.substr(pos + 9);
  std::string out;
  if (!rest.empty() && rest.front() == '"') {
    for (std::size_t i = 1; i < rest.size() && rest[i] != '"'; ++i) {
      if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
      out.push_back(rest[i]);
    }
  } else {
    out = std::string(TrimBlanks(rest.substr(0, rest.find(';'))));
  }
  std::size_t slash = out.find_last_of("/\\");
  return slash == std::string::npos ? out : out.substr(slash + 1);
}

void AppendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  std::array<char, 20> hex{};
  auto [end, ec] = std::to_chars(hex.data(), hex.data() + hex.size(), data.size(), 16);
  out.append(hex.data(), end);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

}  // namespace bulwark::icap

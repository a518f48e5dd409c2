#include "icap/icap_session.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "bulwark/common/text.h"
#include "service/multipart.h"

namespace bulwark::icap {
namespace {

constexpr std::size_t kMaxTrailerLines = 32;
constexpr std::size_t kReadPiece = 64 * 1024;
constexpr std::size_t kMaxFormParts = 256;

// The bytes of one encapsulated message as received.
struct Message {
  IcapMethod method = IcapMethod::kRespmod;
  std::string req_hdr_raw, res_hdr_raw;
  std::optional<HttpHead> req_hdr, res_hdr;
  bool has_body = false;
  std::string body;
  bool oversize = false;   // the body went past max_object_bytes (and was not kept whole)
  bool streaming = false;  // the unchanged message is being echoed while it arrives
};

// Why a request cannot go on: the reply to send (0 = none, just close) and whether the
// connection may stay open.
struct Failure {
  int code = 0;
  bool keep_open = false;
};

int CodeForReadError(const Status& status, int malformed_code) {
  switch (status.code()) {
    case StatusCode::kDeadlineExceeded: return 408;
    case StatusCode::kResourceExhausted: return malformed_code == 400 ? 400 : 413;
    case StatusCode::kInvalidArgument: return malformed_code;
    default: return 0;  // closed or broken: nobody to answer
  }
}

std::string UrlFormDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '&') {
      out.push_back('\n');
    } else if (c == '%' && i + 2 < in.size() && HexDigitValue(in[i + 1]) >= 0 &&
               HexDigitValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigitValue(in[i + 1]) * 16 + HexDigitValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

class Session {
 public:
  Session(net::Connection& connection, IcapBackend& backend, const IcapSessionOptions& options)
      : connection_(connection),
        backend_(backend),
        options_(options),
        reader_(connection, options.read_timeout) {}

  void Run() {
    while (!(options_.stopping && options_.stopping())) {
      reader_.set_timeout(options_.idle_timeout);
      Result<bool> more = reader_.WaitForData();
      if (!more.ok() || !*more) return;
      reader_.set_timeout(options_.read_timeout);
      if (!HandleRequest()) return;
    }
  }

 private:
  Status Send(std::string_view data) { return connection_.Write(data, options_.read_timeout); }

  // One request. False when the connection must close.
  bool HandleRequest() {
    istag_ = backend_.ISTag();
    Result<std::string> head = reader_.ReadUntil("\r\n\r\n", kMaxRequestHead);
    if (!head.ok()) return Fail({CodeForReadError(head.status(), 413), false});
    Result<IcapRequestHead> request = ParseRequestHead(*head);
    if (!request.ok()) {
      return Fail({request.status().code() == StatusCode::kResourceExhausted ? 413 : 400, false});
    }
    if (request->version != "ICAP/1.0") return Fail({505, false});
    if (!request->method) return Fail({501, false});
    request_headers_ = &request->headers;
    bool close = false;
    if (auto c = request->headers.Get("Connection")) close = AsciiLower(*c) == "close";

    ServicePath service;
    if (!ParseServicePath(request->path, service)) return Fail({404, false});
    std::string tenant_id = options_.tenant_id;
    if (!service.tenant.empty()) {
      Result<std::string> named = backend_.UriTenant(service.tenant);
      if (!named.ok()) {
        return Fail({named.status().code() == StatusCode::kNotFound ? 404 : 500, false});
      }
      tenant_id = *named;
    }
    IcapMethod method = *request->method;
    if ((method == IcapMethod::kReqmod && !service.reqmod) ||
        (method == IcapMethod::kRespmod && !service.respmod)) {
      return Fail({405, false});
    }
    if (method == IcapMethod::kOptions) {
      if (!SkipOptionsBody(*request)) return false;
      OptionsInfo info;
      if (service.reqmod) info.methods.push_back(IcapMethod::kReqmod);
      if (service.respmod) info.methods.push_back(IcapMethod::kRespmod);
      info.service = "Bulwark ICAP " + service.service;
      info.istag = istag_;
      info.max_connections = options_.max_connections;
      info.preview_bytes = options_.preview_bytes;
      return Send(OptionsReply(info)).ok() && !close;
    }
    std::optional<Failure> failure = HandleModification(*request, method, tenant_id);
    if (failure) return Fail(*failure);
    return !close;
  }

  // Sends the reply of a failure (if any). True when the connection may stay open.
  bool Fail(Failure failure) {
    if (failure.code != 0) {
      (void)Send(ErrorReply(failure.code, istag_, !failure.keep_open));
    }
    return failure.keep_open;
  }

  // OPTIONS may carry an opt-body (RFC 3507 4.10.1); it is read and ignored.
  bool SkipOptionsBody(const IcapRequestHead& request) {
    std::optional<std::string_view> value = request.headers.Get("Encapsulated");
    if (!value) return true;
    Result<Encapsulation> enc = ParseEncapsulated(*value, IcapMethod::kOptions);
    if (!enc.ok()) return Fail({400, false});
    if (enc->body != BodyKind::kOptBody) return true;
    Message ignored;
    ignored.oversize = true;  // keep nothing
    Status read = ReadChunks(ignored, nullptr);
    return read.ok() || Fail({CodeForReadError(read, 400), false});
  }

  std::optional<Failure> HandleModification(const IcapRequestHead& request, IcapMethod method,
                                            const std::string& tenant_id) {
    std::optional<std::string_view> encapsulated = request.headers.Get("Encapsulated");
    if (!encapsulated) return Failure{400, false};
    Result<Encapsulation> enc = ParseEncapsulated(*encapsulated, method);
    if (!enc.ok()) {
      return Failure{enc.status().code() == StatusCode::kResourceExhausted ? 413 : 400, false};
    }
    Message message;
    message.method = method;
    std::string headers;
    if (enc->headers_length > 0) {
      Status read = reader_.ReadExactly(enc->headers_length, headers);
      if (!read.ok()) return Failure{CodeForReadError(read, 400), false};
    }
    std::size_t offset = 0;
    if (enc->req_hdr_length) {
      message.req_hdr_raw = headers.substr(offset, *enc->req_hdr_length);
      offset += *enc->req_hdr_length;
      Result<HttpHead> head = ParseHttpHead(message.req_hdr_raw);
      if (!head.ok()) return Failure{400, false};
      message.req_hdr = std::move(*head);
    }
    if (enc->res_hdr_length) {
      message.res_hdr_raw = headers.substr(offset, *enc->res_hdr_length);
      Result<HttpHead> head = ParseHttpHead(message.res_hdr_raw);
      if (!head.ok()) return Failure{400, false};
      message.res_hdr = std::move(*head);
    }
    message.has_body = enc->body == BodyKind::kReqBody || enc->body == BodyKind::kResBody;
    bool allow_204 = false;
    if (auto allow = request.headers.Get("Allow")) {
      for (const std::string& item : SplitList(*allow)) allow_204 |= item == "204";
    }
    std::optional<std::string_view> preview = request.headers.Get("Preview");
    bool answering_preview = false;  // the reply answers a preview: 204 is always allowed
    if (message.has_body) {
      if (preview) {
        std::size_t declared = 0;
        for (char c : *preview) {
          if (c < '0' || c > '9' || declared > (1u << 24)) return Failure{400, false};
          declared = declared * 10 + static_cast<std::size_t>(c - '0');
        }
        if (preview->empty()) return Failure{400, false};
        bool ieof = false;
        Status read = ReadChunks(message, &ieof, /*in_preview=*/true);
        if (!read.ok()) return Failure{CodeForReadError(read, 400), false};
        answering_preview = true;
        if (!ieof) {
          if (message.oversize || DeclaredOversize(message)) {
            message.oversize = true;  // decided on the preview: the rest is never sent
            return Finish(message, tenant_id, allow_204, /*preview_reply=*/true);
          }
          if (!Send("ICAP/1.0 100 Continue\r\n\r\n").ok()) return Failure{0, false};
          answering_preview = false;
          read = ReadChunks(message, nullptr, false, allow_204);
          if (!read.ok()) return ReadFailure(message, read);
        }
      } else {
        Status read = ReadChunks(message, nullptr, false, allow_204);
        if (!read.ok()) return ReadFailure(message, read);
      }
    }
    return Finish(message, tenant_id, allow_204, answering_preview);
  }

  // A body that broke off: answered with an error, unless a streamed echo already began
  // (then the connection is just closed: the client sees a truncated reply).
  static Failure ReadFailure(const Message& message, const Status& status) {
    return Failure{message.streaming ? 0 : CodeForReadError(status, 400), false};
  }

  // True when the HTTP headers announce a body larger than max_object_bytes.
  bool DeclaredOversize(const Message& message) const {
    const std::optional<HttpHead>& head =
        message.method == IcapMethod::kRespmod ? message.res_hdr : message.req_hdr;
    if (!head) return false;
    std::optional<std::string_view> length = head->headers.Get("Content-Length");
    if (!length || length->empty() || length->size() > 19) return false;
    std::uint64_t n = 0;
    for (char c : *length) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n > options_.max_object_bytes;
  }

  // Reads chunks through the zero chunk and its trailer. Bytes within max_object_bytes are
  // kept in message.body; past it the message is oversize: the bytes are dropped, or, when
  // the reply can neither be 204 nor a block, echoed back as they arrive (streaming).
  Status ReadChunks(Message& message, bool* ieof, bool in_preview = false,
                    bool allow_204 = true) {
    while (true) {
      BULWARK_ASSIGN_OR_RETURN(std::string line, reader_.ReadUntil("\r\n", kMaxChunkLine));
      BULWARK_ASSIGN_OR_RETURN(ChunkHeader chunk, ParseChunkLine(line));
      if (chunk.size == 0) {
        for (std::size_t i = 0;; ++i) {
          if (i == kMaxTrailerLines) return InvalidArgumentError("too many trailer lines");
          BULWARK_ASSIGN_OR_RETURN(std::string trailer, reader_.ReadUntil("\r\n", kMaxChunkLine));
          if (trailer.empty()) break;
        }
        if (ieof != nullptr) *ieof = chunk.ieof;
        if (chunk.ieof && ieof == nullptr) return InvalidArgumentError("ieof outside a preview");
        if (message.streaming) return Send("0\r\n\r\n");
        return OkStatus();
      }
      std::uint64_t remaining = chunk.size;
      std::string piece;
      while (remaining > 0) {
        piece.clear();
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, kReadPiece));
        BULWARK_RETURN_IF_ERROR(reader_.ReadExactly(n, piece));
        remaining -= n;
        BULWARK_RETURN_IF_ERROR(Keep(message, piece, in_preview, allow_204));
      }
      std::string crlf;
      BULWARK_RETURN_IF_ERROR(reader_.ReadExactly(2, crlf));
      if (crlf != "\r\n") return InvalidArgumentError("chunk without its CRLF");
    }
  }

  Status Keep(Message& message, std::string_view piece, bool in_preview, bool allow_204) {
    if (message.streaming) {
      std::string chunk;
      AppendChunk(chunk, piece);
      return Send(chunk);
    }
    if (!message.oversize && message.body.size() + piece.size() <= options_.max_object_bytes) {
      message.body.append(piece);
      return OkStatus();
    }
    if (!message.oversize) {
      message.oversize = true;
      // Replies after a preview may be 204; a block replaces the message. Otherwise the
      // unchanged message must go back, so it goes back as it arrives.
      if (!in_preview && !allow_204 && !options_.block_oversize) {
        message.streaming = true;
        std::string out = EchoReplyHead(message.method, EchoHeaders(message), true, istag_);
        AppendChunk(out, message.body);
        AppendChunk(out, piece);
        message.body.clear();
        message.body.shrink_to_fit();
        backend_.CountOversize(false);
        return Send(out);
      }
    }
    message.body.clear();
    message.body.shrink_to_fit();
    return OkStatus();
  }

  static const std::string& EchoHeaders(const Message& message) {
    return message.method == IcapMethod::kReqmod ? message.req_hdr_raw : message.res_hdr_raw;
  }

  // The reply once the message (or its preview) is read.
  std::optional<Failure> Finish(Message& message, const std::string& tenant_id, bool allow_204,
                                bool preview_reply) {
    if (message.streaming) return std::nullopt;  // already answered
    bool may_204 = allow_204 || preview_reply;
    if (message.oversize) {
      backend_.CountOversize(options_.block_oversize);
      if (options_.block_oversize) {
        BlockNotice notice;
        notice.verdict = "unscannable";
        notice.findings = {"object larger than the scan limit (" +
                           std::to_string(options_.max_object_bytes) + " bytes)"};
        notice.object = ObjectName(message);
        return SendOrClose(BlockReply(notice, istag_));
      }
      return SendOrClose(NoContentReply(istag_));  // only reached when 204 is allowed
    }
    if (message.has_body) {
      std::optional<IcapVerdict> blocked;
      for (const IcapScanJob& job : Jobs(message, tenant_id)) {
        Result<IcapVerdict> verdict = backend_.Scan(job);
        if (!verdict.ok()) return Failure{500, true};
        if (verdict->blocked && !blocked) blocked = std::move(*verdict);
      }
      if (blocked) return SendOrClose(BlockReply(blocked->notice, istag_));
    }
    if (may_204) return SendOrClose(NoContentReply(istag_));
    std::string out = EchoReplyHead(message.method, EchoHeaders(message), message.has_body, istag_);
    if (message.has_body) {
      AppendChunk(out, message.body);
      out += "0\r\n\r\n";
    }
    return SendOrClose(out);
  }

  std::optional<Failure> SendOrClose(const std::string& reply) {
    if (Send(reply).ok()) return std::nullopt;
    return Failure{0, false};
  }

  std::string User() const {
    for (std::string_view name : {"X-Client-Username", "X-Authenticated-User"}) {
      if (auto value = request_headers_ ? request_headers_->Get(name) : std::nullopt) {
        std::string_view user = *value;
        std::size_t scheme = user.find("://");  // "Local://alice" (draft-stecher-icap-subid)
        if (scheme != std::string_view::npos) user.remove_prefix(scheme + 3);
        return AsciiLower(user);
      }
    }
    return "";
  }

  std::string ObjectName(const Message& message) const {
    RequestTarget target;
    if (message.req_hdr) {
      target = ParseRequestTarget(message.req_hdr->start_line,
                                  message.req_hdr->headers.Get("Host").value_or(""));
    }
    if (message.method == IcapMethod::kRespmod && message.res_hdr) {
      if (auto disposition = message.res_hdr->headers.Get("Content-Disposition")) {
        std::string file = DispositionFileName(*disposition);
        if (!file.empty()) return file;
      }
    }
    if (!target.file_name.empty()) return target.file_name;
    if (!target.url.empty()) return target.url;
    return message.method == IcapMethod::kRespmod ? "download" : "upload";
  }

  // What to scan: a download whole; an upload's form parts one by one (files under their
  // names, text fields together), a URL-encoded form decoded, any other body whole.
  std::vector<IcapScanJob> Jobs(const Message& message, const std::string& tenant_id) {
    IcapScanJob base;
    base.tenant_id = tenant_id;
    base.user = User();
    base.method = message.method;
    base.name = ObjectName(message);
    std::vector<IcapScanJob> jobs;
    std::string_view content_type;
    if (message.method == IcapMethod::kReqmod && message.req_hdr) {
      content_type = message.req_hdr->headers.Get("Content-Type").value_or("");
    }
    std::string lower_type = AsciiLower(content_type.substr(0, content_type.find(';')));
    if (lower_type == "multipart/form-data") {
      Result<std::string> boundary = service::MultipartBoundary(content_type);
      if (boundary.ok()) {
        Result<std::vector<service::FormFile>> parts =
            service::FormParts(message.body, *boundary, kMaxFormParts);
        if (parts.ok()) {
          form_fields_.clear();
          for (const service::FormFile& part : *parts) {
            if (part.filename.empty()) {
              form_fields_ += part.field + ": " + std::string(part.data) + "\n";
              continue;
            }
            IcapScanJob job = base;
            job.name = part.filename;
            job.data = part.data;
            jobs.push_back(std::move(job));
          }
          if (!form_fields_.empty()) {
            IcapScanJob job = base;
            job.name = base.name + " (form fields)";
            job.data = form_fields_;
            jobs.push_back(std::move(job));
          }
          return jobs;
        }
      }
    } else if (lower_type == "application/x-www-form-urlencoded") {
      form_fields_ = UrlFormDecode(message.body);
      IcapScanJob job = base;
      job.name = base.name + " (form fields)";
      job.data = form_fields_;
      jobs.push_back(std::move(job));
      return jobs;
    }
    base.data = message.body;
    jobs.push_back(std::move(base));
    return jobs;
  }

  net::Connection& connection_;
  IcapBackend& backend_;
  const IcapSessionOptions& options_;
  net::BufferedReader reader_;
  std::string istag_;
  std::string form_fields_;  // decoded form text of the current request (jobs borrow it)
  const HeaderList* request_headers_ = nullptr;  // of the current request
};

}  // namespace

bool ParseServicePath(std::string_view path, ServicePath& out) {
  out = ServicePath();
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  if (segments.empty() || segments.size() > 2) return false;
  out.service = AsciiLower(segments.back());
  if (segments.size() == 2) out.tenant = std::string(segments.front());
  if (out.service == "respmod") {
    out.respmod = true;
  } else if (out.service == "reqmod") {
    out.reqmod = true;
  } else if (out.service == "avscan" || out.service == "srv_clamav" ||
             out.service == "squidclamav") {
    out.reqmod = out.respmod = true;
  } else {
    return false;
  }
  return true;
}

void RunIcapSession(net::Connection& connection, IcapBackend& backend,
                    const IcapSessionOptions& options) {
  Session(connection, backend, options).Run();
}

}  // namespace bulwark::icap

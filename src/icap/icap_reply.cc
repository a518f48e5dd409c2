#include "icap/icap_reply.h"

#include <ctime>

namespace bulwark::icap {
namespace {

std::string_view ReasonPhrase(int code) {
  switch (code) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "ICAP Service Not Found";
    case 405: return "Method Not Allowed For Service";
    case 408: return "Request Timeout";
    case 413: return "Request Entity Too Large";
    case 500: return "Server Error";
    case 501: return "Method Not Implemented";
    case 503: return "Service Overloaded";
    case 505: return "ICAP Version Not Supported";
    default: return "Error";
  }
}

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::size_t n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buffer, n);
}

}  // namespace

std::string ReplyHead(int code, std::string_view istag) {
  std::string out = "ICAP/1.0 " + std::to_string(code) + " " + std::string(ReasonPhrase(code)) +
                    "\r\nServer: Bulwark-ICAP/1.0\r\nDate: " + HttpDate() + "\r\n";
  if (!istag.empty()) out += "ISTag: " + std::string(istag) + "\r\n";
  return out;
}

std::string ErrorReply(int code, std::string_view istag, bool close) {
  std::string out = ReplyHead(code, istag);
  if (close) out += "Connection: close\r\n";
  out += "Encapsulated: null-body=0\r\n\r\n";
  return out;
}

std::string NoContentReply(std::string_view istag) {
  return ReplyHead(204, istag) + "Encapsulated: null-body=0\r\n\r\n";
}

std::string OptionsReply(const OptionsInfo& info) {
  std::string methods;
  for (IcapMethod m : info.methods) {
    if (!methods.empty()) methods += ", ";
    methods += IcapMethodName(m);
  }
  std::string out = ReplyHead(200, info.istag);
  out += "Methods: " + methods + "\r\n";
  out += "Service: " + info.service + "\r\n";
  out += "Service-ID: bulwark\r\n";
  out += "Max-Connections: " + std::to_string(info.max_connections) + "\r\n";
  out += "Options-TTL: " + std::to_string(info.options_ttl_seconds) + "\r\n";
  out += "Allow: 204\r\n";
  out += "Preview: " + std::to_string(info.preview_bytes) + "\r\n";
  out += "Transfer-Preview: *\r\n";
  out += "Encapsulated: null-body=0\r\n\r\n";
  return out;
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 32 && c != '\t') {
          out += ' ';  // no control characters in the page
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string BlockPage(const BlockNotice& notice) {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Blocked by Bulwark</title>"
      "<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;color:#222}"
      "h1{color:#a00}code{background:#eee;padding:0 .2em}</style></head>\n<body>\n"
      "<h1>Blocked by your organisation's security policy</h1>\n";
  if (!notice.object.empty()) {
    page += "<p>Object: <code>" + EscapeHtml(notice.object) + "</code></p>\n";
  }
  page += "<p>Verdict: <strong>" + EscapeHtml(notice.verdict) + "</strong></p>\n";
  if (!notice.findings.empty()) {
    page += "<p>Findings:</p>\n<ul>\n";
    for (const std::string& f : notice.findings) page += "<li>" + EscapeHtml(f) + "</li>\n";
    page += "</ul>\n";
  }
  if (!notice.reference.empty()) {
    page += "<p>Reference: <code>" + EscapeHtml(notice.reference) + "</code></p>\n";
  }
  page +=
      "<p>If you believe this is a mistake, contact your administrator and quote the "
      "reference.</p>\n</body></html>\n";
  return page;
}

std::string BlockReply(const BlockNotice& notice, std::string_view istag) {
  std::string page = BlockPage(notice);
  std::string http =
      "HTTP/1.1 403 Forbidden\r\n"
      "Content-Type: text/html; charset=utf-8\r\n"
      "Cache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "Content-Length: " +
      std::to_string(page.size()) + "\r\n\r\n";
  std::string out = ReplyHead(200, istag);
  out += "Encapsulated: res-hdr=0, res-body=" + std::to_string(http.size()) + "\r\n\r\n";
  out += http;
  AppendChunk(out, page);
  out += "0\r\n\r\n";
  return out;
}

std::string EchoReplyHead(IcapMethod method, std::string_view http_headers, bool has_body,
                          std::string_view istag) {
  std::string_view header = method == IcapMethod::kReqmod ? "req-hdr" : "res-hdr";
  std::string_view body = has_body ? (method == IcapMethod::kReqmod ? "req-body" : "res-body")
                                   : "null-body";
  std::string out = ReplyHead(200, istag);
  out += "Encapsulated: ";
  if (!http_headers.empty()) out += std::string(header) + "=0, ";
  out += std::string(body) + "=" + std::to_string(http_headers.size()) + "\r\n\r\n";
  out += http_headers;
  return out;
}

}  // namespace bulwark::icap

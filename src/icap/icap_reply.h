#pragma once
// ICAP replies (RFC 3507): status lines and headers, OPTIONS, 204, the unchanged echo, and
// the HTTP 403 block page that replaces a blocked download or upload. Serialisation only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "icap/icap_codec.h"

namespace bulwark::icap {

// "ICAP/1.0 <code> <reason>\r\nISTag: …\r\n…" with the headers every reply carries. The
// caller appends its own headers and the blank line.
std::string ReplyHead(int code, std::string_view istag);

// An error or other reply without a body. `close` adds "Connection: close".
std::string ErrorReply(int code, std::string_view istag, bool close);

// 204 No Content: the client keeps its own copy of the message.
std::string NoContentReply(std::string_view istag);

struct OptionsInfo {
  std::vector<IcapMethod> methods;
  std::string service;  // "Bulwark ICAP respmod"
  std::string istag;
  std::size_t max_connections = 0;
  std::uint64_t preview_bytes = 0;
  int options_ttl_seconds = 300;
};
std::string OptionsReply(const OptionsInfo& info);

// What a blocked object's page says: names of findings, never content.
struct BlockNotice {
  std::string verdict;                 // "malicious", "policy_violation", "unscannable", …
  std::vector<std::string> findings;   // "clamav: Eicar-Test-Signature", "dlp: PCI-DSS …"
  std::string object;                  // file name or URL (no query string)
  std::string reference;               // event number for the help desk; "" when none
};
// The HTML page (every value escaped).
std::string BlockPage(const BlockNotice& notice);
// ICAP 200 with an encapsulated "HTTP/1.1 403 Forbidden" response carrying the block page
// (no-store). Used for RESPMOD and REQMOD alike: REQMOD may answer with a response.
std::string BlockReply(const BlockNotice& notice, std::string_view istag);

// The head of a 200 reply that returns the message unchanged: `req_hdr` (REQMOD) or
// `res_hdr` (RESPMOD) as received, and whether a chunked body follows (the caller writes
// the chunks and "0\r\n\r\n").
std::string EchoReplyHead(IcapMethod method, std::string_view http_headers, bool has_body,
                          std::string_view istag);

// `text` with & < > " ' as HTML character references.
std::string EscapeHtml(std::string_view text);

}  // namespace bulwark::icap

#include "icap/icap_codec.h"

#include <gtest/gtest.h>

#include "icap/icap_reply.h"

namespace bulwark::icap {
namespace {

TEST(IcapCodecTest, ParsesRequestHead) {
  auto head = ParseRequestHead(
      "RESPMOD icap://proxy.example:1344/acme/respmod?x=1 ICAP/1.0\r\n"
      "Host: proxy.example\r\nAllow:  204 \r\nEncapsulated: req-hdr=0, res-hdr=40, res-body=90");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->method, IcapMethod::kRespmod);
  EXPECT_EQ(head->path, "/acme/respmod");
  EXPECT_EQ(head->version, "ICAP/1.0");
  EXPECT_EQ(head->headers.Get("allow").value_or(""), "204");
  EXPECT_FALSE(head->headers.Get("Preview"));
}

TEST(IcapCodecTest, UnknownMethodIsParsedButNotDefined) {
  auto head = ParseRequestHead("PATCH icap://h/respmod ICAP/1.0\r\nHost: h");
  ASSERT_TRUE(head.ok());
  EXPECT_FALSE(head->method);
  EXPECT_EQ(head->method_name, "PATCH");
}

TEST(IcapCodecTest, RejectsMalformedHeads) {
  for (std::string_view bad : {
           "", "RESPMOD\r\n", "RESPMOD icap://h/respmod\r\n", "RESPMOD  icap://h/x ICAP/1.0",
           "RESPMOD icap://h/x HTTP/1.1", "RESPMOD relative ICAP/1.0",
           "RESPMOD icap://h/x ICAP/1.0\r\nNo colon here",
           "RESPMOD icap://h/x ICAP/1.0\r\nA: b\r\n folded",
           "RESPMOD icap://h/x ICAP/1.0\r\nBad Name: b",
           "RESPMOD icap://h/x ICAP/1.0\r\nA: b\x01"}) {
    EXPECT_FALSE(ParseRequestHead(bad).ok()) << bad;
  }
  std::string many = "OPTIONS icap://h/respmod ICAP/1.0";
  for (int i = 0; i < 101; ++i) many += "\r\nX-" + std::to_string(i) + ": v";
  EXPECT_EQ(ParseRequestHead(many).status().code(), StatusCode::kInvalidArgument);
  std::string huge = "OPTIONS icap://h/respmod ICAP/1.0\r\nX: " + std::string(20000, 'a');
  EXPECT_EQ(ParseRequestHead(huge).status().code(), StatusCode::kResourceExhausted);
}

TEST(IcapCodecTest, ParsesEncapsulatedForEachMethod) {
  auto resp = ParseEncapsulated("req-hdr=0, res-hdr=137, res-body=296", IcapMethod::kRespmod);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(*resp->req_hdr_length, 137u);
  EXPECT_EQ(*resp->res_hdr_length, 159u);
  EXPECT_EQ(resp->body, BodyKind::kResBody);
  EXPECT_EQ(resp->headers_length, 296u);

  auto req_only = ParseEncapsulated("req-hdr=0, null-body=170", IcapMethod::kReqmod);
  ASSERT_TRUE(req_only.ok());
  EXPECT_EQ(req_only->body, BodyKind::kNull);
  EXPECT_FALSE(req_only->res_hdr_length);

  auto null_only = ParseEncapsulated("null-body=0", IcapMethod::kRespmod);
  ASSERT_TRUE(null_only.ok());
  EXPECT_EQ(null_only->headers_length, 0u);

  auto body_only = ParseEncapsulated("res-body=0", IcapMethod::kRespmod);
  ASSERT_TRUE(body_only.ok());
  EXPECT_EQ(body_only->body, BodyKind::kResBody);

  EXPECT_TRUE(ParseEncapsulated("opt-body=0", IcapMethod::kOptions).ok());
}

TEST(IcapCodecTest, RejectsBadEncapsulated) {
  struct Case {
    std::string_view value;
    IcapMethod method;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"", IcapMethod::kRespmod},
           {"res-hdr=10, res-body=20", IcapMethod::kRespmod},          // does not start at 0
           {"req-hdr=0, res-hdr=50, res-body=40", IcapMethod::kRespmod},  // decreasing
           {"req-hdr=0, res-hdr=0, res-body=40", IcapMethod::kRespmod},   // equal offsets
           {"res-hdr=0, req-hdr=30, res-body=60", IcapMethod::kRespmod},  // out of order
           {"req-hdr=0, res-body=30, res-hdr=60", IcapMethod::kRespmod},  // body not last
           {"req-hdr=0", IcapMethod::kRespmod},                         // no body entry
           {"req-hdr=0, res-body=20", IcapMethod::kReqmod},             // wrong body kind
           {"req-hdr=0, res-hdr=10, req-body=20", IcapMethod::kReqmod},  // res-hdr in REQMOD
           {"null-body=0", IcapMethod::kReqmod},                        // REQMOD needs req-hdr
           {"req-hdr=0, res-body=x", IcapMethod::kRespmod},
           {"req-hdr=0, res-body=-1", IcapMethod::kRespmod},
           {"req-hdr, res-body=10", IcapMethod::kRespmod},
           {"req-hdr=0, foo-body=10", IcapMethod::kRespmod},
           {"req-hdr=0, res-hdr=1, res-body=2, null-body=3, x=4", IcapMethod::kRespmod},
       }) {
    EXPECT_FALSE(ParseEncapsulated(c.value, c.method).ok()) << c.value;
  }
  EXPECT_EQ(ParseEncapsulated("req-hdr=0, res-body=99999999", IcapMethod::kRespmod)
                .status()
                .code(),
            StatusCode::kResourceExhausted);
}

TEST(IcapCodecTest, ParsesHttpHeadBlocks) {
  auto head = ParseHttpHead("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->start_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(head->headers.Get("content-length").value_or(""), "5");
  EXPECT_FALSE(ParseHttpHead("HTTP/1.1 200 OK\r\nA: b\r\n").ok());  // not closed
  EXPECT_FALSE(ParseHttpHead("\r\n\r\n").ok());
  EXPECT_FALSE(ParseHttpHead("GET / HTTP/1.1\r\nbroken\r\n\r\n").ok());
}

TEST(IcapCodecTest, ParsesChunkLines) {
  auto plain = ParseChunkLine("1a");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->size, 26u);
  EXPECT_FALSE(plain->ieof);
  auto ieof = ParseChunkLine("0; ieof");
  ASSERT_TRUE(ieof.ok());
  EXPECT_TRUE(ieof->ieof);
  EXPECT_TRUE(ParseChunkLine("A;name=value;other").ok());
  for (std::string_view bad : {"", "g", "-1", " 1", "1 x", "10; ieof", "1;", "ffffffffffffffffff",
                               "100000001", "1;a\x01"}) {
    EXPECT_FALSE(ParseChunkLine(bad).ok()) << bad;
  }
}

TEST(IcapCodecTest, DecodesChunkedBodies) {
  auto body = DecodeChunkedBody("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", 100);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->data, "hello world");
  EXPECT_FALSE(body->ieof);
  EXPECT_EQ(body->consumed, 26u);  // up to NEXT

  auto preview_all = DecodeChunkedBody("3\r\nabc\r\n0; ieof\r\n\r\n", 100);
  ASSERT_TRUE(preview_all.ok());
  EXPECT_TRUE(preview_all->ieof);
  auto with_trailer = DecodeChunkedBody("1\r\na\r\n0\r\nX-T: 1\r\n\r\n", 100);
  ASSERT_TRUE(with_trailer.ok());

  for (std::string_view bad : {"5\r\nhell", "5\r\nhello", "5\r\nhelloXX0\r\n\r\n", "0\r\n",
                               "zz\r\n", "3\r\nabc\r\n"}) {
    EXPECT_EQ(DecodeChunkedBody(bad, 100).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(DecodeChunkedBody("5\r\nhello\r\n0\r\n\r\n", 4).status().code(),
            StatusCode::kResourceExhausted);
}

TEST(IcapCodecTest, RequestTargetsDropTheQuery) {
  auto absolute = ParseRequestTarget("GET http://files.example/dl/r%C3%A9port.pdf?token=s3cret HTTP/1.1", "");
  EXPECT_EQ(absolute.url, "http://files.example/dl/r%C3%A9port.pdf");
  EXPECT_EQ(absolute.file_name, "r\xC3\xA9port.pdf");
  auto origin = ParseRequestTarget("POST /upload/?session=abc HTTP/1.1", "cloud.example");
  EXPECT_EQ(origin.url, "http://cloud.example/upload/");
  EXPECT_EQ(origin.file_name, "");
  EXPECT_EQ(ParseRequestTarget("garbage", "").url, "");
}

TEST(IcapCodecTest, DispositionFileName) {
  EXPECT_EQ(DispositionFileName("attachment; filename=\"a \\\"b\\\".zip\""), "a \"b\".zip");
  EXPECT_EQ(DispositionFileName("attachment; FILENAME=x.exe; size=3"), "x.exe");
  EXPECT_EQ(DispositionFileName("attachment; filename=\"../../etc/passwd\""), "passwd");
  EXPECT_EQ(DispositionFileName("inline"), "");
}

TEST(IcapReplyTest, BlockPageEscapesEverything) {
  BlockNotice notice;
  notice.verdict = "malicious";
  notice.findings = {"clamav: <script>alert(1)</script>"};
  notice.object = "\"><img src=x onerror=alert(1)>.exe";
  notice.reference = "event 7";
  std::string reply = BlockReply(notice, "\"tag\"");
  EXPECT_EQ(reply.rfind("ICAP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_NE(reply.find("HTTP/1.1 403 Forbidden\r\n"), std::string::npos);
  EXPECT_NE(reply.find("Cache-Control: no-store\r\n"), std::string::npos);
  EXPECT_EQ(reply.find("<script>"), std::string::npos);
  EXPECT_EQ(reply.find("<img"), std::string::npos);
  EXPECT_NE(reply.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(reply.find("event 7"), std::string::npos);
  // The encapsulated offsets describe the message that follows.
  std::size_t blank = reply.find("\r\n\r\n");
  std::size_t body_offset = std::stoul(reply.substr(reply.find("res-body=") + 9));
  std::string encapsulated = reply.substr(blank + 4);
  EXPECT_EQ(encapsulated.substr(body_offset - 4, 4), "\r\n\r\n");
  auto body = DecodeChunkedBody(encapsulated.substr(body_offset), 1 << 20);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->data, BlockPage(notice));
}

}  // namespace
}  // namespace bulwark::icap

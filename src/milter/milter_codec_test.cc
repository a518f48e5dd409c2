// The milter wire format: packets, command payloads as Postfix sends them, responses.
#include "milter/milter_codec.h"

#include <gtest/gtest.h>

namespace bulwark::milter {
namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(MilterCodecTest, EncodesAndDecodesPacketRoundTrip) {
  std::string wire = EncodePacket('L', std::string("Subject\0 hi\0", 12));
  EXPECT_EQ(wire.substr(0, 5), Bytes({0, 0, 0, 13, 'L'}));
  std::size_t consumed = 0;
  auto packet = DecodePacket(wire + "extra", consumed);
  ASSERT_TRUE(packet.ok());
  ASSERT_TRUE(packet->has_value());
  EXPECT_EQ(consumed, wire.size());
  EXPECT_EQ((*packet)->code, 'L');
  EXPECT_EQ((*packet)->data, std::string("Subject\0 hi\0", 12));
}

TEST(MilterCodecTest, AsksForMoreWhenIncomplete) {
  std::string wire = EncodePacket('B', "body bytes");
  for (std::size_t n = 0; n < wire.size(); ++n) {
    std::size_t consumed = 7;
    auto packet = DecodePacket(std::string_view(wire).substr(0, n), consumed);
    ASSERT_TRUE(packet.ok()) << n;
    EXPECT_FALSE(packet->has_value()) << n;
    EXPECT_EQ(consumed, 0u);
  }
}

TEST(MilterCodecTest, RejectsZeroLengthAndOversizePackets) {
  std::size_t consumed = 0;
  auto zero = DecodePacket(Bytes({0, 0, 0, 0}), consumed);
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  auto huge = DecodePacket(Bytes({0x7f, 0xff, 0xff, 0xff, 'B'}), consumed);
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
  auto limited = DecodePacket(EncodePacket('B', std::string(100, 'x')), consumed, 50);
  EXPECT_EQ(limited.status().code(), StatusCode::kResourceExhausted);
}

TEST(MilterCodecTest, NegotiatesVersionActionsAndProtocol) {
  std::string data = Bytes({0, 0, 0, 6, 0, 0, 0x01, 0xff, 0, 0x1f, 0xff, 0xff});
  auto offered = ParseOptions(data);
  ASSERT_TRUE(offered.ok());
  EXPECT_EQ(offered->version, 6u);
  EXPECT_EQ(offered->actions, 0x1ffu);
  EXPECT_EQ(offered->protocol, 0x1fffffu);
  Options answer = Negotiate(*offered, kActionAddHeaders | kActionQuarantine,
                             kProtoNoReplyHeader | kProtoHeaderLeadingSpace);
  EXPECT_EQ(answer.version, 6u);
  EXPECT_EQ(answer.actions, kActionAddHeaders | kActionQuarantine);
  EXPECT_EQ(answer.protocol, kProtoNoReplyHeader | kProtoHeaderLeadingSpace);
  // Never more than offered; a newer MTA gets our version.
  Options old_mta = Negotiate({8, kActionAddHeaders, 0}, 0x1ff, 0x1fffff);
  EXPECT_EQ(old_mta.version, 6u);
  EXPECT_EQ(old_mta.actions, kActionAddHeaders);
  EXPECT_EQ(old_mta.protocol, 0u);
  std::string wire = EncodeOptions(answer);
  std::size_t consumed = 0;
  auto packet = DecodePacket(wire, consumed);
  ASSERT_TRUE(packet.ok() && packet->has_value());
  EXPECT_EQ((*packet)->code, 'O');
  auto back = ParseOptions((*packet)->data);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->protocol, answer.protocol);
  EXPECT_FALSE(ParseOptions("short").ok());
}

TEST(MilterCodecTest, ParsesMacrosConnectAndStrings) {
  auto macros = ParseMacros(std::string("Cj\0mx.example\0{daemon_name}\0smtpd\0", 34));
  ASSERT_TRUE(macros.ok()) << macros.status().ToString();
  EXPECT_EQ(macros->command, 'C');
  ASSERT_EQ(macros->values.size(), 2u);
  EXPECT_EQ(macros->values[1].first, "{daemon_name}");
  EXPECT_EQ(macros->values[1].second, "smtpd");

  auto connect = ParseConnect(std::string("client.example\0"
                                          "4",
                                          16) +
                              Bytes({0x30, 0x39}) + std::string("192.0.2.7\0", 10));
  ASSERT_TRUE(connect.ok()) << connect.status().ToString();
  EXPECT_EQ(connect->hostname, "client.example");
  EXPECT_EQ(connect->family, '4');
  EXPECT_EQ(connect->port, 12345);
  EXPECT_EQ(connect->address, "192.0.2.7");
  auto unknown = ParseConnect(std::string("localhost\0U", 11));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->family, 'U');
  EXPECT_FALSE(ParseConnect(std::string("host\0", 5)).ok());
  EXPECT_FALSE(ParseConnect(std::string("host\0"
                                        "4",
                                        6))
                   .ok());
  EXPECT_FALSE(ParseConnect(std::string("host\0X\0\0a\0", 10)).ok());

  auto mail = ParseStrings(std::string("<a@example.com>\0SIZE=100\0", 25));
  ASSERT_TRUE(mail.ok());
  ASSERT_EQ(mail->size(), 2u);
  EXPECT_EQ(StripAngleBrackets(mail->front()), "a@example.com");
  EXPECT_EQ(StripAngleBrackets("<>"), "");
  EXPECT_FALSE(ParseStrings("").ok());
}

TEST(MilterCodecTest, ParsesHeadersAndRefusesBrokenOnes) {
  auto header = ParseHeader(std::string("Subject\0 Hello\0", 15));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->name, "Subject");
  EXPECT_EQ(header->value, " Hello");
  EXPECT_FALSE(ParseHeader(std::string("Subject\0 no nul", 15)).ok());
  EXPECT_FALSE(ParseHeader(std::string("\0value\0", 7)).ok());
  EXPECT_FALSE(ParseHeader("no nul at all").ok());
}

TEST(MilterCodecTest, EncodesResponses) {
  EXPECT_EQ(EncodeResponse(Response::kAccept), Bytes({0, 0, 0, 1, 'a'}));
  EXPECT_EQ(EncodeInsertHeader(0, "X-A", " b"),
            Bytes({0, 0, 0, 12, 'i', 0, 0, 0, 0}) + std::string("X-A\0 b\0", 7));
  EXPECT_EQ(EncodeChangeHeader(1, "Subject", "x"),
            Bytes({0, 0, 0, 15, 'm', 0, 0, 0, 1}) + std::string("Subject\0x\0", 10));
  EXPECT_EQ(EncodeQuarantine("why"), Bytes({0, 0, 0, 5, 'q'}) + std::string("why\0", 4));
  auto reply = EncodeReplyCode(550, "5.7.1", "100% bad\r\nnext");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->substr(4), std::string("y550 5.7.1 100%% bad  next\0", 27));
  EXPECT_FALSE(EncodeReplyCode(250, "2.0.0", "ok").ok());
}

TEST(MilterCodecTest, SplitsReplacementBodyIntoChunks) {
  std::string body(kMaxBodyChunk * 2 + 10, 'b');
  std::string wire = EncodeReplaceBody(body);
  std::string joined;
  int packets = 0;
  std::string_view rest = wire;
  while (!rest.empty()) {
    std::size_t consumed = 0;
    auto packet = DecodePacket(rest, consumed);
    ASSERT_TRUE(packet.ok() && packet->has_value());
    EXPECT_EQ((*packet)->code, 'b');
    EXPECT_LE((*packet)->data.size(), kMaxBodyChunk);
    joined += (*packet)->data;
    rest.remove_prefix(consumed);
    ++packets;
  }
  EXPECT_EQ(packets, 3);
  EXPECT_EQ(joined, body);
  EXPECT_EQ(EncodeReplaceBody(""), Bytes({0, 0, 0, 1, 'b'}));
}

}  // namespace
}  // namespace bulwark::milter

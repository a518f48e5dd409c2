// The SMTP codec: commands, paths and parameters, replies both ways, the DATA decoder
// (end line, dot-unstuffing, limits, bare LF) and dot-stuffing.

#include "smtp/smtp_codec.h"

#include <gtest/gtest.h>

namespace bulwark::smtp {
namespace {

TEST(SmtpCodecTest, ParsesVerbsCaseInsensitivelyWithTheirArgument) {
  SmtpCommand ehlo = ParseCommand("ehlo client.example");
  EXPECT_EQ(ehlo.verb, SmtpVerb::kEhlo);
  EXPECT_EQ(ehlo.argument, "client.example");
  EXPECT_EQ(ParseCommand("MAIL FROM:<a@b.c>").argument, "FROM:<a@b.c>");
  EXPECT_EQ(ParseCommand("StartTLS").verb, SmtpVerb::kStartTls);
  EXPECT_EQ(ParseCommand("DATA  ").argument, "");  // trailing white space is dropped
  EXPECT_EQ(ParseCommand("XYZZY").verb, SmtpVerb::kUnknown);
  EXPECT_EQ(ParseCommand("").verb, SmtpVerb::kUnknown);
}

TEST(SmtpCodecTest, ParsesPathsAndParameters) {
  Result<PathArgument> from =
      ParsePath("FROM:<alice@example.org> SIZE=1234 BODY=8BITMIME smtputf8", "FROM", true);
  ASSERT_TRUE(from.ok()) << from.status().ToString();
  EXPECT_EQ(from->address, "alice@example.org");
  ASSERT_EQ(from->parameters.size(), 3u);
  EXPECT_EQ(*from->Find("SIZE"), "1234");
  EXPECT_EQ(*from->Find("BODY"), "8BITMIME");
  EXPECT_EQ(*from->Find("SMTPUTF8"), "");
  EXPECT_EQ(from->Find("AUTH"), nullptr);

  EXPECT_EQ(ParsePath("from:<>", "FROM", true)->address, "");
  EXPECT_EQ(ParsePath("TO: <bob@example.com>", "TO", false)->address, "bob@example.com");
  EXPECT_EQ(ParsePath("TO:<@relay.example:bob@example.com>", "TO", false)->address,
            "bob@example.com");
  EXPECT_EQ(ParsePath("TO:<Postmaster>", "TO", false)->address, "Postmaster");
  EXPECT_EQ(ParsePath("TO:<jörg@bücher.example>", "TO", false)->address, "jörg@bücher.example");

  EXPECT_FALSE(ParsePath("TO:<>", "TO", false).ok());
  EXPECT_FALSE(ParsePath("FROM:<a@b.c>", "TO", false).ok());
  EXPECT_FALSE(ParsePath("TO:<bob@example.com", "TO", false).ok());
  EXPECT_FALSE(ParsePath("TO:<bob>", "TO", false).ok());
  EXPECT_FALSE(ParsePath("TO:<bob@>", "TO", false).ok());
  EXPECT_FALSE(ParsePath("TO:<@example.com>", "TO", false).ok());
  EXPECT_FALSE(ParsePath("TO:<bob@exa..mple>", "TO", false).ok());
  EXPECT_FALSE(ParsePath("TO:<bo b@example.com>", "TO", false).ok());
  EXPECT_FALSE(ParsePath(std::string("TO:<bob\0@example.com>", 21), "TO", false).ok());
  EXPECT_FALSE(ParsePath("TO:<bob@example.com>x", "TO", false).ok());
  EXPECT_FALSE(ParsePath("FROM:<a@b.c> =1", "FROM", true).ok());
  EXPECT_FALSE(ParsePath("TO:<" + std::string(300, 'a') + "@example.com>", "TO", false).ok());
}

TEST(SmtpCodecTest, DomainOfLowerCases) {
  EXPECT_EQ(DomainOf("Bob@Example.COM"), "example.com");
  EXPECT_EQ(DomainOf("postmaster"), "");
}

TEST(SmtpCodecTest, FormatsRepliesWithTheEnhancedCodeOnEveryLine) {
  SmtpReply reply;
  reply.code = 250;
  reply.enhanced = "2.0.0";
  reply.lines = {"first", "last"};
  EXPECT_EQ(FormatReply(reply), "250-2.0.0 first\r\n250 2.0.0 last\r\n");
  EXPECT_EQ(FormatReply(MakeReply(220, "", "mx ESMTP")), "220 mx ESMTP\r\n");
  // Text can never split a reply.
  EXPECT_EQ(FormatReply(MakeReply(550, "5.7.1", "bad\r\n250 ok")), "550 5.7.1 bad  250 ok\r\n");
}

TEST(SmtpCodecTest, ParsesReplyLines) {
  auto line = ParseReplyLine("250-2.1.5 Ok\r");
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->code, 250);
  EXPECT_FALSE(line->last);
  EXPECT_EQ(line->enhanced, "2.1.5");
  EXPECT_EQ(line->text, "Ok");
  auto plain = ParseReplyLine("220 mx.example ESMTP Postfix");
  ASSERT_TRUE(plain.has_value());
  EXPECT_TRUE(plain->last);
  EXPECT_EQ(plain->enhanced, "");
  EXPECT_EQ(plain->text, "mx.example ESMTP Postfix");
  EXPECT_EQ(ParseReplyLine("354")->code, 354);
  EXPECT_FALSE(ParseReplyLine("25O ok").has_value());
  EXPECT_FALSE(ParseReplyLine("250_ok").has_value());
  EXPECT_FALSE(ParseReplyLine("999 no").has_value());
  EXPECT_EQ(ParseReplyLine("550 4.1.1 mismatch")->enhanced, "");  // class must match
}

TEST(SmtpCodecTest, DataDecoderFindsTheEndAndUnstuffsDots) {
  DataDecoder decoder(1000);
  std::string input = "Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n";
  // Byte by byte, as the worst network would deliver it.
  std::size_t taken = 0;
  while (!decoder.done() && taken < input.size()) {
    taken += decoder.Feed(std::string_view(input).substr(taken, 1));
  }
  ASSERT_TRUE(decoder.done());
  EXPECT_EQ(input.substr(taken), "QUIT\r\n");
  EXPECT_EQ(decoder.message(), "Subject: x\r\n\r\n.leading dot\r\n");
  EXPECT_FALSE(decoder.bare_lf());
  EXPECT_FALSE(decoder.too_big());
}

TEST(SmtpCodecTest, DataDecoderIgnoresBareLfEndsAndFlagsThem) {
  DataDecoder decoder(1000);
  std::string input = "a\n.\nRCPT TO:<x@y.z>\r\nb\r\n.\r\n";  // a smuggling attempt
  EXPECT_EQ(decoder.Feed(input), input.size());
  ASSERT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.bare_lf());
  EXPECT_NE(decoder.message().find("RCPT TO"), std::string::npos);  // content, not a command
}

TEST(SmtpCodecTest, DataDecoderDropsOversizedMessagesButReadsToTheEnd) {
  DataDecoder decoder(10);
  EXPECT_EQ(decoder.Feed("0123456789abcdef\r\n.\r\n"), 21u);
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.too_big());
  EXPECT_TRUE(decoder.message().empty());
}

TEST(SmtpCodecTest, DataDecoderStreamsVeryLongLines) {
  DataDecoder decoder(1 << 20);
  std::string line(200000, 'x');
  decoder.Feed("." + line);
  decoder.Feed("\r\n.\r\n");
  ASSERT_TRUE(decoder.done());
  EXPECT_EQ(decoder.message(), line + "\r\n");
  EXPECT_FALSE(decoder.bare_lf());
}

TEST(SmtpCodecTest, DotStuffIsTheInverseOfTheDecoder) {
  std::string message = ".hidden\r\nmiddle\r\n.\r\nlast";
  std::string stuffed = DotStuff(message);
  EXPECT_EQ(stuffed, "..hidden\r\nmiddle\r\n..\r\nlast\r\n.\r\n");
  DataDecoder decoder(1000);
  EXPECT_EQ(decoder.Feed(stuffed), stuffed.size());
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.message(), ".hidden\r\nmiddle\r\n.\r\nlast\r\n");
  EXPECT_EQ(DotStuff("a\nb\n"), "a\r\nb\r\n.\r\n");
}

TEST(SmtpCodecTest, HeloNames) {
  EXPECT_TRUE(IsValidHeloName("mail.example.org"));
  EXPECT_TRUE(IsValidHeloName("[127.0.0.1]"));
  EXPECT_FALSE(IsValidHeloName(""));
  EXPECT_FALSE(IsValidHeloName("two words"));
}

}  // namespace
}  // namespace bulwark::smtp

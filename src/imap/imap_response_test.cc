// IMAP response framing and parsing: the shapes a mail server sends (RFC 3501 §7 examples,
// Dovecot's) and malformed or oversized input refused with a clear error.
#include "imap/imap_response.h"

#include <gtest/gtest.h>

namespace bulwark::imap {
namespace {

ImapResponse Parse(std::string_view raw) {
  Result<ImapResponse> r = ParseResponse(raw);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " for " << raw;
  return r.ok() ? *r : ImapResponse{};
}

TEST(ImapResponseTest, StatusResponsesWithCodes) {
  ImapResponse greeting = Parse("* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] Dovecot ready.");
  EXPECT_EQ(greeting.kind, ImapResponse::Kind::kUntagged);
  EXPECT_EQ(greeting.status, "OK");
  EXPECT_EQ(greeting.code, "CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN");
  EXPECT_EQ(greeting.text, "Dovecot ready.");
  EXPECT_EQ(greeting.CodeWords().size(), 4u);

  ImapResponse tagged = Parse("a7 ok [COPYUID 38505 304,319:320 3956:3958] Done");
  EXPECT_EQ(tagged.kind, ImapResponse::Kind::kTagged);
  EXPECT_EQ(tagged.tag, "a7");
  EXPECT_EQ(tagged.status, "OK");
  ASSERT_EQ(tagged.CodeWords().size(), 4u);
  EXPECT_EQ(tagged.CodeWords()[3], "3956:3958");

  ImapResponse no = Parse("a1 NO [AUTHENTICATIONFAILED] Authentication failed.");
  EXPECT_EQ(no.status, "NO");
  EXPECT_EQ(no.code, "AUTHENTICATIONFAILED");
}

TEST(ImapResponseTest, NumberedDataAndLists) {
  ImapResponse exists = Parse("* 172 EXISTS");
  ASSERT_TRUE(exists.number);
  EXPECT_EQ(*exists.number, 172u);
  EXPECT_EQ(exists.name, "EXISTS");

  ImapResponse flags = Parse(R"(* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Bulwark))");
  EXPECT_EQ(flags.name, "FLAGS");
  ASSERT_EQ(flags.values.size(), 1u);
  ASSERT_EQ(flags.values[0].items.size(), 6u);
  EXPECT_EQ(flags.values[0].items[0].text, "\\Answered");

  ImapResponse search = Parse("* SEARCH 2 84 882 (MODSEQ 917162500)");
  ASSERT_EQ(search.values.size(), 4u);
  EXPECT_EQ(search.values[1].Number(), 84u);
  EXPECT_EQ(search.values[3].kind, ImapValue::Kind::kList);

  ImapResponse list = Parse(R"(* LIST (\HasNoChildren) "/" "Quarant&AOQ-ne")");
  ASSERT_EQ(list.values.size(), 3u);
  EXPECT_EQ(list.values[2].kind, ImapValue::Kind::kString);
  EXPECT_EQ(list.values[2].text, "Quarant&AOQ-ne");
}

TEST(ImapResponseTest, FetchWithLiteralBodyAndSectionSpec) {
  std::string raw =
      "* 12 FETCH (UID 4827 RFC822.SIZE 11 FLAGS (\\Seen) BODY[] {11}\r\nHi\r\n(there)"
      " BODY[HEADER.FIELDS (FROM)] \"From: a\" X NIL)";
  ImapResponse fetch = Parse(raw);
  EXPECT_EQ(fetch.name, "FETCH");
  ASSERT_EQ(fetch.values.size(), 1u);
  const auto& items = fetch.values[0].items;
  ASSERT_EQ(items.size(), 12u);
  EXPECT_TRUE(items[0].IsAtom("UID"));
  EXPECT_EQ(items[1].Number(), 4827u);
  EXPECT_TRUE(items[6].IsAtom("BODY[]"));
  EXPECT_EQ(items[7].text, "Hi\r\n(there)");  // a literal keeps CR LF and parentheses
  EXPECT_EQ(items[8].text, "BODY[HEADER.FIELDS (FROM)]");
  EXPECT_EQ(items[9].text, "From: a");
  EXPECT_EQ(items[11].kind, ImapValue::Kind::kNil);
}

TEST(ImapResponseTest, ContinuationAndQuotedEscapes) {
  ImapResponse plus = Parse("+ idling");
  EXPECT_EQ(plus.kind, ImapResponse::Kind::kContinuation);
  EXPECT_EQ(plus.text, "idling");
  ImapResponse quoted = Parse(R"(* LIST () "/" "a \"b\" \\c")");
  EXPECT_EQ(quoted.values[2].text, R"(a "b" \c)");
}

TEST(ImapResponseTest, MalformedResponsesAreErrors) {
  for (std::string_view raw :
       {"", "*", "* 5 FETCH (UID 3", "* X \"unterminated", "a1 FETCH (x)", "* X {5}\r\nabc",
        "* X {zz}\r\n", "* OK [UIDVALIDITY 3", "* X )", "* X \"bad\\q\""}) {
    EXPECT_FALSE(ParseResponse(raw).ok()) << raw;
  }
  std::string deep(100, '(');
  EXPECT_FALSE(ParseResponse("* X " + deep).ok());
}

TEST(ImapResponseTest, FramerWaitsForWholeLiteralsAcrossReads) {
  ImapResponseFramer framer;
  framer.Feed("* 1 FETCH (BODY[] {10}\r\n12345");
  auto next = framer.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  framer.Feed("\r\n789)\r\n* 2 EXI");  // the literal holds a CR LF of its own
  next = framer.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, "* 1 FETCH (BODY[] {10}\r\n12345\r\n789)");
  next = framer.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  framer.Feed("STS\r\n");
  next = framer.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, "* 2 EXISTS");
}

TEST(ImapResponseTest, FramerEnforcesLimits) {
  ImapLimits limits;
  limits.max_line = 16;
  limits.max_literal = 100;
  {
    ImapResponseFramer framer(limits);
    framer.Feed(std::string(40, 'x'));
    EXPECT_EQ(framer.Next().status().code(), StatusCode::kResourceExhausted);
  }
  {
    ImapResponseFramer framer(limits);
    framer.Feed("* X {101}\r\n");
    EXPECT_EQ(framer.Next().status().code(), StatusCode::kResourceExhausted);
  }
}

TEST(ImapResponseTest, ModifiedUtf7MailboxNames) {
  // RFC 3501 §5.1.3's example.
  auto encoded = EncodeMailboxName("~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(*EncodeMailboxName("Quarant\xC3\xA4ne"), "Quarant&AOQ-ne");
  EXPECT_EQ(*EncodeMailboxName("R&D"), "R&-D");
  EXPECT_EQ(*DecodeMailboxName("Quarant&AOQ-ne"), "Quarant\xC3\xA4ne");
  EXPECT_EQ(*DecodeMailboxName("R&-D"), "R&D");
  auto emoji = EncodeMailboxName("\xF0\x9F\x93\xA6");  // a surrogate pair
  ASSERT_TRUE(emoji.ok());
  EXPECT_EQ(*DecodeMailboxName(*emoji), "\xF0\x9F\x93\xA6");
  EXPECT_FALSE(EncodeMailboxName("\xC3").ok());
  EXPECT_FALSE(DecodeMailboxName("&AOQ").ok());
  EXPECT_FALSE(DecodeMailboxName("&2D3-").ok());
}

TEST(ImapResponseTest, QuotingPicksQuotedStringsOrLiterals) {
  EXPECT_EQ(QuoteString("INBOX"), "\"INBOX\"");
  EXPECT_EQ(QuoteString(""), "\"\"");
  EXPECT_EQ(QuoteString("a\"b\\"), R"("a\"b\\")");
  EXPECT_EQ(QuoteString("p\xC3\xA4ss"), "{5}\r\np\xC3\xA4ss");
  EXPECT_TRUE(NeedsLiteral("line\r\nbreak"));
}

}  // namespace
}  // namespace bulwark::imap

// Verdict → end-of-message reply: every disposition, and the safe fallbacks when the MTA did
// not grant an action.
#include "milter/milter_reply.h"

#include <gtest/gtest.h>

namespace bulwark::milter {
namespace {

std::vector<Packet> Decode(std::string_view wire) {
  std::vector<Packet> packets;
  while (!wire.empty()) {
    std::size_t consumed = 0;
    auto packet = DecodePacket(wire, consumed);
    EXPECT_TRUE(packet.ok() && packet->has_value());
    if (!packet.ok() || !packet->has_value()) break;
    packets.push_back(**packet);
    wire.remove_prefix(consumed);
  }
  return packets;
}

std::string Codes(const std::vector<Packet>& packets) {
  std::string codes;
  for (const auto& p : packets) codes += p.code;
  return codes;
}

constexpr Options kAll{
    6, kActionAddHeaders | kActionChangeHeaders | kActionChangeBody | kActionQuarantine,
    kProtoHeaderLeadingSpace};

TEST(MilterReplyTest, DeliverInsertsHeadersInOrderAndTagsSubject) {
  MilterDecision decision;
  decision.verdict.add_headers = {{"X-Bulwark-Verdict", "suspicious"}, {"X-Bulwark-Event", "42"}};
  decision.verdict.subject_prefix = "[SUSPICIOUS]";
  auto packets = Decode(EndOfMessageReply(decision, kAll, {{"Subject", " Invoice"}}));
  ASSERT_EQ(Codes(packets), "iima");
  // Each inserted at 0: the last field first, so the first ends on top.
  EXPECT_EQ(packets[0].data.substr(4), std::string("X-Bulwark-Event\0 42\0", 20));
  EXPECT_EQ(packets[1].data.substr(4), std::string("X-Bulwark-Verdict\0 suspicious\0", 30));
  EXPECT_EQ(packets[2].data, std::string("\0\0\0\1Subject\0 [SUSPICIOUS] Invoice\0", 34));
}

TEST(MilterReplyTest, SubjectAlreadyTaggedOrMissing) {
  MilterDecision decision;
  decision.verdict.subject_prefix = "[SUSPICIOUS]";
  EXPECT_EQ(Codes(Decode(EndOfMessageReply(decision, kAll, {{"Subject", " [SUSPICIOUS] x"}}))),
            "a");
  auto added = Decode(EndOfMessageReply(decision, kAll, {{"From", " a@b"}}));
  ASSERT_EQ(Codes(added), "ha");
  EXPECT_EQ(added[0].data, std::string("Subject\0 [SUSPICIOUS]\0", 22));
  Options no_leading_space = kAll;
  no_leading_space.protocol = 0;
  auto plain = Decode(EndOfMessageReply(decision, no_leading_space, {{"Subject", "Hi"}}));
  ASSERT_EQ(Codes(plain), "ma");
  EXPECT_EQ(plain[0].data.substr(4), std::string("Subject\0[SUSPICIOUS] Hi\0", 24));
}

TEST(MilterReplyTest, RejectAndTempFailUseTheVerdictsReply) {
  MilterDecision decision;
  decision.verdict.disposition = mail::Disposition::kReject;
  decision.verdict.reply_code = 550;
  decision.verdict.enhanced_code = "5.7.1";
  decision.verdict.reply_text = "Message rejected by policy: malware";
  auto rejected = Decode(EndOfMessageReply(decision, kAll, {}));
  ASSERT_EQ(Codes(rejected), "y");
  EXPECT_EQ(rejected[0].data, std::string("550 5.7.1 Message rejected by policy: malware\0", 46));
  decision.verdict.reply_code = 250;  // wrong class: the default 5xx
  EXPECT_EQ(Decode(EndOfMessageReply(decision, kAll, {}))[0].data.substr(0, 9), "550 5.7.1");
  decision.verdict.disposition = mail::Disposition::kTempFail;
  decision.verdict.reply_code = 451;
  decision.verdict.enhanced_code = "4.3.0";
  decision.verdict.reply_text = "store unavailable";
  EXPECT_EQ(Decode(EndOfMessageReply(decision, kAll, {}))[0].data,
            std::string("451 4.3.0 store unavailable\0", 28));
  decision.verdict.reply_code = 550;  // a tempfail is never permanent
  EXPECT_EQ(Decode(EndOfMessageReply(decision, kAll, {}))[0].data.substr(0, 9), "451 4.7.1");
}

TEST(MilterReplyTest, DiscardAndQuarantine) {
  MilterDecision decision;
  decision.verdict.disposition = mail::Disposition::kDiscard;
  EXPECT_EQ(Codes(Decode(EndOfMessageReply(decision, kAll, {}))), "d");
  decision.verdict.disposition = mail::Disposition::kQuarantine;
  decision.verdict.reply_text = "quarantined: malware";
  decision.verdict.outcome.event_seq = 7;
  decision.verdict.add_headers = {{"X-Bulwark-Verdict", "malicious"}};
  auto held = Decode(EndOfMessageReply(decision, kAll, {}));
  ASSERT_EQ(Codes(held), "iqa");
  EXPECT_EQ(held[1].data, std::string("Bulwark: quarantined: malware (event 7)\0", 40));
  // Without SMFIF_QUARANTINE the MTA cannot hold it: discarded (Bulwark's vault has it).
  Options no_hold = kAll;
  no_hold.actions &= ~kActionQuarantine;
  EXPECT_EQ(Codes(Decode(EndOfMessageReply(decision, no_hold, {}))), "d");
}

TEST(MilterReplyTest, ReplacesBodyOrRefusesWhenNotAllowed) {
  MilterDecision decision;
  decision.replacement_body = "cleaned body\r\n";
  decision.changed_headers = {{"Content-Type", "multipart/mixed; boundary=\"new\""}};
  auto packets = Decode(EndOfMessageReply(decision, kAll, {}));
  ASSERT_EQ(Codes(packets), "mba");
  EXPECT_EQ(packets[1].data, "cleaned body\r\n");
  Options no_body = kAll;
  no_body.actions &= ~kActionChangeBody;
  auto refused = Decode(EndOfMessageReply(decision, no_body, {}));
  ASSERT_EQ(Codes(refused), "y");
  EXPECT_EQ(refused[0].data.substr(0, 9), "550 5.7.1");
}

TEST(MilterReplyTest, SplitsRewrittenMessage) {
  std::string original =
      "From: a@b\r\nContent-Type: multipart/mixed;\r\n boundary=\"old\"\r\n\r\n--old\r\nx\r\n";
  std::string rewritten =
      "From: a@b\r\nContent-Type: multipart/mixed; boundary=\"new\"\r\n\r\n--new\r\ny\r\n";
  BodyReplacement split = SplitRewrittenMessage(original, rewritten);
  EXPECT_EQ(split.body, "--new\r\ny\r\n");
  ASSERT_EQ(split.changed_headers.size(), 1u);
  EXPECT_EQ(split.changed_headers[0].value, "multipart/mixed; boundary=\"new\"");
  BodyReplacement same = SplitRewrittenMessage(original, original);
  EXPECT_TRUE(same.changed_headers.empty());
  EXPECT_EQ(same.body, "--old\r\nx\r\n");
}

TEST(MilterReplyTest, FoldsLongValuesAtBlanks) {
  std::string value;
  for (int i = 0; i < 30; ++i) value += "word" + std::to_string(i) + " ";
  value.pop_back();
  std::string folded = FoldHeaderValue("X-Bulwark-Findings", value);
  std::string unfolded;
  std::size_t start = 0, longest = 0;
  while (start <= folded.size()) {
    std::size_t end = folded.find('\n', start);
    if (end == std::string::npos) end = folded.size();
    longest = std::max(longest, end - start);
    unfolded += folded.substr(start, end - start);
    start = end + 1;
  }
  EXPECT_NE(folded.find('\n'), std::string::npos);
  EXPECT_LE(longest, 78u);
  EXPECT_EQ(unfolded, value);
}

}  // namespace
}  // namespace bulwark::milter

// Mail verdicts → what the gateway does and answers: never a 250 for a rejection, never a
// 5xx for a temporary failure, the verdict's own text where its code is of the right class.

#include "smtp/smtp_reply.h"

#include <gtest/gtest.h>

namespace bulwark::smtp {
namespace {

mail::MailVerdict Verdict(mail::Disposition disposition, int code, std::string enhanced,
                          std::string text) {
  mail::MailVerdict verdict;
  verdict.disposition = disposition;
  verdict.reply_code = code;
  verdict.enhanced_code = std::move(enhanced);
  verdict.reply_text = std::move(text);
  return verdict;
}

TEST(SmtpReplyTest, DeliverRelaysTheRewrittenMessage) {
  SmtpDecision d = DecisionFor(Verdict(mail::Disposition::kDeliver, 250, "2.0.0", "OK"), "bytes");
  EXPECT_EQ(d.action, SmtpDecision::Action::kRelay);
  EXPECT_EQ(d.message, "bytes");
  EXPECT_EQ(d.disposition, "deliver");
}

TEST(SmtpReplyTest, RejectQuarantineDiscardAndTempFailAnswerInTheirClass) {
  SmtpDecision reject = DecisionFor(
      Verdict(mail::Disposition::kReject, 550, "5.7.1", "Message rejected: malware"), "");
  EXPECT_EQ(reject.action, SmtpDecision::Action::kReject);
  EXPECT_EQ(FormatReply(reject.reply), "550 5.7.1 Message rejected: malware\r\n");
  EXPECT_TRUE(reject.message.empty());

  SmtpDecision odd_reject =
      DecisionFor(Verdict(mail::Disposition::kReject, 250, "2.0.0", "OK"), "x");
  EXPECT_EQ(FormatReply(odd_reject.reply), "550 5.7.1 Message rejected by policy\r\n");
  EXPECT_TRUE(odd_reject.message.empty());

  SmtpDecision held = DecisionFor(
      Verdict(mail::Disposition::kQuarantine, 250, "2.0.0", "Message accepted and held"), "x");
  EXPECT_EQ(held.action, SmtpDecision::Action::kAccepted);
  EXPECT_EQ(FormatReply(held.reply), "250 2.0.0 Message accepted and held\r\n");
  EXPECT_TRUE(held.message.empty());

  SmtpDecision dropped = DecisionFor(Verdict(mail::Disposition::kDiscard, 250, "", ""), "");
  EXPECT_EQ(FormatReply(dropped.reply), "250 2.0.0 Message accepted and discarded\r\n");

  SmtpDecision later =
      DecisionFor(Verdict(mail::Disposition::kTempFail, 451, "4.3.0", "later"), "");
  EXPECT_EQ(later.action, SmtpDecision::Action::kTempFail);
  EXPECT_EQ(FormatReply(later.reply), "451 4.3.0 later\r\n");
  SmtpDecision wrong_class =
      DecisionFor(Verdict(mail::Disposition::kTempFail, 550, "5.0.0", "x"), "");
  EXPECT_EQ(wrong_class.reply.code, 451);
  SmtpDecision wrong_enhanced =
      DecisionFor(Verdict(mail::Disposition::kTempFail, 452, "5.0.0", "y"), "");
  EXPECT_EQ(FormatReply(wrong_enhanced.reply), "452 4.3.0 y\r\n");
}

}  // namespace
}  // namespace bulwark::smtp

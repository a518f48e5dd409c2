#include "smtp/smtp_reply.h"

namespace bulwark::smtp {
namespace {

// The verdict's reply when its code is in [low, high], else the fallback.
SmtpReply ReplyIn(const mail::MailVerdict& verdict, int low, int high, SmtpReply fallback) {
  if (verdict.reply_code < low || verdict.reply_code > high) return fallback;
  std::string enhanced = verdict.enhanced_code;
  if (enhanced.empty() || enhanced[0] != static_cast<char>('0' + verdict.reply_code / 100)) {
    enhanced = fallback.enhanced;
  }
  return MakeReply(verdict.reply_code, std::move(enhanced),
                   verdict.reply_text.empty() ? fallback.Text() : verdict.reply_text);
}

}  // namespace

SmtpDecision DecisionFor(const mail::MailVerdict& verdict, std::string relay_message) {
  SmtpDecision decision;
  decision.disposition = std::string(mail::DispositionName(verdict.disposition));
  switch (verdict.disposition) {
    case mail::Disposition::kDeliver:
      decision.action = SmtpDecision::Action::kRelay;
      decision.message = std::move(relay_message);
      decision.reply = MakeReply(250, "2.0.0", "OK");
      break;
    case mail::Disposition::kReject:
      decision.action = SmtpDecision::Action::kReject;
      decision.reply =
          ReplyIn(verdict, 500, 599, MakeReply(550, "5.7.1", "Message rejected by policy"));
      break;
    case mail::Disposition::kQuarantine:
      decision.action = SmtpDecision::Action::kAccepted;
      decision.reply =
          ReplyIn(verdict, 250, 250, MakeReply(250, "2.0.0", "Message accepted and quarantined"));
      break;
    case mail::Disposition::kDiscard:
      decision.action = SmtpDecision::Action::kAccepted;
      decision.reply =
          ReplyIn(verdict, 250, 250, MakeReply(250, "2.0.0", "Message accepted and discarded"));
      break;
    case mail::Disposition::kTempFail:
      decision.action = SmtpDecision::Action::kTempFail;
      decision.reply =
          ReplyIn(verdict, 400, 499,
                  MakeReply(451, "4.3.0", "Message could not be checked; try again later"));
      break;
  }
  return decision;
}

}  // namespace bulwark::smtp

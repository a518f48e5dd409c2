// Notices: which verdicts call for one, who is told, what a notice says (never the
// message), and delivery through a next hop on loopback.
#include "smtp/notifier.h"

#include <gtest/gtest.h>

namespace bulwark::smtp {
namespace {

mail::MailVerdict Detection(service::Action action, mail::Disposition disposition) {
  mail::MailVerdict verdict;
  verdict.disposition = disposition;
  verdict.outcome.report.verdict.kind = policy::VerdictKind::kMalicious;
  engine::Finding finding;
  finding.name = "Eicar-Test-Signature";
  verdict.outcome.report.findings = {finding, finding};
  verdict.outcome.decision.action = action;
  verdict.outcome.decision.protections = {"malware"};
  verdict.outcome.event_seq = 17;
  return verdict;
}

TEST(NotifierTest, OnlyActedOnDetectionsCallForNotices) {
  mail::MailVerdict clean;
  EXPECT_FALSE(NoticeFor(clean, "a@x.example", {"b@example.com"}, "smtp"));
  EXPECT_FALSE(NoticeFor(Detection(service::Action::kLog, mail::Disposition::kDeliver), "", {}, "smtp"));
  EXPECT_FALSE(NoticeFor(Detection(service::Action::kTag, mail::Disposition::kDeliver), "", {}, "smtp"));

  auto notify = NoticeFor(Detection(service::Action::kNotify, mail::Disposition::kDeliver),
                          "a@x.example", {"b@example.com"}, "smtp");
  ASSERT_TRUE(notify);
  EXPECT_FALSE(notify->for_recipients);  // delivered: only the administrator hears of it
  auto held = NoticeFor(Detection(service::Action::kQuarantine, mail::Disposition::kQuarantine),
                        "a@x.example", {"b@example.com"}, "milter");
  ASSERT_TRUE(held);
  EXPECT_TRUE(held->for_recipients);
  EXPECT_EQ(held->facts.action, "quarantined");
  EXPECT_EQ(held->facts.findings, "Eicar-Test-Signature");  // once
  EXPECT_EQ(held->facts.protections, "malware");
  EXPECT_EQ(held->facts.event_seq, 17);
  mail::MailVerdict stripped = Detection(service::Action::kDelete, mail::Disposition::kDeliver);
  stripped.strip_attachments = {"invoice.zip"};
  EXPECT_EQ(NoticeFor(stripped, "", {}, "smtp")->facts.action, "delivered without its attachments");
}

TEST(NotifierTest, ANoticeNamesTheFactsButNotTheMessage) {
  NoticeFacts facts;
  facts.sender = "evil@x.example\r\nBcc: victim@example.com";  // hostile: kept on one line
  facts.recipients = {"bob@example.com"};
  facts.action = "quarantined";
  facts.protections = "malware";
  facts.findings = "Eicar-Test-Signature";
  facts.event_seq = 42;
  facts.service = "smtp";
  std::string notice = ComposeNotice(facts, "admin@example.com", "gw.example.com", 1800000000);
  EXPECT_NE(notice.find("From: Bulwark <MAILER-DAEMON@gw.example.com>\r\n"), std::string::npos);
  EXPECT_NE(notice.find("To: <admin@example.com>\r\n"), std::string::npos);
  EXPECT_NE(notice.find("Auto-Submitted: auto-generated\r\n"), std::string::npos);
  EXPECT_NE(notice.find("Subject: [Bulwark] A message was quarantined (malware)\r\n"),
            std::string::npos);
  EXPECT_NE(notice.find("Event:       42"), std::string::npos);
  EXPECT_EQ(notice.find("\r\nBcc:"), std::string::npos) << notice;
  EXPECT_NE(notice.find("evil@x.example??Bcc"), std::string::npos);
}

TEST(NotifierTest, NoticesWithoutARouteAreCountedAsFailed) {
  service::MailConfig mail;
  mail.notify_address = "admin@unrouted.example";  // no domain entry, no relay
  Notifier notifier(mail, std::chrono::seconds(2));
  notifier.Send(*NoticeFor(Detection(service::Action::kNotify, mail::Disposition::kDeliver), "",
                           {}, "smtp"));
  notifier.Flush();
  EXPECT_EQ(notifier.failed(), 1u);
  EXPECT_EQ(notifier.sent(), 0u);
}

}  // namespace
}  // namespace bulwark::smtp

#include "smtp/notifier.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "bulwark/common/text.h"
#include "smtp/smtp_client.h"
#include "storage/store.h"

namespace bulwark::smtp {
namespace {

constexpr std::size_t kMaxQueued = 1000;
constexpr int kAttempts = 3;

std::string RfcDate(std::int64_t now) {
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buffer;
}

// Addresses and names come from mail: keep them on one line and printable.
std::string OneLine(std::string_view text, std::size_t max = 320) {
  std::string out;
  for (char c : text.substr(0, max)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

void Log(const std::string& message, const std::string& to) {
  nlohmann::json line = {{"level", "warning"}, {"component", "notifier"}, {"msg", message},
                         {"to", to}};
  std::fprintf(stderr, "%s\n", line.dump().c_str());
}

}  // namespace

std::string ComposeNotice(const NoticeFacts& facts, const std::string& to,
                          const std::string& hostname, std::int64_t now) {
  std::string recipients;
  for (const std::string& r : facts.recipients) {
    recipients += (recipients.empty() ? "" : ", ") + OneLine(r);
  }
  std::string subject = "[Bulwark] A message was " + facts.action;
  if (!facts.protections.empty()) subject += " (" + OneLine(facts.protections, 100) + ")";
  std::string m;
  m += "From: Bulwark <MAILER-DAEMON@" + hostname + ">\r\n";
  m += "To: <" + OneLine(to) + ">\r\n";
  m += "Subject: " + subject + "\r\n";
  m += "Date: " + RfcDate(now) + "\r\n";
  m += "Message-ID: <" + storage::NewId("notice-") + "@" + hostname + ">\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n\r\n";
  m += "A message was " + facts.action + " by your organisation's mail security policy.\r\n\r\n";
  m += "  Sender:      " + (facts.sender.empty() ? std::string("<>") : OneLine(facts.sender)) + "\r\n";
  m += "  Recipients:  " + recipients + "\r\n";
  if (!facts.protections.empty()) m += "  Protection:  " + OneLine(facts.protections, 200) + "\r\n";
  if (!facts.findings.empty()) m += "  Findings:    " + OneLine(facts.findings, 500) + "\r\n";
  m += "  Received by: " + facts.service + "\r\n";
  if (facts.event_seq) m += "  Event:       " + std::to_string(*facts.event_seq) + "\r\n";
  m += "\r\nIf the message is legitimate, ask your administrator to release it (quoting the\r\n"
       "event number). This notice does not contain the message.\r\n";
  return m;
}

std::optional<NoticeDecision> NoticeFor(const mail::MailVerdict& verdict, const std::string& sender,
                                        const std::vector<std::string>& recipients,
                                        const std::string& service) {
  const service::ContentScanOutcome& outcome = verdict.outcome;
  if (!outcome.detection()) return std::nullopt;
  NoticeDecision decision;
  switch (outcome.action()) {
    case service::Action::kLog:
    case service::Action::kTag:
      return std::nullopt;
    case service::Action::kNotify:
      decision.facts.action = "delivered and reported";
      break;
    case service::Action::kQuarantine:
      decision.facts.action =
          verdict.disposition == mail::Disposition::kQuarantine ? "quarantined" : "rejected";
      decision.for_recipients = true;
      break;
    case service::Action::kReject:
      decision.facts.action = "rejected";
      decision.for_recipients = true;
      break;
    case service::Action::kDelete:
      decision.facts.action = verdict.strip_attachments.empty()
                                  ? "deleted"
                                  : "delivered without its attachments";
      decision.for_recipients = true;
      break;
  }
  std::vector<std::string> names;
  for (const engine::Finding& f : outcome.report.findings) {
    if (std::find(names.begin(), names.end(), f.name) == names.end()) names.push_back(f.name);
  }
  for (const std::string& n : names) {
    decision.facts.findings += (decision.facts.findings.empty() ? "" : ", ") + n;
  }
  for (const std::string& p : outcome.decision.protections) {
    decision.facts.protections += (decision.facts.protections.empty() ? "" : ", ") + p;
  }
  decision.facts.sender = sender;
  decision.facts.recipients = recipients;
  decision.facts.event_seq = outcome.event_seq;
  decision.facts.service = service;
  return decision;
}

Notifier::Notifier(const service::MailConfig& mail, std::chrono::seconds timeout)
    : mail_(mail),
      hostname_(mail.hostname.empty() ? mail::LocalHostName() : mail.hostname),
      router_(mail.domains),
      timeout_(timeout) {
  thread_ = std::thread([this] { Run(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

std::optional<Notifier::Item> Notifier::Route(const std::string& address) const {
  Item item;
  item.to = address;
  if (!mail_.notify_relay.empty()) {
    item.next_hop = mail_.notify_relay;
    item.next_hop_tls = "opportunistic";
    return item;
  }
  const service::MailDomainConfig* domain = router_.Route(address);
  if (domain == nullptr || domain->next_hop.empty()) return std::nullopt;
  item.next_hop = domain->next_hop;
  item.next_hop_tls = domain->next_hop_tls;
  item.next_hop_ca_file = domain->next_hop_ca_file;
  return item;
}

void Notifier::Send(const NoticeDecision& decision) {
  std::vector<std::string> targets;
  if (!mail_.notify_address.empty()) targets.push_back(mail_.notify_address);
  if (decision.for_recipients && mail_.notify_recipients) {
    for (const std::string& r : decision.facts.recipients) {
      if (router_.Route(r) != nullptr) targets.push_back(r);  // protected recipients only
    }
  }
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  std::lock_guard lock(mutex_);
  for (const std::string& to : targets) {
    std::optional<Item> item = Route(to);
    if (!item || queue_.size() >= kMaxQueued) {
      ++failed_;
      if (!item) Log("no route for a notice (set [mail] notify_relay)", to);
      continue;
    }
    item->message = ComposeNotice(decision.facts, to, hostname_, now);
    queue_.push_back(std::move(*item));
  }
  changed_.notify_all();
}

void Notifier::Flush() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

bool Notifier::Deliver(const Item& item) {
  SmtpRoute route;
  route.next_hop = item.next_hop;
  route.next_hop_tls = item.next_hop_tls;
  route.next_hop_ca_file = item.next_hop_ca_file;
  NextHopOptions options;
  options.helo_name = hostname_;
  options.timeout = timeout_;
  NextHopOpening opening = OpenSmtpNextHop(route, /*mail_from=*/"", MailParameters{}, options);
  if (!opening.hop) return false;
  bool delivered = opening.hop->Recipient(item.to).positive() &&
                   opening.hop->Data(item.message).positive();
  opening.hop->Abandon();
  return delivered;
}

void Notifier::Run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left
    Item item = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    bool delivered = false;
    for (int attempt = 0; attempt < kAttempts && !delivered; ++attempt) {
      delivered = Deliver(item);
    }
    if (delivered) {
      ++sent_;
    } else {
      ++failed_;
      Log("a notice could not be delivered", item.to);
    }
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace bulwark::smtp

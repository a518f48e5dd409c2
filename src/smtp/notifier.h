#pragma once
// Notices by mail ("notify the administrator and/or the recipient"): when the policy acts on
// a message — notify, quarantine, reject, delete or strip — a short notice goes to
// [mail] notify_address and, with [mail] notify_recipients, to each protected recipient of a
// message that did not reach them whole. A notice names the sender, the action, the
// protections and finding names and the event number; never the message's subject or
// content. It is sent from the null sender with Auto-Submitted: auto-generated (RFC 3834)
// through [mail] notify_relay, or else the recipient domain's next hop.
//
// Sending happens on a background thread from a bounded queue, so a mail transaction never
// waits for a notice; a notice that cannot be sent after three tries is counted and logged
// (notices carry no content, so no mail is lost with them).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mail/mail_scan.h"
#include "service/config.h"

namespace bulwark::smtp {

// What a notice says about one message.
struct NoticeFacts {
  std::string sender;                   // envelope sender or From address ("" = null sender)
  std::vector<std::string> recipients;  // the message's recipients
  std::string action;                   // "quarantined", "rejected", "deleted", …
  std::string protections;              // e.g. "malware"
  std::string findings;                 // finding names, comma-separated
  std::optional<std::int64_t> event_seq;
  std::string service;                  // "smtp", "milter", "imap"
};

// The notice message to `to` (RFC 5322, CR LF), from MAILER-DAEMON@`hostname`.
std::string ComposeNotice(const NoticeFacts& facts, const std::string& to,
                          const std::string& hostname, std::int64_t now);

// The facts of a mail verdict, when the policy's action calls for a notice (a detection
// acted on with notify, quarantine, reject or delete); nullopt otherwise. `for_recipients`:
// whether the recipients are told too (the message did not reach them whole).
struct NoticeDecision {
  NoticeFacts facts;
  bool for_recipients = false;
};
std::optional<NoticeDecision> NoticeFor(const mail::MailVerdict& verdict,
                                        const std::string& sender,
                                        const std::vector<std::string>& recipients,
                                        const std::string& service);

class Notifier {
 public:
  // `mail`: notify_address, notify_recipients, notify_relay, and the domains that route
  // recipients to next hops (copied).
  Notifier(const service::MailConfig& mail, std::chrono::seconds timeout);
  ~Notifier();  // sends what is queued (bounded by the timeout), then stops
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues the notices for `decision` (administrator and, per config, recipients).
  // Never blocks; beyond 1000 queued notices new ones are dropped (counted as failed).
  void Send(const NoticeDecision& decision);
  // Waits until the queue is empty (tests).
  void Flush();

  std::uint64_t sent() const { return sent_; }
  std::uint64_t failed() const { return failed_; }

 private:
  struct Item {
    std::string to;
    std::string next_hop;
    std::string next_hop_tls;
    std::string next_hop_ca_file;
    std::string message;
  };
  void Run();
  bool Deliver(const Item& item);
  // Where a notice to `address` goes: notify_relay, else its domain's next hop.
  std::optional<Item> Route(const std::string& address) const;

  const service::MailConfig mail_;
  std::string hostname_;
  mail::DomainRouter router_;
  std::chrono::seconds timeout_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::thread thread_;
};

}  // namespace bulwark::smtp

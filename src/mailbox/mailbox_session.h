#pragma once
// The mailbox connector's work on one authenticated IMAP session (API mode, after
// delivery): pick up new mail in each configured folder (UIDVALIDITY/UIDNEXT, the last UID
// seen per folder kept in the database), scan it in memory through service::ScanContent and
// apply the tenant's policy *inside the customer's mailbox*:
//   tag         → the message is replaced by a copy with X-Bulwark-* fields, the subject
//                 tag and the tag keyword (e.g. $Bulwark-Suspicious);
//   quarantine,
//   reject      → moved to the connector's quarantine folder (created when missing);
//                 restorable through the API (RestoreMessage);
//   delete      → the attachments holding the detections are replaced by a notice (the
//                 message is replaced by the cleaned copy), or the message is deleted;
//   log/notify  → left as it is (the detection event is recorded).
// A message carrying a valid X-Bulwark-Signature from this site's gateway or milter is not
// scanned again. Sweeps re-scan existing mail by date range, sender, subject or hash, with
// progress in the database. Nothing of the content is stored: messages are held in memory
// for the scan and the action only. See docs/mailbox-connector.md.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "imap/imap_client.h"
#include "service/site.h"
#include "storage/store.h"

namespace bulwark::smtp {
class Notifier;
}

namespace bulwark::mailbox {

// Keywords Bulwark sets on messages it has put into a mailbox itself (tagged or cleaned
// copies) or that an administrator restored: new-mail pickup leaves them alone. Only an
// IMAP client of the mailbox can set keywords, so a sender cannot forge them.
inline constexpr std::string_view kScannedKeyword = "$Bulwark-Scanned";
inline constexpr std::string_view kReleasedKeyword = "$Bulwark-Released";

// An authenticated session for `connector` (its credential unsealed with the tenant's key).
// kPermissionDenied when the server refuses the credentials.
Result<std::unique_ptr<imap::ImapClient>> OpenMailbox(service::Site& site,
                                                      const storage::MailboxConnector& connector);

// The sender and Message-ID of a message (mailbox_session.cc).
struct MessageIdentity;

// What happened to one message.
enum class MessageAction {
  kUntouched,     // clean, or a detection whose action leaves the message (log, notify)
  kTrusted,       // carried a valid signed verdict: not scanned again
  kAlreadyHandled,  // a copy Bulwark made, or a message an administrator restored
  kTagged,
  kQuarantined,
  kCleaned,       // attachments replaced by a notice
  kDeleted,
  kUnscannable,   // larger than [mailbox] max_message_bytes: an event, message left
};
std::string_view MessageActionName(MessageAction action);

struct SyncTotals {
  std::int64_t messages = 0;
  std::int64_t bytes = 0;
  std::int64_t detections = 0;
};

class MailboxSession {
 public:
  // `notifier` (may be null) sends the notices of [mail] notify_address/notify_recipients.
  MailboxSession(service::Site& site, storage::MailboxConnector connector,
                 imap::ImapClient& client, smtp::Notifier* notifier = nullptr);

  // New mail in every configured folder. The first time a folder is seen (or after its
  // UIDVALIDITY changed) only its position is recorded: existing mail is for sweeps.
  Status SyncAll();
  Status SyncFolder(const std::string& folder);
  // Runs `sweep` to its end, recording progress; `stop` interrupts it (it goes back to
  // queued and starts over later). A sweep whose connector has repeat_seconds is queued
  // again for then.
  Status RunSweep(storage::MailboxSweep sweep, const std::atomic<bool>& stop);

  // Scans and handles one fetched message (exposed for tests). `trust_signed` false: scan
  // even when a valid signed verdict is present (sweeps).
  Result<MessageAction> Process(const std::string& folder, const imap::FetchedMessage& message,
                                bool trust_signed);

  const SyncTotals& totals() const { return totals_; }

 private:
  Result<MessageAction> Quarantine(const std::string& folder, std::uint32_t uid,
                                   const MessageIdentity& identity, std::int64_t event_seq);
  Result<MessageAction> Replace(const std::string& folder, const imap::FetchedMessage& original,
                                const std::string& replacement, bool add_tag_keyword);
  Status RecordOversize(const imap::FetchedMessage& message);
  Status CountScanned(std::int64_t bytes, bool detection);

  service::Site& site_;
  storage::MailboxConnector connector_;
  imap::ImapClient& client_;
  smtp::Notifier* notifier_;
  bool quarantine_folder_ready_ = false;
  SyncTotals totals_;
};

// Moves a quarantined message back to the folder it came from (marked with
// kReleasedKeyword so it is not quarantined again) and records it as restored.
// kNotFound for an unknown item or one of another tenant, or when the message is no longer
// in the quarantine folder; kFailedPrecondition when it is not held.
Result<storage::MailboxQuarantineItem> RestoreMessage(service::Site& site,
                                                      const std::string& tenant_id,
                                                      const std::string& item_id);

// IMAP date ("7-Mar-2026") of a Unix time, UTC.
std::string ImapDate(std::int64_t unix_seconds);
// The UID SEARCH criteria of a sweep ("ALL" when it has none).
std::string SweepCriteria(const storage::MailboxSweep& sweep);

}  // namespace bulwark::mailbox

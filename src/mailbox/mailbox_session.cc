#include "mailbox/mailbox_session.h"

#include <algorithm>
#include <ctime>

#include "bulwark/common/text.h"
#include "crypto/sha256.h"
#include "detectors/senderauth/auth_headers.h"
#include "mail/attachment_strip.h"
#include "mail/mail_scan.h"
#include "mail/verdict_seal.h"
#include "service/content_scan.h"
#include "smtp/notifier.h"

namespace bulwark::mailbox {

// What the connector needs of a message's header: who sent it (lower-case address, "" when
// there is none or several) and its Message-ID. Parsed once per message.
struct MessageIdentity {
  std::string sender;
  std::string message_id;
};

namespace {

// The sender and Message-ID of `message`.
MessageIdentity IdentityOf(std::string_view message) {
  MessageIdentity identity;
  bool have_from = false, have_id = false;
  for (const senderauth::HeaderField& f : senderauth::ParseHeaderFields(message)) {
    if (!have_from && EqualsIgnoreCase(f.name, "From")) {
      identity.sender = AsciiLower(senderauth::AddressOf(f.value));
      have_from = true;
    } else if (!have_id && EqualsIgnoreCase(f.name, "Message-ID")) {
      identity.message_id = f.value.substr(0, 998);
      have_id = true;
    }
  }
  return identity;
}

bool HasFlag(const std::vector<std::string>& flags, std::string_view flag) {
  return std::any_of(flags.begin(), flags.end(),
                     [&](const std::string& f) { return EqualsIgnoreCase(f, flag); });
}

// Flags a replacement copy keeps: the user's, without the session flag \Recent.
std::vector<std::string> KeptFlags(const std::vector<std::string>& flags) {
  std::vector<std::string> kept;
  for (const std::string& f : flags) {
    if (!EqualsIgnoreCase(f, "\\Recent")) kept.push_back(f);
  }
  return kept;
}

}  // namespace

std::string_view MessageActionName(MessageAction action) {
  switch (action) {
    case MessageAction::kUntouched: return "untouched";
    case MessageAction::kTrusted: return "trusted";
    case MessageAction::kAlreadyHandled: return "already_handled";
    case MessageAction::kTagged: return "tagged";
    case MessageAction::kQuarantined: return "quarantined";
    case MessageAction::kCleaned: return "cleaned";
    case MessageAction::kDeleted: return "deleted";
    case MessageAction::kUnscannable: return "unscannable";
  }
  return "untouched";
}

std::string ImapDate(std::int64_t unix_seconds) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return std::to_string(tm.tm_mday) + "-" + kMonths[tm.tm_mon] + "-" +
         std::to_string(tm.tm_year + 1900);
}

std::string SweepCriteria(const storage::MailboxSweep& sweep) {
  std::string criteria;
  bool utf8 = false;
  auto add = [&](const std::string& term) {
    if (!criteria.empty()) criteria += ' ';
    criteria += term;
  };
  if (sweep.since > 0) add("SINCE " + ImapDate(sweep.since));
  if (sweep.before > 0) add("BEFORE " + ImapDate(sweep.before));
  if (!sweep.sender.empty()) {
    add("FROM " + imap::QuoteString(sweep.sender));
    utf8 |= imap::NeedsLiteral(sweep.sender);
  }
  if (!sweep.subject.empty()) {
    add("SUBJECT " + imap::QuoteString(sweep.subject));
    utf8 |= imap::NeedsLiteral(sweep.subject);
  }
  if (criteria.empty()) return "ALL";
  return utf8 ? "CHARSET UTF-8 " + criteria : criteria;
}

Result<std::unique_ptr<imap::ImapClient>> OpenMailbox(service::Site& site,
                                                      const storage::MailboxConnector& connector) {
  imap::ImapEndpoint endpoint;
  endpoint.host = connector.host;
  endpoint.port = static_cast<std::uint16_t>(connector.port);
  BULWARK_ASSIGN_OR_RETURN(endpoint.tls, imap::ParseTlsMode(connector.tls));
  endpoint.ca_file = connector.ca_file;
  endpoint.timeout = site.config().mailbox.timeout;
  endpoint.limits.max_literal = site.config().mailbox.max_message_bytes + 65536;
  endpoint.limits.max_response = endpoint.limits.max_literal + (1 << 20);
  BULWARK_ASSIGN_OR_RETURN(std::string secret,
                           site.quarantine().OpenCredential(connector.tenant_id, connector.id,
                                                            connector.sealed_secret));
  BULWARK_ASSIGN_OR_RETURN(std::unique_ptr<imap::ImapClient> client,
                           imap::ImapClient::Connect(endpoint));
  Status login = connector.auth == "xoauth2"
                     ? client->LoginWithOAuth2(connector.username, secret)
                     : client->LoginWithPassword(connector.username, secret);
  std::fill(secret.begin(), secret.end(), '\0');
  BULWARK_RETURN_IF_ERROR(login);
  return client;
}

MailboxSession::MailboxSession(service::Site& site, storage::MailboxConnector connector,
                               imap::ImapClient& client, smtp::Notifier* notifier)
    : site_(site), connector_(std::move(connector)), client_(client), notifier_(notifier) {}

Status MailboxSession::SyncAll() {
  for (const std::string& folder : connector_.folders) {
    BULWARK_RETURN_IF_ERROR(SyncFolder(folder));
  }
  return OkStatus();
}

Status MailboxSession::SyncFolder(const std::string& folder) {
  storage::Store& store = site_.store();
  BULWARK_ASSIGN_OR_RETURN(imap::MailboxStatus status, client_.Select(folder));
  BULWARK_ASSIGN_OR_RETURN(
      std::optional<storage::MailboxFolderState> state,
      store.GetMailboxFolderState(connector_.tenant_id, connector_.id, folder));
  if (!state || static_cast<std::uint64_t>(state->uidvalidity) != status.uidvalidity) {
    // First sight of the folder, or it was rebuilt (new UIDVALIDITY: every old UID is
    // void): start from here.
    storage::MailboxFolderState fresh;
    fresh.tenant_id = connector_.tenant_id;
    fresh.connector_id = connector_.id;
    fresh.folder = folder;
    fresh.uidvalidity = static_cast<std::int64_t>(status.uidvalidity);
    fresh.highest_modseq = static_cast<std::int64_t>(status.highest_modseq);
    if (status.uidnext > 0) {
      fresh.last_uid = static_cast<std::int64_t>(status.uidnext - 1);
    } else {
      BULWARK_ASSIGN_OR_RETURN(std::vector<std::uint32_t> last, client_.UidSearch("UID *"));
      fresh.last_uid = last.empty() ? 0 : last.back();
    }
    return store.PutMailboxFolderState(fresh);
  }
  const std::uint64_t last_uid = static_cast<std::uint64_t>(state->last_uid);
  if (status.uidnext != 0 && status.uidnext - 1 <= last_uid) {
    if (static_cast<std::uint64_t>(state->highest_modseq) != status.highest_modseq) {
      state->highest_modseq = static_cast<std::int64_t>(status.highest_modseq);
      state->updated_at = 0;
      return store.PutMailboxFolderState(*state);
    }
    return OkStatus();
  }
  BULWARK_ASSIGN_OR_RETURN(std::vector<std::uint32_t> uids,
                           client_.UidSearch("UID " + std::to_string(last_uid + 1) + ":*"));
  std::erase_if(uids, [&](std::uint32_t uid) { return uid <= last_uid; });
  for (std::uint32_t uid : uids) {
    // Size and flags first: an oversized message is never fetched whole.
    BULWARK_ASSIGN_OR_RETURN(std::vector<imap::FetchedMessage> meta,
                             client_.UidFetch(std::to_string(uid), /*with_body=*/false));
    if (!meta.empty()) {
      const imap::FetchedMessage& m = meta.front();
      if (HasFlag(m.flags, kScannedKeyword) || HasFlag(m.flags, kReleasedKeyword)) {
        // Bulwark's own copy or a restored message: nothing to do.
      } else if (m.size > site_.config().mailbox.max_message_bytes) {
        BULWARK_RETURN_IF_ERROR(RecordOversize(m));
      } else {
        BULWARK_ASSIGN_OR_RETURN(std::vector<imap::FetchedMessage> whole,
                                 client_.UidFetch(std::to_string(uid), /*with_body=*/true));
        if (!whole.empty()) {
          BULWARK_RETURN_IF_ERROR(Process(folder, whole.front(), /*trust_signed=*/true).status());
        }
      }
    }
    // The position moves past each message once it is handled: a restart resumes here.
    state->last_uid = uid;
    state->highest_modseq = static_cast<std::int64_t>(status.highest_modseq);
    state->updated_at = 0;
    BULWARK_RETURN_IF_ERROR(store.PutMailboxFolderState(*state));
  }
  return OkStatus();
}

Status MailboxSession::CountScanned(std::int64_t bytes, bool detection) {
  totals_.messages += 1;
  totals_.bytes += bytes;
  totals_.detections += detection ? 1 : 0;
  return site_.store().AddMailboxCounters(connector_.tenant_id, connector_.id, 1, bytes,
                                          detection ? 1 : 0);
}

Status MailboxSession::RecordOversize(const imap::FetchedMessage& message) {
  // No silent pass: the message stays, an unscannable event says why.
  storage::Event event;
  event.tenant_id = connector_.tenant_id;
  event.service = "imap";
  event.object_name = "message.eml";
  event.owner = AsciiLower(connector_.username);
  event.recipients = event.owner;
  event.verdict = "unscannable";
  event.threat_type = "unscannable";
  event.detectors = "limits";
  event.action = "logged";
  event.findings_json =
      nlohmann::json::array({{{"detector", "limits"},
                              {"name", "Unscannable.MessageTooLarge"},
                              {"category", "unscannable"},
                              {"severity", "medium"},
                              {"reason", "object_too_large"},
                              {"detail", std::to_string(message.size) + " bytes is over the limit of " +
                                             std::to_string(site_.config().mailbox.max_message_bytes)}}})
          .dump();
  BULWARK_RETURN_IF_ERROR(site_.store().AppendEvent(event).status());
  return CountScanned(0, /*detection=*/true);
}

Result<MessageAction> MailboxSession::Process(const std::string& folder,
                                              const imap::FetchedMessage& message,
                                              bool trust_signed) {
  if (!message.body) return InvalidArgumentError("message fetched without its body");
  const std::string& body = *message.body;
  const service::ServiceConfig& config = site_.config();
  const std::int64_t now = service::Site::Now();
  mail::VerdictSealKey seal_key{site_.verdict_key(), config.site.id,
                                site_.engine().signature_version()};
  if (trust_signed && config.mailbox.trust_signed_verdicts.count() > 0) {
    mail::SealVerification seal = mail::VerifyVerdictSeal(
        seal_key, body, now, config.mailbox.trust_signed_verdicts.count());
    if (seal.check == mail::SealCheck::kValid) return MessageAction::kTrusted;
  }

  service::ContentScanRequest request;
  request.tenant_id = connector_.tenant_id;
  request.data = body;
  request.name = "message.eml";
  const MessageIdentity identity = IdentityOf(body);
  request.sender = identity.sender;
  request.recipients = AsciiLower(connector_.username);
  request.subject.service = "imap";
  request.subject.user = AsciiLower(connector_.username);
  request.hold_in_vault = false;  // quarantine is a folder of the customer's mailbox
  BULWARK_ASSIGN_OR_RETURN(service::ContentScanOutcome outcome,
                           service::ScanContent(site_, request));
  const bool detection = outcome.detection();
  BULWARK_RETURN_IF_ERROR(CountScanned(static_cast<std::int64_t>(body.size()), detection));
  if (!detection) return MessageAction::kUntouched;

  const std::int64_t event_seq = outcome.event_seq.value_or(0);
  const service::Action action = outcome.action();
  mail::MailVerdict verdict = mail::VerdictFor(std::move(outcome), config.mail.subject_tag);
  auto seal_and_rewrite = [&](const mail::MailVerdict& v) {
    std::string rewritten = mail::RewriteMessage(body, {}, v);
    mail::HeaderField seal = mail::SealVerdict(
        seal_key, policy::VerdictKindName(v.outcome.report.verdict.kind), rewritten, now);
    return mail::FormatHeaderField(seal, body.find("\r\n") != std::string::npos ? "\r\n" : "\n") +
           rewritten;
  };
  Result<MessageAction> done = [&]() -> Result<MessageAction> {
    switch (action) {
      case service::Action::kLog:
      case service::Action::kNotify:
        return MessageAction::kUntouched;
      case service::Action::kTag:
        if (HasFlag(message.flags, config.mailbox.tag_keyword)) return MessageAction::kTagged;
        return Replace(folder, message, seal_and_rewrite(verdict), /*add_tag_keyword=*/true);
      case service::Action::kQuarantine:
      case service::Action::kReject:
        return Quarantine(folder, message.uid, identity, event_seq);
      case service::Action::kDelete: {
        if (verdict.strip_attachments.empty()) {
          BULWARK_RETURN_IF_ERROR(client_.DeleteMessage(message.uid));
          return MessageAction::kDeleted;
        }
        Result<std::string> cleaned = mail::StripAttachments(
            body, verdict.strip_attachments, "removed by the mailbox's security policy");
        if (!cleaned.ok()) {
          // Never leave a message believed cleaned: hold it in the quarantine folder instead.
          return Quarantine(folder, message.uid, identity, event_seq);
        }
        verdict.cleaned_message = std::move(cleaned).value();
        BULWARK_ASSIGN_OR_RETURN(MessageAction replaced,
                                 Replace(folder, message, seal_and_rewrite(verdict),
                                         /*add_tag_keyword=*/false));
        (void)replaced;
        return MessageAction::kCleaned;
      }
    }
    return MessageAction::kUntouched;
  }();
  if (done.ok() && notifier_ != nullptr) {
    if (auto notice = smtp::NoticeFor(verdict, request.sender, {request.recipients}, "imap")) {
      if (*done == MessageAction::kQuarantined) notice->facts.action = "moved to the quarantine folder";
      if (*done == MessageAction::kCleaned) notice->facts.action = "cleaned of its attachments";
      notifier_->Send(*notice);
    }
  }
  return done;
}

Result<MessageAction> MailboxSession::Replace(const std::string& folder,
                                              const imap::FetchedMessage& original,
                                              const std::string& replacement,
                                              bool add_tag_keyword) {
  std::vector<std::string> flags = KeptFlags(original.flags);
  flags.emplace_back(kScannedKeyword);
  if (add_tag_keyword) flags.push_back(site_.config().mailbox.tag_keyword);
  // The copy first, then the original goes: a failure in between leaves both, never none.
  BULWARK_RETURN_IF_ERROR(client_.Append(folder, flags, replacement).status());
  BULWARK_RETURN_IF_ERROR(client_.DeleteMessage(original.uid));
  return MessageAction::kTagged;
}

Result<MessageAction> MailboxSession::Quarantine(const std::string& folder, std::uint32_t uid,
                                                 const MessageIdentity& identity,
                                                 std::int64_t event_seq) {
  const std::string& target = connector_.quarantine_folder;
  if (!quarantine_folder_ready_) {
    BULWARK_RETURN_IF_ERROR(client_.CreateFolder(target));
    quarantine_folder_ready_ = true;
  }
  BULWARK_ASSIGN_OR_RETURN(std::optional<imap::MessageLocation> moved,
                           client_.MoveMessage(uid, target));
  storage::MailboxQuarantineItem item;
  item.id = storage::NewId("mq_");
  item.tenant_id = connector_.tenant_id;
  item.connector_id = connector_.id;
  item.origin_folder = folder;
  item.quarantine_folder = target;
  if (moved) {
    item.uidvalidity = static_cast<std::int64_t>(moved->uidvalidity);
    item.uid = moved->uid;
  }
  item.message_id = identity.message_id;
  item.sender = identity.sender;
  item.event_seq = event_seq;
  item.status = "held";
  BULWARK_RETURN_IF_ERROR(site_.store().AddMailboxQuarantineItem(item));
  return MessageAction::kQuarantined;
}

Status MailboxSession::RunSweep(storage::MailboxSweep sweep, const std::atomic<bool>& stop) {
  storage::Store& store = site_.store();
  sweep.status = "running";
  sweep.started_at = service::Site::Now();
  sweep.total = sweep.done = sweep.detections = 0;
  sweep.error.clear();
  BULWARK_RETURN_IF_ERROR(store.UpdateMailboxSweep(sweep));

  auto finish = [&](const std::string& status, const std::string& error) -> Status {
    sweep.status = status;
    sweep.error = error;
    sweep.finished_at = status == "queued" ? 0 : service::Site::Now();
    BULWARK_RETURN_IF_ERROR(store.UpdateMailboxSweep(sweep));
    if (status == "done" && sweep.repeat_seconds > 0) {
      storage::MailboxSweep next = sweep;
      next.id = storage::NewId("sw_");
      next.status = "queued";
      next.not_before = sweep.started_at + sweep.repeat_seconds;
      next.total = next.done = next.detections = 0;
      next.error.clear();
      next.created_at = 0;
      next.started_at = next.finished_at = 0;
      BULWARK_RETURN_IF_ERROR(store.CreateMailboxSweep(next));
    }
    return OkStatus();
  };

  std::vector<std::string> folders =
      sweep.folder.empty() ? connector_.folders : std::vector<std::string>{sweep.folder};
  std::vector<std::pair<std::string, std::vector<std::uint32_t>>> work;
  const std::string criteria = SweepCriteria(sweep);
  for (const std::string& folder : folders) {
    Result<imap::MailboxStatus> selected = client_.Select(folder);
    if (!selected.ok()) return finish("failed", "cannot open folder " + folder + ": " +
                                                    selected.status().message());
    Result<std::vector<std::uint32_t>> uids = client_.UidSearch(criteria);
    if (!uids.ok()) return finish("failed", "search failed in " + folder + ": " +
                                                uids.status().message());
    sweep.total += static_cast<std::int64_t>(uids->size());
    work.emplace_back(folder, std::move(uids).value());
  }
  BULWARK_RETURN_IF_ERROR(store.UpdateMailboxSweep(sweep));

  const std::string wanted_hash = AsciiLower(sweep.sha256);
  for (const auto& [folder, uids] : work) {
    BULWARK_RETURN_IF_ERROR(client_.Select(folder).status());
    for (std::uint32_t uid : uids) {
      if (stop.load()) return finish("queued", "");
      if (sweep.done % 20 == 0) {
        // Cancelled through the API?
        BULWARK_ASSIGN_OR_RETURN(storage::MailboxSweep current,
                                 store.GetMailboxSweep(sweep.tenant_id, sweep.id));
        if (current.status == "cancelled") {
          sweep.status = "cancelled";
          sweep.finished_at = service::Site::Now();
          return store.UpdateMailboxSweep(sweep);
        }
      }
      Result<std::vector<imap::FetchedMessage>> meta = client_.UidFetch(std::to_string(uid), false);
      if (!meta.ok()) return finish("failed", meta.status().message());
      if (meta->empty()) {
        ++sweep.done;  // expunged meanwhile
        continue;
      }
      if (meta->front().size > site_.config().mailbox.max_message_bytes) {
        if (wanted_hash.empty()) BULWARK_RETURN_IF_ERROR(RecordOversize(meta->front()));
        ++sweep.done;
        continue;
      }
      Result<std::vector<imap::FetchedMessage>> whole = client_.UidFetch(std::to_string(uid), true);
      if (!whole.ok()) return finish("failed", whole.status().message());
      if (!whole->empty()) {
        const imap::FetchedMessage& m = whole->front();
        bool selected = true;
        if (!wanted_hash.empty()) {
          selected = crypto::ToHex(crypto::Sha256(*m.body)) == wanted_hash;
          if (!selected) {
            Result<std::vector<std::string>> parts = mail::PartHashes(*m.body);
            selected = parts.ok() &&
                       std::find(parts->begin(), parts->end(), wanted_hash) != parts->end();
          }
        }
        if (selected && !HasFlag(m.flags, kReleasedKeyword)) {
          Result<MessageAction> done = Process(folder, m, /*trust_signed=*/false);
          if (!done.ok()) return finish("failed", done.status().message());
          if (*done != MessageAction::kUntouched && *done != MessageAction::kTrusted) {
            ++sweep.detections;
          }
        }
      }
      ++sweep.done;
      if (sweep.done % 10 == 0) BULWARK_RETURN_IF_ERROR(store.UpdateMailboxSweep(sweep));
    }
  }
  return finish("done", "");
}

Result<storage::MailboxQuarantineItem> RestoreMessage(service::Site& site,
                                                      const std::string& tenant_id,
                                                      const std::string& item_id) {
  storage::Store& store = site.store();
  BULWARK_ASSIGN_OR_RETURN(storage::MailboxQuarantineItem item,
                           store.GetMailboxQuarantineItem(tenant_id, item_id));
  if (item.status != "held") {
    return FailedPreconditionError("the message is " + item.status + ", not held");
  }
  BULWARK_ASSIGN_OR_RETURN(storage::MailboxConnector connector,
                           store.GetMailboxConnector(tenant_id, item.connector_id));
  BULWARK_ASSIGN_OR_RETURN(std::unique_ptr<imap::ImapClient> client, OpenMailbox(site, connector));
  BULWARK_ASSIGN_OR_RETURN(imap::MailboxStatus status, client->Select(item.quarantine_folder));
  std::optional<std::uint32_t> uid;
  if (item.uid > 0 && static_cast<std::uint64_t>(item.uidvalidity) == status.uidvalidity) {
    BULWARK_ASSIGN_OR_RETURN(std::vector<std::uint32_t> found,
                             client->UidSearch("UID " + std::to_string(item.uid)));
    if (!found.empty()) uid = found.front();
  }
  if (!uid && !item.message_id.empty()) {
    BULWARK_ASSIGN_OR_RETURN(
        std::vector<std::uint32_t> found,
        client->UidSearch("HEADER Message-ID " + imap::QuoteString(item.message_id)));
    if (!found.empty()) uid = found.back();
  }
  if (!uid) return NotFoundError("the message is no longer in the folder " + item.quarantine_folder);
  BULWARK_RETURN_IF_ERROR(client->AddFlags(*uid, {std::string(kReleasedKeyword)}));
  BULWARK_ASSIGN_OR_RETURN(std::optional<imap::MessageLocation> moved,
                           client->MoveMessage(*uid, item.origin_folder));
  client->Logout();
  item.status = "restored";
  item.uidvalidity = moved ? static_cast<std::int64_t>(moved->uidvalidity) : 0;
  item.uid = moved ? moved->uid : 0;
  item.updated_at = 0;
  BULWARK_RETURN_IF_ERROR(store.UpdateMailboxQuarantineItem(item));
  return item;
}

}  // namespace bulwark::mailbox

// The Store's IMAP mailbox connector records (schema migration 2) on both backends: connectors
// and their lease, folder sync positions, the mailbox quarantine, sweeps, and tenant
// isolation of each.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <thread>
#include <vector>

#include "storage/storage_test_backend.h"
#include "storage/store.h"

namespace bulwark::storage {
namespace {

using ::testing::ElementsAre;

template <typename T>
T Unwrap(Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return T{};
  return std::move(result).value();
}

#define ASSERT_OK(expr)                                               \
  do {                                                                \
    ::bulwark::Status status_ = (expr);                               \
    ASSERT_TRUE(status_.ok()) << #expr << ": " << status_.ToString(); \
  } while (0)

bool IsId(const std::string& id, const std::string& prefix) {
  return std::regex_match(id, std::regex(prefix + "[0-9a-f]{16}"));
}

class MailboxStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto created = TestDatabase::Create(GetParam());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    test_ = std::move(created).value();
    auto migrated = Migrate(test_->db());
    ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
    EXPECT_EQ(*migrated, LatestSchemaVersion());
    store_ = std::make_unique<Store>(test_->db());
    a_ = Unwrap(store_->CreateTenant("tenant-a", "site-1")).id;
    b_ = Unwrap(store_->CreateTenant("tenant-b", "site-1")).id;
  }

  MailboxConnector MakeConnector(const std::string& tenant, const std::string& name) {
    MailboxConnector c;
    c.id = NewId("m_");
    c.tenant_id = tenant;
    c.name = name;
    c.host = "imap.corp.example";
    c.username = name;
    c.sealed_secret = "sealed:" + name;
    return c;
  }

  // A connector of `tenant`, created; returns its id.
  std::string AddConnector(const std::string& tenant, const std::string& name) {
    MailboxConnector c = MakeConnector(tenant, name);
    Status status = store_->CreateMailboxConnector(c);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return c.id;
  }

  MailboxSweep MakeSweep(const std::string& tenant, const std::string& connector,
                         UnixSeconds created_at, UnixSeconds not_before = 0) {
    MailboxSweep sweep;
    sweep.id = NewId("sw_");
    sweep.tenant_id = tenant;
    sweep.connector_id = connector;
    sweep.created_at = created_at;
    sweep.not_before = not_before;
    return sweep;
  }

  MailboxQuarantineItem MakeQuarantineItem(const std::string& tenant, const std::string& connector,
                                           UnixSeconds created_at) {
    MailboxQuarantineItem item;
    item.id = NewId("mq_");
    item.tenant_id = tenant;
    item.connector_id = connector;
    item.origin_folder = "INBOX";
    item.quarantine_folder = "Quarantine";
    item.uidvalidity = 7;
    item.uid = 42;
    item.message_id = "<abc@evil.example>";
    item.sender = "mallory@evil.example";
    item.event_seq = 3;
    item.created_at = created_at;
    return item;
  }

  std::unique_ptr<TestDatabase> test_;
  std::unique_ptr<Store> store_;
  std::string a_, b_;
};

TEST_P(MailboxStoreTest, TheSchemaIsMigratedToTheLatestVersion) {
  EXPECT_EQ(LatestSchemaVersion(), 3);  // 2: mailbox tables, 3: sender history
  EXPECT_EQ(Unwrap(CurrentSchemaVersion(test_->db())), 3);
  EXPECT_EQ(Unwrap(Migrate(test_->db())), 3);  // idempotent
}

TEST_P(MailboxStoreTest, SenderHistoryKnowsFirstSightingsPerTenant) {
  const std::string hash(64, 'a');
  SenderSighting first = Unwrap(store_->RecordSenderSighting(a_, hash, 1000));
  EXPECT_TRUE(first.first_time);
  EXPECT_EQ(first.history_since, 1000);
  SenderSighting again = Unwrap(store_->RecordSenderSighting(a_, hash, 2000));
  EXPECT_FALSE(again.first_time);
  EXPECT_EQ(again.history_since, 1000);  // the history began with the first sighting
  SenderSighting other_sender = Unwrap(store_->RecordSenderSighting(a_, std::string(64, 'b'), 3000));
  EXPECT_TRUE(other_sender.first_time);
  EXPECT_EQ(other_sender.history_since, 1000);
  // Another tenant has its own history: the same sender is new there.
  SenderSighting elsewhere = Unwrap(store_->RecordSenderSighting(b_, hash, 4000));
  EXPECT_TRUE(elsewhere.first_time);
  EXPECT_EQ(elsewhere.history_since, 4000);
  EXPECT_EQ(store_->RecordSenderSighting(a_, "", 5000).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(MailboxStoreTest, ConnectorsRoundTripAndListByName) {
  MailboxConnector c = MakeConnector(a_, "zoe@corp.example");
  c.port = 143;
  c.tls = "starttls";
  c.ca_file = "/etc/bulwark/ca.pem";
  c.auth = "xoauth2";
  c.folders = {"INBOX", "Archiv/Entwürfe", "with \"quotes\", commas"};
  c.quarantine_folder = "Junk/Bulwark";
  c.enabled = false;
  c.status = "";  // = pending
  ASSERT_OK(store_->CreateMailboxConnector(c));
  std::string other = AddConnector(a_, "alice@corp.example");

  MailboxConnector got = Unwrap(store_->GetMailboxConnector(a_, c.id));
  EXPECT_TRUE(IsId(got.id, "m_")) << got.id;
  EXPECT_EQ(got.tenant_id, a_);
  EXPECT_EQ(got.name, "zoe@corp.example");
  EXPECT_EQ(got.host, "imap.corp.example");
  EXPECT_EQ(got.port, 143);
  EXPECT_EQ(got.tls, "starttls");
  EXPECT_EQ(got.ca_file, "/etc/bulwark/ca.pem");
  EXPECT_EQ(got.username, "zoe@corp.example");
  EXPECT_EQ(got.auth, "xoauth2");
  EXPECT_EQ(got.sealed_secret, "sealed:zoe@corp.example");
  EXPECT_THAT(got.folders, ElementsAre("INBOX", "Archiv/Entwürfe", "with \"quotes\", commas"));
  EXPECT_EQ(got.quarantine_folder, "Junk/Bulwark");
  EXPECT_FALSE(got.enabled);
  EXPECT_GT(got.created_at, 0);
  EXPECT_EQ(got.status, "pending");
  EXPECT_EQ(got.failures, 0);
  EXPECT_EQ(got.lease_owner, "");
  EXPECT_EQ(got.lease_until, 0);

  MailboxConnector defaults = Unwrap(store_->GetMailboxConnector(a_, other));
  EXPECT_EQ(defaults.port, 993);
  EXPECT_EQ(defaults.tls, "implicit");
  EXPECT_EQ(defaults.auth, "password");
  EXPECT_THAT(defaults.folders, ElementsAre("INBOX"));
  EXPECT_EQ(defaults.quarantine_folder, "Quarantine");
  EXPECT_TRUE(defaults.enabled);

  std::vector<MailboxConnector> listed = Unwrap(store_->ListMailboxConnectors(a_));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "alice@corp.example");
  EXPECT_EQ(listed[1].name, "zoe@corp.example");
  EXPECT_EQ(store_->GetMailboxConnector(a_, "m_0000000000000000").status().code(),
            StatusCode::kNotFound);

  ASSERT_OK(store_->SetMailboxConnectorEnabled(a_, c.id, true));
  ASSERT_OK(store_->SetMailboxConnectorSecret(a_, c.id, "sealed:new"));
  ASSERT_OK(store_->RecordMailboxState(
      a_, c.id, {"auth_failed", "NO [AUTHENTICATIONFAILED]", 1000, 1300, 3}));
  got = Unwrap(store_->GetMailboxConnector(a_, c.id));
  EXPECT_TRUE(got.enabled);
  EXPECT_EQ(got.sealed_secret, "sealed:new");
  EXPECT_EQ(got.status, "auth_failed");
  EXPECT_EQ(got.last_error, "NO [AUTHENTICATIONFAILED]");
  EXPECT_EQ(got.last_sync_at, 1000);
  EXPECT_EQ(got.next_attempt_at, 1300);
  EXPECT_EQ(got.failures, 3);
  EXPECT_EQ(store_->RecordMailboxState(a_, c.id, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SetMailboxConnectorEnabled(a_, "m_nope", true).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SetMailboxConnectorSecret(a_, "m_nope", "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RecordMailboxState(a_, "m_nope", {"ok", "", 1, 2, 0}).code(),
            StatusCode::kNotFound);

  ASSERT_OK(store_->DeleteMailboxConnector(a_, c.id));
  EXPECT_EQ(store_->GetMailboxConnector(a_, c.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteMailboxConnector(a_, c.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(Unwrap(store_->ListMailboxConnectors(a_)).size(), 1u);
}

TEST_P(MailboxStoreTest, CreateRejectsBadInputAndDuplicates) {
  MailboxConnector c = MakeConnector(a_, "alice@corp.example");
  ASSERT_OK(store_->CreateMailboxConnector(c));

  MailboxConnector same_name = MakeConnector(a_, "alice@corp.example");
  EXPECT_EQ(store_->CreateMailboxConnector(same_name).code(), StatusCode::kAlreadyExists);
  MailboxConnector same_id = MakeConnector(a_, "bob@corp.example");
  same_id.id = c.id;
  EXPECT_EQ(store_->CreateMailboxConnector(same_id).code(), StatusCode::kAlreadyExists);
  // Names are unique per tenant only.
  ASSERT_OK(store_->CreateMailboxConnector(MakeConnector(b_, "alice@corp.example")));

  MailboxConnector bad = MakeConnector(a_, "carol@corp.example");
  bad.id = "";
  EXPECT_EQ(store_->CreateMailboxConnector(bad).code(), StatusCode::kInvalidArgument);
  bad = MakeConnector("", "carol@corp.example");
  EXPECT_EQ(store_->CreateMailboxConnector(bad).code(), StatusCode::kInvalidArgument);
  bad = MakeConnector(a_, "");
  EXPECT_EQ(store_->CreateMailboxConnector(bad).code(), StatusCode::kInvalidArgument);
  bad = MakeConnector(a_, "carol@corp.example");
  bad.folders = {"INBOX", "\xff\xfe"};
  EXPECT_EQ(store_->CreateMailboxConnector(bad).code(), StatusCode::kInvalidArgument);
  bad = MakeConnector("t_0000000000000000", "carol@corp.example");
  EXPECT_EQ(store_->CreateMailboxConnector(bad).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListMailboxConnectors("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Unwrap(store_->ListMailboxConnectors(a_)).size(), 1u);
}

TEST_P(MailboxStoreTest, ListAllSpansTenantsOrderedByTenantThenName) {
  std::string a2 = AddConnector(a_, "b@a.example");
  std::string a1 = AddConnector(a_, "a@a.example");
  std::string b1 = AddConnector(b_, "a@b.example");
  std::vector<std::string> ids;
  for (const MailboxConnector& c : Unwrap(store_->ListAllMailboxConnectors())) {
    ids.push_back(c.id);
  }
  if (a_ < b_) {
    EXPECT_THAT(ids, ElementsAre(a1, a2, b1));
  } else {
    EXPECT_THAT(ids, ElementsAre(b1, a1, a2));
  }
}

TEST_P(MailboxStoreTest, CountersIncrementAtomically) {
  std::string id = AddConnector(a_, "alice@corp.example");
  ASSERT_OK(store_->AddMailboxCounters(a_, id, 2, 2048, 1));
  ASSERT_OK(store_->AddMailboxCounters(a_, id, 3, 100, 0));
  std::vector<std::thread> threads;
  std::atomic<bool> failed{false};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (!store_->AddMailboxCounters(a_, id, 1, 10, 1).ok()) failed = true;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_FALSE(failed.load());
  MailboxConnector got = Unwrap(store_->GetMailboxConnector(a_, id));
  EXPECT_EQ(got.messages_scanned, 45);
  EXPECT_EQ(got.bytes_scanned, 2548);
  EXPECT_EQ(got.detections, 41);
  EXPECT_EQ(store_->AddMailboxCounters(a_, id, -1, 0, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AddMailboxCounters(a_, "m_nope", 1, 1, 1).code(), StatusCode::kNotFound);
}

TEST_P(MailboxStoreTest, LeaseIsHeldByOneOwnerUntilItExpires) {
  std::string id = AddConnector(a_, "alice@corp.example");
  EXPECT_TRUE(Unwrap(store_->ClaimMailboxConnector(a_, id, "worker-a", 1000, 60)));
  MailboxConnector got = Unwrap(store_->GetMailboxConnector(a_, id));
  EXPECT_EQ(got.lease_owner, "worker-a");
  EXPECT_EQ(got.lease_until, 1060);
  // Refused to another owner while valid (lease_until == now is still valid).
  EXPECT_FALSE(Unwrap(store_->ClaimMailboxConnector(a_, id, "worker-b", 1030, 60)));
  EXPECT_FALSE(Unwrap(store_->ClaimMailboxConnector(a_, id, "worker-b", 1060, 60)));
  // The holder renews.
  EXPECT_TRUE(Unwrap(store_->ClaimMailboxConnector(a_, id, "worker-a", 1050, 60)));
  EXPECT_EQ(Unwrap(store_->GetMailboxConnector(a_, id)).lease_until, 1110);
  // Expired: the other owner takes it over; the old holder's release changes nothing.
  EXPECT_TRUE(Unwrap(store_->ClaimMailboxConnector(a_, id, "worker-b", 1111, 60)));
  ASSERT_OK(store_->ReleaseMailboxConnector(a_, id, "worker-a"));
  got = Unwrap(store_->GetMailboxConnector(a_, id));
  EXPECT_EQ(got.lease_owner, "worker-b");
  EXPECT_EQ(got.lease_until, 1171);
  // Released: free at once.
  ASSERT_OK(store_->ReleaseMailboxConnector(a_, id, "worker-b"));
  got = Unwrap(store_->GetMailboxConnector(a_, id));
  EXPECT_EQ(got.lease_owner, "");
  EXPECT_EQ(got.lease_until, 0);
  EXPECT_TRUE(Unwrap(store_->ClaimMailboxConnector(a_, id, "worker-a", 1120, 60)));

  EXPECT_EQ(store_->ClaimMailboxConnector(a_, "m_nope", "worker-a", 1000, 60).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->ReleaseMailboxConnector(a_, "m_nope", "worker-a").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->ClaimMailboxConnector(a_, id, "", 1000, 60).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ClaimMailboxConnector(a_, id, "worker-a", 1000, 0).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(MailboxStoreTest, ConcurrentClaimsHaveOneWinner) {
  std::string id = AddConnector(a_, "alice@corp.example");
  constexpr int kClaimers = 6;
  std::vector<std::thread> threads;
  std::atomic<int> winners{0};
  std::atomic<bool> failed{false};
  for (int t = 0; t < kClaimers; ++t) {
    threads.emplace_back([&, t] {
      auto claimed = store_->ClaimMailboxConnector(a_, id, "worker-" + std::to_string(t), 1000, 60);
      if (!claimed.ok()) failed = true;
      if (claimed.ok() && *claimed) ++winners;
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_FALSE(failed.load());
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(MailboxStoreTest, FolderStatesAreUpsertedPerFolder) {
  std::string id = AddConnector(a_, "alice@corp.example");
  EXPECT_FALSE(Unwrap(store_->GetMailboxFolderState(a_, id, "INBOX")).has_value());
  ASSERT_OK(store_->PutMailboxFolderState({a_, id, "INBOX", 7, 100, 5000, 0}));
  ASSERT_OK(store_->PutMailboxFolderState({a_, id, "Archive", 9, 3, 0, 50}));
  auto inbox = Unwrap(store_->GetMailboxFolderState(a_, id, "INBOX"));
  ASSERT_TRUE(inbox.has_value());
  EXPECT_EQ(inbox->uidvalidity, 7);
  EXPECT_EQ(inbox->last_uid, 100);
  EXPECT_EQ(inbox->highest_modseq, 5000);
  EXPECT_GT(inbox->updated_at, 0);

  ASSERT_OK(store_->PutMailboxFolderState({a_, id, "INBOX", 8, 120, 5100, 60}));
  inbox = Unwrap(store_->GetMailboxFolderState(a_, id, "INBOX"));
  ASSERT_TRUE(inbox.has_value());
  EXPECT_EQ(inbox->uidvalidity, 8);
  EXPECT_EQ(inbox->last_uid, 120);
  EXPECT_EQ(inbox->highest_modseq, 5100);
  EXPECT_EQ(inbox->updated_at, 60);

  std::vector<MailboxFolderState> states = Unwrap(store_->ListMailboxFolderStates(a_, id));
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].folder, "Archive");
  EXPECT_EQ(states[0].updated_at, 50);
  EXPECT_EQ(states[1].folder, "INBOX");
  EXPECT_EQ(store_->PutMailboxFolderState({a_, "m_nope", "INBOX", 1, 1, 1, 1}).code(),
            StatusCode::kNotFound);
}

TEST_P(MailboxStoreTest, QuarantineItemsRoundTripAndChangeStatus) {
  std::string id = AddConnector(a_, "alice@corp.example");
  std::string other = AddConnector(a_, "bob@corp.example");
  MailboxQuarantineItem item = MakeQuarantineItem(a_, id, 100);
  ASSERT_OK(store_->AddMailboxQuarantineItem(item));
  MailboxQuarantineItem newer = MakeQuarantineItem(a_, other, 200);
  newer.status = "";  // = held
  ASSERT_OK(store_->AddMailboxQuarantineItem(newer));
  EXPECT_EQ(store_->AddMailboxQuarantineItem(item).code(), StatusCode::kAlreadyExists);
  MailboxQuarantineItem bad = MakeQuarantineItem(a_, id, 1);
  bad.id = "";
  EXPECT_EQ(store_->AddMailboxQuarantineItem(bad).code(), StatusCode::kInvalidArgument);
  bad = MakeQuarantineItem(a_, id, 1);
  bad.status = "released";
  EXPECT_EQ(store_->AddMailboxQuarantineItem(bad).code(), StatusCode::kInvalidArgument);

  MailboxQuarantineItem got = Unwrap(store_->GetMailboxQuarantineItem(a_, item.id));
  EXPECT_TRUE(IsId(got.id, "mq_")) << got.id;
  EXPECT_EQ(got.tenant_id, a_);
  EXPECT_EQ(got.connector_id, id);
  EXPECT_EQ(got.origin_folder, "INBOX");
  EXPECT_EQ(got.quarantine_folder, "Quarantine");
  EXPECT_EQ(got.uidvalidity, 7);
  EXPECT_EQ(got.uid, 42);
  EXPECT_EQ(got.message_id, "<abc@evil.example>");
  EXPECT_EQ(got.sender, "mallory@evil.example");
  EXPECT_EQ(got.event_seq, 3);
  EXPECT_EQ(got.status, "held");
  EXPECT_EQ(got.created_at, 100);
  EXPECT_EQ(got.updated_at, 100);
  EXPECT_EQ(Unwrap(store_->GetMailboxQuarantineItem(a_, newer.id)).status, "held");

  auto ids = [&](const std::string& connector, const std::string& status) {
    std::vector<std::string> out;
    for (const auto& listed : Unwrap(store_->ListMailboxQuarantine(a_, connector, status))) {
      out.push_back(listed.id);
    }
    return out;
  };
  EXPECT_THAT(ids("", ""), ElementsAre(newer.id, item.id));  // newest first
  EXPECT_THAT(ids(id, ""), ElementsAre(item.id));
  EXPECT_THAT(ids("", "held"), ElementsAre(newer.id, item.id));

  // Restored to the inbox: new folder, new UID.
  got.status = "restored";
  got.quarantine_folder = "INBOX";
  got.uidvalidity = 11;
  got.uid = 900;
  got.updated_at = 300;
  ASSERT_OK(store_->UpdateMailboxQuarantineItem(got));
  MailboxQuarantineItem restored = Unwrap(store_->GetMailboxQuarantineItem(a_, item.id));
  EXPECT_EQ(restored.status, "restored");
  EXPECT_EQ(restored.quarantine_folder, "INBOX");
  EXPECT_EQ(restored.uidvalidity, 11);
  EXPECT_EQ(restored.uid, 900);
  EXPECT_EQ(restored.updated_at, 300);
  EXPECT_EQ(restored.created_at, 100);
  EXPECT_THAT(ids("", "restored"), ElementsAre(item.id));
  EXPECT_THAT(ids(id, "held"), ElementsAre());
  EXPECT_THAT(ids(other, "held"), ElementsAre(newer.id));

  got.status = "released";
  EXPECT_EQ(store_->UpdateMailboxQuarantineItem(got).code(), StatusCode::kInvalidArgument);
  got.status = "deleted";
  got.updated_at = 0;  // = now
  ASSERT_OK(store_->UpdateMailboxQuarantineItem(got));
  EXPECT_GT(Unwrap(store_->GetMailboxQuarantineItem(a_, item.id)).updated_at, 300);
  got.id = "mq_nope";
  EXPECT_EQ(store_->UpdateMailboxQuarantineItem(got).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetMailboxQuarantineItem(a_, "mq_nope").status().code(), StatusCode::kNotFound);
}

TEST_P(MailboxStoreTest, SweepsQueueByAgeAndDueTime) {
  std::string id = AddConnector(a_, "alice@corp.example");
  std::string other = AddConnector(a_, "bob@corp.example");
  MailboxSweep oldest = MakeSweep(a_, id, 100);
  oldest.folder = "INBOX";
  oldest.since = 10;
  oldest.before = 20;
  oldest.sender = "mallory@evil.example";
  oldest.subject = "Invoice";
  oldest.sha256 = std::string(64, 'a');
  oldest.repeat_seconds = 3600;
  oldest.status = "";  // = queued
  MailboxSweep later = MakeSweep(a_, id, 200);
  MailboxSweep future = MakeSweep(a_, id, 50, /*not_before=*/5000);
  MailboxSweep elsewhere = MakeSweep(a_, other, 10);
  for (const MailboxSweep& sweep : {oldest, later, future, elsewhere}) {
    ASSERT_OK(store_->CreateMailboxSweep(sweep));
  }
  EXPECT_EQ(store_->CreateMailboxSweep(oldest).code(), StatusCode::kAlreadyExists);
  MailboxSweep bad = MakeSweep(a_, id, 1);
  bad.id = "";
  EXPECT_EQ(store_->CreateMailboxSweep(bad).code(), StatusCode::kInvalidArgument);
  bad = MakeSweep(a_, id, 1);
  bad.status = "paused";
  EXPECT_EQ(store_->CreateMailboxSweep(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateMailboxSweep(MakeSweep(a_, "m_nope", 1)).code(), StatusCode::kNotFound);

  MailboxSweep got = Unwrap(store_->GetMailboxSweep(a_, oldest.id));
  EXPECT_TRUE(IsId(got.id, "sw_")) << got.id;
  EXPECT_EQ(got.connector_id, id);
  EXPECT_EQ(got.folder, "INBOX");
  EXPECT_EQ(got.since, 10);
  EXPECT_EQ(got.before, 20);
  EXPECT_EQ(got.sender, "mallory@evil.example");
  EXPECT_EQ(got.subject, "Invoice");
  EXPECT_EQ(got.sha256, std::string(64, 'a'));
  EXPECT_EQ(got.status, "queued");
  EXPECT_EQ(got.repeat_seconds, 3600);
  EXPECT_EQ(got.created_at, 100);
  EXPECT_EQ(store_->GetMailboxSweep(a_, "sw_nope").status().code(), StatusCode::kNotFound);

  std::vector<std::string> listed;
  for (const MailboxSweep& sweep : Unwrap(store_->ListMailboxSweeps(a_, id))) {
    listed.push_back(sweep.id);
  }
  EXPECT_THAT(listed, ElementsAre(later.id, oldest.id, future.id));  // newest first

  // The future one is older but not due yet.
  auto next = Unwrap(store_->NextDueMailboxSweep(a_, id, 1000));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->id, oldest.id);

  got.status = "running";
  got.started_at = 1000;
  got.total = 50;
  got.done = 10;
  got.detections = 1;
  ASSERT_OK(store_->UpdateMailboxSweep(got));
  next = Unwrap(store_->NextDueMailboxSweep(a_, id, 1000));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->id, later.id);
  got.status = "done";
  got.done = 50;
  got.detections = 2;
  got.error = "";
  got.finished_at = 1100;
  ASSERT_OK(store_->UpdateMailboxSweep(got));
  MailboxSweep finished = Unwrap(store_->GetMailboxSweep(a_, oldest.id));
  EXPECT_EQ(finished.status, "done");
  EXPECT_EQ(finished.total, 50);
  EXPECT_EQ(finished.done, 50);
  EXPECT_EQ(finished.detections, 2);
  EXPECT_EQ(finished.started_at, 1000);
  EXPECT_EQ(finished.finished_at, 1100);

  MailboxSweep failed = Unwrap(store_->GetMailboxSweep(a_, later.id));
  failed.status = "failed";
  failed.error = "connection reset";
  ASSERT_OK(store_->UpdateMailboxSweep(failed));
  EXPECT_EQ(Unwrap(store_->GetMailboxSweep(a_, later.id)).error, "connection reset");
  EXPECT_FALSE(Unwrap(store_->NextDueMailboxSweep(a_, id, 1000)).has_value());
  next = Unwrap(store_->NextDueMailboxSweep(a_, id, 5000));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->id, future.id);

  failed.status = "paused";
  EXPECT_EQ(store_->UpdateMailboxSweep(failed).code(), StatusCode::kInvalidArgument);
  failed.status = "cancelled";
  failed.id = "sw_nope";
  EXPECT_EQ(store_->UpdateMailboxSweep(failed).code(), StatusCode::kNotFound);
}

TEST_P(MailboxStoreTest, DeletingAConnectorRemovesItsFolderStatesAndSweepsOnly) {
  std::string id = AddConnector(a_, "alice@corp.example");
  std::string kept = AddConnector(a_, "bob@corp.example");
  for (const std::string& connector : {id, kept}) {
    ASSERT_OK(store_->PutMailboxFolderState({a_, connector, "INBOX", 1, 2, 3, 4}));
    ASSERT_OK(store_->CreateMailboxSweep(MakeSweep(a_, connector, 10)));
  }
  MailboxQuarantineItem item = MakeQuarantineItem(a_, id, 10);
  ASSERT_OK(store_->AddMailboxQuarantineItem(item));

  ASSERT_OK(store_->DeleteMailboxConnector(a_, id));
  EXPECT_TRUE(Unwrap(store_->ListMailboxFolderStates(a_, id)).empty());
  EXPECT_TRUE(Unwrap(store_->ListMailboxSweeps(a_, id)).empty());
  EXPECT_EQ(Unwrap(store_->GetMailboxQuarantineItem(a_, item.id)).connector_id, id);
  EXPECT_EQ(Unwrap(store_->ListMailboxFolderStates(a_, kept)).size(), 1u);
  EXPECT_EQ(Unwrap(store_->ListMailboxSweeps(a_, kept)).size(), 1u);
  // The name is free again.
  ASSERT_OK(store_->CreateMailboxConnector(MakeConnector(a_, "alice@corp.example")));
}

TEST_P(MailboxStoreTest, AnotherTenantCannotSeeOrChangeMailboxRows) {
  // Tenant A owns one of everything.
  MailboxConnector c = MakeConnector(a_, "alice@corp.example");
  ASSERT_OK(store_->CreateMailboxConnector(c));
  ASSERT_OK(store_->PutMailboxFolderState({a_, c.id, "INBOX", 7, 100, 0, 10}));
  MailboxQuarantineItem item = MakeQuarantineItem(a_, c.id, 10);
  ASSERT_OK(store_->AddMailboxQuarantineItem(item));
  MailboxSweep sweep = MakeSweep(a_, c.id, 10);
  ASSERT_OK(store_->CreateMailboxSweep(sweep));
  ASSERT_TRUE(Unwrap(store_->ClaimMailboxConnector(a_, c.id, "worker-a", 1000, 60)));

  // Reads as B.
  EXPECT_EQ(store_->GetMailboxConnector(b_, c.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Unwrap(store_->ListMailboxConnectors(b_)).empty());
  EXPECT_FALSE(Unwrap(store_->GetMailboxFolderState(b_, c.id, "INBOX")).has_value());
  EXPECT_TRUE(Unwrap(store_->ListMailboxFolderStates(b_, c.id)).empty());
  EXPECT_EQ(store_->GetMailboxQuarantineItem(b_, item.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Unwrap(store_->ListMailboxQuarantine(b_, "", "")).empty());
  EXPECT_TRUE(Unwrap(store_->ListMailboxQuarantine(b_, c.id, "")).empty());
  EXPECT_EQ(store_->GetMailboxSweep(b_, sweep.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Unwrap(store_->ListMailboxSweeps(b_, c.id)).empty());
  EXPECT_FALSE(Unwrap(store_->NextDueMailboxSweep(b_, c.id, 1000)).has_value());

  // Writes as B.
  EXPECT_EQ(store_->SetMailboxConnectorEnabled(b_, c.id, false).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SetMailboxConnectorSecret(b_, c.id, "stolen").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RecordMailboxState(b_, c.id, {"error", "x", 1, 1, 9}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->AddMailboxCounters(b_, c.id, 1, 1, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ClaimMailboxConnector(b_, c.id, "worker-b", 5000, 60).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->ReleaseMailboxConnector(b_, c.id, "worker-a").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->PutMailboxFolderState({b_, c.id, "INBOX", 1, 1, 1, 1}).code(),
            StatusCode::kNotFound);
  MailboxQuarantineItem hijack_item = item;
  hijack_item.tenant_id = b_;
  hijack_item.status = "deleted";
  EXPECT_EQ(store_->UpdateMailboxQuarantineItem(hijack_item).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->CreateMailboxSweep(MakeSweep(b_, c.id, 20)).code(), StatusCode::kNotFound);
  MailboxSweep hijack_sweep = sweep;
  hijack_sweep.tenant_id = b_;
  hijack_sweep.status = "cancelled";
  EXPECT_EQ(store_->UpdateMailboxSweep(hijack_sweep).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteMailboxConnector(b_, c.id).code(), StatusCode::kNotFound);

  // A's rows are untouched.
  MailboxConnector got = Unwrap(store_->GetMailboxConnector(a_, c.id));
  EXPECT_TRUE(got.enabled);
  EXPECT_EQ(got.sealed_secret, c.sealed_secret);
  EXPECT_EQ(got.status, "pending");
  EXPECT_EQ(got.messages_scanned, 0);
  EXPECT_EQ(got.lease_owner, "worker-a");
  auto state = Unwrap(store_->GetMailboxFolderState(a_, c.id, "INBOX"));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->last_uid, 100);
  EXPECT_EQ(Unwrap(store_->GetMailboxQuarantineItem(a_, item.id)).status, "held");
  EXPECT_EQ(Unwrap(store_->GetMailboxSweep(a_, sweep.id)).status, "queued");
  EXPECT_EQ(Unwrap(store_->ListMailboxSweeps(a_, c.id)).size(), 1u);

  // Tenant calls refuse a missing tenant id instead of widening the scope.
  EXPECT_EQ(store_->GetMailboxConnector("", c.id).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListMailboxQuarantine("*", "", "").status().code(),
            StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, MailboxStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// PostgreSQL only: the second wall covers the mailbox tables too.
class MailboxRowLevelSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = TestDatabase::Create(Backend::kPostgres);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    test_ = std::move(created).value();
    ASSERT_TRUE(Migrate(test_->db()).ok());
    store_ = std::make_unique<Store>(test_->db());
  }

  std::unique_ptr<TestDatabase> test_;
  std::unique_ptr<Store> store_;
};

TEST_F(MailboxRowLevelSecurityTest, MailboxTablesHaveForcedRowLevelSecurity) {
  auto lease = test_->db().Acquire(Scope::Site());
  ASSERT_TRUE(lease.ok());
  auto rows = (*lease)->Query(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relrowsecurity AND "
      "c.relforcerowsecurity AND c.relname LIKE 'mailbox%' ORDER BY c.relname");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> tables;
  for (const Row& row : rows->rows) tables.push_back(row.Text(0));
  EXPECT_THAT(tables, ElementsAre("mailbox_connectors", "mailbox_folders", "mailbox_quarantine",
                                  "mailbox_sweeps"));
}

TEST_F(MailboxRowLevelSecurityTest, TenantScopeSeesOnlyItsOwnConnectorsWithoutAWhereClause) {
  std::string a = Unwrap(store_->CreateTenant("a", "site")).id;
  std::string b = Unwrap(store_->CreateTenant("b", "site")).id;
  for (const std::string& tenant : {a, a, b}) {
    MailboxConnector c;
    c.id = NewId("m_");
    c.tenant_id = tenant;
    c.name = c.id;
    ASSERT_OK(store_->CreateMailboxConnector(c));
  }
  auto lease = test_->db().Acquire(Scope::Tenant(a));
  ASSERT_TRUE(lease.ok());
  auto count = (*lease)->Query("SELECT count(*) FROM mailbox_connectors");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->rows[0].Int(0), 2);
  auto update = (*lease)->Query("UPDATE mailbox_connectors SET enabled = 0");
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_EQ(update->affected, 2);
  EXPECT_EQ(Unwrap(store_->ListAllMailboxConnectors()).size(), 3u);
}

}  // namespace
}  // namespace bulwark::storage

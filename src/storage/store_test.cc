// The Store on both backends: CRUD of every record, tenant isolation, the event cursor under
// concurrent appends, and the audit chain.

#include "storage/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "storage/storage_test_backend.h"

namespace bulwark::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

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

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto created = TestDatabase::Create(GetParam());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    test_ = std::move(created).value();
    auto migrated = Migrate(test_->db());
    ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
    store_ = std::make_unique<Store>(test_->db());
    a_ = Unwrap(store_->CreateTenant("tenant-a", "site-1")).id;
    b_ = Unwrap(store_->CreateTenant("tenant-b", "site-1")).id;
  }

  Event MakeEvent(const std::string& tenant, UnixSeconds time = 1000) {
    Event event;
    event.tenant_id = tenant;
    event.time = time;
    event.service = "smtp";
    event.object_name = "invoice.zip";
    event.sender = "mallory@evil.example";
    event.recipients = "alice@corp.example,bob@corp.example";
    event.owner = "";
    event.sha256 = std::string(64, 'a');
    event.verdict = "malicious";
    event.threat_type = "malware";
    event.detectors = "yara,clamav";
    event.action = "quarantined";
    event.findings_json = "[]";
    return event;
  }

  std::unique_ptr<TestDatabase> test_;
  std::unique_ptr<Store> store_;
  std::string a_, b_;
};

TEST_P(StoreTest, MetaRoundTrips) {
  EXPECT_FALSE(Unwrap(store_->GetMeta("site_id")).has_value());
  ASSERT_OK(store_->SetMeta("site_id", "s1"));
  ASSERT_OK(store_->SetMeta("site_id", "s2"));
  EXPECT_EQ(Unwrap(store_->GetMeta("site_id")), std::optional<std::string>("s2"));
}

TEST_P(StoreTest, TenantsCrud) {
  Tenant a = Unwrap(store_->GetTenant(a_));
  EXPECT_TRUE(IsId(a.id, "t_")) << a.id;
  EXPECT_EQ(a.name, "tenant-a");
  EXPECT_EQ(a.site_id, "site-1");
  EXPECT_EQ(a.retention_days, 90);
  EXPECT_FALSE(a.disabled);
  EXPECT_GT(a.created_at, 0);
  EXPECT_EQ(store_->CreateTenant("tenant-a", "site-1").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateTenant("", "site-1").status().code(), StatusCode::kInvalidArgument);
  std::vector<Tenant> all = Unwrap(store_->ListTenants());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "tenant-a");
  EXPECT_EQ(all[1].name, "tenant-b");
  EXPECT_EQ(Unwrap(store_->FindTenantByName("tenant-b")).id, b_);
  EXPECT_EQ(store_->FindTenantByName("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTenant("t_0000000000000000").status().code(), StatusCode::kNotFound);
  ASSERT_OK(store_->SetTenantDisabled(a_, true));
  ASSERT_OK(store_->SetTenantRetention(a_, 30));
  a = Unwrap(store_->GetTenant(a_));
  EXPECT_TRUE(a.disabled);
  EXPECT_EQ(a.retention_days, 30);
  EXPECT_FALSE(Unwrap(store_->GetTenant(b_)).disabled);
  EXPECT_EQ(store_->SetTenantDisabled("t_x", true).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SetTenantRetention(a_, 0).code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, UsersCrudWithSiteWideLowerCasedEmails) {
  User alice;
  alice.tenant_id = a_;
  alice.email = "Alice@Corp.Example";
  alice.role = Role::kTenantAdmin;
  alice.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
  User created = Unwrap(store_->CreateUser(alice));
  EXPECT_TRUE(IsId(created.id, "u_")) << created.id;
  EXPECT_EQ(created.email, "alice@corp.example");
  EXPECT_GT(created.created_at, 0);

  User clash = alice;
  clash.tenant_id = b_;
  clash.email = "ALICE@corp.example";
  EXPECT_EQ(store_->CreateUser(clash).status().code(), StatusCode::kAlreadyExists);

  User op;
  op.email = "root@site.example";
  op.role = Role::kSiteOperator;
  User op_created = Unwrap(store_->CreateUser(op));

  User found = Unwrap(store_->FindUserByEmail("ALICE@CORP.EXAMPLE"));
  EXPECT_EQ(found.id, created.id);
  EXPECT_EQ(found.tenant_id, a_);
  EXPECT_EQ(found.role, Role::kTenantAdmin);
  EXPECT_EQ(found.password_hash, alice.password_hash);
  EXPECT_EQ(Unwrap(store_->GetUser(op_created.id)).role, Role::kSiteOperator);
  EXPECT_EQ(store_->GetUser("u_nope").status().code(), StatusCode::kNotFound);

  found.totp_secret = "JBSWY3DPEHPK3PXP";
  found.totp_last_step = 12345;
  found.failed_logins = 2;
  found.locked_until = 99;
  found.must_change_password = true;
  found.disabled = true;
  found.role = Role::kAnalyst;
  ASSERT_OK(store_->UpdateUser(found));
  User updated = Unwrap(store_->GetUser(created.id));
  EXPECT_EQ(updated.totp_secret, "JBSWY3DPEHPK3PXP");
  EXPECT_EQ(updated.totp_last_step, 12345);
  EXPECT_EQ(updated.failed_logins, 2);
  EXPECT_EQ(updated.locked_until, 99);
  EXPECT_TRUE(updated.must_change_password);
  EXPECT_TRUE(updated.disabled);
  EXPECT_EQ(updated.role, Role::kAnalyst);

  std::vector<User> a_users = Unwrap(store_->ListUsers(a_));
  ASSERT_EQ(a_users.size(), 1u);
  EXPECT_EQ(a_users[0].id, created.id);
  std::vector<User> site_users = Unwrap(store_->ListUsers(""));
  ASSERT_EQ(site_users.size(), 1u);
  EXPECT_EQ(site_users[0].id, op_created.id);
}

TEST_P(StoreTest, TokensCrud) {
  ApiToken token;
  token.id = NewId("k_");
  token.tenant_id = a_;
  token.user_id = "u_1";
  token.name = "ci";
  token.role = Role::kAnalyst;
  token.scopes = {"scan", "events:read"};
  token.secret_hash = std::string(64, 'b');
  token.site_id = "site-1";
  ASSERT_OK(store_->CreateToken(token));
  ApiToken site_token = token;
  site_token.id = NewId("k_");
  site_token.tenant_id = "";
  site_token.role = Role::kSiteOperator;
  site_token.secret_hash = std::string(64, 'c');
  ASSERT_OK(store_->CreateToken(site_token));
  ApiToken duplicate = token;
  duplicate.id = NewId("k_");
  EXPECT_EQ(store_->CreateToken(duplicate).code(), StatusCode::kAlreadyExists);
  duplicate.id = "";
  EXPECT_EQ(store_->CreateToken(duplicate).code(), StatusCode::kInvalidArgument);

  ApiToken found = Unwrap(store_->FindTokenBySecretHash(std::string(64, 'b')));
  EXPECT_EQ(found.id, token.id);
  EXPECT_EQ(found.tenant_id, a_);
  EXPECT_THAT(found.scopes, ElementsAre("scan", "events:read"));
  EXPECT_GT(found.created_at, 0);
  EXPECT_EQ(store_->FindTokenBySecretHash("x").status().code(), StatusCode::kNotFound);

  ASSERT_OK(store_->TouchToken(token.id, 500));
  ASSERT_OK(store_->RevokeToken(a_, token.id, 600));
  ASSERT_OK(store_->RevokeToken(a_, token.id, 700));  // keeps the first time
  found = Unwrap(store_->FindTokenBySecretHash(std::string(64, 'b')));
  EXPECT_EQ(found.last_used_at, 500);
  EXPECT_EQ(found.revoked_at, 600);
  EXPECT_EQ(store_->TouchToken("k_nope", 1).code(), StatusCode::kNotFound);

  std::vector<ApiToken> a_tokens = Unwrap(store_->ListTokens(a_));
  ASSERT_EQ(a_tokens.size(), 1u);
  EXPECT_EQ(a_tokens[0].id, token.id);
  std::vector<ApiToken> site_tokens = Unwrap(store_->ListTokens(""));
  ASSERT_EQ(site_tokens.size(), 1u);
  EXPECT_EQ(site_tokens[0].id, site_token.id);
  ASSERT_OK(store_->RevokeToken("", site_token.id, 800));
}

TEST_P(StoreTest, SessionsCrud) {
  Session session{std::string(64, 'd'), "u_1", a_, "site-1", "csrf", false, 100, 1000};
  ASSERT_OK(store_->CreateSession(session));
  EXPECT_EQ(store_->CreateSession(session).code(), StatusCode::kAlreadyExists);
  Session other{std::string(64, 'e'), "u_2", b_, "site-1", "csrf2", true, 100, 2000};
  ASSERT_OK(store_->CreateSession(other));
  Session found = Unwrap(store_->FindSession(session.id_hash));
  EXPECT_EQ(found.user_id, "u_1");
  EXPECT_EQ(found.tenant_id, a_);
  EXPECT_FALSE(found.mfa_passed);
  found.mfa_passed = true;
  found.csrf_token = "csrf-new";
  found.expires_at = 1500;
  ASSERT_OK(store_->UpdateSession(found));
  found = Unwrap(store_->FindSession(session.id_hash));
  EXPECT_TRUE(found.mfa_passed);
  EXPECT_EQ(found.csrf_token, "csrf-new");
  EXPECT_EQ(found.expires_at, 1500);
  ASSERT_OK(store_->DeleteExpiredSessions(1500));
  EXPECT_EQ(store_->FindSession(session.id_hash).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->FindSession(other.id_hash).ok());
  ASSERT_OK(store_->DeleteSession(other.id_hash));
  ASSERT_OK(store_->DeleteSession(other.id_hash));
  EXPECT_EQ(store_->FindSession(other.id_hash).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateSession(other).code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, PolicyVersions) {
  EXPECT_FALSE(Unwrap(store_->CurrentPolicy(a_)).has_value());
  EXPECT_EQ(Unwrap(store_->AddPolicyVersion(a_, "{\"v\":1}", "u_1")).version, 1);
  EXPECT_EQ(Unwrap(store_->AddPolicyVersion(a_, "{\"v\":2}", "u_2")).version, 2);
  EXPECT_EQ(Unwrap(store_->AddPolicyVersion(b_, "{\"b\":1}", "u_3")).version, 1);
  auto current = Unwrap(store_->CurrentPolicy(a_));
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->version, 2);
  EXPECT_EQ(current->body_json, "{\"v\":2}");
  EXPECT_EQ(current->author, "u_2");
  std::vector<PolicyVersion> history = Unwrap(store_->PolicyHistory(a_));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].version, 1);
  EXPECT_EQ(history[1].version, 2);
  EXPECT_EQ(store_->AddPolicyVersion("t_nope", "{}", "u").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, ListEntriesCrud) {
  ListEntry entry{a_, "sender", "block", "spam@x.example", "annoying", 0};
  ASSERT_OK(store_->AddListEntry(entry));
  EXPECT_EQ(store_->AddListEntry(entry).code(), StatusCode::kAlreadyExists);
  ASSERT_OK(store_->AddListEntry({a_, "domain", "allow", "partner.example", "", 5}));
  ASSERT_OK(store_->AddListEntry({b_, "sender", "block", "spam@x.example", "", 0}));
  std::vector<ListEntry> entries = Unwrap(store_->ListEntries(a_));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kind, "domain");
  EXPECT_EQ(entries[0].created_at, 5);
  EXPECT_EQ(entries[1].value, "spam@x.example");
  EXPECT_EQ(entries[1].comment, "annoying");
  EXPECT_GT(entries[1].created_at, 0);
  ASSERT_OK(store_->RemoveListEntry(a_, "sender", "block", "spam@x.example"));
  EXPECT_EQ(store_->RemoveListEntry(a_, "sender", "block", "spam@x.example").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Unwrap(store_->ListEntries(a_)).size(), 1u);
  EXPECT_EQ(Unwrap(store_->ListEntries(b_)).size(), 1u);
}

TEST_P(StoreTest, QuarantineCrud) {
  QuarantineItem item;
  item.id = NewId("q_");
  item.tenant_id = a_;
  item.event_seq = 1;
  item.object_name = "invoice.exe";
  item.sha256 = std::string(64, 'f');
  item.size = 1234;
  item.storage_key = "a/q/1";
  item.expires_at = 2000;
  ASSERT_OK(store_->AddQuarantineItem(item));
  QuarantineItem never = item;
  never.id = NewId("q_");
  never.expires_at = 0;
  ASSERT_OK(store_->AddQuarantineItem(never));
  QuarantineItem empty_id = item;
  empty_id.id = "";
  EXPECT_EQ(store_->AddQuarantineItem(empty_id).code(), StatusCode::kInvalidArgument);

  QuarantineItem got = Unwrap(store_->GetQuarantineItem(a_, item.id));
  EXPECT_TRUE(IsId(got.id, "q_"));
  EXPECT_EQ(got.status, "held");
  EXPECT_EQ(got.size, 1234);
  EXPECT_EQ(got.storage_key, "a/q/1");
  EXPECT_GT(got.created_at, 0);
  EXPECT_EQ(Unwrap(store_->ListQuarantine(a_, "")).size(), 2u);
  EXPECT_EQ(Unwrap(store_->ListQuarantine(a_, "held")).size(), 2u);
  EXPECT_EQ(Unwrap(store_->ExpiredQuarantine(a_, 1999)).size(), 0u);
  std::vector<QuarantineItem> expired = Unwrap(store_->ExpiredQuarantine(a_, 2000));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, item.id);
  ASSERT_OK(store_->SetQuarantineStatus(a_, item.id, "released"));
  EXPECT_EQ(store_->SetQuarantineStatus(a_, item.id, "gone").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Unwrap(store_->ListQuarantine(a_, "released")).size(), 1u);
  EXPECT_EQ(Unwrap(store_->ExpiredQuarantine(a_, 5000)).size(), 0u);
  EXPECT_EQ(store_->GetQuarantineItem(a_, "q_nope").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, WrappedDataKeysAreInsertOnly) {
  EXPECT_FALSE(Unwrap(store_->GetWrappedDataKey(a_)).has_value());
  ASSERT_OK(store_->PutWrappedDataKey(a_, "wrapped-1"));
  EXPECT_EQ(store_->PutWrappedDataKey(a_, "wrapped-2").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Unwrap(store_->GetWrappedDataKey(a_)), std::optional<std::string>("wrapped-1"));
  EXPECT_FALSE(Unwrap(store_->GetWrappedDataKey(b_)).has_value());
}

TEST_P(StoreTest, EventsAreQueriedByEveryFilter) {
  Event e1 = MakeEvent(a_, 100);
  Event e2 = MakeEvent(a_, 200);
  e2.service = "api";
  e2.verdict = "clean";
  e2.threat_type = "";
  e2.detectors = "";
  e2.action = "logged";
  e2.sender = "carol@corp.example";
  e2.recipients = "";
  e2.owner = "Dave@Corp.Example";
  Event e3 = MakeEvent(a_, 300);
  e3.detectors = "dlp";
  e3.threat_type = "dlp";
  e3.verdict = "policy";
  e3.recipients = "erin@corp.example, frank@corp.example";
  Event e4 = MakeEvent(a_, 400);
  e4.detectors = "yara_x";  // must not match "yara" nor the "_" wildcard
  EXPECT_EQ(Unwrap(store_->AppendEvent(e1)), 1);
  EXPECT_EQ(Unwrap(store_->AppendEvent(e2)), 2);
  EXPECT_EQ(Unwrap(store_->AppendEvent(e3)), 3);
  EXPECT_EQ(Unwrap(store_->AppendEvent(e4)), 4);
  EXPECT_EQ(Unwrap(store_->AppendEvent(MakeEvent(b_))), 1);
  EXPECT_EQ(store_->AppendEvent(MakeEvent("t_nope")).status().code(), StatusCode::kNotFound);

  auto seqs = [&](EventFilter filter) {
    std::vector<std::int64_t> out;
    for (const Event& event : Unwrap(store_->QueryEvents(a_, filter))) out.push_back(event.seq);
    return out;
  };
  EXPECT_THAT(seqs({}), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(seqs({.service = "api"}), ElementsAre(2));
  EXPECT_THAT(seqs({.detector = "yara"}), ElementsAre(1));
  EXPECT_THAT(seqs({.detector = "yara_x"}), ElementsAre(4));
  EXPECT_THAT(seqs({.detector = "y%"}), ElementsAre());
  EXPECT_THAT(seqs({.detector = "clamav"}), ElementsAre(1));
  EXPECT_THAT(seqs({.threat_type = "dlp"}), ElementsAre(3));
  EXPECT_THAT(seqs({.action = "logged"}), ElementsAre(2));
  EXPECT_THAT(seqs({.verdict = "malicious"}), ElementsAre(1, 4));
  EXPECT_THAT(seqs({.user = "dave@corp.example"}), ElementsAre(2));    // owner
  EXPECT_THAT(seqs({.user = "CAROL@corp.example"}), ElementsAre(2));   // sender
  EXPECT_THAT(seqs({.user = "frank@corp.example"}), ElementsAre(3));   // recipient
  EXPECT_THAT(seqs({.user = "bob@corp.example"}), ElementsAre(1, 4));  // recipient
  EXPECT_THAT(seqs({.user = "corp.example"}), ElementsAre());
  EXPECT_THAT(seqs({.since = 200, .until = 400}), ElementsAre(2, 3));
  EXPECT_THAT(seqs({.after_seq = 2}), ElementsAre(3, 4));
  EXPECT_THAT(seqs({.after_seq = 1, .limit = 2}), ElementsAre(2, 3));
  EXPECT_THAT(seqs({.limit = 0}), ElementsAre(1));  // clamped to 1
  EXPECT_THAT(seqs({.service = "smtp", .verdict = "malicious", .after_seq = 1}), ElementsAre(4));

  auto got = Unwrap(store_->GetEvent(a_, 3));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->recipients, e3.recipients);
  EXPECT_EQ(got->detectors, "dlp");
  EXPECT_EQ(got->time, 300);
  EXPECT_EQ(got->findings_json, "[]");
  EXPECT_FALSE(Unwrap(store_->GetEvent(a_, 99)).has_value());

  std::vector<Facet> facets = Unwrap(store_->EventFacets(a_, {.since = 100}));
  auto count = [&facets](const std::string& field, const std::string& value) {
    for (const Facet& facet : facets) {
      if (facet.field == field && facet.value == value) return facet.count;
    }
    return std::int64_t{0};
  };
  EXPECT_EQ(count("service", "smtp"), 3);
  EXPECT_EQ(count("service", "api"), 1);
  EXPECT_EQ(count("verdict", "malicious"), 2);
  EXPECT_EQ(count("verdict", "policy"), 1);
  EXPECT_EQ(count("threat_type", "malware"), 2);
  EXPECT_EQ(count("action", "quarantined"), 3);
  facets = Unwrap(store_->EventFacets(a_, {.service = "api"}));
  EXPECT_EQ(count("service", "smtp"), 0);
  EXPECT_EQ(count("action", "logged"), 1);
}

TEST_P(StoreTest, PurgeRemovesOnlyOldEventsOfTheTenant) {
  for (UnixSeconds time : {100, 200, 300})
    ASSERT_TRUE(store_->AppendEvent(MakeEvent(a_, time)).ok());
  ASSERT_TRUE(store_->AppendEvent(MakeEvent(b_, 100)).ok());
  EXPECT_EQ(Unwrap(store_->PurgeEvents(a_, 250)), 2);
  EXPECT_EQ(Unwrap(store_->PurgeEvents(a_, 250)), 0);
  std::vector<Event> left = Unwrap(store_->QueryEvents(a_, {}));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].time, 300);
  EXPECT_EQ(Unwrap(store_->QueryEvents(b_, {})).size(), 1u);
  // seqs keep growing after a purge (the cursor never goes back).
  EXPECT_EQ(Unwrap(store_->AppendEvent(MakeEvent(a_, 400))), 4);
}

TEST_P(StoreTest, TenantCallsNeverSeeOrChangeAnotherTenantsRows) {
  // Tenant B owns one of everything.
  ASSERT_TRUE(store_->AppendEvent(MakeEvent(b_, 100)).ok());
  ASSERT_TRUE(store_->AppendEvent(MakeEvent(b_, 100)).ok());
  QuarantineItem item;
  item.id = NewId("q_");
  item.tenant_id = b_;
  item.expires_at = 10;
  ASSERT_OK(store_->AddQuarantineItem(item));
  ASSERT_OK(store_->AddListEntry({b_, "sender", "block", "x@y.example", "", 0}));
  ASSERT_TRUE(store_->AddPolicyVersion(b_, "{}", "u").ok());
  ASSERT_OK(store_->PutWrappedDataKey(b_, "b-key"));
  ApiToken token;
  token.id = NewId("k_");
  token.tenant_id = b_;
  token.secret_hash = "b-secret";
  ASSERT_OK(store_->CreateToken(token));
  User user;
  user.tenant_id = b_;
  user.email = "user@b.example";
  User b_user = Unwrap(store_->CreateUser(user));
  AuditRecord record;
  record.tenant_id = b_;
  record.action = "quarantine.download";
  ASSERT_TRUE(store_->AppendAudit(record).ok());
  // Tenant A has one event, so seq 1 exists for both.
  ASSERT_TRUE(store_->AppendEvent(MakeEvent(a_, 100)).ok());

  // Reads as A.
  std::vector<Event> events = Unwrap(store_->QueryEvents(a_, {}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].tenant_id, a_);
  EXPECT_EQ(Unwrap(store_->GetEvent(a_, 1))->tenant_id, a_);
  EXPECT_FALSE(Unwrap(store_->GetEvent(a_, 2)).has_value());
  for (const Facet& facet : Unwrap(store_->EventFacets(a_, {}))) EXPECT_EQ(facet.count, 1);
  EXPECT_EQ(store_->GetQuarantineItem(a_, item.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Unwrap(store_->ListQuarantine(a_, "")).empty());
  EXPECT_TRUE(Unwrap(store_->ExpiredQuarantine(a_, 100)).empty());
  EXPECT_TRUE(Unwrap(store_->ListEntries(a_)).empty());
  EXPECT_FALSE(Unwrap(store_->CurrentPolicy(a_)).has_value());
  EXPECT_TRUE(Unwrap(store_->PolicyHistory(a_)).empty());
  EXPECT_FALSE(Unwrap(store_->GetWrappedDataKey(a_)).has_value());
  EXPECT_TRUE(Unwrap(store_->ListTokens(a_)).empty());
  EXPECT_TRUE(Unwrap(store_->ListUsers(a_)).empty());
  EXPECT_TRUE(Unwrap(store_->ListAudit(a_, 0, 100)).empty());

  // Writes as A.
  EXPECT_EQ(store_->SetQuarantineStatus(a_, item.id, "deleted").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RemoveListEntry(a_, "sender", "block", "x@y.example").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->RevokeToken(a_, token.id, 5).code(), StatusCode::kNotFound);
  User hijack = b_user;
  hijack.tenant_id = a_;
  hijack.disabled = true;
  EXPECT_EQ(store_->UpdateUser(hijack).code(), StatusCode::kNotFound);
  EXPECT_EQ(Unwrap(store_->PurgeEvents(a_, 1000)), 1);  // A's own only

  // B's rows are untouched.
  EXPECT_EQ(Unwrap(store_->QueryEvents(b_, {})).size(), 2u);
  EXPECT_EQ(Unwrap(store_->GetQuarantineItem(b_, item.id)).status, "held");
  EXPECT_EQ(Unwrap(store_->ListEntries(b_)).size(), 1u);
  EXPECT_EQ(Unwrap(store_->FindTokenBySecretHash("b-secret")).revoked_at, 0);
  EXPECT_FALSE(Unwrap(store_->GetUser(b_user.id)).disabled);
  EXPECT_EQ(Unwrap(store_->GetWrappedDataKey(b_)), std::optional<std::string>("b-key"));
  EXPECT_EQ(Unwrap(store_->ListAudit(b_, 0, 100)).size(), 1u);

  // Tenant-owned calls refuse a missing tenant id instead of widening the scope.
  EXPECT_EQ(store_->QueryEvents("", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->QueryEvents("*", {}).status().code(), StatusCode::kInvalidArgument);
}

// Several writers append while a reader pages with the cursor: the reader must see every
// seq exactly once, in order, although it pages while commits are in flight.
TEST_P(StoreTest, EventCursorSeesEverySeqOnceWhileOthersAppend) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 60;
  std::atomic<int> writers_done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < kPerWriter; ++i) {
        if (!store_->AppendEvent(MakeEvent(a_)).ok()) failed = true;
        // Tenant B's appends interleave on the same tables.
        if (i % 5 == 0 && !store_->AppendEvent(MakeEvent(b_)).ok()) failed = true;
      }
      ++writers_done;
    });
  }
  std::vector<std::int64_t> seen;
  std::int64_t cursor = 0;
  bool drained_after_done = false;
  while (!drained_after_done) {
    bool done = writers_done.load() == kWriters;  // read before the page
    auto page = store_->QueryEvents(a_, {.after_seq = cursor, .limit = 7});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const Event& event : *page) {
      ASSERT_GT(event.seq, cursor);
      seen.push_back(event.seq);
      cursor = event.seq;
    }
    if (done && page->empty()) drained_after_done = true;
  }
  for (std::thread& writer : writers) writer.join();
  ASSERT_FALSE(failed.load());
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kWriters * kPerWriter));
  for (std::size_t i = 0; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i], static_cast<std::int64_t>(i + 1)) << "at position " << i;
  }
}

TEST_P(StoreTest, AuditChainVerifies) {
  EXPECT_TRUE(Unwrap(store_->VerifyAudit()).intact);
  for (int i = 0; i < 20; ++i) {
    AuditRecord record;
    record.tenant_id = i % 2 == 0 ? a_ : (i % 3 == 0 ? "" : b_);
    record.actor = "u_" + std::to_string(i);
    record.action = "policy.update";
    record.target = "p" + std::to_string(i);
    record.detail_json = "{\"i\":" + std::to_string(i) + "}";
    AuditRecord appended = Unwrap(store_->AppendAudit(record));
    EXPECT_EQ(appended.seq, i + 1);
    EXPECT_EQ(appended.hash, AuditRecordHash(appended));
    if (i == 0) {
      EXPECT_EQ(appended.prev_hash, std::string(64, '0'));
    }
  }
  AuditVerification verification = Unwrap(store_->VerifyAudit());
  EXPECT_TRUE(verification.intact) << verification.problem;
  EXPECT_EQ(verification.records, 20);
  EXPECT_EQ(verification.first_bad_seq, 0);

  std::vector<AuditRecord> all = Unwrap(store_->ListAudit("", 0, 1000));
  ASSERT_EQ(all.size(), 20u);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].prev_hash, all[i - 1].hash);
  std::vector<AuditRecord> a_records = Unwrap(store_->ListAudit(a_, 0, 1000));
  EXPECT_EQ(a_records.size(), 10u);
  for (const AuditRecord& record : a_records) EXPECT_EQ(record.tenant_id, a_);
  EXPECT_EQ(Unwrap(store_->ListAudit("", 5, 3)).front().seq, 6);
  EXPECT_EQ(Unwrap(store_->ListAudit("", 5, 3)).size(), 3u);

  // The service's own connections cannot rewrite history.
  auto lease = test_->db().Acquire(Scope::Site());
  ASSERT_TRUE(lease.ok());
  auto update = (*lease)->Query("UPDATE audit SET actor = 'x' WHERE seq = 3");
  EXPECT_EQ(update.status().code(), StatusCode::kPermissionDenied);
  auto remove = (*lease)->Query("DELETE FROM audit WHERE seq = 3");
  EXPECT_EQ(remove.status().code(), StatusCode::kPermissionDenied);
}

class AuditTamperTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    for (int i = 0; i < 20; ++i) {
      AuditRecord record;
      record.tenant_id = a_;
      record.actor = "u_1";
      record.action = "quarantine.release";
      record.target = "q_" + std::to_string(i);
      ASSERT_TRUE(store_->AppendAudit(record).ok());
    }
  }
};

TEST_P(AuditTamperTest, ChangedFieldIsReported) {
  ASSERT_OK(test_->Tamper("UPDATE audit SET actor = 'someone-else' WHERE seq = 17"));
  AuditVerification verification = Unwrap(store_->VerifyAudit());
  EXPECT_FALSE(verification.intact);
  EXPECT_EQ(verification.first_bad_seq, 17);
  EXPECT_EQ(verification.problem, "record 17 was changed");
}

TEST_P(AuditTamperTest, DeletedRecordIsReportedMissing) {
  ASSERT_OK(test_->Tamper("DELETE FROM audit WHERE seq = 10"));
  AuditVerification verification = Unwrap(store_->VerifyAudit());
  EXPECT_FALSE(verification.intact);
  EXPECT_EQ(verification.first_bad_seq, 10);
  EXPECT_EQ(verification.problem, "record 10 is missing");
  EXPECT_EQ(verification.records, 9);
}

TEST_P(AuditTamperTest, RewrittenRecordWithFreshHashBreaksTheLink) {
  // Record 5 rewritten consistently (its hash recomputed): record 6 no longer links to it.
  std::vector<AuditRecord> records = Unwrap(store_->ListAudit("", 4, 1));
  ASSERT_EQ(records.size(), 1u);
  AuditRecord forged = records[0];
  forged.actor = "forger";
  forged.hash = AuditRecordHash(forged);
  ASSERT_OK(test_->Tamper("UPDATE audit SET actor = 'forger', hash = '" + forged.hash +
                          "' WHERE seq = 5"));
  AuditVerification verification = Unwrap(store_->VerifyAudit());
  EXPECT_FALSE(verification.intact);
  EXPECT_EQ(verification.first_bad_seq, 6);
  EXPECT_EQ(verification.problem, "record 6 does not link to record 5");
}

TEST_P(AuditTamperTest, ConcurrentAppendsKeepTheChainGapFree) {
  std::vector<std::thread> threads;
  std::atomic<bool> failed{false};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        AuditRecord record;
        record.tenant_id = t % 2 == 0 ? a_ : b_;
        record.action = "event.view";
        if (!store_->AppendAudit(record).ok()) failed = true;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_FALSE(failed.load());
  AuditVerification verification = Unwrap(store_->VerifyAudit());
  EXPECT_TRUE(verification.intact) << verification.problem;
  EXPECT_EQ(verification.records, 80);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, AuditTamperTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST(AuditRecordHashTest, CoversEveryFieldButTheHash) {
  AuditRecord base{1, 2, "t", "a", "act", "tg", "{}", std::string(64, '0'), ""};
  std::string hash = AuditRecordHash(base);
  EXPECT_EQ(hash.size(), 64u);
  AuditRecord other = base;
  other.hash = "anything";
  EXPECT_EQ(AuditRecordHash(other), hash);
  // Field boundaries matter: moving a byte between fields changes the hash.
  other = base;
  other.actor = "at";
  other.tenant_id = "";
  EXPECT_NE(AuditRecordHash(other), hash);
  other = base;
  other.seq = 2;
  EXPECT_NE(AuditRecordHash(other), hash);
}

TEST(RoleTest, NamesRoundTrip) {
  for (Role role : {Role::kSiteOperator, Role::kTenantAdmin, Role::kAnalyst, Role::kAuditor}) {
    EXPECT_EQ(ParseRole(RoleName(role)), role);
  }
  EXPECT_FALSE(ParseRole("root").has_value());
}

}  // namespace
}  // namespace bulwark::storage

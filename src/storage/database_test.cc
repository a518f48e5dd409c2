// The Database layer on both backends: placeholders, errors, pool, scopes, migrations, and
// PostgreSQL's row-level security.

#include "storage/database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "storage/database_internal.h"
#include "storage/storage_test_backend.h"
#include "storage/store.h"

namespace bulwark::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SqlitePlaceholdersTest, RewritesDollarNumbersOutsideLiteralsAndComments) {
  EXPECT_EQ(internal::SqlitePlaceholders("SELECT $1, $12 FROM t WHERE a = $2"),
            "SELECT ?1, ?12 FROM t WHERE a = ?2");
  EXPECT_EQ(internal::SqlitePlaceholders("SELECT '$1', \"$2\", 'it''s $3' -- $4\n, $5"),
            "SELECT '$1', \"$2\", 'it''s $3' -- $4\n, ?5");
  EXPECT_EQ(internal::SqlitePlaceholders("SELECT $a, $"), "SELECT $a, $");
}

TEST(RowTest, ConvertsBetweenTextAndIntegers) {
  Row row{{std::monostate(), std::int64_t{42}, std::string("17"), std::string("x1")}};
  EXPECT_TRUE(row.IsNull(0));
  EXPECT_EQ(row.Text(0), "");
  EXPECT_EQ(row.Int(0), 0);
  EXPECT_EQ(row.Text(1), "42");
  EXPECT_EQ(row.Int(2), 17);
  EXPECT_EQ(row.Int(3), 0);
}

TEST(OpenDatabaseTest, RejectsUnknownSchemes) {
  auto db = OpenDatabase("mysql://localhost/x");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(OpenDatabase("sqlite:").ok());
}

TEST(OpenDatabaseTest, UnreachablePostgresIsUnavailable) {
  auto db = OpenDatabase("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
}

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto created = TestDatabase::Create(GetParam());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    test_ = std::move(created).value();
  }
  Database& db() { return test_->db(); }

  std::unique_ptr<TestDatabase> test_;
};

TEST_P(DatabaseTest, MigrateIsIdempotent) {
  auto before = CurrentSchemaVersion(db());
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(*before, 0);
  auto first = Migrate(db());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, LatestSchemaVersion());
  auto second = Migrate(db());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, LatestSchemaVersion());
  auto lease = db().Acquire(Scope::Site());
  ASSERT_TRUE(lease.ok());
  auto rows = (*lease)->Query("SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows[0].Int(0), LatestSchemaVersion());
}

TEST_P(DatabaseTest, ConcurrentMigrationsFromSeveralProcessesApplyOnce) {
  // Each thread has its own pool, as a separate process would.
  std::vector<std::unique_ptr<Database>> pools;
  for (int i = 0; i < 4; ++i) {
    auto another = test_->OpenAnother(1);
    ASSERT_TRUE(another.ok()) << another.status().ToString();
    pools.push_back(std::move(another).value());
  }
  std::vector<Result<int>> results(pools.size(), Result<int>(InternalError("not run")));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < pools.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = Migrate(*pools[i]); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Result<int>& result : results) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(*result, LatestSchemaVersion());
  }
}

TEST_P(DatabaseTest, UniqueViolationIsAlreadyExistsAndMessagesCarryNoValues) {
  ASSERT_TRUE(Migrate(db()).ok());
  auto lease = db().Acquire(Scope::Site());
  ASSERT_TRUE(lease.ok());
  std::vector<Value> params{std::string("k"), std::string("secret-value-123")};
  ASSERT_TRUE(
      (*lease)->Query("INSERT INTO site_meta (meta_key, meta_value) VALUES ($1, $2)", params).ok());
  params[1] = std::string("secret-k-value");
  params[0] = std::string("k");
  auto again =
      (*lease)->Query("INSERT INTO site_meta (meta_key, meta_value) VALUES ($1, $2)", params);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), Not(HasSubstr("secret")));
  // A data error quotes the input in PostgreSQL's own message; ours must not.
  std::vector<Value> bad{std::string("secret-not-a-number")};
  auto cast =
      (*lease)->Query("SELECT CAST($1 AS BIGINT) + 1 FROM site_meta WHERE meta_key = $1", bad);
  if (!cast.ok()) {
    EXPECT_THAT(cast.status().message(), Not(HasSubstr("secret")));
  }
  auto syntax = (*lease)->Query("SELEC nonsense");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), StatusCode::kInternal);
}

TEST_P(DatabaseTest, TenantScopeMustNameATenant) {
  EXPECT_EQ(db().Acquire(Scope::Tenant("")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db().Acquire(Scope::Tenant("*")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(db().Acquire(Scope::Tenant("t_0123456789abcdef")).ok());
}

TEST_P(DatabaseTest, EndedLeaseRollsBackItsOpenTransactionAndFreesItsSlot) {
  ASSERT_TRUE(Migrate(db()).ok());
  auto single = test_->OpenAnother(1);
  ASSERT_TRUE(single.ok());
  {
    auto lease = (*single)->Acquire(Scope::Site());
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->Begin().ok());
    std::vector<Value> params{std::string("left"), std::string("open")};
    ASSERT_TRUE((*lease)
                    ->Query("INSERT INTO site_meta (meta_key, meta_value) VALUES ($1, $2)", params)
                    .ok());
    // Held: the only slot is taken.
    auto blocked = (*single)->Acquire(Scope::Site(), std::chrono::milliseconds(50));
    EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable);
  }
  auto lease = (*single)->Acquire(Scope::Site(), std::chrono::milliseconds(500));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  auto rows = (*lease)->Query("SELECT count(*) FROM site_meta");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows[0].Int(0), 0);
}

TEST_P(DatabaseTest, MoveAssignedLeaseReturnsTheConnectionItHeld) {
  auto pair = test_->OpenAnother(2);
  ASSERT_TRUE(pair.ok());
  auto first = (*pair)->Acquire(Scope::Site());
  auto second = (*pair)->Acquire(Scope::Site());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE((*pair)->Acquire(Scope::Site(), std::chrono::milliseconds(50)).ok());
  *first = std::move(*second);  // first's connection goes back to the pool
  auto third = (*pair)->Acquire(Scope::Site(), std::chrono::milliseconds(500));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE((*first)->Query("SELECT 1").ok());
}

TEST_P(DatabaseTest, ValuesRoundTripAsIntegersTextAndNull) {
  auto lease = db().Acquire(Scope::Site());
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*lease)->ExecuteScript("CREATE TABLE v (i BIGINT, t TEXT, n TEXT)").ok());
  std::vector<Value> params{std::int64_t{-9007199254740993}, std::string("é'\"$1"),
                            std::monostate()};
  auto inserted = (*lease)->Query("INSERT INTO v (i, t, n) VALUES ($1, $2, $3)", params);
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_EQ(inserted->affected, 1);
  auto rows = (*lease)->Query("SELECT i, t, n FROM v");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"i", "t", "n"}));
  EXPECT_EQ(std::get<std::int64_t>(rows->rows[0].values[0]), -9007199254740993);
  EXPECT_EQ(rows->rows[0].Text(1), "é'\"$1");
  EXPECT_TRUE(rows->rows[0].IsNull(2));
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// PostgreSQL only: the second wall.
class RowLevelSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = TestDatabase::Create(Backend::kPostgres);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    test_ = std::move(created).value();
    ASSERT_TRUE(Migrate(test_->db()).ok());
    store_ = std::make_unique<Store>(test_->db());
    auto a = store_->CreateTenant("a", "site");
    auto b = store_->CreateTenant("b", "site");
    ASSERT_TRUE(a.ok() && b.ok());
    a_ = a->id;
    b_ = b->id;
    for (const std::string& tenant : {a_, a_, a_, b_, b_}) {
      Event event;
      event.tenant_id = tenant;
      event.service = "api";
      ASSERT_TRUE(store_->AppendEvent(event).ok());
    }
  }

  std::unique_ptr<TestDatabase> test_;
  std::unique_ptr<Store> store_;
  std::string a_, b_;
};

TEST_F(RowLevelSecurityTest, ServiceRoleIsNotSuperuser) {
  auto lease = test_->db().Acquire(Scope::Site());
  ASSERT_TRUE(lease.ok());
  auto rows = (*lease)->Query(
      "SELECT rolsuper, rolbypassrls FROM pg_roles "
      "WHERE rolname = current_user");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows[0].Text(0), "f");
  EXPECT_EQ(rows->rows[0].Text(1), "f");
}

TEST_F(RowLevelSecurityTest, TenantScopeSeesAndWritesOnlyItsOwnRows) {
  auto lease = test_->db().Acquire(Scope::Tenant(a_));
  ASSERT_TRUE(lease.ok());
  auto count = (*lease)->Query("SELECT count(*) FROM events");  // no WHERE
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->rows[0].Int(0), 3);
  std::vector<Value> params{b_};
  auto insert = (*lease)->Query(
      "INSERT INTO events (tenant_id, seq, time, service, object_name, sender, recipients, "
      "owner, sha256, verdict, threat_type, detectors, action, findings_json) "
      "VALUES ($1, 99, 0, 'api', '', '', '', '', '', '', '', '', '', '')",
      params);
  ASSERT_FALSE(insert.ok());
  EXPECT_EQ(insert.status().code(), StatusCode::kPermissionDenied);
  auto update = (*lease)->Query("UPDATE events SET service = 'smtp'");
  ASSERT_TRUE(update.ok());
  EXPECT_EQ(update->affected, 3);
  auto deleted = (*lease)->Query("DELETE FROM events WHERE tenant_id = $1", params);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->affected, 0);

  auto site = test_->db().Acquire(Scope::Site());
  ASSERT_TRUE(site.ok());
  auto all = (*site)->Query("SELECT count(*) FROM events");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows[0].Int(0), 5);
  auto b_services = (*site)->Query("SELECT count(*) FROM events WHERE service = 'api'");
  EXPECT_EQ(b_services->rows[0].Int(0), 2);
}

TEST_F(RowLevelSecurityTest, EveryTenantTableHasForcedRowLevelSecurity) {
  auto lease = test_->db().Acquire(Scope::Site());
  ASSERT_TRUE(lease.ok());
  auto rows = (*lease)->Query(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relrowsecurity AND "
      "c.relforcerowsecurity ORDER BY c.relname");
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> tables;
  for (const Row& row : rows->rows) tables.push_back(row.Text(0));
  EXPECT_EQ(tables,
            (std::vector<std::string>{"api_tokens", "audit", "events", "list_entries",
                                      "mailbox_connectors", "mailbox_folders",
                                      "mailbox_quarantine", "mailbox_sweeps", "policies",
                                      "quarantine", "sender_history", "sessions", "tenant_keys", "users"}));
}

TEST_F(RowLevelSecurityTest, ConnectionWithoutScopeSeesNothing) {
  // A raw libpq session that never set bulwark.tenant (e.g. a pooled connection reset by a
  // proxy) fails closed.
  auto lease = test_->db().Acquire(Scope::Tenant(a_));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*lease)->ExecuteScript("RESET bulwark.tenant").ok());
  auto count = (*lease)->Query("SELECT count(*) FROM events");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->rows[0].Int(0), 0);
  // Not even the site operators' rows (tenant_id "").
  User op;
  op.email = "op@example.org";
  op.role = Role::kSiteOperator;
  ASSERT_TRUE(store_->CreateUser(op).ok());
  auto users = (*lease)->Query("SELECT count(*) FROM users");
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->rows[0].Int(0), 0);
}

}  // namespace
}  // namespace bulwark::storage

// The site service over HTTPS, on SQLite and on PostgreSQL: login with MFA, tokens and
// scopes, the scan API with policies and lists, events with cursor pagination, quarantine,
// the cross-tenant matrix, privacy, the audit chain, and two sites side by side.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "crypto/sha256.h"
#include "security/credentials.h"
#include "service/content_scan.h"
#include "service/administration.h"
#include "service/maintenance.h"
#include "storage/database.h"
#include "test/support/s3_server.h"
#include "test/support/service_harness.h"
#include "test/support/test_support.h"

namespace bulwark::testing {
namespace {

using nlohmann::json;
using service::NewToken;
using service::NewUser;
using service::TokenRequest;
using storage::Role;

const std::vector<std::string> kAllScopes = {"scan",           "events:read",     "policy:read",
                                             "policy:write",   "quarantine:read", "quarantine:write",
                                             "audit:read",     "admin"};

class ServiceApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ServiceHarness::Options options;
    options.backend = GetParam();
    auto started = ServiceHarness::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    harness_ = std::move(started).value();
  }

  void TearDown() override {
    if (harness_) {
      for (const auto& violation : harness_->openapi_violations()) ADD_FAILURE() << violation;
    }
  }

  service::Site& site() { return harness_->site(); }

  ApiResponse Call(const std::string& method, const std::string& path, const Credentials& c = {},
                   const std::string& body = "",
                   const std::string& content_type = "application/json") {
    return harness_->Call(method, path, c, body, content_type);
  }

  storage::Tenant NewTenant(const std::string& name) {
    auto tenant = service::CreateTenant(site(), "test", name);
    EXPECT_TRUE(tenant.ok()) << tenant.status().ToString();
    return *tenant;
  }

  Credentials Token(const std::string& tenant_id, Role role,
                    std::vector<std::string> scopes = kAllScopes) {
    TokenRequest request;
    request.tenant_id = tenant_id;
    request.name = "test token";
    request.role = role;
    request.scopes = std::move(scopes);
    auto token = service::CreateToken(site(), "test", request);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return Credentials{token.ok() ? token->secret : "", "", ""};
  }

  // A user with a known password and TOTP enrolled, logged in: session credentials.
  Credentials LoggedInUser(const std::string& tenant_id, Role role, const std::string& email) {
    auto created = service::AddUser(site(), "test", tenant_id, email, role);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    storage::User user = created->user;
    user.password_hash = *security::HashPassword("correct horse battery");
    user.must_change_password = false;
    user.totp_secret = security::NewTotpSecret();
    EXPECT_TRUE(site().store().UpdateUser(user).ok());
    auto code = security::TotpCode(user.totp_secret, service::Site::Now());
    ApiResponse login = Call("POST", "/api/v1/auth/login", {},
                             json{{"email", email},
                                  {"password", "correct horse battery"},
                                  {"totp", *code}}
                                 .dump());
    EXPECT_EQ(login.status, 200) << login.body;
    return SessionFrom(login);
  }

  static Credentials SessionFrom(const ApiResponse& login) {
    Credentials c;
    std::string cookie = login.Header("set-cookie");
    std::size_t eq = cookie.find('=');
    std::size_t semi = cookie.find(';');
    if (eq != std::string::npos) c.cookie = cookie.substr(eq + 1, semi - eq - 1);
    if (login.json.is_object()) c.csrf = login.json.value("csrf_token", "");
    return c;
  }

  json ScanBytes(const Credentials& c, const std::string& bytes, const std::string& query) {
    ApiResponse r = Call("POST", "/api/v1/scan?" + query, c, bytes, "application/octet-stream");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json;
  }

  std::unique_ptr<ServiceHarness> harness_;
};

TEST_P(ServiceApiTest, HealthReadinessMetricsAndConsistentErrors) {
  ApiResponse health = Call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json["status"], "ok");
  ApiResponse ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json["site"], "test");
  ApiResponse metrics = Call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("bulwark_http_requests_total"), std::string::npos);

  ApiResponse unknown = Call("GET", "/api/v1/nothing-here");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["error"]["code"], "not_found");
  ApiResponse anonymous = Call("GET", "/api/v1/events");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(anonymous.json["error"]["message"].is_string());
  ApiResponse bad_token = Call("GET", "/api/v1/events", Credentials::Bearer("bwk_test_" + std::string(64, 'a')));
  EXPECT_EQ(bad_token.status, 401);
  EXPECT_FALSE(health.Header("strict-transport-security").empty());
}

TEST_P(ServiceApiTest, FirstAdministratorMustChangePasswordAndEnrolTotp) {
  auto first = site().EnsureFirstAdministrator();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_FALSE(site().EnsureFirstAdministrator()->has_value()) << "created only once";
  std::string email = (*first)->email, password = (*first)->one_time_password;

  ApiResponse login = Call("POST", "/api/v1/auth/login", {},
                           json{{"email", email}, {"password", password}}.dump());
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_TRUE(login.json["password_change_required"].get<bool>());
  EXPECT_TRUE(login.json["mfa_enrolment_required"].get<bool>());
  std::string cookie_header = login.Header("set-cookie");
  EXPECT_NE(cookie_header.find("Secure"), std::string::npos);
  EXPECT_NE(cookie_header.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie_header.find("SameSite=Strict"), std::string::npos);
  Credentials session = SessionFrom(login);

  // Nothing else until the login is complete.
  EXPECT_EQ(Call("GET", "/api/v1/tenants", session).status, 403);
  // Unsafe methods need the CSRF header.
  Credentials no_csrf{"", session.cookie, ""};
  EXPECT_EQ(Call("POST", "/api/v1/auth/password", no_csrf,
                 json{{"current_password", password}, {"new_password", "a much longer secret"}}
                     .dump())
                .status,
            403);
  ApiResponse changed = Call("POST", "/api/v1/auth/password", session,
                             json{{"current_password", password},
                                  {"new_password", "a much longer secret"}}
                                 .dump());
  ASSERT_EQ(changed.status, 200) << changed.body;
  ApiResponse enrol = Call("POST", "/api/v1/auth/mfa/enrol", session, "{}");
  ASSERT_EQ(enrol.status, 200) << enrol.body;
  std::string secret = enrol.json["secret"];
  EXPECT_EQ(enrol.json["otpauth_uri"].get<std::string>().rfind("otpauth://totp/", 0), 0u);
  ApiResponse wrong = Call("POST", "/api/v1/auth/mfa/confirm", session,
                           json{{"secret", secret}, {"code", "000000"}}.dump());
  EXPECT_EQ(wrong.status, 400);
  std::int64_t now = service::Site::Now();
  ApiResponse confirmed = Call(
      "POST", "/api/v1/auth/mfa/confirm", session,
      json{{"secret", secret}, {"code", *security::TotpCode(secret, now)}}.dump());
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(Call("GET", "/api/v1/tenants", session).status, 200);

  // The next login needs the TOTP code; the same code again is a replay.
  ApiResponse without_code = Call("POST", "/api/v1/auth/login", {},
                                  json{{"email", email}, {"password", "a much longer secret"}}
                                      .dump());
  EXPECT_EQ(without_code.status, 401);
  EXPECT_EQ(without_code.json["error"]["code"], "mfa_required");
  ApiResponse replay = Call("POST", "/api/v1/auth/login", {},
                            json{{"email", email},
                                 {"password", "a much longer secret"},
                                 {"totp", *security::TotpCode(secret, now)}}
                                .dump());
  EXPECT_EQ(replay.status, 401) << "a used code must not work twice";

  // Logout ends the session.
  EXPECT_EQ(Call("POST", "/api/v1/auth/logout", session, "{}").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/tenants", session).status, 401);
}

TEST_P(ServiceApiTest, RepeatedFailuresLockTheAccountAndUnknownEmailsLookTheSame) {
  storage::Tenant tenant = NewTenant("Acme");
  auto user = service::AddUser(site(), "test", tenant.id, "ana@acme.example", Role::kAnalyst);
  ASSERT_TRUE(user.ok());
  for (int i = 0; i < site().config().login_failures_before_lockout; ++i) {
    ApiResponse r = Call("POST", "/api/v1/auth/login", {},
                         json{{"email", "ana@acme.example"}, {"password", "wrong guess"}}.dump());
    EXPECT_EQ(r.status, 401);
  }
  // Locked: even the right password fails now.
  ApiResponse locked = Call("POST", "/api/v1/auth/login", {},
                            json{{"email", "ana@acme.example"},
                                 {"password", user->one_time_password}}
                                .dump());
  EXPECT_EQ(locked.status, 401);
  ApiResponse unknown = Call("POST", "/api/v1/auth/login", {},
                             json{{"email", "nobody@acme.example"}, {"password", "x"}}.dump());
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.json["error"], locked.json["error"]) << "same answer, no account oracle";
  auto stored = site().store().FindUserByEmail("ana@acme.example");
  EXPECT_GT(stored->locked_until, service::Site::Now());
}

TEST_P(ServiceApiTest, TokensAreScopedShownOnceRevocableAndExpire) {
  storage::Tenant tenant = NewTenant("Acme");
  Credentials admin = Token(tenant.id, Role::kTenantAdmin);
  ApiResponse created = Call("POST", "/api/v1/tokens", admin,
                             json{{"name", "siem"}, {"role", "auditor"},
                                  {"scopes", {"events:read"}}, {"expires_in_days", 30}}
                                 .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string secret = created.json["secret"];
  EXPECT_EQ(secret.rfind("bwk_test_", 0), 0u);
  Credentials siem = Credentials::Bearer(secret);
  EXPECT_EQ(Call("GET", "/api/v1/events", siem).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/policy", siem).status, 403) << "scope events:read only";
  EXPECT_EQ(Call("POST", "/api/v1/scan", siem, "x", "text/plain").status, 403)
      << "auditors do not scan";
  // The listing never shows secrets.
  ApiResponse listing = Call("GET", "/api/v1/tokens", admin);
  ASSERT_EQ(listing.status, 200);
  EXPECT_EQ(listing.body.find(secret.substr(10)), std::string::npos);
  // Revoked: refused.
  std::string id = created.json["id"];
  EXPECT_EQ(Call("DELETE", "/api/v1/tokens/" + id, admin).status, 200);
  ApiResponse revoked = Call("GET", "/api/v1/events", siem);
  EXPECT_EQ(revoked.status, 401);
  EXPECT_NE(revoked.json["error"]["message"].get<std::string>().find("revoked"),
            std::string::npos);
  // Expired: refused.
  TokenRequest request{tenant.id, "", "old", Role::kAnalyst, {"events:read"}, 1};
  auto expiring = service::CreateToken(site(), "test", request);
  ASSERT_TRUE(expiring.ok());
  storage::ApiToken token = expiring->token;
  // Expire it by hand (a day is long for a test).
  auto lease = site().database().Acquire(storage::Scope::Tenant(tenant.id));
  ASSERT_TRUE(lease.ok());
  storage::Value params[] = {std::int64_t{1}, token.id};
  ASSERT_TRUE((*lease)->Query("UPDATE api_tokens SET expires_at = $1 WHERE id = $2", params).ok());
  ApiResponse expired = Call("GET", "/api/v1/events", Credentials::Bearer(expiring->secret));
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.json["error"]["message"].get<std::string>().find("expired"),
            std::string::npos);
}

TEST_P(ServiceApiTest, RateLimitsAnswer429WithRetryAfter) {
  // A site with a small bucket per token: 5 requests at once, then 1 a second.
  ServiceHarness::Options options;
  options.backend = GetParam();
  options.token_rate_per_second = 1;
  options.token_burst = 5;
  auto limited_site = ServiceHarness::Start(options);
  ASSERT_TRUE(limited_site.ok()) << limited_site.status().ToString();
  auto tenant = service::CreateTenant((*limited_site)->site(), "test", "Acme");
  ASSERT_TRUE(tenant.ok());
  TokenRequest request{tenant->id, "", "t", Role::kAnalyst, {"events:read"}, 0};
  auto token = service::CreateToken((*limited_site)->site(), "test", request);
  ASSERT_TRUE(token.ok());
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 10; ++i) {
    ApiResponse r = (*limited_site)->Call("GET", "/api/v1/events?limit=1",
                                          Credentials::Bearer(token->secret));
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      retry_after = r.Header("retry-after");
      EXPECT_EQ(r.json["error"]["code"], "rate_limited");
    }
  }
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 8);  // a slow (sanitised) run may see a few refills
  EXPECT_GE(limited, 2);
  EXPECT_GE(std::atoi(retry_after.c_str()), 1);
  EXPECT_TRUE((*limited_site)->openapi_violations().empty());
}

TEST_P(ServiceApiTest, ScanAppliesThePolicyRecordsEventsAndQuarantinesSealed) {
  storage::Tenant tenant = NewTenant("Acme");
  Credentials analyst = Token(tenant.id, Role::kAnalyst);
  json clean = ScanBytes(analyst, "just a note", "name=note.txt");
  EXPECT_EQ(clean["verdict"], "clean");
  EXPECT_EQ(clean["action"], "none");
  EXPECT_FALSE(clean.contains("event_seq"));

  json eicar = ScanBytes(analyst, Eicar(), "name=eicar.com&sender=bad@evil.example&recipients=ana@acme.example");
  EXPECT_EQ(eicar["verdict"], "malicious");
  EXPECT_EQ(eicar["action"], "quarantine");
  ASSERT_TRUE(eicar.contains("quarantine_id"));
  std::int64_t seq = eicar["event_seq"];
  ApiResponse event = Call("GET", "/api/v1/events/" + std::to_string(seq), analyst);
  ASSERT_EQ(event.status, 200);
  EXPECT_EQ(event.json["threat_type"], "malware");
  EXPECT_EQ(event.json["action"], "quarantine");
  EXPECT_EQ(event.json["sender"], "bad@evil.example");

  // The quarantined bytes are sealed on disk, and come back intact through a link.
  std::string qid = eicar["quarantine_id"];
  bool found_plain = false;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(harness_->config().quarantine_dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.find("EICAR") != std::string::npos) found_plain = true;
  }
  EXPECT_FALSE(found_plain) << "quarantine must hold ciphertext only";
  ApiResponse link = Call("POST", "/api/v1/quarantine/" + qid + "/download", analyst, "{}");
  ASSERT_EQ(link.status, 200) << link.body;
  ApiResponse content = Call("GET", link.json["url"], analyst);
  ASSERT_EQ(content.status, 200);
  EXPECT_EQ(content.body, Eicar());
  // A link for another principal, or a forged one, is refused.
  Credentials other = Token(tenant.id, Role::kAnalyst);
  EXPECT_EQ(Call("GET", link.json["url"], other).status, 403);
  std::string forged = link.json["url"].get<std::string>();
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(Call("GET", forged, analyst).status, 403);

  EXPECT_EQ(Call("POST", "/api/v1/quarantine/" + qid + "/release", analyst, "{}").json["status"],
            "released");
  EXPECT_EQ(Call("POST", "/api/v1/quarantine/" + qid + "/release", analyst, "{}").status, 409);

  // Monitor mode: detected and logged, nothing done.
  Credentials admin = Token(tenant.id, Role::kTenantAdmin);
  ApiResponse put = Call("PUT", "/api/v1/policy", admin,
                         R"({"mode":"monitor","rules":[{"name":"m","protection":"malware","action":"reject"}]})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json["version"], 1);
  json monitored = ScanBytes(analyst, Eicar(), "name=again.com");
  EXPECT_EQ(monitored["action"], "log");
  EXPECT_EQ(monitored["intended_action"], "reject");
  EXPECT_TRUE(monitored["monitor"].get<bool>());
  EXPECT_FALSE(monitored.contains("quarantine_id"));

  // A bad policy is refused with the path of the problem; the version stays.
  ApiResponse bad = Call("PUT", "/api/v1/policy", admin, R"({"rules":[{"name":"x"}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.json["error"]["message"].get<std::string>().find("rules[0]"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/policy", admin).json["version"], 1);
  EXPECT_EQ(Call("GET", "/api/v1/policy/versions", admin).json["versions"].size(), 1u);
}

TEST_P(ServiceApiTest, MultipartUploadsAndListsAreHonoured) {
  storage::Tenant tenant = NewTenant("Acme");
  Credentials admin = Token(tenant.id, Role::kTenantAdmin);
  std::string body = "--B0undary\r\nContent-Disposition: form-data; name=\"file\"; "
                     "filename=\"test.com\"\r\n\r\n" +
                     Eicar() + "\r\n--B0undary--\r\n";
  ApiResponse multipart = Call("POST", "/api/v1/scan", admin, body,
                               "multipart/form-data; boundary=B0undary");
  ASSERT_EQ(multipart.status, 200) << multipart.body;
  EXPECT_EQ(multipart.json["name"], "test.com");
  EXPECT_EQ(multipart.json["verdict"], "malicious");

  // Allow-listed hash: not scanned further, clean.
  std::string sha = multipart.json["sha256"];
  ASSERT_EQ(Call("POST", "/api/v1/lists", admin,
                 json{{"kind", "sha256"}, {"disposition", "allow"}, {"value", sha}}.dump())
                .status,
            201);
  EXPECT_EQ(ScanBytes(admin, Eicar(), "name=x")["verdict"], "clean");
  // Blocked sender domain (and its subdomains).
  ASSERT_EQ(Call("POST", "/api/v1/lists", admin,
                 json{{"kind", "domain"}, {"disposition", "block"}, {"value", "evil.example"}}
                     .dump())
                .status,
            201);
  json blocked = ScanBytes(admin, "hello", "name=a.txt&sender=x@mail.evil.example");
  EXPECT_EQ(blocked["verdict"], "malicious");
  EXPECT_EQ(blocked["findings"][0]["name"], "BlockList.domain");
  EXPECT_EQ(ScanBytes(admin, "hello", "name=a.txt&sender=x@notevil.example")["verdict"], "clean");
  EXPECT_EQ(Call("POST", "/api/v1/lists", admin,
                 json{{"kind", "sha256"}, {"disposition", "allow"}, {"value", "xyz"}}.dump())
                .status,
            400);
  EXPECT_EQ(Call("DELETE", "/api/v1/lists?kind=domain&disposition=block&value=evil.example",
                 admin)
                .status,
            200);
  EXPECT_EQ(ScanBytes(admin, "hello", "name=a.txt&sender=x@mail.evil.example")["verdict"],
            "clean");
}

// URL entries match the links found in the content (normalised; never fetched).
TEST_P(ServiceApiTest, UrlListEntriesMatchTheLinksInTheContent) {
  storage::Tenant tenant = NewTenant("Acme");
  Credentials admin = Token(tenant.id, Role::kTenantAdmin);
  auto add = [&](const std::string& disposition, const std::string& value) {
    ApiResponse r = Call("POST", "/api/v1/lists", admin,
                         json{{"kind", "url"}, {"disposition", disposition}, {"value", value}}
                             .dump());
    ASSERT_EQ(r.status, 201) << r.body;
  };
  const std::string phish =
      "<html><body><p>Your mailbox is full.</p>"
      "<a href=\"HTTPS://Login.Phish.Example:443/a/../verify?session=1\">Open</a></body></html>";
  json before = ScanBytes(admin, phish, "name=notice.html");
  EXPECT_EQ(before["verdict"], "clean") << before.dump();

  add("block", "https://login.phish.example/verify");  // exact URL, query aside: prefix below
  add("block", "https://login.phish.example/");        // every page of that host
  json blocked = ScanBytes(admin, phish, "name=notice.html");
  EXPECT_EQ(blocked["verdict"], "malicious") << blocked.dump();
  int url_blocks = 0;
  for (const auto& f : blocked["findings"]) url_blocks += f["name"] == "BlockList.url";
  EXPECT_EQ(url_blocks, 1) << "one finding per matching entry";  // the exact entry lacks the query
  ASSERT_TRUE(blocked.contains("event_seq"));
  // The event names the list, never the link (it may carry a one-time token).
  auto events = site().store().QueryEvents(tenant.id, {});
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->back().findings_json.find("session=1"), std::string::npos);
  EXPECT_EQ(events->back().findings_json.find("phish.example/verify"), std::string::npos);
  // A page without the link is not affected.
  EXPECT_EQ(ScanBytes(admin, "<a href=\"https://other.example/\">x</a>", "name=n.html")["verdict"],
            "clean");

  // Allow entries clear the URL heuristics when every link is on them; scanning goes on.
  const std::string newsletter =
      "<html><body><a href=\"http://192.0.2.7/offers\">Our offers</a></body></html>";
  json heuristic = ScanBytes(admin, newsletter, "name=news.html");
  bool url_finding = false;
  for (const auto& f : heuristic["findings"]) url_finding |= f["detector"] == "urls";
  ASSERT_TRUE(url_finding) << heuristic.dump();
  add("allow", "http://192.0.2.7/");
  json allowed = ScanBytes(admin, newsletter, "name=news.html");
  for (const auto& f : allowed["findings"]) EXPECT_NE(f["detector"], "urls") << allowed.dump();
  EXPECT_EQ(allowed["allowed_by_list"], false) << "URL allow entries do not skip the scan";
}

TEST_P(ServiceApiTest, EventCursorNeverLosesOrRepeatsWhileScansArrive) {
  storage::Tenant tenant = NewTenant("Acme");
  Credentials analyst = Token(tenant.id, Role::kAnalyst);
  constexpr int kEvents = 40;
  std::thread writer([&] {
    for (int i = 0; i < kEvents; ++i) {
      storage::Event e;
      e.tenant_id = tenant.id;
      e.time = service::Site::Now();
      e.service = i % 2 ? "smtp" : "api";
      e.object_name = "object-" + std::to_string(i);
      e.verdict = "malicious";
      e.threat_type = "malware";
      e.detectors = "clamav";
      e.action = "quarantine";
      e.findings_json = "[]";
      ASSERT_TRUE(site().store().AppendEvent(e).ok());
    }
  });
  std::set<std::int64_t> seen;
  std::int64_t cursor = 0;
  int duplicates = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen.size() < static_cast<std::size_t>(kEvents) &&
         std::chrono::steady_clock::now() < deadline) {
    ApiResponse page =
        Call("GET", "/api/v1/events?limit=7&after=" + std::to_string(cursor), analyst);
    if (page.status == 429) continue;
    ASSERT_EQ(page.status, 200) << page.body;
    for (const auto& e : page.json["events"]) {
      if (!seen.insert(e["seq"].get<std::int64_t>()).second) ++duplicates;
    }
    cursor = page.json["next_cursor"];
  }
  writer.join();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), kEvents);

  ApiResponse smtp = Call("GET", "/api/v1/events?service=smtp&limit=1000", analyst);
  EXPECT_EQ(smtp.json["events"].size(), static_cast<std::size_t>(kEvents / 2));
  ApiResponse facets = Call("GET", "/api/v1/events/facets", analyst);
  ASSERT_EQ(facets.status, 200) << facets.body;
  EXPECT_EQ(facets.json["facets"]["service"]["smtp"], kEvents / 2);
  ApiResponse csv = Call("GET", "/api/v1/events/export?format=csv", analyst);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), kEvents + 1);
  ApiResponse jsonl = Call("GET", "/api/v1/events/export?format=json&service=api", analyst);
  EXPECT_EQ(std::count(jsonl.body.begin(), jsonl.body.end(), '\n'), kEvents / 2);
}

TEST_P(ServiceApiTest, SiteOperatorManagesTenantsButSeesNoTenantContent) {
  Credentials op = Token("", Role::kSiteOperator, {"admin"});
  ApiResponse created = Call("POST", "/api/v1/tenants", op,
                             json{{"name", "Globex"}, {"admin_email", "root@globex.example"}}
                                 .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_FALSE(created.json["admin"]["one_time_password"].get<std::string>().empty());
  std::string id = created.json["tenant"]["id"];
  EXPECT_EQ(Call("GET", "/api/v1/tenants", op).json["tenants"].size(), 1u);
  ApiResponse retention =
      Call("POST", "/api/v1/tenants/" + id + "/retention", op, R"({"days":30})");
  ASSERT_EQ(retention.status, 200) << retention.body;
  EXPECT_EQ(retention.json["retention_days"], 30);
  EXPECT_EQ(Call("POST", "/api/v1/tenants/" + id + "/retention", op, R"({"days":0})").status,
            400);
  for (const char* path : {"/api/v1/events", "/api/v1/quarantine", "/api/v1/policy",
                           "/api/v1/lists", "/api/v1/users", "/api/v1/events/export"}) {
    EXPECT_EQ(Call("GET", path, op).status, 403) << path;
  }
  EXPECT_EQ(Call("POST", "/api/v1/scan", op, "x", "text/plain").status, 403);

  // A disabled tenant's credentials stop working.
  Credentials tenant_token = Token(id, Role::kAnalyst);
  EXPECT_EQ(Call("GET", "/api/v1/events", tenant_token).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/tenants/" + id + "/disable", op, "{}").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/events", tenant_token).status, 403);
  // Tenant roles cannot manage tenants.
  EXPECT_EQ(Call("GET", "/api/v1/tenants", Token(NewTenant("Other").id, Role::kTenantAdmin)).status,
            403);
}

// Every endpoint, every role, token and session of tenant A against tenant B's objects: only
// 403/404 (or A's own, empty-of-B answers), and no byte of B in any response.
TEST_P(ServiceApiTest, CrossTenantMatrix) {
  storage::Tenant a = NewTenant("Tenant Alpha");
  storage::Tenant b = NewTenant("Tenant Bravo Secret Name");
  // B's objects: events (more than A has), a quarantine item, a user, a token, list entries.
  Credentials b_admin = Token(b.id, Role::kTenantAdmin);
  for (int i = 0; i < 3; ++i) {
    ScanBytes(b_admin, Eicar(),
              "name=bravo-object-" + std::to_string(i) + ".com&sender=x@bravo.example");
  }
  auto b_items = site().store().ListQuarantine(b.id, "");
  ASSERT_TRUE(b_items.ok());
  ASSERT_FALSE(b_items->empty());
  std::string b_qid = b_items->front().id;
  auto b_user = service::AddUser(site(), "test", b.id, "bravo.user@bravo.example", Role::kAnalyst);
  ASSERT_TRUE(b_user.ok());
  TokenRequest b_token_request{b.id, "", "bravo token", Role::kAnalyst, {"events:read"}, 0};
  auto b_token = service::CreateToken(site(), "test", b_token_request);
  ASSERT_TRUE(b_token.ok());
  ASSERT_EQ(Call("POST", "/api/v1/lists", b_admin,
                 json{{"kind", "sender"}, {"disposition", "block"},
                      {"value", "bravo-listed@bravo.example"}}
                     .dump())
                .status,
            201);
  ASSERT_EQ(Call("PUT", "/api/v1/policy", b_admin,
                 R"({"rules":[{"name":"bravo rule","protection":"malware","action":"delete"}]})")
                .status,
            200);
  const std::vector<std::string> b_markers = {
      b.id,        b.name,          "bravo-object", b_qid, b_user->user.id, "bravo.user@",
      b_token->token.id, "bravo-listed", "bravo rule", "bravo.example"};

  // A has one event of its own.
  Credentials a_admin = Token(a.id, Role::kTenantAdmin);
  ScanBytes(a_admin, Eicar(), "name=alpha.com");

  std::vector<std::pair<std::string, Credentials>> callers;
  int n = 0;
  for (Role role : {Role::kTenantAdmin, Role::kAnalyst, Role::kAuditor}) {
    std::string name(storage::RoleName(role));
    callers.emplace_back(name + " token", Token(a.id, role));
    callers.emplace_back(name + " session",
                         LoggedInUser(a.id, role, "user" + std::to_string(n++) + "@alpha.example"));
  }
  struct Probe {
    std::string method, path, body;
  };
  const std::string seq3 = "3";
  const std::vector<Probe> probes = {
      // By id.
      {"GET", "/api/v1/events/" + seq3, ""},
      {"GET", "/api/v1/quarantine/" + b_qid, ""},
      {"POST", "/api/v1/quarantine/" + b_qid + "/release", "{}"},
      {"POST", "/api/v1/quarantine/" + b_qid + "/download", "{}"},
      {"GET", "/api/v1/quarantine/" + b_qid + "/content?expires=9999999999&signature=00", ""},
      {"DELETE", "/api/v1/quarantine/" + b_qid, ""},
      {"DELETE", "/api/v1/tokens/" + b_token->token.id, ""},
      {"POST", "/api/v1/users/" + b_user->user.id + "/disable", "{}"},
      {"POST", "/api/v1/users/" + b_user->user.id + "/reset-mfa", "{}"},
      {"GET", "/api/v1/tenants/" + b.id, ""},
      {"POST", "/api/v1/tenants/" + b.id + "/disable", "{}"},
      {"POST", "/api/v1/tenants/" + b.id + "/retention", R"({"days":1})"},
      {"DELETE", "/api/v1/lists?kind=sender&disposition=block&value=bravo-listed@bravo.example",
       ""},
      // By listing.
      {"GET", "/api/v1/events?limit=1000", ""},
      {"GET", "/api/v1/events/export?format=csv", ""},
      {"GET", "/api/v1/events/export?format=json", ""},
      {"GET", "/api/v1/events/facets", ""},
      {"GET", "/api/v1/quarantine", ""},
      {"GET", "/api/v1/tokens", ""},
      {"GET", "/api/v1/users", ""},
      {"GET", "/api/v1/lists", ""},
      {"GET", "/api/v1/policy", ""},
      {"GET", "/api/v1/policy/versions", ""},
      {"GET", "/api/v1/audit?limit=1000", ""},
      {"GET", "/api/v1/tenants", ""},
      // By search.
      {"GET", "/api/v1/events?user=bravo.user@bravo.example", ""},
      {"GET", "/api/v1/events?service=api&verdict=malicious&threat_type=malware", ""},
      {"GET", "/api/v1/events?detector=clamav&since=0", ""},
  };
  for (const auto& [who, credentials] : callers) {
    for (const auto& probe : probes) {
      ApiResponse r = Call(probe.method, probe.path, credentials, probe.body);
      SCOPED_TRACE(who + " " + probe.method + " " + probe.path);
      EXPECT_TRUE(r.status == 200 || r.status == 403 || r.status == 404 || r.status == 429)
          << r.status << " " << r.body;
      bool by_id = probe.path.find(b_qid) != std::string::npos ||
                   probe.path.find(b.id) != std::string::npos ||
                   probe.path.find(b_user->user.id) != std::string::npos ||
                   probe.path.find(b_token->token.id) != std::string::npos;
      if (by_id) {
        EXPECT_NE(r.status, 200) << r.body;
      }
      for (const auto& marker : b_markers) {
        EXPECT_EQ(r.body.find(marker), std::string::npos) << "leaks \"" << marker << "\"";
      }
    }
  }
  // A's events: only its own one; seq 3 is B's and does not exist for A.
  ApiResponse a_events = Call("GET", "/api/v1/events", a_admin);
  EXPECT_EQ(a_events.json["events"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/events/3", a_admin).status, 404);
  // B's objects are untouched.
  EXPECT_EQ(site().store().GetQuarantineItem(b.id, b_qid)->status, "held");
  EXPECT_EQ(Call("GET", "/api/v1/events", Credentials::Bearer(b_token->secret)).status, 200);
  EXPECT_FALSE(site().store().GetUser(b_user->user.id)->disabled);
  EXPECT_FALSE(site().store().GetTenant(b.id)->disabled);
  auto b_lists = site().store().ListEntries(b.id);
  EXPECT_EQ(b_lists->size(), 1u);
}

// Scanned content reaches neither the disk (outside the sealed quarantine) nor the database.
TEST_P(ServiceApiTest, ScannedContentNeverReachesDiskOrDatabase) {
  storage::Tenant tenant = NewTenant("Acme");
  Credentials analyst = Token(tenant.id, Role::kAnalyst);
  const std::string marker = "PRIVACY-MARKER-" + security::RandomHex(8);
  ScanBytes(analyst, "a clean letter that mentions " + marker, "name=letter.txt");
  ScanBytes(analyst, Eicar() + "\n" + marker, "name=infected.com");  // quarantined, sealed
  std::string zip = MakeArchive("zip", {{"inner.txt", "zip member " + marker}});
  ScanBytes(analyst, zip, "name=archive.zip");

  for (const auto& entry : std::filesystem::recursive_directory_iterator(harness_->data_dir())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(bytes.find(marker), std::string::npos) << entry.path();
  }
  // Every row of every table, as text.
  auto lease = site().database().Acquire(storage::Scope::Site());
  ASSERT_TRUE(lease.ok());
  const char* tables_sql =
      GetParam() == Backend::kSqlite
          ? "SELECT name FROM sqlite_master WHERE type = 'table'"
          : "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'";
  auto tables = (*lease)->Query(tables_sql);
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  ASSERT_GT(tables->rows.size(), 5u);
  for (const auto& row : tables->rows) {
    auto rows = (*lease)->Query("SELECT * FROM " + row.Text(0));
    ASSERT_TRUE(rows.ok()) << row.Text(0) << ": " << rows.status().ToString();
    for (const auto& r : rows->rows) {
      for (std::size_t i = 0; i < r.values.size(); ++i) {
        EXPECT_EQ(r.Text(i).find(marker), std::string::npos) << "table " << row.Text(0);
      }
    }
  }
}

TEST_P(ServiceApiTest, AuditLogChainsEveryActAndDetectsTampering) {
  storage::Tenant tenant = NewTenant("Acme");
  Credentials admin = Token(tenant.id, Role::kTenantAdmin);
  ScanBytes(admin, Eicar(), "name=e.com");
  auto items = site().store().ListQuarantine(tenant.id, "");
  ASSERT_EQ(items->size(), 1u);
  ApiResponse link =
      Call("POST", "/api/v1/quarantine/" + items->front().id + "/download", admin, "{}");
  ASSERT_EQ(Call("GET", link.json["url"], admin).status, 200);

  ApiResponse audit = Call("GET", "/api/v1/audit", Token(tenant.id, Role::kAuditor));
  ASSERT_EQ(audit.status, 200) << audit.body;
  std::set<std::string> actions;
  for (const auto& r : audit.json["records"]) actions.insert(r["action"]);
  EXPECT_TRUE(actions.contains("quarantine.download_link"));
  EXPECT_TRUE(actions.contains("quarantine.download"));
  EXPECT_TRUE(actions.contains("token.create"));
  EXPECT_FALSE(actions.contains("tenant.create")) << "site-level records are not the tenant's";

  auto verified = site().store().VerifyAudit();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact);
  EXPECT_GE(verified->records, 4);

  // The service's own database role cannot rewrite history.
  {
    auto lease = site().database().Acquire(storage::Scope::Tenant(tenant.id));
    ASSERT_TRUE(lease.ok());
    EXPECT_FALSE((*lease)->Query("UPDATE audit SET actor = 'nobody'").ok());
    EXPECT_FALSE((*lease)->Query("DELETE FROM audit").ok());
  }
  // Whoever holds the database can, and verification names the record.
  ASSERT_TRUE(harness_->TamperDatabase(
                          "UPDATE audit SET target = 'q_forged' WHERE action = "
                          "'quarantine.download'")
                  .ok());
  auto tampered = site().store().VerifyAudit();
  ASSERT_TRUE(tampered.ok());
  EXPECT_FALSE(tampered->intact);
  EXPECT_NE(tampered->problem.find("was changed"), std::string::npos) << tampered->problem;
  ASSERT_TRUE(harness_->TamperDatabase("DELETE FROM audit WHERE seq = 2").ok());
  auto removed = site().store().VerifyAudit();
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(removed->intact);
  EXPECT_EQ(removed->first_bad_seq, 2);
}

TEST_P(ServiceApiTest, RetentionPurgesOldEventsAndExpiredQuarantine) {
  storage::Tenant tenant = NewTenant("Acme");
  Credentials analyst = Token(tenant.id, Role::kAnalyst);
  ScanBytes(analyst, Eicar(), "name=e.com");
  auto report = service::RunMaintenance(site(), service::Site::Now() + 400 * 86400);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->events_purged, 1);
  EXPECT_EQ(report->quarantine_purged, 1);
  EXPECT_EQ(Call("GET", "/api/v1/events", analyst).json["events"].size(), 0u);
  auto items = site().store().ListQuarantine(tenant.id, "held");
  EXPECT_TRUE(items->empty());
}

// docs/openapi.json lists every route the server has, and nothing else.
TEST_P(ServiceApiTest, OpenApiDocumentsEveryRouteAndNothingElse) {
  json openapi = LoadOpenApi();
  ASSERT_FALSE(openapi.is_discarded());
  std::set<std::string> documented, served;
  for (const auto& [path, operations] : openapi["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(c));
      documented.insert(upper + " " + path);
      EXPECT_TRUE(operation.contains("responses")) << upper << " " << path;
    }
  }
  for (const auto& [method, pattern] : harness_->router().Routes()) {
    served.insert(method + " " + pattern);
  }
  for (const auto& route : served) EXPECT_TRUE(documented.contains(route)) << route;
  for (const auto& route : documented) EXPECT_TRUE(served.contains(route)) << route;
}

INSTANTIATE_TEST_SUITE_P(Backends, ServiceApiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& param_info) { return BackendLabel(param_info.param); });

// The quarantine on S3-compatible storage (s3rver on loopback): sealed there, readable only
// through the API, claimed by the site like a local directory.
TEST(S3QuarantineTest, QuarantinedObjectsAreSealedInTheBucket) {
  auto s3 = S3Server::Start("quarantine");
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  ServiceHarness::Options options;
  options.s3_endpoint = (*s3)->endpoint();
  options.s3_bucket = "quarantine";
  options.s3_access_key = S3Server::access_key();
  options.s3_secret_key = S3Server::secret_key();
  auto harness = ServiceHarness::Start(options);
  ASSERT_TRUE(harness.ok()) << harness.status().ToString();
  EXPECT_EQ(std::filesystem::exists((*harness)->config().quarantine_dir), false);

  auto tenant = service::CreateTenant((*harness)->site(), "test", "Acme");
  ASSERT_TRUE(tenant.ok());
  TokenRequest request{tenant->id, "", "t", Role::kAnalyst, kAllScopes, 0};
  auto token = service::CreateToken((*harness)->site(), "test", request);
  ASSERT_TRUE(token.ok());
  Credentials analyst = Credentials::Bearer(token->secret);
  const std::string marker = "S3-MARKER-" + security::RandomHex(8);
  ApiResponse scan = (*harness)->Call("POST", "/api/v1/scan?name=e.com", analyst,
                                      Eicar() + "\n" + marker, "application/octet-stream");
  ASSERT_EQ(scan.status, 200) << scan.body;
  ASSERT_TRUE(scan.json.contains("quarantine_id")) << scan.body;
  std::string qid = scan.json["quarantine_id"];
  int objects = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator((*s3)->directory())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(bytes.find(marker), std::string::npos) << entry.path();
    ++objects;
  }
  EXPECT_GT(objects, 0);
  ApiResponse link =
      (*harness)->Call("POST", "/api/v1/quarantine/" + qid + "/download", analyst, "{}");
  ASSERT_EQ(link.status, 200) << link.body;
  ApiResponse content = (*harness)->Call("GET", link.json["url"], analyst);
  ASSERT_EQ(content.status, 200);
  EXPECT_EQ(content.body, Eicar() + "\n" + marker);
  EXPECT_EQ((*harness)->Call("DELETE", "/api/v1/quarantine/" + qid, analyst).status, 200);
  EXPECT_TRUE((*harness)->openapi_violations().empty());
}

// Two sites side by side share nothing: credentials of one are refused by the other, and a
// site refuses to start on the other's database or quarantine store.
// Signature updates are picked up without a restart when their files change (the self-check
// of `serve`), and only then.
TEST(SignatureReloadTest, ChangedSignatureFilesAreReloadedAndOthersAreNot) {
  char pattern[] = "/tmp/bulwark-sigs-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string dir = pattern;
  ServiceHarness::Options options;
  options.extra_signature_dir = dir;
  auto harness = ServiceHarness::Start(options);
  ASSERT_TRUE(harness.ok()) << harness.status().ToString();
  service::Site& site = (*harness)->site();

  const std::string sample = "a sample that only the new signature knows about\n";
  service::ContentScanRequest request;
  request.data = sample;
  request.name = "sample.txt";
  auto before = service::ScanContent(site, request);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->detection());
  std::string version = site.engine().signature_version();

  auto unchanged = site.ReloadSignaturesIfChanged();
  ASSERT_TRUE(unchanged.ok());
  EXPECT_FALSE(*unchanged);

  std::ofstream(dir + "/update.hsb")
      << crypto::ToHex(crypto::Sha256(sample)) << ":" << sample.size() << ":Bulwark.Test.Reload\n";
  auto reloaded = site.ReloadSignaturesIfChanged();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_TRUE(*reloaded);
  EXPECT_NE(site.engine().signature_version(), version);
  auto after = service::ScanContent(site, request);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->detection());
  EXPECT_NE(after->report.findings.at(0).name.find("Bulwark.Test.Reload"), std::string::npos);
  auto again = site.ReloadSignaturesIfChanged();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);

  // URL feeds live one level down (urls/block): a new feed is picked up too.
  std::filesystem::create_directories(dir + "/urls/block");
  std::ofstream(dir + "/urls/block/local.domains") << "phish-feed.example\n";
  auto feed = site.ReloadSignaturesIfChanged();
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  EXPECT_TRUE(*feed);

  // A broken signature file: the reload fails and the loaded set stays in use.
  std::ofstream(dir + "/broken.ndb") << "not:a:valid:ndb:line:at:all\n";
  auto broken = site.ReloadSignaturesIfChanged();
  EXPECT_FALSE(broken.ok());
  auto still = service::ScanContent(site, request);
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(still->detection());
  harness->reset();
  std::filesystem::remove_all(dir);
}

TEST(TwoSitesTest, CredentialsAndStorageAreBoundToTheirSite) {
  ServiceHarness::Options eu_options;
  eu_options.site_id = "eu";
  auto eu = ServiceHarness::Start(eu_options);
  ASSERT_TRUE(eu.ok()) << eu.status().ToString();
  ServiceHarness::Options us_options;
  us_options.site_id = "us";
  us_options.backend = Backend::kPostgres;
  auto us = ServiceHarness::Start(us_options);
  ASSERT_TRUE(us.ok()) << us.status().ToString();

  auto eu_tenant = service::CreateTenant((*eu)->site(), "test", "Acme EU");
  ASSERT_TRUE(eu_tenant.ok());
  TokenRequest request{eu_tenant->id, "", "t", Role::kAnalyst, {"events:read"}, 0};
  auto eu_token = service::CreateToken((*eu)->site(), "test", request);
  ASSERT_TRUE(eu_token.ok());
  EXPECT_EQ((*eu)->Call("GET", "/api/v1/events", Credentials::Bearer(eu_token->secret)).status, 200);
  ApiResponse cross = (*us)->Call("GET", "/api/v1/events", Credentials::Bearer(eu_token->secret));
  EXPECT_EQ(cross.status, 401);
  EXPECT_NE(cross.json["error"]["message"].get<std::string>().find("another site"),
            std::string::npos);

  // A third site pointed at eu's database (or eu's data directory) refuses to start.
  ServiceHarness::Options thief;
  thief.site_id = "us";
  thief.database_url = (*eu)->database_url();
  auto on_eu_database = ServiceHarness::Start(thief);
  ASSERT_FALSE(on_eu_database.ok());
  EXPECT_NE(on_eu_database.status().message().find("belongs to site \"eu\""), std::string::npos);
  ServiceHarness::Options on_eu_dir;
  on_eu_dir.site_id = "us";
  on_eu_dir.backend = Backend::kPostgres;
  on_eu_dir.data_dir = (*eu)->data_dir();
  auto stolen_dir = ServiceHarness::Start(on_eu_dir);
  ASSERT_FALSE(stolen_dir.ok());
  EXPECT_NE(stolen_dir.status().message().find("belongs to site \"eu\""), std::string::npos);
}

}  // namespace
}  // namespace bulwark::testing

#include "service/audit_export.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace bulwark::service {
namespace {

storage::AuditRecord Record() {
  storage::AuditRecord r;
  r.seq = 7;
  r.time = 1795852800;  // 2026-11-28T08:00:00Z
  r.tenant_id = "t_1";
  r.actor = "user:u_\"x\"";
  r.action = "quarantine.download";
  r.target = "q_]1";
  r.detail_json = "{}";
  r.prev_hash = std::string(64, '0');
  r.hash = std::string(64, 'a');
  return r;
}

TEST(AuditExportTest, SyslogFollowsRfc5424) {
  std::string line = AuditToSyslog(Record(), "mail gw", "eu");
  EXPECT_EQ(line.rfind("<85>1 2026-11-28T08:00:00Z mailgw bulwark - audit [bulwark@32473 ", 0),
            0u)
      << line;
  EXPECT_NE(line.find("actor=\"user:u_\\\"x\\\"\""), std::string::npos) << line;
  EXPECT_NE(line.find("target=\"q_\\]1\""), std::string::npos) << line;
  EXPECT_NE(line.find("seq=\"7\""), std::string::npos);
  EXPECT_NE(line.find("] quarantine.download q_]1 {}"), std::string::npos);
}

TEST(AuditExportTest, JsonLineCarriesTheChain) {
  auto j = nlohmann::json::parse(AuditToJsonLine(Record(), "eu"));
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["site"], "eu");
  EXPECT_EQ(j["time"], "2026-11-28T08:00:00Z");
  EXPECT_EQ(j["hash"], std::string(64, 'a'));
  EXPECT_TRUE(j["detail"].is_object());
}

}  // namespace
}  // namespace bulwark::service

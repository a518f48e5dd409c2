#pragma once
// ScanContent: the one scan pipeline behind every front-end (HTTPS scan API, clamd, ICAP,
// and later the mail gateway). For a tenant it applies the tenant's approved/blocked lists,
// scans in memory, decides under the tenant's policy, records a detection event (metadata
// only) and, when the policy says quarantine, seals the object into the quarantine vault.
// Without a tenant (a front-end listener configured without one) it returns the engine's
// verdict and records nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bulwark/common/result.h"
#include "bulwark/engine/engine.h"
#include "service/site.h"
#include "service/tenant_policy.h"

namespace bulwark::service {

struct ContentScanRequest {
  std::string tenant_id;   // "" = no tenant: engine verdict only, nothing recorded
  std::string_view data;   // scanned in place; not kept (except by a quarantine action)
  std::string name;        // display name (file name, URL, "stream")
  std::string sender;      // lower-case address, "" when unknown
  std::string recipients;  // comma-separated lower-case addresses
  ScanSubject subject;     // service ("api", "clamd", "icap", …), user, groups
  // The quarantine action seals the object into Bulwark's vault. False for front-ends that
  // quarantine in the customer's own storage (the mailbox connector moves the message to
  // a folder of the mailbox): the decision is returned and nothing is kept.
  bool hold_in_vault = true;
};

struct ContentScanOutcome {
  engine::ScanReport report;
  Decision decision;
  bool allowed_by_list = false;         // an allow entry matched and no block entry did
  std::optional<std::int64_t> event_seq;  // set when a detection event was recorded
  std::optional<std::string> quarantine_id;

  bool detection() const { return report.verdict.IsDetection(); }
  // The action carried out: kLog for clean objects and in monitor mode.
  Action action() const { return detection() ? decision.action : Action::kLog; }
  // True when the front-end should refuse the content (block the download, reject the
  // message, answer FOUND): a detection whose action is quarantine, delete or reject.
  bool blocked() const;
};

// Errors come from the store (reading lists or policy, recording the event) or the vault;
// a scan itself never fails (see Engine::Scan).
Result<ContentScanOutcome> ScanContent(Site& site, const ContentScanRequest& request);

// The findings as the API and the event record show them (metadata and masked samples).
nlohmann::json FindingsToJson(const std::vector<engine::Finding>& findings);

}  // namespace bulwark::service

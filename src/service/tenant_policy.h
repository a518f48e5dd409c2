#pragma once
// TenantPolicy: what a tenant wants done about each protection (malware, unscannable, file
// blocking, active content, DLP, phishing, impersonation, sandbox), parsed from JSON that is
// validated with clear errors (docs/policy.md, docs/policy.schema.json), and the decision it
// gives for one scan.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/engine/engine.h"
#include "detectors/impersonation/impersonation.h"

namespace bulwark::service {

// Ordered by strength: when several protections fire, the strongest action wins.
enum class Action { kLog, kNotify, kTag, kQuarantine, kDelete, kReject };
std::string_view ActionName(Action action);  // "log", "notify", "tag", "quarantine", …
std::optional<Action> ParseAction(std::string_view name);

// The protections a finding can fall under.
inline constexpr std::string_view kProtections[] = {
    "malware", "unscannable", "file_blocking", "active_content",
    "dlp",     "phishing",    "impersonation", "sandbox"};
// Which protection a finding belongs to ("malware" for signature and hash detections, …).
std::string_view ProtectionOf(const engine::Finding& finding);

struct PolicyRule {
  std::string name;
  std::string protection;
  Action action = Action::kLog;
  int priority = 100;  // lower first
  bool monitor = false;
  std::vector<std::string> services;  // empty = every service
  std::vector<std::string> users;     // empty = everyone (lower-cased addresses)
  std::vector<std::string> groups;
  std::vector<std::string> dlp_templates;  // "PCI-DSS", …; empty = every template
};

struct TenantPolicy {
  bool monitor_only = false;  // "mode": "monitor": detect and log, act on nothing
  std::vector<PolicyRule> rules;
  // "impersonation": {"people": [{"name", "addresses"}], "domains": [...]}: the tenant's
  // people and domains that mail must not imitate (docs/phishing.md, "Impersonation").
  impersonation::ProtectedIdentities protected_identities;
};

// The policy a tenant has before it writes one: quarantine malware, unscannable objects,
// blocked file types, phishing and sandbox verdicts; tag active content and impersonation;
// log DLP matches.
TenantPolicy DefaultTenantPolicy();
std::string DefaultTenantPolicyJson();

// Parses and validates. Errors name the JSON path: "rules[2].action: must be one of log, …".
Result<TenantPolicy> ParseTenantPolicy(std::string_view json);
std::string TenantPolicyToJson(const TenantPolicy& policy);

// Who and where a scanned object came from, for rule scopes.
struct ScanSubject {
  std::string service = "api";
  std::string user;  // recipient or owner address
  std::vector<std::string> groups;
};

struct Decision {
  Action action = Action::kLog;  // what is done (kLog when monitoring)
  Action intended = Action::kLog;  // what the policy asks for
  bool monitor = false;            // intended action not applied (monitor mode)
  std::string rule;                // deciding rule's name ("" = nothing fired)
  std::vector<std::string> protections;  // every protection that fired
};

// The decision for a scan report's findings under `policy` for `subject`.
Decision Decide(const TenantPolicy& policy, const engine::ScanReport& report,
                const ScanSubject& subject);

}  // namespace bulwark::service

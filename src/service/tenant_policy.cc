#include "service/tenant_policy.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace bulwark::service {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 6> kActionNames = {"log", "notify", "tag",
                                                          "quarantine", "delete", "reject"};

std::string OneOf(std::span<const std::string_view> names) {
  std::string out = "must be one of ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

Status PathError(const std::string& path, const std::string& message) {
  return InvalidArgumentError("policy: " + path + ": " + message);
}

bool IsProtection(std::string_view name) {
  return std::find(std::begin(kProtections), std::end(kProtections), name) !=
         std::end(kProtections);
}

Status ReadStrings(const json& object, const std::string& key, const std::string& path,
                   std::vector<std::string>& out, bool lower) {
  auto it = object.find(key);
  if (it == object.end()) return OkStatus();
  if (!it->is_array()) return PathError(path + "." + key, "must be an array of strings");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& element = (*it)[i];
    if (!element.is_string() || element.get_ref<const std::string&>().empty()) {
      return PathError(path + "." + key + "[" + std::to_string(i) + "]",
                       "must be a non-empty string");
    }
    std::string value = element.get<std::string>();
    if (lower) std::transform(value.begin(), value.end(), value.begin(), ::tolower);
    out.push_back(std::move(value));
  }
  return OkStatus();
}

// "impersonation": {"people": [{"name": "Jane Doe", "addresses": ["jane@acme.com"]}],
//                   "domains": ["acme.com"]}
Result<impersonation::ProtectedIdentities> ParseIdentities(const json& object) {
  const std::string path = "impersonation";
  if (!object.is_object()) return PathError(path, "must be an object");
  for (const auto& [key, value] : object.items()) {
    if (key != "people" && key != "domains") {
      return PathError(path + "." + key, "unknown key (people, domains)");
    }
  }
  impersonation::ProtectedIdentities identities;
  BULWARK_RETURN_IF_ERROR(ReadStrings(object, "domains", path, identities.domains, true));
  if (identities.domains.size() > 1000) return PathError(path + ".domains", "at most 1000");
  auto people = object.find("people");
  if (people == object.end()) return identities;
  if (!people->is_array()) return PathError(path + ".people", "must be an array of people");
  if (people->size() > 1000) return PathError(path + ".people", "at most 1000");
  for (std::size_t i = 0; i < people->size(); ++i) {
    const std::string at = path + ".people[" + std::to_string(i) + "]";
    const json& entry = (*people)[i];
    if (!entry.is_object()) return PathError(at, "must be an object");
    for (const auto& [key, value] : entry.items()) {
      if (key != "name" && key != "addresses") {
        return PathError(at + "." + key, "unknown key (name, addresses)");
      }
    }
    auto name = entry.find("name");
    if (name == entry.end() || !name->is_string() || name->get_ref<const std::string&>().empty() ||
        name->get_ref<const std::string&>().size() > 200) {
      return PathError(at + ".name", "required, 1-200 characters");
    }
    impersonation::ProtectedPerson person;
    person.name = name->get<std::string>();
    BULWARK_RETURN_IF_ERROR(ReadStrings(entry, "addresses", at, person.addresses, true));
    identities.people.push_back(std::move(person));
  }
  return identities;
}

Result<PolicyRule> ParseRule(const json& object, const std::string& path) {
  if (!object.is_object()) return PathError(path, "must be an object");
  static constexpr std::string_view kKeys[] = {"name",     "protection", "action",
                                               "priority", "monitor",    "scope",
                                               "dlp_templates"};
  for (const auto& [key, value] : object.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return PathError(path + "." + key, "unknown key");
    }
  }
  PolicyRule rule;
  auto name = object.find("name");
  if (name == object.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return PathError(path + ".name", "required, a non-empty string");
  }
  rule.name = name->get<std::string>();
  auto protection = object.find("protection");
  if (protection == object.end() || !protection->is_string() ||
      !IsProtection(protection->get_ref<const std::string&>())) {
    return PathError(path + ".protection", "required, " + OneOf(kProtections));
  }
  rule.protection = protection->get<std::string>();
  auto action = object.find("action");
  std::optional<Action> parsed_action;
  if (action != object.end() && action->is_string()) {
    parsed_action = ParseAction(action->get_ref<const std::string&>());
  }
  if (!parsed_action) return PathError(path + ".action", "required, " + OneOf(kActionNames));
  rule.action = *parsed_action;
  if (auto priority = object.find("priority"); priority != object.end()) {
    if (!priority->is_number_integer() || priority->get<std::int64_t>() < 0 ||
        priority->get<std::int64_t>() > 1000000) {
      return PathError(path + ".priority", "must be an integer from 0 to 1000000");
    }
    rule.priority = priority->get<int>();
  }
  if (auto monitor = object.find("monitor"); monitor != object.end()) {
    if (!monitor->is_boolean()) return PathError(path + ".monitor", "must be true or false");
    rule.monitor = monitor->get<bool>();
  }
  if (auto scope = object.find("scope"); scope != object.end()) {
    if (!scope->is_object()) return PathError(path + ".scope", "must be an object");
    for (const auto& [key, value] : scope->items()) {
      if (key != "services" && key != "users" && key != "groups") {
        return PathError(path + ".scope." + key, "unknown key (services, users, groups)");
      }
    }
    BULWARK_RETURN_IF_ERROR(ReadStrings(*scope, "services", path + ".scope", rule.services, true));
    BULWARK_RETURN_IF_ERROR(ReadStrings(*scope, "users", path + ".scope", rule.users, true));
    BULWARK_RETURN_IF_ERROR(ReadStrings(*scope, "groups", path + ".scope", rule.groups, false));
  }
  BULWARK_RETURN_IF_ERROR(ReadStrings(object, "dlp_templates", path, rule.dlp_templates, false));
  if (!rule.dlp_templates.empty() && rule.protection != "dlp") {
    return PathError(path + ".dlp_templates", "only for protection \"dlp\"");
  }
  return rule;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool InScope(const PolicyRule& rule, const ScanSubject& subject) {
  if (!rule.services.empty() && !Contains(rule.services, subject.service)) return false;
  if (!rule.users.empty()) {
    std::string user = subject.user;
    std::transform(user.begin(), user.end(), user.begin(), ::tolower);
    if (!Contains(rule.users, user)) return false;
  }
  if (!rule.groups.empty()) {
    bool any = std::any_of(subject.groups.begin(), subject.groups.end(),
                           [&](const std::string& g) { return Contains(rule.groups, g); });
    if (!any) return false;
  }
  return true;
}

// "DLP.PCI-DSS" → "PCI-DSS".
std::string_view DlpTemplateOf(const engine::Finding& finding) {
  std::string_view name = finding.name;
  return name.rfind("DLP.", 0) == 0 ? name.substr(4) : name;
}

bool RuleCovers(const PolicyRule& rule, const engine::Finding& finding) {
  if (rule.protection != ProtectionOf(finding)) return false;
  if (rule.protection == "dlp" && !rule.dlp_templates.empty()) {
    return Contains(rule.dlp_templates, DlpTemplateOf(finding));
  }
  return true;
}

}  // namespace

std::string_view ActionName(Action action) {
  return kActionNames[static_cast<std::size_t>(action)];
}

std::optional<Action> ParseAction(std::string_view name) {
  for (std::size_t i = 0; i < kActionNames.size(); ++i) {
    if (kActionNames[i] == name) return static_cast<Action>(i);
  }
  return std::nullopt;
}

std::string_view ProtectionOf(const engine::Finding& finding) {
  if (finding.category == engine::Category::kUnscannable) return "unscannable";
  if (finding.category == engine::Category::kMalware) return "malware";
  if (finding.detector == "dlp") return "dlp";
  if (finding.detector == "phishing" || finding.detector == "urls") return "phishing";
  if (finding.detector == "impersonation") return "impersonation";
  if (finding.detector == "sandbox") return "sandbox";
  std::string_view name = finding.name;
  if (name.rfind("FileBlocking.", 0) == 0 || name.rfind("FileType.", 0) == 0) {
    return "file_blocking";
  }
  if (finding.detector == "activecontent") return "active_content";
  return "malware";  // generic rules and heuristics of the signature detectors
}

TenantPolicy DefaultTenantPolicy() {
  auto rule = [](std::string protection, Action action) {
    PolicyRule r;
    r.name = "default " + protection;
    r.protection = std::move(protection);
    r.action = action;
    r.priority = 1000;
    return r;
  };
  TenantPolicy policy;
  policy.rules = {rule("malware", Action::kQuarantine),
                  rule("unscannable", Action::kQuarantine),
                  rule("file_blocking", Action::kQuarantine),
                  rule("active_content", Action::kTag),
                  rule("dlp", Action::kLog),
                  rule("phishing", Action::kQuarantine),
                  rule("impersonation", Action::kTag),
                  rule("sandbox", Action::kQuarantine)};
  return policy;
}

std::string DefaultTenantPolicyJson() { return TenantPolicyToJson(DefaultTenantPolicy()); }

Result<TenantPolicy> ParseTenantPolicy(std::string_view text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return InvalidArgumentError("policy: not valid JSON");
  if (!document.is_object()) return PathError("$", "must be an object");
  for (const auto& [key, value] : document.items()) {
    if (key != "mode" && key != "rules" && key != "impersonation") {
      return PathError(key, "unknown key (mode, rules, impersonation)");
    }
  }
  TenantPolicy policy;
  if (auto mode = document.find("mode"); mode != document.end()) {
    if (!mode->is_string() || (*mode != "enforce" && *mode != "monitor")) {
      return PathError("mode", "must be \"enforce\" or \"monitor\"");
    }
    policy.monitor_only = *mode == "monitor";
  }
  auto rules = document.find("rules");
  if (rules == document.end() || !rules->is_array()) {
    return PathError("rules", "required, an array of rules");
  }
  if (rules->size() > 1000) return PathError("rules", "at most 1000 rules");
  for (std::size_t i = 0; i < rules->size(); ++i) {
    BULWARK_ASSIGN_OR_RETURN(PolicyRule rule,
                             ParseRule((*rules)[i], "rules[" + std::to_string(i) + "]"));
    policy.rules.push_back(std::move(rule));
  }
  if (auto identities = document.find("impersonation"); identities != document.end()) {
    BULWARK_ASSIGN_OR_RETURN(policy.protected_identities, ParseIdentities(*identities));
  }
  std::stable_sort(policy.rules.begin(), policy.rules.end(),
                   [](const PolicyRule& a, const PolicyRule& b) { return a.priority < b.priority; });
  return policy;
}

std::string TenantPolicyToJson(const TenantPolicy& policy) {
  json rules = json::array();
  for (const auto& r : policy.rules) {
    json rule = {{"name", r.name},
                 {"protection", r.protection},
                 {"action", ActionName(r.action)},
                 {"priority", r.priority}};
    if (r.monitor) rule["monitor"] = true;
    json scope = json::object();
    if (!r.services.empty()) scope["services"] = r.services;
    if (!r.users.empty()) scope["users"] = r.users;
    if (!r.groups.empty()) scope["groups"] = r.groups;
    if (!scope.empty()) rule["scope"] = scope;
    if (!r.dlp_templates.empty()) rule["dlp_templates"] = r.dlp_templates;
    rules.push_back(std::move(rule));
  }
  json document{{"mode", policy.monitor_only ? "monitor" : "enforce"}, {"rules", rules}};
  const impersonation::ProtectedIdentities& ids = policy.protected_identities;
  if (!ids.empty()) {
    json people = json::array();
    for (const auto& p : ids.people) people.push_back({{"name", p.name}, {"addresses", p.addresses}});
    document["impersonation"] = {{"people", people}, {"domains", ids.domains}};
  }
  return document.dump();
}

Decision Decide(const TenantPolicy& policy, const engine::ScanReport& report,
                const ScanSubject& subject) {
  Decision decision;
  bool any = false;
  for (const auto& finding : report.findings) {
    std::string_view protection = ProtectionOf(finding);
    if (!Contains(decision.protections, protection)) {
      decision.protections.emplace_back(protection);
    }
    for (const auto& rule : policy.rules) {  // sorted by priority: the first match decides
      if (!RuleCovers(rule, finding) || !InScope(rule, subject)) continue;
      if (!any || rule.action > decision.intended) {
        decision.intended = rule.action;
        decision.rule = rule.name;
        decision.monitor = policy.monitor_only || rule.monitor;
      }
      any = true;
      break;
    }
  }
  decision.action = decision.monitor ? Action::kLog : decision.intended;
  return decision;
}

}  // namespace bulwark::service

#include "service/access.h"

#include <algorithm>

namespace bulwark::service {

bool RoleAllows(storage::Role role, Permission p) {
  using storage::Role;
  switch (role) {
    case Role::kSiteOperator:
      return p == Permission::kManageTenants || p == Permission::kManageSiteTokens;
    case Role::kTenantAdmin:
      return p != Permission::kManageTenants && p != Permission::kManageSiteTokens;
    case Role::kAnalyst:
      return p == Permission::kScan || p == Permission::kReadEvents ||
             p == Permission::kReadPolicy || p == Permission::kReadQuarantine ||
             p == Permission::kReleaseQuarantine || p == Permission::kDeleteQuarantine ||
             p == Permission::kDownloadQuarantine || p == Permission::kReadMailboxes ||
             p == Permission::kRestoreMailbox;
    case Role::kAuditor:
      return p == Permission::kReadEvents || p == Permission::kReadPolicy ||
             p == Permission::kReadQuarantine || p == Permission::kReadAudit ||
             p == Permission::kReadMailboxes;
  }
  return false;
}

std::string_view ScopeFor(Permission p) {
  switch (p) {
    case Permission::kScan: return "scan";
    case Permission::kReadEvents: return "events:read";
    case Permission::kReadPolicy: return "policy:read";
    case Permission::kWritePolicy: return "policy:write";
    case Permission::kReadQuarantine: return "quarantine:read";
    case Permission::kReleaseQuarantine:
    case Permission::kDeleteQuarantine:
    case Permission::kDownloadQuarantine: return "quarantine:write";
    case Permission::kReadAudit: return "audit:read";
    case Permission::kReadMailboxes: return "mailboxes:read";
    case Permission::kManageMailboxes: return "mailboxes:write";
    case Permission::kRestoreMailbox: return "quarantine:write";
    case Permission::kManageTenants:
    case Permission::kManageSiteTokens:
    case Permission::kManageUsers:
    case Permission::kManageTokens: return "admin";
  }
  return "admin";
}

bool IsKnownScope(std::string_view scope) {
  static constexpr std::string_view kScopes[] = {
      "scan",         "events:read",      "policy:read", "policy:write",
      "quarantine:read", "quarantine:write", "audit:read", "mailboxes:read",
      "mailboxes:write", "admin"};
  return std::find(std::begin(kScopes), std::end(kScopes), scope) != std::end(kScopes);
}

bool Principal::Can(Permission permission) const {
  if (!RoleAllows(role, permission)) return false;
  if (kind == Kind::kUser) return true;
  std::string_view needed = ScopeFor(permission);
  return std::find(scopes.begin(), scopes.end(), needed) != scopes.end();
}

}  // namespace bulwark::service

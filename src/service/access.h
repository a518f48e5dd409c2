#pragma once
// Access: who is calling (Principal) and what each role may do (least privilege).
//
//   site operator     manages tenants, site tokens and the service; no tenant content,
//                     events, policies or quarantine.
//   tenant admin      everything inside its tenant.
//   analyst           scans, events, quarantine (list, release, delete, download).
//   auditor           read-only: events, policy, lists, quarantine list, audit log.
//
// Tenant-owned endpoints act on the caller's own tenant only: there is no tenant id in
// their paths, so another tenant's objects cannot even be named.

#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace bulwark::service {

enum class Permission {
  kManageTenants,
  kManageSiteTokens,
  kScan,
  kReadEvents,
  kReadPolicy,
  kWritePolicy,
  kManageUsers,
  kManageTokens,
  kReadQuarantine,
  kReleaseQuarantine,
  kDeleteQuarantine,
  kDownloadQuarantine,
  kReadAudit,
  kReadMailboxes,    // mailbox connectors: state, folders, sweeps, mailbox quarantine
  kManageMailboxes,  // create/delete connectors, credentials, sweeps
  kRestoreMailbox,   // move a message back from a mailbox's quarantine folder
};

bool RoleAllows(storage::Role role, Permission permission);

// Token scopes narrow a token below its role: "scan", "events:read", "policy:read",
// "policy:write", "quarantine:read", "quarantine:write", "audit:read", "mailboxes:read",
// "mailboxes:write", "admin". A token
// holds a permission only when its role allows it AND one of its scopes covers it.
std::string_view ScopeFor(Permission permission);
bool IsKnownScope(std::string_view scope);

struct Principal {
  enum class Kind { kUser, kToken } kind = Kind::kUser;
  std::string id;         // user or token id
  std::string tenant_id;  // "" for the site operator
  storage::Role role = storage::Role::kAuditor;
  std::vector<std::string> scopes;  // tokens only
  std::string session_id_hash;      // sessions only
  std::string email;                // users only

  bool Can(Permission permission) const;
};

}  // namespace bulwark::service

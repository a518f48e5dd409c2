#pragma once
// Administrative acts shared by the API and the command line (`bulwark tenant|user|token`).
// Each validates its input, does the act and writes its audit record; an act whose audit
// record cannot be written reports the failure.

#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "service/site.h"
#include "storage/store.h"

namespace bulwark::service {

Result<storage::Tenant> CreateTenant(Site& site, const std::string& actor,
                                     const std::string& name);
Status SetTenantDisabled(Site& site, const std::string& actor, const std::string& tenant_id,
                         bool disabled);
// A tenant by id or, failing that, by name.
Result<storage::Tenant> FindTenant(Site& site, const std::string& id_or_name);

struct NewUser {
  storage::User user;
  std::string one_time_password;  // shown once; must be changed at first login
};
// tenant_id "" with Role::kSiteOperator adds a site operator.
Result<NewUser> AddUser(Site& site, const std::string& actor, const std::string& tenant_id,
                        const std::string& email, storage::Role role);
Status ResetUserMfa(Site& site, const std::string& actor, storage::User user);

struct NewToken {
  storage::ApiToken token;
  std::string secret;  // shown once; stored hashed
};
struct TokenRequest {
  std::string tenant_id;  // "" = site token (site operator role)
  std::string user_id;    // creator ("" from the command line)
  std::string name;
  storage::Role role = storage::Role::kAnalyst;
  std::vector<std::string> scopes;
  std::int64_t expires_in_days = 90;  // 0 = never
};
Result<NewToken> CreateToken(Site& site, const std::string& actor, const TokenRequest& request);
Status RevokeToken(Site& site, const std::string& actor, const std::string& tenant_id,
                   const std::string& token_id);

}  // namespace bulwark::service

#pragma once
// The route groups of the API, one per file (api_auth.cc, api_admin.cc, api_content.cc,
// api_quarantine.cc). BuildApiRouter (api.cc) calls them all.

#include "http/server.h"
#include "service/site.h"

namespace bulwark::service::api {

void AddAuthRoutes(http::Router& router, Site& site);        // login, logout, MFA, password
void AddAdminRoutes(http::Router& router, Site& site);       // tenants, users, tokens, audit
void AddContentRoutes(http::Router& router, Site& site);     // scan, events, policy, lists
void AddQuarantineRoutes(http::Router& router, Site& site);  // quarantine

}  // namespace bulwark::service::api

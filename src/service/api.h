#pragma once
// The HTTPS API of a site: /api/v1 (docs/api.md, docs/openapi.yaml), /healthz, /readyz,
// /metrics.

#include <memory>

#include "http/server.h"
#include "service/site.h"

namespace bulwark::service {

// The router serving `site`. The site must outlive the router.
std::shared_ptr<http::Router> BuildApiRouter(Site& site);

}  // namespace bulwark::service

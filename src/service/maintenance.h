#pragma once
// Maintenance: the retention jobs `bulwark serve` runs every hour (and tests run directly):
// events older than each tenant's retention, expired quarantine items, expired sessions.

#include <cstdint>

#include "bulwark/common/result.h"
#include "service/site.h"

namespace bulwark::service {

struct MaintenanceReport {
  std::int64_t events_purged = 0;
  std::int64_t quarantine_purged = 0;
};

Result<MaintenanceReport> RunMaintenance(Site& site, std::int64_t now);

}  // namespace bulwark::service

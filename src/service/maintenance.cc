#include "service/maintenance.h"

#include <nlohmann/json.hpp>

namespace bulwark::service {

Result<MaintenanceReport> RunMaintenance(Site& site, std::int64_t now) {
  MaintenanceReport report;
  BULWARK_RETURN_IF_ERROR(site.store().DeleteExpiredSessions(now));
  BULWARK_ASSIGN_OR_RETURN(std::vector<storage::Tenant> tenants, site.store().ListTenants());
  for (const auto& tenant : tenants) {
    BULWARK_ASSIGN_OR_RETURN(
        std::int64_t events,
        site.store().PurgeEvents(tenant.id, now - tenant.retention_days * 86400));
    BULWARK_ASSIGN_OR_RETURN(std::int64_t items, site.quarantine().PurgeExpired(tenant.id, now));
    if (events > 0 || items > 0) {
      BULWARK_RETURN_IF_ERROR(site.Audit(tenant.id, "bulwark", "retention.purge", tenant.id,
                                         nlohmann::json{{"events", events},
                                                        {"quarantine_items", items}}
                                             .dump()));
    }
    report.events_purged += events;
    report.quarantine_purged += items;
  }
  return report;
}

}  // namespace bulwark::service

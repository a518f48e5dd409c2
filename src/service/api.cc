#include "service/api.h"

#include "service/api_routes.h"
#include "service/api_support.h"

namespace bulwark::service {

std::shared_ptr<http::Router> BuildApiRouter(Site& site) {
  auto router = std::make_shared<http::Router>();
  // Light routes run on the I/O thread: they answer while scans saturate the workers.
  router->Add("GET", "/healthz",
              [](const http::Request&, const http::PathParams&) {
                return http::Response::Json(200, R"({"status":"ok"})");
              },
              /*inline_handler=*/true);
  router->Add("GET", "/metrics",
              [&site](const http::Request&, const http::PathParams&) {
                http::Response response;
                response.content_type = "text/plain; version=0.0.4; charset=utf-8";
                response.body = site.metrics().RenderPrometheus();
                return response;
              },
              /*inline_handler=*/true);
  router->Add("GET", "/readyz", [&site](const http::Request&, const http::PathParams&) {
    Result<std::optional<std::string>> probe = site.store().GetMeta("site_id");
    if (!probe.ok()) {
      return http::Response::Json(503, R"({"status":"unavailable","database":"unreachable"})");
    }
    return http::Response::Json(
        200, api::json{{"status", "ready"}, {"site", site.config().site.id}}.dump());
  });
  api::AddAuthRoutes(*router, site);
  api::AddAdminRoutes(*router, site);
  api::AddContentRoutes(*router, site);
  api::AddQuarantineRoutes(*router, site);
  return router;
}

}  // namespace bulwark::service

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "http/server.h"

namespace bulwark::http {
namespace {

RoutedHandler Returns(std::string body) {
  return [body](const Request&, const PathParams&) { return Response::Json(200, body); };
}

TEST(RouterTest, MatchesLiteralAndParameterSegments) {
  Router router;
  router.Add("GET", "/api/v1/events", Returns("list"));
  router.Add("GET", "/api/v1/events/{id}", Returns("one"));
  router.Add("GET", "/api/v1/tenants/{tenant}/sites/{site}", Returns("site"), true);

  Router::Match match = router.Resolve("GET", "/api/v1/events");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.pattern, "/api/v1/events");
  EXPECT_TRUE(match.params.empty());

  match = router.Resolve("GET", "/api/v1/events/42");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.pattern, "/api/v1/events/{id}");
  EXPECT_EQ(match.params.at("id"), "42");
  EXPECT_FALSE(match.inline_handler);

  match = router.Resolve("GET", "/api/v1/tenants/t1/sites/s 2");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_TRUE(match.inline_handler);
  EXPECT_EQ(match.params.at("tenant"), "t1");
  EXPECT_EQ(match.params.at("site"), "s 2");
}

TEST(RouterTest, UnknownPathIs404) {
  Router router;
  router.Add("GET", "/api/v1/events/{id}", Returns("one"));
  for (const char* path : {"/", "/api", "/api/v1/events", "/api/v1/events/", "/api/v1/events/1/x",
                           "/API/v1/events/1"}) {
    Router::Match match = router.Resolve("GET", path);
    EXPECT_EQ(match.handler, nullptr) << path;
    EXPECT_EQ(match.status, 404) << path;
  }
}

TEST(RouterTest, OtherMethodIs405WithAllow) {
  Router router;
  router.Add("POST", "/api/v1/scan", Returns("scan"));
  router.Add("PUT", "/api/v1/scan", Returns("scan"));
  Router::Match match = router.Resolve("GET", "/api/v1/scan");
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_EQ(match.status, 405);
  EXPECT_EQ(match.allow, "POST, PUT");

  Request request;
  request.method = "DELETE";
  request.path = "/api/v1/scan";
  Response response = router.Dispatch(request);
  EXPECT_EQ(response.status, 405);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "Allow");
  EXPECT_EQ(response.headers[0].second, "POST, PUT");
  EXPECT_NE(response.body.find("\"code\":\"method_not_allowed\""), std::string::npos);

  request.path = "/nowhere";
  response = router.Dispatch(request);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body.find("{\"error\":{\"code\":\"not_found\",\"message\":"), 0u);
}

TEST(RouterTest, LiteralBeatsParameterWhateverTheOrder) {
  Router router;
  router.Add("GET", "/events/{id}", Returns("param"));
  router.Add("GET", "/events/stats", Returns("literal"));
  router.Add("GET", "/{a}/x", Returns("first-param"));
  router.Add("GET", "/events/{b}", Returns("shadowed"));

  Request request;
  request.method = "GET";
  request.path = "/events/stats";
  EXPECT_EQ(router.Dispatch(request).body, "literal");
  request.path = "/events/7";
  EXPECT_EQ(router.Dispatch(request).body, "param");  // added first among equals
  request.path = "/events/x";
  EXPECT_EQ(router.Dispatch(request).body, "param");  // literal first segment wins
}

TEST(RouterTest, DispatchPassesParams) {
  Router router;
  router.Add("GET", "/objects/{key}", [](const Request& request, const PathParams& params) {
    return Response::Json(200, params.at("key") + "|" + request.Query("v"));
  });
  Request request;
  request.method = "GET";
  request.path = "/objects/abc";
  request.query.emplace("v", "2");
  EXPECT_EQ(router.Dispatch(request).body, "abc|2");
}

TEST(RequestTest, HeaderQueryAndCookie) {
  Request request;
  request.headers.emplace("cookie", "a=1; session=\"xyz\" ;b=2");
  request.headers.emplace("x-one", "first");
  request.headers.emplace("x-one", "second");
  request.query.emplace("q", "v");
  EXPECT_EQ(request.Cookie("session"), "xyz");
  EXPECT_EQ(request.Cookie("a"), "1");
  EXPECT_EQ(request.Cookie("b"), "2");
  EXPECT_EQ(request.Cookie("missing"), "");
  EXPECT_EQ(request.Header("x-one"), "first");
  EXPECT_EQ(request.Header("x-two"), "");
  EXPECT_EQ(request.Query("q"), "v");
  EXPECT_EQ(request.Query("r"), "");
}

TEST(ResponseTest, ErrorEscapesJson) {
  Response response = Response::Error(400, "bad\"code", "line\nwith \\ and \x01");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            "{\"error\":{\"code\":\"bad\\\"code\",\"message\":\"line\\nwith \\\\ and "
            "\\u0001\"}}");
}

}  // namespace
}  // namespace bulwark::http

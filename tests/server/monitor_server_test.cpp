// The monitoring server over real sockets: every endpoint's status, type and headers, and the
// answers to requests it must refuse (unknown paths, wrong methods, oversized or slow requests).
#include "server/server_fixture.h"

#include <xmem/error.h>
#include <xmem/exposition.h>

#include <nlohmann/json.hpp>

#include <future>
#include <thread>

namespace xmem::testing {
namespace {

struct Endpoint {
  std::string path;
  std::string contentType;
};

const std::vector<Endpoint>& getEndpoints() {
  static const std::vector<Endpoint> endpoints = {
      {"/api/v1", "application/json"},           {"/api/v1/snapshot", "application/json"},
      {"/api/v1/machine", "application/json"},   {"/api/v1/allocations", "application/json"},
      {"/api/v1/pools", "application/json"},     {"/api/v1/processes", "application/json"},
      {"/api/v1/bandwidth", "application/json"}, {"/api/v1/history", "application/json"},
      {"/metrics", std::string(kPrometheusContentType)},
      {"/", "text/html; charset=utf-8"},         {"/page.js", "text/javascript; charset=utf-8"},
      {"/page.css", "text/css; charset=utf-8"}};
  return endpoints;
}

TEST_F(ServerTest, EveryEndpointAnswersWithItsTypeAndTheSecurityHeaders) {
  serve();
  for (const auto& endpoint : getEndpoints()) {
    auto response = get(endpoint.path);
    EXPECT_EQ(response.status, 200) << endpoint.path << ": " << response.body;
    EXPECT_EQ(response.header("content-type"), endpoint.contentType) << endpoint.path;
    EXPECT_FALSE(response.body.empty()) << endpoint.path;
    expectSecurityHeaders(response, endpoint.path);
    if (endpoint.contentType == "application/json") {
      EXPECT_TRUE(nlohmann::json::parse(response.body, nullptr, false).is_object()) << endpoint.path << ": " << response.body;
    }
  }
}

TEST_F(ServerTest, TheIndexListsEveryEndpointAndNoActionsWhenReadOnly) {
  serve();
  auto index = nlohmann::json::parse(get("/api/v1").body);
  std::vector<std::string> listed;
  for (const auto& endpoint : index.at("endpoints")) listed.push_back(endpoint.at("path").get<std::string>());
  for (const auto& endpoint : getEndpoints())
    EXPECT_NE(std::find(listed.begin(), listed.end(), endpoint.path), listed.end()) << endpoint.path;
  for (const auto& path : listed) EXPECT_EQ(path.find("/actions/"), std::string::npos) << path;
  EXPECT_EQ(index.at("actions"), false);
}

// What promtool does not check, on what the server serves (the exposition's own checker).
TEST_F(ServerTest, MetricsPassTheExpositionChecks) {
  serve();
  auto response = get("/metrics");
  ASSERT_EQ(response.status, 200);
  auto problems = checkExposition(response.body);
  std::string all;
  for (const auto& problem : problems) all += problem + "\n";
  EXPECT_TRUE(problems.empty()) << all << response.body;
}

TEST_F(ServerTest, HeadAnswersLikeGetWithoutABody) {
  serve();
  auto response = rawRequest(port(), requestText("HEAD", "/api/v1", port()), true);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "application/json");
  expectSecurityHeaders(response, "HEAD /api/v1");
}

TEST_F(ServerTest, AnUnknownPathIsA404InJson) {
  serve();
  for (std::string path : {"/nope", "/api/v1/", "/api/v2/snapshot", "/metrics/x", "/../etc/passwd", "/page.js.map", "/%ff%fe",
                           "/\xff\xfe"}) {
    auto response = get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.header("content-type"), "application/json") << path;
    EXPECT_TRUE(nlohmann::json::parse(response.body, nullptr, false).contains("error")) << path << ": " << response.body;
    expectSecurityHeaders(response, path);
  }
}

TEST_F(ServerTest, AKnownPathWithTheWrongMethodIsA405ThatSaysWhichIsAllowed) {
  serve();
  auto postMetrics = post("/metrics", "");
  EXPECT_EQ(postMetrics.status, 405);
  EXPECT_EQ(postMetrics.header("allow"), "GET, HEAD");
  expectSecurityHeaders(postMetrics, "POST /metrics");
  auto getAction = get("/api/v1/actions/trim");
  EXPECT_EQ(getAction.status, 405);
  EXPECT_EQ(getAction.header("allow"), "POST");
  // A CORS preflight gets no CORS answer: it is a method like any other here.
  auto preflight = rawRequest(port(), requestText("OPTIONS", "/api/v1/snapshot", port(),
                                                  "Origin: http://evil.example\r\nAccess-Control-Request-Method: GET\r\n"));
  EXPECT_EQ(preflight.status, 405);
  expectSecurityHeaders(preflight, "OPTIONS");
  // A method the library does not route still gets our headers and a JSON body.
  auto trace = rawRequest(port(), requestText("TRACE", "/", port()));
  EXPECT_GE(trace.status, 400);
  EXPECT_LT(trace.status, 500);
  EXPECT_EQ(trace.header("content-type"), "application/json");
  expectSecurityHeaders(trace, "TRACE");
}

TEST_F(ServerTest, HeadersOverTheLimitAreRefused) {
  serve();
  // Many small headers: httplib 0.11 limits each line, not their total, so the server does.
  std::string many;
  for (int i = 0; i < 100; ++i) many += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n";
  auto response = get("/api/v1", many);
  EXPECT_EQ(response.status, 431) << response.body;
  EXPECT_NE(response.body.find("8192 bytes"), std::string::npos) << response.body;
  expectSecurityHeaders(response, "many headers");
  // Just under the limit is served.
  EXPECT_EQ(get("/api/v1", "X-Filler: " + std::string(7000, 'a') + "\r\n").status, 200);
  // One line longer than httplib's own limit (8 KiB a line) is refused by httplib itself.
  auto longLine = get("/api/v1", "X-Long: " + std::string(9000, 'a') + "\r\n");
  EXPECT_TRUE(longLine.status == 400 || longLine.status == 431) << longLine.status;
  EXPECT_EQ(longLine.header("content-type"), "application/json");
  expectSecurityHeaders(longLine, "one long header");
  // A request line over httplib's limit.
  auto longPath = get("/" + std::string(9000, 'p'));
  EXPECT_TRUE(longPath.status == 414 || longPath.status == 431 || longPath.status == 400) << longPath.status;
  expectSecurityHeaders(longPath, "long path");
}

TEST_F(ServerTest, ABodyOverTheLimitIsA413AndTheConnectionStaysInStep) {
  auto options = quickOptions();
  options.maxBodyBytes = 1024;
  serve(options);
  auto response = post("/api/v1/actions/trim", "Content-Type: application/json\r\n", std::string(2000, ' '));
  EXPECT_EQ(response.status, 413) << response.body;
  EXPECT_NE(response.body.find("1024 bytes"), std::string::npos) << response.body;
  expectSecurityHeaders(response, "big body");
  // On one kept-alive connection: a refused request's body (a request in disguise) is read as
  // a body, not served as the next request.
  RawConnection connection(port());
  const std::string hidden = "GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  connection.send("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(hidden.size()) + "\r\n\r\n");
  // Apart from the headers, so that it reaches the socket after them (httplib reads ahead).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  connection.send(hidden);
  auto refused = connection.receive();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 405);
  EXPECT_FALSE(connection.receive(std::chrono::milliseconds(300))) << "the body was served as a request";
}

TEST_F(ServerTest, ASlowClientIsDroppedAfterTheTimeoutWhileOthersAreServed) {
  serve();  // requestTimeout 1 s, 2 threads
  RawConnection slow(port());
  slow.send("GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // and never the blank line
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(get("/api/v1").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(900)) << "served only after the slow one went";
  auto closedAfter = slow.waitForClose(std::chrono::seconds(4));
  ASSERT_TRUE(closedAfter) << "a client that sent half a request was still connected after 4 s (timeout 1 s)";
  EXPECT_GT(closedAfter->count(), 400) << "dropped before its timeout";
  EXPECT_LT(closedAfter->count(), 3000);
}

TEST_F(ServerTest, AnIdleKeptAliveConnectionDoesNotHoldAThreadForLong) {
  serve();
  RawConnection idle(port());
  idle.send("GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  auto first = idle.receive();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  auto closedAfter = idle.waitForClose(std::chrono::seconds(4));
  ASSERT_TRUE(closedAfter) << "an idle kept-alive connection stayed open 4 s";
}

TEST_F(ServerTest, HistoryIsRecordedAtStartAndServed) {
  serve();
  auto response = get("/api/v1/history");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_TRUE(nlohmann::json::parse(response.body, nullptr, false).contains("schema_version")) << response.body;
}

// The samples list is the shape history.h promises for historyJson.
TEST_F(ServerTest, HistoryGainsASampleEveryInterval) {
  serve();  // historyInterval 1 s
  auto samples = [this] { return nlohmann::json::parse(get("/api/v1/history").body, nullptr, false)["samples"]; };
  if (!samples().is_array()) GTEST_SKIP() << "NOT RUN: historyJson gives no \"samples\" list (the shape history.h promises)";
  const auto first = samples().size();
  EXPECT_GE(first, 1U) << "one sample is taken at start";
  EXPECT_LE(first, 2U);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const auto later = samples().size();
  EXPECT_GE(later, first + 1) << "after 2.5 s at one sample a second";
  EXPECT_LE(later, 5U) << "more samples than seconds";
}

TEST_F(ServerTest, StopsRightAfterStartingAndAgainInTheDestructor) {
  serve();
  const auto before = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(3));
  EXPECT_THROW(RawConnection{port()}, std::runtime_error);  // nothing listens any more
  server_->stop();
}

TEST_F(ServerTest, UrlNamesTheBoundPort) {
  serve();
  EXPECT_NE(port(), 0);
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(port()) + "/");
  EXPECT_TRUE(server_->warnings().empty());
}

// As docs/monitoring.md shows it: options by designated initializers, the rest left default.
TEST_F(ServerTest, StartsFromDesignatedOptions) {
  MonitorServer server(monitor_, {.listen = "127.0.0.1", .port = 0, .requestTimeout = std::chrono::seconds(1)});
  server.start();
  EXPECT_EQ(rawRequest(server.port(), requestText("GET", "/api/v1", server.port())).status, 200);
}

TEST_F(ServerTest, APortInUseIsAnErrorNamingTheAddress) {
  serve();
  auto options = quickOptions();
  options.port = port();
  MonitorServer second(monitor_, options);
  try {
    second.start();
    FAIL() << "a second server bound port " << port();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::SystemError);
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:" + std::to_string(port())), std::string::npos) << error.what();
  }
}

TEST_F(ServerTest, AnAddressThatIsNotOneIsAnErrorNamingIt) {
  auto options = quickOptions();
  options.listen = "no-such-host.invalid";
  options.token = "a-token";  // not loopback: a token is needed before it is even tried
  MonitorServer server(monitor_, options);
  try {
    server.start();
    FAIL() << "listened on " << options.listen;
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::SystemError);
    EXPECT_NE(std::string(error.what()).find("no-such-host.invalid"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace xmem::testing

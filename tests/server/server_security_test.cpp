// Who may ask what: the Host allow-list (DNS rebinding), listen addresses, tokens, and actions.
#include "server/server_fixture.h"

#include "server/http_server.h"

#include <xmem/error.h>
#include <xmem/virtual_memory.h>

#include <nlohmann/json.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace xmem::testing {
namespace {

constexpr const char* kToken = "s3cret-Token_0123456789";

std::string bearer(const std::string& token) { return "Authorization: Bearer " + token + "\r\n"; }
const std::string kJsonType = "Content-Type: application/json\r\n";

ServerOptions withActions() {
  auto options = quickOptions();
  options.allowActions = true;
  options.token = kToken;
  return options;
}

RawResponse withHost(std::uint16_t port, const std::string& hostLine) {
  return rawRequest(port, "GET /api/v1 HTTP/1.1\r\n" + hostLine + "Connection: close\r\n\r\n");
}

TEST_F(ServerTest, OnlyAllowedHostsAreServed) {
  auto options = quickOptions();
  options.allowedHosts = {"Rig.LAN"};
  serve(options);
  const auto p = std::to_string(port());
  for (const std::string& host : std::vector<std::string>{"127.0.0.1", "127.0.0.1:" + p, "localhost", "LocalHost:" + p, "[::1]:" + p, "rig.lan", "rig.lan:" + p})
    EXPECT_EQ(withHost(port(), "Host: " + host + "\r\n").status, 200) << host;
  // Exact matching: a rebinding name that merely starts or ends like an allowed one is foreign.
  for (const std::string& host : std::vector<std::string>{"evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "evil-localhost",
                           "127.0.0.2", "localhost:1", "rig.lan.", "127.0.0.1:" + p + "0", "[::1]x"}) {
    auto response = withHost(port(), "Host: " + host + "\r\n");
    EXPECT_EQ(response.status, 403) << "Host: " << host;
    EXPECT_NE(response.body.find("Host not allowed"), std::string::npos) << response.body;
    expectSecurityHeaders(response, "Host: " + host);
  }
}

TEST_F(ServerTest, ServesIpv6LoopbackWithItsBracketedHost) {
  auto options = quickOptions();
  options.listen = "::1";
  try {
    serve(options);
  } catch (const Error& error) {
    if (error.code() == ErrorCode::SystemError) GTEST_SKIP() << "NOT RUN: no IPv6 loopback here: " << error.what();
    throw;
  }
  EXPECT_TRUE(server_->warnings().empty()) << "::1 is loopback";
  EXPECT_EQ(server_->url(), "http://[::1]:" + std::to_string(port()) + "/");
  const auto request = [this](const std::string& host) {
    return rawRequest(port(), "GET /api/v1 HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n", false, true);
  };
  EXPECT_EQ(request("[::1]:" + std::to_string(port())).status, 200);
  EXPECT_EQ(request("[::1]").status, 200);
  EXPECT_EQ(request("::1").status, 403);  // not how a Host names an IPv6 address
}

TEST_F(ServerTest, HttpOneOneWithoutHostIsA400AndHttpOneZeroIsServed) {
  serve();
  auto missing = withHost(port(), "");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(withHost(port(), "Host: \r\n").status, 400);
  EXPECT_NE(missing.body.find("Host header missing"), std::string::npos) << missing.body;
  expectSecurityHeaders(missing, "no Host");
  EXPECT_EQ(rawRequest(port(), "GET /api/v1 HTTP/1.0\r\n\r\n").status, 200);
  // Nor does a POST need a Content-Length when it has no body (httplib 0.11 waited for one).
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(rawRequest(port(), "POST /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").status, 405);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(500));
}

TEST_F(ServerTest, ANonLoopbackAddressWithoutATokenIsRefused) {
  auto options = quickOptions();
  options.listen = "0.0.0.0";
  MonitorServer server(monitor_, options);
  try {
    server.start();
    FAIL() << "served 0.0.0.0 without a token";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("0.0.0.0"), std::string::npos) << error.what();
  }
}

TEST_F(ServerTest, ANonLoopbackAddressWithATokenServesWithAWarning) {
  auto options = quickOptions();
  options.listen = "0.0.0.0";
  options.token = kToken;
  serve(options);
  ASSERT_EQ(server_->warnings().size(), 1U);
  EXPECT_NE(server_->warnings()[0].find("0.0.0.0:" + std::to_string(port())), std::string::npos) << server_->warnings()[0];
  EXPECT_EQ(get("/api/v1").status, 200);  // reached over loopback, Host 127.0.0.1
}

TEST_F(ServerTest, ActionsWithoutATokenAndBadOptionsAreRefusedByName) {
  auto check = [this](ServerOptions options, const std::string& named) {
    MonitorServer server(monitor_, std::move(options));
    try {
      server.start();
      ADD_FAILURE() << "started; expected a refusal naming " << named;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
      EXPECT_NE(std::string(error.what()).find(named), std::string::npos) << error.what();
    }
  };
  auto actions = quickOptions();
  actions.allowActions = true;
  check(actions, "no token");
  auto spaced = withActions();
  spaced.token = "two words";
  check(spaced, "control character");
  auto host = quickOptions();
  host.allowedHosts = {"rig.lan", "http://rig.lan/"};
  check(host, "\"http://rig.lan/\" is not a host name");
  auto threads = quickOptions();
  threads.threads = 0;
  check(threads, "threads is 0");
  auto timeout = quickOptions();
  timeout.requestTimeout = std::chrono::seconds(0);
  check(timeout, "requestTimeout is 0");
}

TEST_F(ServerTest, ActionsAreDisabledByDefault) {
  serve();
  for (std::string action : {"trim", "bandwidth", "reserve", "release", "promote", "migrate"}) {
    auto response = post("/api/v1/actions/" + action, bearer(kToken) + kJsonType, "{}");
    EXPECT_EQ(response.status, 403) << action;
    EXPECT_NE(response.body.find("actions are disabled"), std::string::npos) << response.body;
  }
}

TEST_F(ServerTest, AnActionNeedsTheRightTokenAndJson) {
  serve(withActions());
  auto missing = post("/api/v1/actions/trim", kJsonType, "{}");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.header("www-authenticate"), "Bearer");
  expectSecurityHeaders(missing, "no token");
  const std::string token = kToken;
  for (const std::string& wrong : std::vector<std::string>{token + "x", token.substr(0, token.size() - 1), std::string("x") + token.substr(1), std::string("")}) {
    auto response = post("/api/v1/actions/trim", bearer(wrong) + kJsonType, "{}");
    EXPECT_EQ(response.status, 403) << "token '" << wrong << "'";
    EXPECT_NE(response.body.find("wrong token"), std::string::npos) << response.body;
  }
  EXPECT_EQ(post("/api/v1/actions/trim", "Authorization: " + token + "\r\n" + kJsonType, "{}").status, 403);  // no "Bearer"
  // The right token, but a form a browser page could send to another origin without asking.
  auto form = post("/api/v1/actions/trim", bearer(kToken) + "Content-Type: text/plain\r\n", "{}");
  EXPECT_EQ(form.status, 415);
  auto right = post("/api/v1/actions/trim", bearer(kToken) + "Content-Type: application/json; charset=utf-8\r\n", "{}");
  EXPECT_EQ(right.status, 200) << right.body;
  EXPECT_TRUE(nlohmann::json::parse(right.body, nullptr, false).contains("released_bytes")) << right.body;
  expectSecurityHeaders(right, "trim");
  EXPECT_EQ(nlohmann::json::parse(get("/api/v1").body).at("actions"), true);
}

TEST_F(ServerTest, BadActionBodiesAreA400NamingTheValue) {
  serve(withActions());
  const auto headers = bearer(kToken) + kJsonType;
  struct Case {
    std::string body;
    std::string named;
  };
  for (const auto& [body, named] : std::vector<Case>{{"not json", "not a JSON object"},
                                                     {"[1]", "not a JSON object"},
                                                     {"\xff\xfe not UTF-8", "not a JSON object"},
                                                     {R"({"page_size": "3X", "count": 1})", "\"3X\""},
                                                     {R"({"page_size": 2097152, "count": 1})", "2097152"},
                                                     {R"({"page_size": "2M", "count": 0})", "\"count\" is 0"},
                                                     {R"({"page_size": "2M", "count": -4})", "\"count\" is -4"},
                                                     {R"({"page_size": "2M", "count": "many"})", "\"many\""},
                                                     {R"({"page_size": "2M", "count": 1, "node": -1})", "\"node\" is -1"},
                                                     {R"({"page_size": "2M", "count": 1, "colour": 1})", "\"colour\""},
                                                     {R"({"count": 1})", "page_size"}}) {
    auto response = post("/api/v1/actions/reserve", headers, body);
    EXPECT_EQ(response.status, 400) << body << " -> " << response.body;
    auto error = nlohmann::json::parse(response.body, nullptr, false);
    ASSERT_TRUE(error.contains("error")) << response.body;
    EXPECT_NE(error.at("error").get<std::string>().find(named), std::string::npos) << body << " -> " << response.body;
  }
  EXPECT_EQ(post("/api/v1/actions/trim", headers, R"({"all": true})").status, 400);
}

// Promote and migrate act on this process's own allocations, named by address, and on nothing else.
TEST_F(ServerTest, PromoteAndMigrateTakeOnlyThisProcesssAllocations) {
  VirtualMemoryOptions options;
  options.size = 8 * MiB;
  options.hugePages = false;
  options.transparentHugePages = false;  // base pages: promote has work to do
  options.name = "served-allocation";
  VirtualMemory memory(options);
  std::fill_n(memory.data(), memory.size(), 1);
  serve(withActions());
  const auto headers = bearer(kToken) + kJsonType;
  char address[32];
  std::snprintf(address, sizeof(address), "0x%llx", static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(memory.data())));

  auto promoted = post("/api/v1/actions/promote", headers, std::string(R"({"address": ")") + address + "\"}");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  const auto done = nlohmann::json::parse(promoted.body);
  EXPECT_EQ(done.at("eligible_bytes"), 8 * MiB) << promoted.body;
  EXPECT_TRUE(done.at("collapsed").get<bool>() || done.at("deferred").get<bool>()) << promoted.body;

  auto migrated = post("/api/v1/actions/migrate", headers, std::string(R"({"address": ")") + address + R"(", "node": 0})");
  ASSERT_EQ(migrated.status, 200) << migrated.body;
  EXPECT_EQ(nlohmann::json::parse(migrated.body).at("failed"), 0) << migrated.body;

  for (const auto& [body, named] : std::vector<std::pair<std::string, std::string>>{
           {R"({"address": "0x10"})", "is not the start of one of this process's allocations"},
           {R"({"address": "12345"})", "expected a hexadecimal address"},
           {R"({})", "is missing: expected an allocation's address"}}) {
    auto refused = post("/api/v1/actions/promote", headers, body);
    EXPECT_EQ(refused.status, 400) << body;
    EXPECT_NE(refused.body.find(named), std::string::npos) << body << " -> " << refused.body;
  }
  auto noNode = post("/api/v1/actions/migrate", headers, std::string(R"({"address": ")") + address + "\"}");
  EXPECT_EQ(noNode.status, 400);
  EXPECT_NE(noNode.body.find("expected a node number"), std::string::npos) << noNode.body;
  auto farNode = post("/api/v1/actions/migrate", headers, std::string(R"({"address": ")") + address + R"(", "node": 77})");
  EXPECT_EQ(farNode.status, 400) << farNode.body;
}

// A stand-in measurement that runs until the test lets it finish.
struct HeldMeasurement {
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false;
  std::atomic<int> runs{0};

  BandwidthMatrix run() {
    ++runs;
    std::unique_lock lock(mutex);
    changed.wait(lock, [this] { return release; });
    release = false;
    return {};
  }
  void finish() {
    {
      std::lock_guard lock(mutex);
      release = true;
    }
    changed.notify_all();
  }
};

TEST_F(ServerTest, OneBandwidthMeasurementAtATime) {
  HeldMeasurement held;
  auto options = withActions();
  options.measureBandwidth = [&held] { return held.run(); };
  serve(options);
  const auto headers = bearer(kToken) + kJsonType;
  EXPECT_EQ(post("/api/v1/actions/bandwidth", headers).status, 202);
  auto busy = post("/api/v1/actions/bandwidth", headers);
  EXPECT_EQ(busy.status, 409) << busy.body;
  EXPECT_EQ(get("/api/v1/snapshot").status, 200);  // reading goes on meanwhile
  held.finish();
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 202; ++attempt) {
    status = post("/api/v1/actions/bandwidth", headers).status;
    if (status != 202) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 202) << "a new measurement was refused after the first finished";
  for (int attempt = 0; attempt < 100 && held.runs < 2; ++attempt) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(held.runs.load(), 2) << "the second measurement did not run";
  held.finish();
  server_->stop();  // waits for the measurement
}

TEST_F(ServerTest, AFailedBandwidthMeasurementIsAWarningAndTheNextMayRun) {
  std::atomic<int> runs{0};
  auto options = withActions();
  options.measureBandwidth = [&runs]() -> BandwidthMatrix {
    ++runs;
    throw Error(ErrorCode::InvalidArgument, "no node 7");
  };
  serve(options);
  const auto headers = bearer(kToken) + kJsonType;
  EXPECT_EQ(post("/api/v1/actions/bandwidth", headers).status, 202);
  for (int attempt = 0; attempt < 100 && server_->warnings().empty(); ++attempt)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(server_->warnings().size(), 1U);
  EXPECT_NE(server_->warnings()[0].find("no node 7"), std::string::npos) << server_->warnings()[0];
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 202; ++attempt) {
    status = post("/api/v1/actions/bandwidth", headers).status;
    if (status != 202) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 202);
}

// Real huge pages: reserve one 2 MiB page through the server, release it, and the count is back.
TEST_F(ServerTest, ReserveAndReleaseChangeTheKernelsCountAndPutItBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "NOT RUN: needs root, because it changes the 2 MiB huge page count";
  const std::string countFile = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
  auto readCount = [&] {
    std::uint64_t count = 0;
    std::ifstream(countFile) >> count;
    return count;
  };
  if (!std::ifstream(countFile)) GTEST_SKIP() << "NOT RUN: this kernel offers no 2 MiB pages (" << countFile << ")";
  // A state folder of its own: release puts back every count recorded there, and the machine's
  // own record may hold other programs' reservations.
  char folder[] = "/tmp/xmem-server-test-XXXXXX";
  ASSERT_NE(::mkdtemp(folder), nullptr);
  const char* previous = std::getenv("XMEM_STATE_DIR");
  const std::string previousDir = previous != nullptr ? previous : "";
  ::setenv("XMEM_STATE_DIR", folder, 1);
  struct PutBack {
    std::string folder, previousDir;
    bool hadPrevious;
    ~PutBack() {
      if (hadPrevious) ::setenv("XMEM_STATE_DIR", previousDir.c_str(), 1);
      else ::unsetenv("XMEM_STATE_DIR");
      std::error_code ignored;
      std::filesystem::remove_all(folder, ignored);
    }
  } putBack{folder, previousDir, previous != nullptr};
  serve(withActions());
  const auto before = readCount();
  const auto headers = bearer(kToken) + kJsonType;
  auto reserved = post("/api/v1/actions/reserve", headers, R"({"page_size": "2M", "count": 1})");
  ASSERT_EQ(reserved.status, 200) << reserved.body;
  auto reservation = nlohmann::json::parse(reserved.body);
  EXPECT_EQ(reservation.at("before").get<std::uint64_t>(), before);
  EXPECT_EQ(reservation.at("target").get<std::uint64_t>(), before + 1);
  EXPECT_EQ(readCount(), reservation.at("after").get<std::uint64_t>());
  auto released = post("/api/v1/actions/release", headers, "{}");
  ASSERT_EQ(released.status, 200) << released.body;
  EXPECT_EQ(readCount(), before) << released.body;
}

TEST(ConstantTimeEquals, EqualOnlyForTheSameBytes) {
  using server::constantTimeEquals;
  EXPECT_TRUE(constantTimeEquals("Bearer abc", "Bearer abc"));
  EXPECT_FALSE(constantTimeEquals("Bearer abd", "Bearer abc"));
  EXPECT_FALSE(constantTimeEquals("Bearer ab", "Bearer abc"));
  EXPECT_FALSE(constantTimeEquals("Bearer abcBearer abc", "Bearer abc"));  // the expected, repeated
  EXPECT_FALSE(constantTimeEquals("", "Bearer abc"));
  EXPECT_FALSE(constantTimeEquals("x", ""));
  EXPECT_TRUE(constantTimeEquals("", ""));
}

TEST(LoopbackAddress, OnlyLoopbackIsLoopback) {
  for (std::string loopback : {"127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]", "localhost", "LOCALHOST"})
    EXPECT_TRUE(isLoopbackAddress(loopback)) << loopback;
  for (std::string other : {"0.0.0.0", "::", "192.168.1.2", "128.0.0.1", "127.0.0", "127.0.0.1.5", "127.0.0.256", "1127.0.0.1",
                            "127.0.0.1 ", "localhost.example", "", "127..0.1"})
    EXPECT_FALSE(isLoopbackAddress(other)) << other;
}

}  // namespace
}  // namespace xmem::testing

// The HTTP face alone (server/http_server.h): what reaches a handler, and what never does.
#include "server/http_server.h"
#include "server/raw_http.h"

#include <gtest/gtest.h>

#include <mutex>

namespace xmem::testing {
namespace {

using server::HttpRequest;
using server::HttpResponse;
using server::HttpServer;

class HttpFaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::HttpServerOptions options;
    options.readTimeout = std::chrono::seconds(1);
    server_ = std::make_unique<HttpServer>(
        options, [](const HttpRequest&) { return std::optional<HttpResponse>(); },
        [this](const HttpRequest& request) {
          std::lock_guard lock(mutex_);
          seen_ = request;
          return HttpResponse{200, "text/plain", "ok", {}};
        },
        [](int status, HttpResponse& answer) { answer.body = "error " + std::to_string(status); });
    port_ = server_->bind("127.0.0.1", 0);
    server_->start();
  }
  HttpRequest seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  HttpRequest seen_;
};

// httplib 0.11 files the peer's address as a REMOTE_ADDR header, after any the client sent
// (GHSA-xm2j-vfr9-mg9m): the face passes the socket's address and none of those headers.
TEST_F(HttpFaceTest, TheClientCannotSayWhereItIsFrom) {
  auto response = rawRequest(port_, requestText("GET", "/x", port_, "REMOTE_ADDR: 10.9.8.7\r\nLocal_Port: 1\r\nX-Kept: yes\r\n"));
  ASSERT_EQ(response.status, 200);
  const auto request = seen();
  EXPECT_EQ(request.remoteAddress, "127.0.0.1");
  EXPECT_FALSE(request.header("REMOTE_ADDR")) << *request.header("REMOTE_ADDR");
  EXPECT_FALSE(request.header("LOCAL_PORT"));
  EXPECT_EQ(request.header("x-kept").value_or(""), "yes");  // names compared without case
}

TEST_F(HttpFaceTest, TheHandlerGetsMethodPathVersionAndBody) {
  auto response = rawRequest(port_, requestText("POST", "/a/b?q=1", port_, "", "{\"x\":1}"));
  ASSERT_EQ(response.status, 200);
  const auto request = seen();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/a/b");
  EXPECT_EQ(request.version, "HTTP/1.1");
  EXPECT_EQ(request.body, "{\"x\":1}");
  EXPECT_TRUE(request.hasBody());
}

TEST_F(HttpFaceTest, TheLibrarysOwnErrorsGetTheErrorBody) {
  auto response = rawRequest(port_, "NOT-A-METHOD / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, "error 400");
}

}  // namespace
}  // namespace xmem::testing

// A MonitorServer on 127.0.0.1 (any free port) over a real Monitor of this process, with short
// timeouts so that the tests of slow clients and history finish in seconds.
#pragma once

#include "server/raw_http.h"

#include <xmem/monitor.h>
#include <xmem/server.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace xmem::testing {

inline ServerOptions quickOptions() {
  ServerOptions options;
  options.requestTimeout = std::chrono::seconds(1);
  options.historyInterval = std::chrono::seconds(1);
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void serve(ServerOptions options = quickOptions()) {
    server_ = std::make_unique<MonitorServer>(monitor_, std::move(options));
    server_->start();
  }
  std::uint16_t port() const { return server_->port(); }
  RawResponse get(const std::string& path, const std::string& headers = "") {
    return rawRequest(port(), requestText("GET", path, port(), headers));
  }
  RawResponse post(const std::string& path, const std::string& headers, const std::string& body = "") {
    return rawRequest(port(), requestText("POST", path, port(), headers, body));
  }

  Monitor monitor_;
  std::unique_ptr<MonitorServer> server_;
};

/// The headers every answer carries, whatever its status; the failures name what is missing.
inline void expectSecurityHeaders(const RawResponse& response, const std::string& what) {
  SCOPED_TRACE(what + " (status " + std::to_string(response.status) + ")");
  EXPECT_EQ(response.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(response.header("content-security-policy"),
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  EXPECT_EQ(response.header("cache-control"), "no-store");
  EXPECT_EQ(response.header("referrer-policy"), "no-referrer");
  EXPECT_FALSE(response.has("access-control-allow-origin"));
  EXPECT_FALSE(response.has("x-xmem-screened-status"));  // the face's marker stays inside
}

}  // namespace xmem::testing

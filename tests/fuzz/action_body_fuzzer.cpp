// The bodies of the server's actions (reserve, release, promote, migrate, trim, bandwidth), past
// the screen: each request carries the token. The fake platform of the tests stands for the
// machine, so nothing real is reserved or moved, and one of its allocations is listed so that
// promote and migrate get past "not one of this process's allocations" ("@" in a body is replaced
// by its address). A body the server did not expect must get a 4xx that says why, never an
// "internal error" (an exception the action did not mean), a crash or a hang.
#include <xmem/huge_pages.h>
#include <xmem/monitor.h>
#include <xmem/server.h>
#include <xmem/virtual_memory.h>

#include "http_exchange.h"
#include "os/os.h"
#include "support/fake_platform.h"

#include <stdlib.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

namespace {

constexpr const char* kToken = "a-token-the-fuzzer-sends-7d31b9c0e25f4a68";
constexpr std::array kActions = {"trim", "bandwidth", "reserve", "release", "promote", "migrate"};

xmem::testing::FakePlatform* fake = nullptr;
std::optional<xmem::os::ScopedPlatform> installed;
std::optional<xmem::VirtualMemory> listed;
std::string listedAddress;
std::unique_ptr<xmem::Monitor> monitor;
std::unique_ptr<xmem::MonitorServer> server;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static char state[] = "/tmp/xmem-fuzz-actions.XXXXXX";  // the fake's reservation records
  if (::mkdtemp(state) == nullptr) std::abort();
  ::setenv(xmem::kStateDirVariable, state, 1);
  fake = new xmem::testing::FakePlatform;
  fake->setNodes(2);
  for (std::uint32_t node = 0; node < 2; ++node) {
    fake->setHugePages(xmem::kHugePageSize, node, 64);
    fake->setHugePages(xmem::kOneGbPageSize, node, 1);
  }
  installed.emplace(*fake);
  xmem::VirtualMemory::Options options;
  options.size = 8 * xmem::MiB;
  options.hugePages = false;
  listed.emplace(options);
  char address[32];
  std::snprintf(address, sizeof address, "0x%llx", static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(listed->data())));
  listedAddress = address;

  monitor = std::make_unique<xmem::Monitor>();
  xmem::ServerOptions serverOptions;
  serverOptions.port = 0;
  serverOptions.token = kToken;
  serverOptions.allowActions = true;
  serverOptions.requestTimeout = std::chrono::seconds(1);
  serverOptions.measureBandwidth = [] { return xmem::BandwidthMatrix{}; };
  server = std::make_unique<xmem::MonitorServer>(*monitor, serverOptions);
  server->start();
  return 0;
}

// The first byte picks the action; the rest is its body.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string action = kActions[data[0] % kActions.size()];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  for (auto at = body.find('@'); at != std::string::npos; at = body.find('@', at + listedAddress.size()))
    body.replace(at, 1, listedAddress);
  const std::string request = "POST /api/v1/actions/" + action + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                              kToken + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
  std::string answer;
  if (!xmem::fuzzing::exchange(server->port(), reinterpret_cast<const std::uint8_t*>(request.data()), request.size(), &answer,
                                 /*halfClose=*/false)) {
    std::fprintf(stderr, "the server kept a connection open 15 s after the request ended\n");
    std::abort();
  }
  // A 500 that says "internal error" is an exception the action did not mean (its own errors are
  // 4xx, or 5xx with the OS's reason); the body itself may say anything, echoed in a 400.
  if (answer.starts_with("HTTP/1.1 500") && answer.find("{\"error\":\"internal error") != std::string::npos) {
    std::fprintf(stderr, "an action's body ended in an exception it did not mean:\n%s\n", answer.c_str());
    std::abort();
  }
  if (!answer.starts_with("HTTP/1.1 ")) {
    std::fprintf(stderr, "no HTTP answer to an action:\n%s\n", answer.c_str());
    std::abort();
  }
  return 0;
}

// The monitoring server (`xmem serve`, xmem::server) as a client on the network may speak to it:
// any bytes on a connection of their own. Every request must be answered or the connection
// closed, within the server's time limits; the server must never crash or stop serving.
// Actions are on, behind a token no input carries, so the screen in front of them is fuzzed
// and nothing is ever reserved or moved.
#include <xmem/monitor.h>
#include <xmem/server.h>

#include "http_exchange.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

std::unique_ptr<xmem::Monitor> monitor;
std::unique_ptr<xmem::MonitorServer> server;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  monitor = std::make_unique<xmem::Monitor>();
  xmem::ServerOptions options;
  options.port = 0;
  options.token = "a-token-that-no-input-carries-3f9c1d27b6e84a05";
  options.allowActions = true;
  options.requestTimeout = std::chrono::seconds(1);
  options.measureBandwidth = [] { return xmem::BandwidthMatrix{}; };  // the real one takes seconds
  server = std::make_unique<xmem::MonitorServer>(*monitor, options);
  server->start();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!xmem::fuzzing::exchange(server->port(), data, size)) {
    std::fprintf(stderr, "the server kept a connection open 15 s after the request ended\n");
    std::abort();
  }
  return 0;
}

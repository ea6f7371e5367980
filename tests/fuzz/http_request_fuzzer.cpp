// The monitoring server (`xmem serve`, xmem::server) as a client on the network may speak to it:
// any bytes on a connection of their own. Every request must be answered or the connection
// closed, within the server's time limits; the server must never crash or stop serving.
// Actions are on, behind a token no input carries, so the screen in front of them is fuzzed
// and nothing is ever reserved or moved.
#include <xmem/monitor.h>
#include <xmem/server.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace {

std::unique_ptr<xmem::Monitor> monitor;
std::unique_ptr<xmem::MonitorServer> server;

// Sends `bytes`, closes the sending side, reads until the server closes. False when it keeps the
// connection open past every limit it has (a hang is a finding, as a crash is).
bool exchange(std::uint16_t port, const std::uint8_t* bytes, std::size_t size) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) std::abort();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    std::perror("connect to the fuzzed server");
    std::abort();  // the server stopped accepting
  }
  for (std::size_t sent = 0; sent < size;) {
    const auto written = ::send(fd, bytes + sent, size - sent, MSG_NOSIGNAL);
    if (written <= 0) break;  // it answered and closed before reading everything: fine
    sent += static_cast<std::size_t>(written);
  }
  ::shutdown(fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool closed = false;
  char buffer[16384];
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd wait{fd, POLLIN, 0};
    if (::poll(&wait, 1, 1000) <= 0) continue;
    const auto got = ::recv(fd, buffer, sizeof buffer, 0);
    closed = got <= 0;
  }
  ::close(fd);
  return closed;
}

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
  if (!exchange(server->port(), data, size)) {
    std::fprintf(stderr, "the server kept a connection open 15 s after the request ended\n");
    std::abort();
  }
  return 0;
}

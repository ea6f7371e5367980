// One request to a server on this machine, for the fuzz targets that speak HTTP to xmem's server.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace xmem::fuzzing {

// Sends `bytes`, reads until the server closes, keeping the first 4 KiB of the answer in `answer`
// when given. False when it keeps the connection open past every limit it has (a hang is a finding,
// as a crash is). With `halfClose` the sending side is closed after the bytes: the server must end
// a request cut short too (cpp-httplib then closes without an answer, so whole requests that
// want one say Connection: close instead).
inline bool exchange(std::uint16_t port, const std::uint8_t* bytes, std::size_t size, std::string* answer = nullptr,
                     bool halfClose = true) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // libFuzzer's timer signal interrupts calls (EINTR): an interrupted connect starts again on a
  // socket of its own, interrupted sends and reads go on.
  int fd = -1;
  for (;;) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) std::abort();
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) break;
    const int error = errno;
    ::close(fd);
    if (error == EINTR) continue;
    errno = error;
    std::perror("connect to the fuzzed server");
    std::abort();  // the server stopped accepting
  }
  for (std::size_t sent = 0; sent < size;) {
    const auto written = ::send(fd, bytes + sent, size - sent, MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) break;  // it answered and closed before reading everything: fine
    sent += static_cast<std::size_t>(written);
  }
  if (halfClose) ::shutdown(fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool closed = false;
  char buffer[16384];
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd wait{fd, POLLIN, 0};
    if (::poll(&wait, 1, 1000) <= 0) continue;
    const auto got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    closed = got <= 0;
    if (got > 0 && answer != nullptr && answer->size() < 4096) answer->append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return closed;
}

}  // namespace xmem::fuzzing

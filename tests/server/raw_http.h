// A raw HTTP/1.x client over a loopback TCP socket, for tests that must send what a well-behaved
// client never would: no Host, huge headers, half a request, a body larger than announced limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace xmem::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names lowercased
  std::string body;

  std::string header(const std::string& lowercaseName) const {
    auto found = headers.find(lowercaseName);
    return found == headers.end() ? std::string() : found->second;
  }
  bool has(const std::string& lowercaseName) const { return headers.count(lowercaseName) != 0; }
};

class RawConnection {
 public:
  /// Connects to 127.0.0.1:port, or [::1]:port (throws on failure).
  explicit RawConnection(std::uint16_t port, bool ipv6 = false);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(const std::string& bytes);
  /// One response (headers, then Content-Length bytes of body unless `head`); nullopt when the
  /// server closed first or nothing complete came within `timeout`.
  std::optional<RawResponse> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10), bool head = false);
  /// Waits until the server closes the connection (reading and dropping what it sends). Returns
  /// how long that took, or nullopt when it stayed open for all of `timeout`.
  std::optional<std::chrono::milliseconds> waitForClose(std::chrono::milliseconds timeout);

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  ///< reads more into buffer_
  int fd_ = -1;
  std::string buffer_;
};

/// One request on a connection of its own.
RawResponse rawRequest(std::uint16_t port, const std::string& bytes, bool head = false, bool ipv6 = false);

/// "METHOD path HTTP/1.1" with Host 127.0.0.1:port, Connection: close, the given extra header
/// lines ("Name: value\r\n" each) and body (Content-Length added when there is one).
std::string requestText(const std::string& method, const std::string& path, std::uint16_t port,
                        const std::string& extraHeaders = "", const std::string& body = "");

}  // namespace xmem::testing

// MonitorServer: the monitoring HTTP server a program starts inside itself (and `xmem serve`
// uses). It serves a Monitor's snapshots as JSON (/api/v1/...), as Prometheus text (/metrics) and
// as a live page (/), and keeps their history. Safe by default: loopback only, read-only, Host
// checked against an allow-list (DNS rebinding), strict security headers on every answer, limits
// on header and body size, time and threads. Anything that changes state (POST /api/v1/actions/...)
// needs allowActions and a token, sent as `Authorization: Bearer <token>`.
#pragma once

#include <xmem/monitor.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace xmem {

/// Every field has a default, so designated initializers may name only some ({.port = 9464})
/// without -Wmissing-field-initializers.
struct ServerOptions {
  std::string listen = "127.0.0.1";       ///< the address to bind (IPv4, IPv6 or a name)
  std::uint16_t port = 0;                 ///< 0: any free port (port() says which)
  /// Host names accepted besides localhost, 127.0.0.1, [::1] and the listen address ("name" or
  /// "name:port"; compared exactly, case-insensitively). Needed to reach it by a LAN name.
  std::vector<std::string> allowedHosts = {};
  /// Empty: no token. The caller reads it from a file or XMEM_SERVE_TOKEN, never from argv.
  std::string token = {};
  bool allowActions = false;              ///< serve POST /api/v1/actions/... (needs a token)
  unsigned threads = 2;                   ///< requests served at once
  std::size_t maxBodyBytes = 64 * 1024;   ///< larger bodies get 413
  std::size_t maxHeaderBytes = 8 * 1024;  ///< request line and headers together; larger get 431
  /// A client silent this long mid-request (or an answer unread this long) is dropped. It bounds
  /// each read, not the whole request: httplib 0.11 has no such deadline, so a client trickling a
  /// byte at a time holds a thread longer. threads bounds how many it can hold.
  std::chrono::seconds requestTimeout{5};
  std::chrono::seconds historyInterval{5};
  std::size_t historySamples = 180;       ///< 15 minutes at the default interval
  /// What POST /api/v1/actions/bandwidth runs (on its own thread, one at a time). A program may
  /// narrow the measurement (fewer kernels, smaller buffers) or tests may stand in for it.
  std::function<BandwidthMatrix()> measureBandwidth = [] { return xmem::measureBandwidth(); };
};

class MonitorServer {
 public:
  /// `monitor` must outlive the server.
  MonitorServer(Monitor& monitor, ServerOptions options);
  ~MonitorServer();  ///< stop()
  MonitorServer(const MonitorServer&) = delete;
  MonitorServer& operator=(const MonitorServer&) = delete;

  /// Binds and serves on its own threads; returns once the socket listens. Throws Error:
  /// InvalidArgument for a non-loopback address without a token, actions without a token or a
  /// bad option (named); SystemError naming the address when it cannot bind. Binding a
  /// non-loopback address with a token succeeds with a warning (warnings(), and on stderr).
  void start();
  /// Stops serving and waits for its threads (a request in progress finishes first).
  void stop();

  std::uint16_t port() const;   ///< the bound port (after start())
  std::string url() const;      ///< "http://127.0.0.1:PORT/" (after start())
  std::vector<std::string> warnings() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// Whether `address` (as given to ServerOptions::listen) is a loopback one: 127.0.0.0/8, ::1 or
/// localhost. Anything else can be reached from other machines.
bool isLoopbackAddress(std::string_view address);

}  // namespace xmem

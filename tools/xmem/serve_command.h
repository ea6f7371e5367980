// `xmem serve`: the monitoring server for this machine and any running process, until Ctrl-C:
// /api/v1 JSON, /metrics for Prometheus, and a live page at /. Loopback and read-only unless told.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xmem::cli {

struct ServeOptions {
  std::string listen = "127.0.0.1:9464";
  std::vector<std::int64_t> pids;
  std::vector<std::string> allowedHosts;
  std::string tokenFile;      ///< the token's file; XMEM_SERVE_TOKEN otherwise (never argv)
  bool allowActions = false;
  std::string minMapping;     ///< as `xmem stats --min-mapping`
  std::optional<double> hashrate;
};

/// "HOST:PORT", "[::1]:PORT", "HOST" or ":PORT" into its parts; throws CLI::ValidationError naming the value.
std::pair<std::string, std::uint16_t> parseListen(const std::string& listen, std::uint16_t defaultPort);
/// The token from `file` (its first line, blanks trimmed), else XMEM_SERVE_TOKEN; "" when neither.
std::string readToken(const std::string& file);

int runServe(const ServeOptions& options);
void addServeCommand(CLI::App& app);

}  // namespace xmem::cli

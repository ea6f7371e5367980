#include "serve_command.h"

#include "command_line.h"
#include "stats_command.h"

#include <xmem/environment.h>
#include <xmem/error.h>
#include <xmem/monitor.h>
#include <xmem/server.h>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

namespace xmem::cli {
namespace {

constexpr std::uint16_t kDefaultPort = 9464;
std::atomic<bool> stopRequested{false};

void onStopSignal(int) { stopRequested.store(true); }

std::uint16_t portOf(const std::string& listen, std::string_view text) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > 65535)
    throw CLI::ValidationError("--listen", "\"" + listen + "\": the port \"" + std::string(text) +
                                               "\" is not a number from 0 to 65535 (0: any free port)");
  return static_cast<std::uint16_t>(value);
}

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

constexpr std::size_t kShortestToken = 16;  // a guessable token guards nothing

std::string checkedToken(std::string token, const std::string& where, const char* option) {
  if (token.size() < kShortestToken)
    throw CLI::ValidationError(option, where + ": the token has " + std::to_string(token.size()) + " characters: expected at least " +
                                           std::to_string(kShortestToken) + " (e.g. `openssl rand -hex 16`)");
  return token;
}

}  // namespace

std::pair<std::string, std::uint16_t> parseListen(const std::string& listen, std::uint16_t defaultPort) {
  if (listen.empty()) throw CLI::ValidationError("--listen", "\"\": expected HOST:PORT, HOST or :PORT");
  if (listen.front() == '[') {  // [v6]:port
    const auto close = listen.find(']');
    if (close == std::string::npos)
      throw CLI::ValidationError("--listen", "\"" + listen + "\": an IPv6 address in [ ] has no closing ]");
    std::string host = listen.substr(1, close - 1);
    if (close + 1 == listen.size()) return {host, defaultPort};
    if (listen[close + 1] != ':') throw CLI::ValidationError("--listen", "\"" + listen + "\": expected [ADDRESS]:PORT");
    return {host, portOf(listen, std::string_view(listen).substr(close + 2))};
  }
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return {listen, defaultPort};
  if (listen.find(':') != colon) return {listen, defaultPort};  // a bare IPv6 address
  const std::string host = colon == 0 ? "127.0.0.1" : listen.substr(0, colon);
  return {host, portOf(listen, std::string_view(listen).substr(colon + 1))};
}

std::string readToken(const std::string& file) {
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw CLI::ValidationError("--token-file", "\"" + file + "\": cannot be read");
    // A token is a line far shorter than this; a file without an end (/dev/zero) must not be read on.
    constexpr std::size_t kLongestLine = 4096;
    std::string line;
    for (char c = 0; line.size() <= kLongestLine && in.get(c) && c != '\n';) line += c;
    if (line.size() > kLongestLine)
      throw CLI::ValidationError("--token-file", "\"" + file + "\": its first line is longer than " +
                                 std::to_string(kLongestLine) + " characters: expected the token");
    line = trimmed(line);
    if (line.empty()) throw CLI::ValidationError("--token-file", "\"" + file + "\": its first line is empty: expected the token");
    std::error_code error;
    const auto permissions = std::filesystem::status(file, error).permissions();
    using std::filesystem::perms;
    if (!error && (permissions & (perms::group_read | perms::others_read)) != perms::none)
      fmt::print(std::cerr, "xmem serve: warning: {} can be read by other users; `chmod 600 {}`\n", file, file);
    return checkedToken(line, "\"" + file + "\"", "--token-file");
  }
  const char* variable = std::getenv(kServeTokenVariable);
  if (variable == nullptr || trimmed(variable).empty()) return {};
  return checkedToken(trimmed(variable), kServeTokenVariable, "--token-file");
}

int runServe(const ServeOptions& options) {
  auto [host, port] = parseListen(options.listen, kDefaultPort);
  MonitorOptions monitorOptions;
  if (!options.minMapping.empty()) {
    auto size = parseSize(options.minMapping);
    if (!size) throw CLI::ValidationError("--min-mapping", "\"" + options.minMapping + "\": expected a size such as 2M");
    monitorOptions.minMappingBytes = *size;
  }
  monitorOptions.includeSelf = false;  // the server's own memory is of no interest here
  Monitor monitor(monitorOptions);
  for (auto pid : options.pids) monitor.watch(pid);
  if (options.hashrate) monitor.setRandomxHashrate(*options.hashrate);

  ServerOptions serverOptions;
  serverOptions.listen = host;
  serverOptions.port = port;
  serverOptions.allowedHosts = options.allowedHosts;
  serverOptions.token = readToken(options.tokenFile);
  serverOptions.allowActions = options.allowActions;
  // Said in the command's words before the server says it in the library's.
  if (serverOptions.token.empty() && options.allowActions)
    throw CLI::ValidationError("--allow-actions", "actions need a token: put it in a file for --token-file FILE, or in XMEM_SERVE_TOKEN");
  if (serverOptions.token.empty() && !isLoopbackAddress(host))
    throw CLI::ValidationError("--listen", "\"" + options.listen + "\" is not loopback: other machines could reach it, so it "
                               "needs a token (--token-file FILE or XMEM_SERVE_TOKEN); for a LAN, a TLS reverse proxy is better");
  MonitorServer server(monitor, serverOptions);
  server.start();
  fmt::print(std::cout, "xmem serve: {} (metrics at {}metrics, JSON at {}api/v1)\n", server.url(), server.url(), server.url());
  fmt::print(std::cout, "  watching {}; {}; Ctrl-C stops\n",
             options.pids.empty() ? std::string("the machine only (add --pid PID)") : fmt::format("{} process(es)", options.pids.size()),
             options.allowActions ? "actions allowed with the token" : "read-only");
  std::cout.flush();
  std::signal(SIGINT, onStopSignal);
  std::signal(SIGTERM, onStopSignal);
  while (!stopRequested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.stop();
  return 0;
}

void addServeCommand(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  auto* command = app.add_subcommand(
      "serve", "Serve monitoring over HTTP until Ctrl-C: a live page at /, Prometheus text at /metrics and JSON at "
               "/api/v1 (machine, watched processes, bandwidth). Loopback and read-only by default; a non-loopback "
               "--listen needs a token (--token-file or XMEM_SERVE_TOKEN).");
  command->add_option("--listen", options->listen, "HOST:PORT to bind (default 127.0.0.1:9464; port 0: any free port)");
  command->add_option("--pid", options->pids, "A running process to watch from outside (repeat for more)")->check(processIdCheck());
  command->add_option("--allow-host", options->allowedHosts,
                      "A Host name the server answers besides localhost and its address (to reach it by a LAN name)");
  command->add_option("--token-file", options->tokenFile,
                      "File whose first line is the bearer token actions need (else XMEM_SERVE_TOKEN; never on the command line)");
  command->add_flag("--allow-actions", options->allowActions,
                    "Serve POST /api/v1/actions/{trim,bandwidth,reserve,release,promote,migrate} (needs the token)");
  command->add_option("--min-mapping", options->minMapping, "List mappings of at least this size (default 2M)");
  command->add_option("--hashrate", options->hashrate, "A RandomX hashrate in H/s: also serve the dataset bandwidth it implies")
      ->check(hashrateCheck());
  command->callback([options] { finishCommand("serve", [&] { return runServe(*options); }); });
}

}  // namespace xmem::cli

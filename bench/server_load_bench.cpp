// A bounded load test of the monitoring server on loopback: a MonitorServer over this process's
// Monitor, then, endpoint by endpoint, N concurrent clients each sending M requests on a kept-alive
// connection. Prints requests per second, p50 and p99 latency and the errors per endpoint; exits 1
// when any request failed. Figures, not a pass/fail timing: run it on a quiet machine.
//   xmem_bench_server_load [--clients N] [--requests M] [--threads T]
#include <xmem/monitor.h>
#include <xmem/server.h>

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  unsigned clients = 8;
  unsigned requests = 200;  ///< per client, per endpoint
  unsigned threads = 2;     ///< the server's
};

struct Figures {
  double requestsPerSecond = 0;
  double p50Milliseconds = 0;
  double p99Milliseconds = 0;
  double maxMilliseconds = 0;
  std::size_t errors = 0;
  std::size_t bytes = 0;  ///< of one answer
};

unsigned positive(const char* flag, const char* text) {
  char* end = nullptr;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || value == 0 || value > 100000) {
    std::fprintf(stderr, "%s: '%s': expected a whole number from 1 to 100000\n", flag, text);
    std::exit(2);
  }
  return static_cast<unsigned>(value);
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const bool hasValue = i + 1 < argc;
    if (std::strcmp(argv[i], "--clients") == 0 && hasValue) settings.clients = positive("--clients", argv[++i]);
    else if (std::strcmp(argv[i], "--requests") == 0 && hasValue) settings.requests = positive("--requests", argv[++i]);
    else if (std::strcmp(argv[i], "--threads") == 0 && hasValue) settings.threads = positive("--threads", argv[++i]);
    else {
      std::fprintf(stderr, "unknown argument '%s': expected --clients N, --requests M, --threads T\n", argv[i]);
      std::exit(2);
    }
  }
  return settings;
}

double percentile(std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

// One client: its own connection, `requests` GETs one after the other; latencies in ms.
void runClient(std::uint16_t port, const std::string& path, unsigned requests, std::vector<double>& latencies,
               std::size_t& errors, std::size_t& bytes) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as Prometheus's (Go) and browsers' clients do
  client.set_read_timeout(30, 0);
  for (unsigned i = 0; i < requests; ++i) {
    const auto start = Clock::now();
    auto answer = client.Get(path.c_str());
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!answer || answer->status != 200) {
      if (errors++ == 0)
        std::fprintf(stderr, "%s: %s\n", path.c_str(),
                     answer ? ("status " + std::to_string(answer->status)).c_str() : httplib::to_string(answer.error()).c_str());
    } else {
      bytes = answer->body.size();
    }
  }
}

Figures load(std::uint16_t port, const std::string& path, const Settings& settings) {
  std::vector<std::vector<double>> latencies(settings.clients);
  std::vector<std::size_t> errors(settings.clients, 0);
  std::vector<std::size_t> bytes(settings.clients, 0);
  std::vector<std::thread> clients;
  const auto start = Clock::now();
  for (unsigned c = 0; c < settings.clients; ++c)
    clients.emplace_back(runClient, port, path, settings.requests, std::ref(latencies[c]), std::ref(errors[c]), std::ref(bytes[c]));
  for (auto& client : clients) client.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  Figures figures;
  std::vector<double> all;
  for (unsigned c = 0; c < settings.clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    figures.errors += errors[c];
    figures.bytes = std::max(figures.bytes, bytes[c]);
  }
  std::sort(all.begin(), all.end());
  figures.requestsPerSecond = static_cast<double>(all.size()) / seconds;
  figures.p50Milliseconds = percentile(all, 0.50);
  figures.p99Milliseconds = percentile(all, 0.99);
  figures.maxMilliseconds = all.empty() ? 0 : all.back();
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  xmem::Monitor monitor;
  xmem::ServerOptions options;
  options.threads = settings.threads;
  xmem::MonitorServer server(monitor, options);
  server.start();
  std::printf("MonitorServer at %s, %u server threads; %u clients x %u requests per endpoint (kept-alive)\n",
              server.url().c_str(), settings.threads, settings.clients, settings.requests);
  std::printf("%-18s %10s %10s %10s %10s %10s %8s\n", "endpoint", "req/s", "p50 ms", "p99 ms", "max ms", "bytes", "errors");
  std::size_t errors = 0;
  for (const std::string path : {"/metrics", "/api/v1/snapshot", "/"}) {
    const auto figures = load(server.port(), path, settings);
    std::printf("%-18s %10.0f %10.3f %10.3f %10.3f %10zu %8zu\n", path.c_str(), figures.requestsPerSecond, figures.p50Milliseconds,
                figures.p99Milliseconds, figures.maxMilliseconds, figures.bytes, figures.errors);
    errors += figures.errors;
  }
  server.stop();
  std::printf("errors: %zu\n", errors);
  return errors == 0 ? 0 : 1;
}

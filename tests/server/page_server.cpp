// The live page's own test server: serves renderPage, /page.js and /page.css with the server's
// headers (a Content-Security-Policy of 'self' only), and a fixed /api/v1/snapshot (the
// exposition's toJson) and /api/v1/history from the hand-made sample snapshot. The page is drawn
// from step 0 and the API answers step 11, so a browser test can tell numbers the script put in
// from the server's own.
//
// Usage: xmem_page_server [--api-answers N] [--snapshot-json FILE]
//   Listens on a free loopback port and prints it on the first line of stdout. With N > 0 the API
//   answers N times and then 503, so the page's "server not answering" state can be seen. With a
//   FILE, /api/v1/snapshot answers its text (the exposition's golden JSON).
#include "sample_snapshot.h"

#include "server/history.h"
#include "server/page.h"

#include <xmem/exposition.h>

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <iostream>
#include <string>
#include <string_view>

namespace {

constexpr int kApiStep = 11;
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Options {
  int apiAnswers = 0;
  std::string snapshotFile;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "xmem_page_server: " << problem << "\nusage: xmem_page_server [--api-answers N] [--snapshot-json FILE]\n";
  std::exit(2);
}

Options optionsOf(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    std::string_view name = argv[i];
    if (i + 1 >= argc) usage(std::string(name) + " needs a value");
    std::string_view value = argv[i + 1];
    if (name == "--snapshot-json") {
      options.snapshotFile = value;
    } else if (name == "--api-answers") {
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), options.apiAnswers);
      if (error != std::errc{} || end != value.data() + value.size() || options.apiAnswers < 0)
        usage("--api-answers '" + std::string(value) + "': expected a number of answers, 0 or more");
    } else {
      usage("unknown option '" + std::string(name) + "'");
    }
  }
  return options;
}

std::string fileText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) usage("--snapshot-json '" + path + "': cannot be read");
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = optionsOf(argc, argv);
  const int apiAnswers = options.apiAnswers;
  xmem::server::History history;
  for (int step = 0; step <= kApiStep; ++step) history.record(xmem::testing::sampleSnapshot(step));
  const std::string page = xmem::server::renderPage(xmem::testing::sampleSnapshot(0), history);
  const std::string snapshotJson = options.snapshotFile.empty()
                                       ? xmem::toJson(xmem::testing::sampleSnapshot(kApiStep))
                                       : fileText(options.snapshotFile);
  const std::string historyJson = xmem::server::historyJson(history);
  std::atomic<int> answered{0};

  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  server.set_post_routing_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_header("Content-Security-Policy", kPolicy);
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("Cache-Control", "no-store");
  });
  auto serve = [&](const std::string& path, const std::string& body, const char* type, bool api) {
    server.Get(path, [&, body, type, api](const httplib::Request&, httplib::Response& response) {
      if (api && apiAnswers > 0 && answered.fetch_add(1) >= 2 * apiAnswers) {
        response.status = 503;
        response.set_content("{\"error\":\"stopped answering (--api-answers)\"}", "application/json");
        return;
      }
      response.set_content(body, type);
    });
  };
  serve("/", page, "text/html; charset=utf-8", false);
  serve("/page.js", std::string(xmem::server::pageScript()), "text/javascript; charset=utf-8", false);
  serve("/page.css", std::string(xmem::server::pageStyle()), "text/css; charset=utf-8", false);
  serve("/api/v1/snapshot", snapshotJson, "application/json", true);
  serve("/api/v1/history", historyJson, "application/json", true);

  int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::cerr << "xmem_page_server: cannot bind a loopback port\n";
    return 1;
  }
  std::cout << port << std::endl;
  return server.listen_after_bind() ? 0 : 1;
}

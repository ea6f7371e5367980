// The live page's own test server: serves renderPage, /page.js and /page.css with the server's
// headers (a Content-Security-Policy of 'self' only), and a fixed /api/v1/snapshot and
// /api/v1/history from the hand-made sample snapshot. The page is drawn from step 0 and the API
// answers step 11, so a browser test can tell numbers the script put in from the server's own.
//
// Usage: xmem_page_server [--api-answers N]
//   Listens on a free loopback port and prints it on the first line of stdout. With N > 0 the API
//   answers N times and then 503, so the page's "server not answering" state can be seen.
#include "sample_snapshot.h"

#include "server/history.h"
#include "server/page.h"

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

namespace {

constexpr int kApiStep = 11;
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

int apiAnswersOf(int argc, char** argv) {
  if (argc == 1) return 0;
  std::string_view value = argc == 3 && std::string_view(argv[1]) == "--api-answers" ? argv[2] : "";
  int answers = -1;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), answers);
  if (error != std::errc{} || end != value.data() + value.size() || answers < 0) {
    std::cerr << "xmem_page_server: expected [--api-answers N] with N >= 0, got '" << (argc > 1 ? argv[1] : "")
              << (argc > 2 ? std::string(" ") + argv[2] : "") << "'\n";
    std::exit(2);
  }
  return answers;
}

}  // namespace

int main(int argc, char** argv) {
  const int apiAnswers = apiAnswersOf(argc, argv);
  xmem::server::History history;
  for (int step = 0; step <= kApiStep; ++step) history.record(xmem::testing::sampleSnapshot(step));
  const std::string page = xmem::server::renderPage(xmem::testing::sampleSnapshot(0), history);
  const std::string snapshotJson = xmem::testing::sampleSnapshotJson(xmem::testing::sampleSnapshot(kApiStep));
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

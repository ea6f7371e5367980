// MonitorServer: the routes of the monitoring server, its screen (Host allow-list, methods,
// tokens) and its background work (history samples, bandwidth runs), over the HttpServer face.
#include <xmem/error.h>
#include <xmem/exposition.h>
#include <xmem/huge_pages.h>
#include <xmem/placement.h>
#include <xmem/server.h>
#include <xmem/types.h>

#include "server/history.h"
#include "server/http_server.h"
#include "server/page.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

namespace xmem {
namespace {

using server::HttpRequest;
using server::HttpResponse;
using Json = nlohmann::json;

constexpr std::string_view kJson = "application/json";

std::string lowercase(std::string_view text) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// Messages quote what the client sent (a path, a body), which need not be UTF-8: such bytes are
// replaced, where dump() would otherwise throw and turn a 404 into a 500.
HttpResponse jsonAnswer(int status, const Json& document) {
  return {status, std::string(kJson), document.dump(-1, ' ', false, Json::error_handler_t::replace), {}};
}
HttpResponse errorAnswer(int status, const std::string& message) { return jsonAnswer(status, {{"error", message}}); }

// The media type of a Content-Type value, without parameters ("application/json; charset=utf-8").
std::string mediaType(std::string_view contentType) {
  auto type = contentType.substr(0, contentType.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  return lowercase(type);
}

// Every answer's headers: the page loads only its own script and style, nothing frames it,
// nothing is cached or sniffed, and no Access-Control-Allow-Origin lets another origin read it.
server::HttpHeaders securityHeaders() {
  return {{"X-Content-Type-Options", "nosniff"},
          {"Content-Security-Policy",
           "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
           "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
          {"Cache-Control", "no-store"},
          {"Referrer-Policy", "no-referrer"}};
}

std::string statusMessage(int status, const ServerOptions& options) {
  switch (status) {
    case 400: return "bad request: not HTTP/1.x this server can read (request line, header or method)";
    case 404: return "no such path";
    case 413: return "request body over " + std::to_string(options.maxBodyBytes) + " bytes";
    case 414: return "request line too long";
    case 431: return "request line and headers over " + std::to_string(options.maxHeaderBytes) + " bytes";
    case 500: return "internal error";
    default: return "HTTP status " + std::to_string(status);
  }
}

std::uint64_t readCount(const Json& body, const char* key) {
  const auto& value = body.at(key);
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() == 0)
    throw Error(ErrorCode::InvalidArgument, std::string("\"") + key + "\" is " + value.dump() + ": expected a whole number above 0");
  return value.get<std::uint64_t>();
}

// The body of an action: empty, or a JSON object with no key outside `allowed`.
Json actionBody(const HttpRequest& request, std::initializer_list<std::string_view> allowed) {
  if (request.body.empty()) return Json::object();
  Json body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    throw Error(ErrorCode::InvalidArgument, "the body is not a JSON object: " + request.body.substr(0, 80));
  for (const auto& item : body.items())
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end())
      throw Error(ErrorCode::InvalidArgument, "unknown key \"" + item.key() + "\" in the body");
  return body;
}

ReservationRequest reservationOf(const Json& body) {
  ReservationRequest request;
  if (!body.contains("page_size") || !body.contains("count"))
    throw Error(ErrorCode::InvalidArgument, "a reservation needs \"page_size\" (\"2M\", \"1G\") and \"count\"");
  const auto& size = body.at("page_size");
  auto pageSize = size.is_string() ? parseSize(size.get<std::string>()) : std::nullopt;
  if (!pageSize)
    throw Error(ErrorCode::InvalidArgument, "\"page_size\" is " + size.dump() + ": expected a size such as \"2M\" or \"1G\"");
  request.pageSize = *pageSize;
  request.count = readCount(body, "count");
  if (body.contains("node")) {
    const auto& node = body.at("node");
    if (!node.is_number_unsigned() || node.get<std::uint64_t>() >= NodeSet::kMaxNodes)
      throw Error(ErrorCode::InvalidArgument, "\"node\" is " + node.dump() + ": expected a node number");
    request.node = node.get<std::uint32_t>();
  }
  return request;
}

// One of this process's own allocations, named by its address ("0x7f..." as the snapshot writes
// it): promote and migrate act on xmem's allocations only, never on a range a client makes up.
AllocationStats ownAllocation(const Json& body) {
  if (!body.contains("address") || !body.at("address").is_string())
    throw Error(ErrorCode::InvalidArgument, "\"address\" is missing: expected an allocation's address, e.g. \"0x7f0000000000\"");
  const std::string text = body.at("address").get<std::string>();
  std::uintptr_t address = 0;
  const bool hex = text.starts_with("0x") || text.starts_with("0X");
  auto [end, error] = std::from_chars(text.data() + (hex ? 2 : 0), text.data() + text.size(), address, 16);
  if (!hex || error != std::errc() || end != text.data() + text.size())
    throw Error(ErrorCode::InvalidArgument, "\"address\" is \"" + text + "\": expected a hexadecimal address such as \"0x7f0000000000\"");
  for (auto& allocation : allocationStatistics())
    if (allocation.address == address && !allocation.fromPool) return allocation;
  throw Error(ErrorCode::InvalidArgument, "\"address\" " + text + " is not the start of one of this process's allocations "
                                          "(GET /api/v1/allocations lists them)");
}

HttpResponse reserveAction(const HttpRequest& request) {
  auto done = reserveHugePages(reservationOf(actionBody(request, {"page_size", "count", "node"})));
  return jsonAnswer(200, {{"count_file", done.path}, {"before", done.before}, {"target", done.target},
                          {"after", done.after}, {"complete", done.complete()}, {"advice", done.advice}});
}

HttpResponse releaseAction(const HttpRequest& request) {
  actionBody(request, {});
  Json restored = Json::array();
  for (const auto& count : releaseHugePages())
    restored.push_back({{"count_file", count.path}, {"original", count.original}, {"now", count.now}});
  return jsonAnswer(200, {{"restored", restored}});
}

HttpResponse promoteAction(const HttpRequest& request) {
  const auto allocation = ownAllocation(actionBody(request, {"address"}));
  auto done = promote(reinterpret_cast<void*>(allocation.address), allocation.mappedBytes);
  return jsonAnswer(200, {{"eligible_bytes", done.eligibleBytes}, {"huge_before", done.hugeBefore},
                          {"huge_after", done.hugeAfter}, {"collapsed", done.collapsed},
                          {"deferred", done.deferred}, {"message", done.message}});
}

HttpResponse migrateAction(const HttpRequest& request) {
  const Json body = actionBody(request, {"address", "node"});
  const auto allocation = ownAllocation(body);
  const bool named = body.contains("node") && body.at("node").is_number_unsigned() &&
                     body.at("node").get<std::uint64_t>() < NodeSet::kMaxNodes;
  if (!named)
    throw Error(ErrorCode::InvalidArgument, "\"node\" is " + (body.contains("node") ? body.at("node").dump() : std::string("missing")) +
                                                ": expected a node number");
  auto done = migrate(reinterpret_cast<void*>(allocation.address), allocation.mappedBytes, body.at("node").get<std::uint32_t>());
  return jsonAnswer(200, {{"node", done.node}, {"pages", done.pages}, {"moved", done.moved},
                          {"already_there", done.alreadyThere}, {"not_present", done.notPresent},
                          {"failed", done.failed()}, {"bytes_moved", done.bytesMoved}, {"message", done.message}});
}

int statusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return 400;
    case ErrorCode::PermissionDenied: return 403;
    case ErrorCode::Unsupported: return 501;
    case ErrorCode::OutOfMemory: return 503;
    case ErrorCode::SystemError: return 500;
  }
  return 500;
}

std::string bracketed(const std::string& address) {
  return address.find(':') != std::string::npos && address.front() != '[' ? "[" + address + "]" : address;
}

}  // namespace

bool isLoopbackAddress(std::string_view address) {
  if (address == "::1" || address == "[::1]" || lowercase(address) == "localhost") return true;
  // 127.0.0.0/8, written as the four decimal parts inet_pton accepts.
  int parts = 0;
  std::uint32_t first = 0;
  for (std::size_t at = 0; at <= address.size(); ++parts) {
    auto end = std::min(address.find('.', at), address.size());
    std::uint32_t value = 0;
    auto [rest, ec] = std::from_chars(address.data() + at, address.data() + end, value);
    if (ec != std::errc{} || rest != address.data() + end || end == at || value > 255) return false;
    if (parts == 0) first = value;
    at = end + 1;
  }
  return parts == 4 && first == 127;
}

class MonitorServer::Impl {
 public:
  Impl(Monitor& monitor, ServerOptions options)
      : monitor_(monitor), options_(std::move(options)), history_(std::max<std::size_t>(1, options_.historySamples)) {
    routes_ = makeRoutes();
  }
  ~Impl() { stop(); }

  void start();
  void stop();
  std::uint16_t port() const { return port_; }
  std::string url() const {
    std::string host = options_.listen;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "::1";
    return "http://" + bracketed(host) + ":" + std::to_string(port_) + "/";
  }
  std::vector<std::string> warnings() const {
    std::lock_guard lock(mutex_);
    return warnings_;
  }

 private:
  struct Route {
    std::string method;  ///< GET (HEAD too) or POST
    bool action = false;
    std::string description;
    std::function<HttpResponse(const HttpRequest&)> answer;
  };

  std::map<std::string, Route> makeRoutes();
  std::map<std::string, Route> readingRoutes();
  void addActionRoutes(std::map<std::string, Route>& routes);
  void checkOptions() const;
  void warn(std::string message);
  std::optional<HttpResponse> screen(const HttpRequest& request) const;
  std::optional<HttpResponse> screenAction(const HttpRequest& request) const;
  bool hostAllowed(std::string_view host) const;
  HttpResponse handle(const HttpRequest& request);
  HttpResponse index() const;
  HttpResponse startBandwidth();
  void recordHistory();

  Monitor& monitor_;
  ServerOptions options_;
  server::History history_;
  std::map<std::string, Route> routes_;
  std::vector<std::string> allowedHosts_;  ///< lowercase, with and without the port
  std::unique_ptr<server::HttpServer> http_;
  std::uint16_t port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::string> warnings_;
  std::thread historyThread_;
  std::thread bandwidthThread_;
  std::atomic<bool> measuring_{false};
};

std::map<std::string, MonitorServer::Impl::Route> MonitorServer::Impl::makeRoutes() {
  auto routes = readingRoutes();
  addActionRoutes(routes);
  return routes;
}

// What anyone allowed by the Host check may read.
std::map<std::string, MonitorServer::Impl::Route> MonitorServer::Impl::readingRoutes() {
  auto part = [this](SnapshotPart which) {
    return [this, which](const HttpRequest&) { return HttpResponse{200, std::string(kJson), toJson(monitor_.snapshot(), which), {}}; };
  };
  auto fixed = [](std::string_view type, std::string_view text) {
    return [type, text](const HttpRequest&) { return HttpResponse{200, std::string(type), std::string(text), {}}; };
  };
  std::map<std::string, Route> routes;
  routes["/api/v1"] = {"GET", false, "this index", [this](const HttpRequest&) { return index(); }};
  routes["/api/v1/snapshot"] = {"GET", false, "everything: machine, allocations, pools, processes, bandwidth", part(SnapshotPart::All)};
  routes["/api/v1/machine"] = {"GET", false, "nodes, huge page pools, the kernel's counters", part(SnapshotPart::Machine)};
  routes["/api/v1/allocations"] = {"GET", false, "this process's allocations by page size and node", part(SnapshotPart::Allocations)};
  routes["/api/v1/pools"] = {"GET", false, "this process's pools per node", part(SnapshotPart::Pools)};
  routes["/api/v1/processes"] = {"GET", false, "the watched processes' memory", part(SnapshotPart::Processes)};
  routes["/api/v1/bandwidth"] = {"GET", false, "the last bandwidth measurement", part(SnapshotPart::Bandwidth)};
  routes["/api/v1/history"] = {"GET", false, "samples for the page's graphs",
                               [this](const HttpRequest&) { return HttpResponse{200, std::string(kJson), server::historyJson(history_), {}}; }};
  routes["/metrics"] = {"GET", false, "Prometheus text format 0.0.4", [this](const HttpRequest&) {
                          return HttpResponse{200, std::string(kPrometheusContentType), toPrometheus(monitor_.snapshot()), {}};
                        }};
  routes["/"] = {"GET", false, "the live page", [this](const HttpRequest&) {
                   return HttpResponse{200, "text/html; charset=utf-8", server::renderPage(monitor_.snapshot(), history_), {}};
                 }};
  routes["/page.js"] = {"GET", false, "the page's script", fixed("text/javascript; charset=utf-8", server::pageScript())};
  routes["/page.css"] = {"GET", false, "the page's style", fixed("text/css; charset=utf-8", server::pageStyle())};
  return routes;
}

// What changes state: POST only, screened by screenAction (allowActions, token, JSON).
void MonitorServer::Impl::addActionRoutes(std::map<std::string, Route>& routes) {
  routes["/api/v1/actions/trim"] = {"POST", true, "give back what the pools do not use", [this](const HttpRequest& request) {
                                      actionBody(request, {});
                                      return jsonAnswer(200, {{"released_bytes", monitor_.trimPools()}});
                                    }};
  routes["/api/v1/actions/bandwidth"] = {"POST", true, "measure the bandwidth matrix (202; 409 while one runs)",
                                         [this](const HttpRequest& request) {
                                           actionBody(request, {});
                                           return startBandwidth();
                                         }};
  routes["/api/v1/actions/reserve"] = {"POST", true, "reserve huge pages: {\"page_size\": \"2M\", \"count\": N, \"node\": N}",
                                       reserveAction};
  routes["/api/v1/actions/release"] = {"POST", true, "put back every huge page count xmem changed", releaseAction};
  routes["/api/v1/actions/promote"] = {
      "POST", true, "turn one of this process's allocations into huge pages in place: {\"address\": \"0x...\"}", promoteAction};
  routes["/api/v1/actions/migrate"] = {
      "POST", true, "move one of this process's allocations to a node: {\"address\": \"0x...\", \"node\": N}", migrateAction};
}

HttpResponse MonitorServer::Impl::index() const {
  Json endpoints = Json::array();
  for (const auto& [path, route] : routes_) {
    if (route.action && !options_.allowActions) continue;
    endpoints.push_back({{"path", path}, {"method", route.method}, {"description", route.description}});
  }
  return jsonAnswer(200, {{"schema_version", kSnapshotSchemaVersion}, {"actions", options_.allowActions}, {"endpoints", endpoints}});
}

HttpResponse MonitorServer::Impl::startBandwidth() {
  if (measuring_.exchange(true)) return errorAnswer(409, "a bandwidth measurement is already running");
  std::lock_guard lock(mutex_);
  if (bandwidthThread_.joinable()) bandwidthThread_.join();  // the last one, finished
  bandwidthThread_ = std::thread([this] {
    try {
      monitor_.setBandwidth(options_.measureBandwidth());
    } catch (const std::exception& error) {
      warn(std::string("the bandwidth measurement failed: ") + error.what());
    } catch (...) {
      warn("the bandwidth measurement failed (an exception that is not a std::exception)");
    }
    measuring_ = false;
  });
  return jsonAnswer(202, {{"status", "measuring"}, {"result", "/api/v1/bandwidth"}});
}

HttpResponse MonitorServer::Impl::handle(const HttpRequest& request) {
  const auto& route = routes_.at(request.path);  // the screen let only known paths through
  try {
    return route.answer(request);
  } catch (const Error& error) {
    return errorAnswer(statusOf(error.code()), error.what());
  } catch (const nlohmann::json::exception& error) {
    return errorAnswer(400, std::string("bad value in the body: ") + error.what());
  } catch (const std::exception& error) {
    return errorAnswer(500, std::string("internal error: ") + error.what());
  }
}

std::optional<HttpResponse> MonitorServer::Impl::screen(const HttpRequest& request) const {
  auto host = request.header("Host");
  if (!host && request.version == "HTTP/1.1") return errorAnswer(400, "Host header missing (HTTP/1.1 requires it)");
  if (host && !hostAllowed(*host)) return errorAnswer(403, "Host not allowed: " + std::string(host->substr(0, 200)));
  auto route = routes_.find(request.path);
  if (route == routes_.end()) return errorAnswer(404, "no such path: " + request.path.substr(0, 200) + " (see /api/v1)");
  const bool get = route->second.method == "GET";
  if (request.method != route->second.method && !(get && request.method == "HEAD")) {
    auto answer = errorAnswer(405, request.method + " is not allowed on " + request.path + ": use " + route->second.method);
    answer.headers.emplace_back("Allow", get ? "GET, HEAD" : "POST");
    return answer;
  }
  return route->second.action ? screenAction(request) : std::nullopt;
}

std::optional<HttpResponse> MonitorServer::Impl::screenAction(const HttpRequest& request) const {
  if (!options_.allowActions)
    return errorAnswer(403, "actions are disabled: the server was started read-only (actions need allowActions and a token)");
  auto authorization = request.header("Authorization");
  if (!authorization) {
    auto answer = errorAnswer(401, "this action needs Authorization: Bearer <token>");
    answer.headers.emplace_back("WWW-Authenticate", "Bearer");
    return answer;
  }
  if (!server::constantTimeEquals(*authorization, "Bearer " + options_.token)) return errorAnswer(403, "wrong token");
  // A browser cannot send this type to another origin without asking first (a CSRF brake).
  auto type = request.header("Content-Type");
  if (!type || mediaType(*type) != kJson)
    return errorAnswer(415, "Content-Type is \"" + std::string(type.value_or("")) + "\": actions take application/json");
  return std::nullopt;
}

bool MonitorServer::Impl::hostAllowed(std::string_view host) const {
  while (!host.empty() && host.back() == ' ') host.remove_suffix(1);
  const auto lower = lowercase(host);
  return std::find(allowedHosts_.begin(), allowedHosts_.end(), lower) != allowedHosts_.end();
}

void MonitorServer::Impl::checkOptions() const {
  auto invalid = [](const std::string& message) { throw Error(ErrorCode::InvalidArgument, "MonitorServer: " + message); };
  if (options_.listen.empty()) invalid("the listen address is empty");
  if (!isLoopbackAddress(options_.listen) && options_.token.empty())
    invalid("listen address " + options_.listen + " is not loopback: other machines could reach it, so it needs a token");
  if (options_.allowActions && options_.token.empty()) invalid("actions are allowed but no token is set: actions need one");
  if (std::any_of(options_.token.begin(), options_.token.end(), [](char c) { return c <= ' ' || c == 127; }))
    invalid("the token holds a space or control character, which a header cannot carry");
  for (const auto& host : options_.allowedHosts)
    if (host.empty() || std::any_of(host.begin(), host.end(), [](char c) { return c <= ' ' || c == '/' || c == 127; }))
      invalid("allowed host \"" + host + "\" is not a host name (name or name:port, no spaces or slashes)");
  if (options_.threads == 0) invalid("threads is 0: expected at least 1");
  if (options_.maxBodyBytes == 0) invalid("maxBodyBytes is 0");
  if (options_.maxHeaderBytes < 256) invalid("maxHeaderBytes is " + std::to_string(options_.maxHeaderBytes) + ": expected at least 256");
  if (options_.requestTimeout.count() < 1) invalid("requestTimeout is " + std::to_string(options_.requestTimeout.count()) + " s: expected at least 1 s");
  if (options_.historyInterval.count() < 1) invalid("historyInterval is " + std::to_string(options_.historyInterval.count()) + " s: expected at least 1 s");
  if (!options_.measureBandwidth) invalid("measureBandwidth is empty");
}

void MonitorServer::Impl::warn(std::string message) {
  std::cerr << "xmem: " << message << "\n";
  std::lock_guard lock(mutex_);
  warnings_.push_back(std::move(message));
}

void MonitorServer::Impl::start() {
  if (http_) throw Error(ErrorCode::InvalidArgument, "MonitorServer: already started");
  checkOptions();
  server::HttpServerOptions http;
  http.threads = options_.threads;
  http.maxBodyBytes = options_.maxBodyBytes;
  http.maxHeaderBytes = options_.maxHeaderBytes;
  http.readTimeout = options_.requestTimeout;
  http.defaultHeaders = securityHeaders();
  http_ = std::make_unique<server::HttpServer>(
      http, [this](const HttpRequest& request) { return screen(request); },
      [this](const HttpRequest& request) { return handle(request); },
      [this](int status, HttpResponse& answer) { answer = errorAnswer(status, statusMessage(status, options_)); });
  try {
    port_ = http_->bind(options_.listen, options_.port);
  } catch (...) {
    http_.reset();
    throw;
  }
  const auto port = std::to_string(port_);
  allowedHosts_.clear();
  stopping_ = false;
  std::vector<std::string> names = {"localhost", "127.0.0.1", "[::1]", lowercase(bracketed(options_.listen))};
  for (const auto& name : options_.allowedHosts) names.push_back(lowercase(name));
  for (const auto& name : names) {
    allowedHosts_.push_back(name);
    allowedHosts_.push_back(name + ":" + port);
  }
  if (!isLoopbackAddress(options_.listen))
    warn("monitoring listens on " + bracketed(options_.listen) + ":" + port +
         ", which other machines can reach: anyone there can read its figures (the token guards only the actions), "
         "and Host names other than the listen address need allowedHosts. Prefer a loopback address behind a reverse proxy with TLS.");
  history_.record(monitor_.snapshot());  // so that a page opened now already has a point
  historyThread_ = std::thread([this] { recordHistory(); });
  http_->start();
}

void MonitorServer::Impl::recordHistory() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, options_.historyInterval, [this] { return stopping_; })) {
    lock.unlock();
    history_.record(monitor_.snapshot());
    lock.lock();
  }
}

void MonitorServer::Impl::stop() {
  if (!http_) return;
  http_->stop();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (historyThread_.joinable()) historyThread_.join();
  // A measurement cannot be interrupted: wait for it, it writes into the monitor.
  std::thread measurement;
  {
    std::lock_guard lock(mutex_);
    measurement = std::move(bandwidthThread_);
  }
  if (measurement.joinable()) measurement.join();
  http_.reset();
}

MonitorServer::MonitorServer(Monitor& monitor, ServerOptions options)
    : impl_(std::make_unique<Impl>(monitor, std::move(options))) {}
MonitorServer::~MonitorServer() = default;
void MonitorServer::start() { impl_->start(); }
void MonitorServer::stop() { impl_->stop(); }
std::uint16_t MonitorServer::port() const { return impl_->port(); }
std::string MonitorServer::url() const { return impl_->url(); }
std::vector<std::string> MonitorServer::warnings() const { return impl_->warnings(); }

}  // namespace xmem

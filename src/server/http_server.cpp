// The HTTP server face over cpp-httplib (Debian's libcpp-httplib 0.11: a shared library built
// with OpenSSL, zlib and brotli, so this file is compiled with exactly its pkg-config Cflags).
#include "server/http_server.h"

#include <xmem/error.h>

#include <httplib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <exception>
#include <thread>

namespace xmem::server {
namespace {

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// httplib 0.11 files the peer's and its own address as request headers (REMOTE_ADDR, ...),
// after those the client sent, which may spoof them (GHSA-xm2j-vfr9-mg9m). They are not headers
// of the request: the face passes none of them on, and reads the peer from req.remote_addr.
constexpr std::array<std::string_view, 4> kLibraryHeaders = {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"};

// Set on a response the screen answered, for the handlers that run after it; removed before sending.
const std::string kScreenMarker = "X-Xmem-Screened-Status";

bool isLibraryHeader(std::string_view name) {
  return std::any_of(kLibraryHeaders.begin(), kLibraryHeaders.end(),
                     [&](std::string_view own) { return equalsIgnoringCase(name, own); });
}

// What the client sent before the body: the request line and every header line ("name: value\r\n").
// httplib 0.11 limits each line to 8 KiB but not their number, so the total is checked here.
std::size_t headerBytes(const httplib::Request& req) {
  std::size_t total = req.method.size() + req.target.size() + req.version.size() + 4;
  for (const auto& [name, value] : req.headers) total += name.size() + value.size() + 4;
  // The library's own copies (the last of each name) were not sent.
  for (auto own : kLibraryHeaders) {
    auto [first, last] = req.headers.equal_range(std::string(own));
    if (first != last) total -= std::prev(last)->first.size() + std::prev(last)->second.size() + 4;
  }
  return total;
}

HttpRequest faceOf(const httplib::Request& req, bool withBody) {
  HttpRequest face;
  face.method = req.method;
  face.path = req.path;
  face.version = req.version;
  face.remoteAddress = req.remote_addr;
  for (const auto& [name, value] : req.headers)
    if (!isLibraryHeader(name)) face.headers.emplace_back(name, value);
  if (withBody) face.body = req.body;
  return face;
}

// A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 6.3), but
// httplib 0.11 reads a POST's body until the peer closes, then answers 400: `curl -X POST` would
// wait out the timeout. Saying so is the fix; the request is httplib's own (non-const) object.
void announceEmptyBody(const httplib::Request& req) {
  if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
    const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
}

// httplib's default socket options add SO_REUSEPORT, with which a second server binds a port in
// use and the kernel splits the connections between them. Only SO_REUSEADDR is wanted (restart
// while old connections linger in TIME_WAIT). setsockopt comes with httplib.h's own includes.
void listeningSocketOptions(socket_t socket) {
  int yes = 1;
  ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

// httplib 0.11 listens with a backlog of 5 (built into the library): a sixth client connecting
// at once has its SYN dropped and retries after a second (the load benchmark's 1 s outliers).
// listen() again on the listening socket only widens its queue; svr_sock_ is a protected member.
class Server : public httplib::Server {
 public:
  void widenBacklog(int backlog) { ::listen(svr_sock_, backlog); }
};
constexpr int kListenBacklog = 128;

void put(const HttpResponse& answer, httplib::Response& res) {
  res.status = answer.status;
  for (const auto& [name, value] : answer.headers) res.set_header(name, value);
  res.set_content(answer.body, answer.contentType.empty() ? "text/plain; charset=utf-8" : answer.contentType);
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (equalsIgnoringCase(key, name)) return std::string_view(value);
  return std::nullopt;
}

bool HttpRequest::hasBody() const {
  auto length = header("Content-Length");
  return (length && *length != "0") || header("Transfer-Encoding").has_value();
}

bool constantTimeEquals(std::string_view presented, std::string_view expected) noexcept {
  // Walk `presented` whole, against `expected` repeated, so the time says nothing of where the
  // first difference is or of the expected length.
  unsigned difference = presented.size() == expected.size() ? 0U : 1U;
  if (expected.empty()) return presented.empty();
  for (std::size_t i = 0; i < presented.size(); ++i)
    difference |= static_cast<unsigned>(static_cast<unsigned char>(presented[i]) ^
                                        static_cast<unsigned char>(expected[i % expected.size()]));
  return difference == 0;
}

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, Screen screen, Handler handler, ErrorBody errorBody)
      : options_(std::move(options)), screen_(std::move(screen)), handler_(std::move(handler)),
        errorBody_(std::move(errorBody)) {
    configure();
    route();
  }

  std::uint16_t bind(const std::string& address, std::uint16_t port) {
    int bound = port == 0 ? server_.bind_to_any_port(address) : (server_.bind_to_port(address, port) ? port : -1);
    if (bound <= 0)
      throw Error(ErrorCode::SystemError, "cannot listen on " + address + ":" + std::to_string(port) +
                                              " (address in use, not this machine's, or not an address)");
    server_.widenBacklog(kListenBacklog);
    return static_cast<std::uint16_t>(bound);
  }

  void start() {
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      listenReturned_ = true;
    });
  }

  void stop() {
    if (!thread_.joinable()) return;
    // httplib's stop() does nothing until its listen loop has begun: wait for that first, or a
    // stop right after start would leave the loop running and the join waiting for ever.
    while (!server_.is_running() && !listenReturned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server_.stop();
    thread_.join();
  }

 private:
  void configure() {
    const unsigned threads = std::max(1U, options_.threads);
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_read_timeout(options_.readTimeout.count());
    server_.set_write_timeout(options_.readTimeout.count());
    server_.set_keep_alive_timeout(options_.keepAliveIdle.count());
    server_.set_keep_alive_max_count(options_.keepAliveRequests);
    server_.set_payload_max_length(options_.maxBodyBytes);
    server_.set_socket_options(listeningSocketOptions);
    // httplib writes the headers and the body apart; with Nagle's algorithm on, the body then
    // waits for the client's delayed ACK, 40 ms an answer (the load benchmark showed 45 req/s).
    server_.set_tcp_nodelay(true);
    httplib::Headers defaults;
    for (const auto& [name, value] : options_.defaultHeaders) defaults.emplace(name, value);
    server_.set_default_headers(defaults);
  }

  void route() {
    // The screen runs before the body is read. Its answer is kept in the response and the
    // request goes on, so that httplib reads (and bounds) an announced body: stopping here
    // would leave the body's bytes to be parsed as the next request on the connection. The
    // marker says which status the screen gave, since httplib may replace it (413 while reading
    // the body, 400 for a method it does not route); the marker never leaves the server.
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      announceEmptyBody(req);
      std::optional<HttpResponse> answer;
      if (headerBytes(req) > options_.maxHeaderBytes) {
        answer = HttpResponse{431, "", "", {}};
        errorBody_(431, *answer);
      } else {
        answer = screen_(faceOf(req, false));
      }
      if (answer) {
        put(*answer, res);
        res.set_header(kScreenMarker, std::to_string(answer->status));
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      if (res.has_header(kScreenMarker)) {
        res.headers.erase(kScreenMarker);
        return;
      }
      put(handler_(faceOf(req, true)), res);
    };
    server_.Get(".*", handle).Post(".*", handle).Put(".*", handle).Patch(".*", handle);
    server_.Delete(".*", handle).Options(".*", handle);
    // Every error gets a body of ours: the library's own (400, 413, 414) and a screen's answer
    // whose status the library replaced.
    server_.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
      const bool replaced = res.has_header(kScreenMarker) && res.get_header_value(kScreenMarker) != std::to_string(res.status);
      res.headers.erase(kScreenMarker);
      if (!res.body.empty() && !replaced) return httplib::Server::HandlerResponse::Unhandled;
      HttpResponse answer{res.status, "", "", {}};
      errorBody_(res.status, answer);
      res.headers.erase("Allow");
      res.headers.erase("WWW-Authenticate");
      put(answer, res);
      return httplib::Server::HandlerResponse::Handled;
    }));
    server_.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      HttpResponse answer{500, "", "", {}};
      errorBody_(500, answer);
      put(answer, res);
    });
  }

  HttpServerOptions options_;
  Screen screen_;
  Handler handler_;
  ErrorBody errorBody_;
  Server server_;
  std::thread thread_;
  std::atomic<bool> listenReturned_{false};
};

HttpServer::HttpServer(HttpServerOptions options, Screen screen, Handler handler, ErrorBody errorBody)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(screen), std::move(handler), std::move(errorBody))) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::bind(const std::string& address, std::uint16_t port) { return impl_->bind(address, port); }
void HttpServer::start() { impl_->start(); }
void HttpServer::stop() { impl_->stop(); }

}  // namespace xmem::server

// A small HTTP/1.1 server face: requests and responses as plain values, two callbacks, limits.
// http_server.cpp is the one file that knows the HTTP library (cpp-httplib), so a Windows build or
// a switch of library touches that file alone.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xmem::server {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;         ///< "GET", "POST", ... (HEAD is passed on as HEAD)
  std::string path;           ///< without the query string
  std::string version;        ///< "HTTP/1.1"
  HttpHeaders headers;        ///< as sent (names keep their case)
  std::string body;           ///< empty in the screen: it is read only for admitted requests
  std::string remoteAddress;  ///< the peer's address from the socket, never from a header

  /// The first header called `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  /// Whether a body follows the headers (Content-Length above 0, or chunked).
  bool hasBody() const;
};

struct HttpResponse {
  int status = 200;
  std::string contentType;
  std::string body;
  HttpHeaders headers;  ///< besides Content-Type and the server's default headers
};

struct HttpServerOptions {
  unsigned threads = 2;
  std::size_t maxBodyBytes = 64 * 1024;
  std::size_t maxHeaderBytes = 8 * 1024;
  std::chrono::seconds readTimeout{5};    ///< per read of a request, and per write of an answer
  std::chrono::seconds keepAliveIdle{1};  ///< an idle connection holds a thread this long at most
  std::size_t keepAliveRequests = 100;    ///< then the connection is closed
  HttpHeaders defaultHeaders;             ///< on every response, errors of the library included
};

class HttpServer {
 public:
  /// Runs on the headers, before any body is read: an answer ends the request there (the
  /// connection is closed when a body was announced, so its bytes are never read as a request).
  using Screen = std::function<std::optional<HttpResponse>(const HttpRequest&)>;
  /// Answers an admitted request, body read.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  /// Gives a body to an error answered without one (the library's own 400, 413, 414 ...).
  using ErrorBody = std::function<void(int status, HttpResponse&)>;

  HttpServer(HttpServerOptions options, Screen screen, Handler handler, ErrorBody errorBody);
  ~HttpServer();  ///< stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds `address`:`port` (0: any free port) and returns the port. Throws Error (SystemError)
  /// naming the address when it cannot.
  std::uint16_t bind(const std::string& address, std::uint16_t port);
  /// Serves on a thread of its own until stop().
  void start();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// Equal strings, in a time that depends only on `presented`'s length: every byte is compared,
/// the length difference included, with no early exit (a token check must not leak a prefix).
bool constantTimeEquals(std::string_view presented, std::string_view expected) noexcept;

}  // namespace xmem::server

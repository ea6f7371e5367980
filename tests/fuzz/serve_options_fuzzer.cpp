// What `xmem serve` reads before it binds: the --listen value (HOST:PORT, [v6]:PORT, HOST, :PORT)
// and the token file's first line. Each either gives its parts or is refused with a
// CLI::ValidationError naming the value; nothing else may come out of them.
#include "serve_command.h"

#include <xmem/server.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

// Up to the first newline: the --listen value; the rest: the token file.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string listen = input.substr(0, newline);
  try {
    const auto [host, port] = xmem::cli::parseListen(listen, 9464);
    (void)xmem::isLoopbackAddress(host);
    (void)port;
  } catch (const CLI::ValidationError&) {
  }
  static const std::string file = "/tmp/xmem-fuzz-token-" + std::to_string(::getpid());
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (newline != std::string::npos) out << input.substr(newline + 1);
  }
  ::chmod(file.c_str(), 0600);  // else each run warns that others can read it
  try {
    const auto token = xmem::cli::readToken(file);
    if (token.size() < 16 || token.size() > 4096) std::abort();  // refused, not returned
  } catch (const CLI::ValidationError&) {
  }
  return 0;
}

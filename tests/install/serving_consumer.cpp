// A program outside the tree that serves its own memory with the installed xmem::server.
#include <xmem/monitor.h>
#include <xmem/server.h>

#include <cstdio>

int main() {
  xmem::Monitor monitor;
  xmem::ServerOptions options;  // 127.0.0.1, any free port
  xmem::MonitorServer server(monitor, options);
  server.start();
  std::printf("serving at %s\n", server.url().c_str());
  server.stop();
  return server.port() != 0 ? 0 : 1;
}

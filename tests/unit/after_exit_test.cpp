// xmem after the static destructors: a program under the preload ends, its exit report asks where
// each live block is now, and late frees and allocations still map memory. This program's exit
// handler is registered before any static object of xmem is built, so it runs after they are all
// destroyed; it asks the machine's facts, the topology and a mapping then. The caches they live in
// were destroyed first once (use after free: a double free in glibc under cc1plus, a heap use after
// free under ASan). Exit 0 and "after exit: ok" when all is well.
#include <xmem/system_info.h>
#include <xmem/topology.h>
#include <xmem/virtual_memory.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

void afterEverything() {
  const auto info = xmem::SystemInfo::get();
  const auto topology = xmem::Topology::get();
  xmem::VirtualMemory::Options options;
  options.size = 4 * xmem::MiB;
  auto memory = xmem::VirtualMemory::tryAllocate(options);
  const bool ok = info->basePageSize == static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) && topology->size() >= 1 &&
                  memory.ok() && memory.value().data() != nullptr;
  if (ok) memory.value().data()[0] = 1;
  std::printf("after exit: %s\n", ok ? "ok" : "WRONG FACTS");
  std::fflush(stdout);
  if (!ok) std::_Exit(1);
}

// Priority 101 runs before every static initializer of this program, xmem's included: registered
// first, the handler runs last.
__attribute__((constructor(101))) void registerFirst() { std::atexit(afterEverything); }

}  // namespace

int main() {
  // Build the caches now, as a program's first allocations would.
  (void)xmem::SystemInfo::get();
  (void)xmem::Topology::get();
  xmem::VirtualMemory::Options options;
  options.size = 4 * xmem::MiB;
  (void)xmem::VirtualMemory::tryAllocate(options);
  return 0;
}

#include <xmem/xmem.h>

#include <cstdio>

int main() {
  xmem::VirtualMemoryOptions options;
  options.size = 4 * xmem::MiB;
  xmem::VirtualMemory memory(options);
  memory.data()[0] = 1;
  std::printf("xmem %s: %s\n", XMEM_VERSION, memory.report().summary().c_str());
  return memory.data() != nullptr ? 0 : 1;
}

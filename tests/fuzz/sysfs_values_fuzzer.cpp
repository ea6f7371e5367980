// One-value files of /sys: node and CPU lists (node/online, nodeN/cpulist), distances, page
// counts (nr_hugepages, free_hugepages), the THP modes ("always [madvise] never").
#include "os/linux/proc_parsers.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace text = xmem::os::linux_text;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  const auto cpus = text::parseCpuList(content);
  // A list is ascending ids; a range like "0-4294967295" must not become billions of entries.
  for (std::size_t i = 1; i < cpus.size(); ++i)
    if (cpus[i] <= cpus[i - 1]) std::abort();
  (void)text::parseNumbers(content);
  (void)text::parseUnsigned(content);
  (void)text::parseThpMode(content);
  if (text::selectedWord(content).size() > content.size()) std::abort();
  return 0;
}

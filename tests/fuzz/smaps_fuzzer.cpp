// /proc/PID/smaps and numa_maps of a process (xmem stats --pid, the monitor, the placement
// checks). Another process's files are outside input: they change while read and may be cut short.
#include "os/linux/proc_parsers.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace text = xmem::os::linux_text;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const auto basePageSize = std::size_t{4096} << input.ConsumeIntegralInRange(0, 4);
  const std::string numaMaps = input.ConsumeRandomLengthString(4096);
  const std::string smaps = input.ConsumeRemainingBytesAsString();

  const auto areas = text::parseSmaps(smaps);
  const auto nodes = text::parseNumaMaps(numaMaps);
  auto mappings = text::parseSmapsMappings(smaps);
  text::attachNodes(mappings, nodes, basePageSize);
  // A range over the first area, and one over everything: the scaling of areas partly inside.
  if (!areas.empty()) {
    (void)text::summarizeRange(areas, nodes, areas.front().start, areas.front().end, basePageSize);
    (void)text::summarizeRange(areas, nodes, areas.front().start + 1, areas.back().end, basePageSize);
  }
  (void)text::summarizeRange(areas, nodes, 0, UINTPTR_MAX, basePageSize);
  return 0;
}

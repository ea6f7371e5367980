// GetLogicalProcessorInformationEx's records, as the Windows platform walks them for nodes and
// caches: variable-size records with their own Size fields, groups of CPUs per node.
#include "os/windows/windows_platform.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  // Up to four processor groups of up to 64 CPUs each, numbered flat as the platform does.
  std::vector<std::uint32_t> groupFirstCpu;
  std::uint32_t first = 0;
  for (auto groups = input.ConsumeIntegralInRange(1, 4); groups > 0; --groups) {
    groupFirstCpu.push_back(first);
    first += input.ConsumeIntegralInRange<std::uint32_t>(1, 64);
  }
  const auto records = input.ConsumeRemainingBytes<std::uint8_t>();

  for (const auto& node : xmem::os::windows::parseNumaNodes(records, groupFirstCpu))
    if (node.cpus.empty()) std::abort();  // nodes without CPUs are left out
  (void)xmem::os::windows::parseLargestCache(records);
  return 0;
}

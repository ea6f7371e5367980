// The kernel's counter files: /proc/PID/status, /proc/vmstat, /proc/buddyinfo, /proc/meminfo and
// a node's meminfo, /proc/cpuinfo. Read by every xmem start (probe) and every snapshot.
#include "os/linux/proc_parsers.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace text = xmem::os::linux_text;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const auto capability = input.ConsumeIntegralInRange<unsigned>(0, 70);
  const std::string content = input.ConsumeRemainingBytesAsString();

  (void)text::parseProcessStatus(content);
  (void)text::hasEffectiveCapability(content, capability);
  (void)text::parseVmstatCounters(content);
  (void)text::parseBuddyInfo(content);
  for (const char* key : {"MemTotal", "MemFree", "MemAvailable", "Hugepagesize", "HugePages_Total"})
    (void)text::findKibField(content, key);
  (void)text::cpuHasFlag(content, "pdpe1gb");
  return 0;
}

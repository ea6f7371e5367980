// The preload library's published records, as `xmem stats --pid` copies them out of another
// process: two copies read one after the other, either of which may be torn or not records at all.
#include "monitor/process_stats.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const bool same = input.ConsumeBool();
  std::string first = input.ConsumeRandomLengthString(size);
  std::string again = same ? first : input.ConsumeRemainingBytesAsString();
  (void)xmem::monitoring::parsePublishedRecords(first, again);
  return 0;
}

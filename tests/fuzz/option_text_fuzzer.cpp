// Option values as XMEM_* variables, flags and config keys spell them: sizes ("2M", "1g"),
// node lists ("0,1", "off"), counts, switches and page kinds, each read by the key that takes it.
#include <xmem/config.h>
#include <xmem/error.h>
#include <xmem/types.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const auto& keys = xmem::memoryConfigKeys();
  const auto& key = keys[input.ConsumeIntegralInRange<std::size_t>(0, keys.size() - 1)];
  const std::string text = input.ConsumeRemainingBytesAsString();

  if (auto bytes = xmem::parseSize(text); bytes && *bytes == 0) std::abort();  // parseSize promises nullopt for 0

  xmem::MemoryConfig config;
  try {
    xmem::applyOptionText(config, key.key, text, key.environment);
  } catch (const xmem::Error&) {
  }
  return 0;
}

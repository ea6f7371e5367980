// The config file, as `xmem --config FILE` and the library read it: xmem's flat keys or XMRig's
// config.json. Bad input must end in xmem::Error naming what is wrong, never in another exception.
#include <xmem/config.h>
#include <xmem/error.h>
#include <xmem/profiles.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const xmem::MemoryConfig config = xmem::parseMemoryConfig(text, "fuzzed.json");
    // What the commands do next with XMRig's thread layout: look a profile up, aliases followed.
    for (const auto& profile : xmem::memoryProfiles()) (void)config.threadsFor(profile.name);
    (void)config.threadsFor("");
  } catch (const xmem::Error&) {
  }
  return 0;
}

// The XMEM_PRELOAD_* variables, as the preload library reads them before main: each bad value is
// one error line and keeps its default; nothing throws (an exception there would end the program).
#include <xmem/preload_policy.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  std::map<std::string, std::string> environment;
  for (const auto& variable : xmem::preloadVariables())
    if (input.ConsumeBool()) environment[variable.name] = input.ConsumeRandomLengthString(64);

  const auto parsed = xmem::parsePreloadPolicy([&](const char* name) -> const char* {
    auto found = environment.find(name);
    return found == environment.end() ? nullptr : found->second.c_str();
  });
  if (parsed.errors.size() > environment.size()) std::abort();  // at most one line per variable set
  for (const auto& line : parsed.errors)
    if (line.empty()) std::abort();
  return 0;
}

#include <xmem/config.h>
#include <xmem/environment.h>
#include <xmem/huge_pages.h>
#include <xmem/preload_policy.h>

namespace xmem {

const std::vector<EnvironmentVariable>& placeVariables() {
  static const std::vector<EnvironmentVariable> variables = {
      {kStateDirVariable, "", "PATH", "where `xmem reserve` records the counts it changed for `xmem release` (/run/xmem)"},
      {kSysctlDirVariable, "", "PATH", "where `xmem reserve --persist` writes 60-xmem-hugepages.conf (/etc/sysctl.d)"},
      {kPreloadLibraryVariable, "--preload-library", "PATH",
       "libxmem-preload.so for `xmem run` (found next to xmem, or in the build tree it came from)"},
  };
  return variables;
}

std::vector<EnvironmentVariable> environmentVariables() {
  std::vector<EnvironmentVariable> all;
  for (const auto& key : memoryConfigKeys()) all.push_back({key.environment, key.flag, key.takes, key.help});
  for (const auto& variable : preloadVariables()) all.push_back({variable.name, variable.flag, variable.values, variable.meaning});
  for (const auto& variable : placeVariables()) all.push_back(variable);
  return all;
}

}  // namespace xmem

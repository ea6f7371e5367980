#include <xmem/config.h>
#include <xmem/environment.h>
#include <xmem/huge_pages.h>
#include <xmem/preload_policy.h>

#include "os/os.h"

#include <string>

namespace xmem {

const std::vector<EnvironmentVariable>& placeVariables() {
  // The defaults are the OS's places, asked of the os layer once (the strings live as long as the table).
  static const std::string stateMeaning =
      "where `xmem reserve` records the counts it changed for `xmem release` (" + os::current().stateDirectory() + ")";
  static const std::string bootFile = os::current().bootConfiguration({}, "").path;
  static const std::string sysctlMeaning =
      bootFile.empty() ? std::string("where `xmem reserve --persist` would write its boot file (this OS has none: no huge page pools)")
                       : "where `xmem reserve --persist` writes " + bootFile.substr(bootFile.rfind('/') + 1) + " (" +
                             bootFile.substr(0, bootFile.rfind('/')) + ")";
  static const std::vector<EnvironmentVariable> variables = {
      {kStateDirVariable, "", "PATH", stateMeaning},
      {kSysctlDirVariable, "", "PATH", sysctlMeaning},
      {kPreloadLibraryVariable, "--preload-library", "PATH",
       "libxmem-preload.so for `xmem run` (found next to xmem, or in the build tree it came from)"},
      {kServeTokenVariable, "--token-file", "TOKEN",
       "the bearer token `xmem serve` wants for actions and a non-loopback address (--token-file reads it from a file; never on the command line)"},
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

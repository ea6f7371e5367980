#include <xmem/environment.h>
#include <xmem/huge_pages.h>

namespace xmem {

const std::vector<PlaceVariable>& placeVariables() {
  static const std::vector<PlaceVariable> variables = {
      {kStateDirVariable, "", "PATH", "where `xmem reserve` records the counts it changed for `xmem release` (/run/xmem)"},
      {kSysctlDirVariable, "", "PATH", "where `xmem reserve --persist` writes 60-xmem-hugepages.conf (/etc/sysctl.d)"},
      {kPreloadLibraryVariable, "--preload-library", "PATH",
       "libxmem-preload.so for `xmem run` (found next to xmem, or in the build tree it came from)"},
  };
  return variables;
}

}  // namespace xmem

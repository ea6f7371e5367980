// The preload library's topology source: the kernel's node list and distances only. hwloc would
// load libhwloc and libudev (and run their constructors) in every program under LD_PRELOAD, for
// nothing the preload needs.
#include "machine/topology_hwloc.h"

namespace xmem {

std::optional<Topology> topologyFromHwloc() { return std::nullopt; }

}  // namespace xmem

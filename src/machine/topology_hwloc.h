#pragma once

#include <xmem/error.h>
#include <xmem/topology.h>

#include <optional>

namespace xmem {

/// This machine's topology from hwloc, or nullopt when hwloc cannot tell.
std::optional<Topology> topologyFromHwloc();

}  // namespace xmem

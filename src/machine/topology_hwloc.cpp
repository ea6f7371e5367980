// The machine's topology from hwloc: NUMA nodes, their CPUs and memory, and the distance matrix
// the firmware publishes (ACPI SLIT), the spec's source of NUMA facts.
#include "machine/topology_hwloc.h"

#include <hwloc.h>

#include <algorithm>
#include <memory>

namespace xmem {
namespace {

struct TopologyDeleter {
  void operator()(hwloc_topology* topology) const noexcept { hwloc_topology_destroy(topology); }
};

}  // namespace

std::optional<Topology> topologyFromHwloc() {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) return std::nullopt;
  std::unique_ptr<hwloc_topology, TopologyDeleter> topology(raw);
  if (hwloc_topology_load(topology.get()) != 0) return std::nullopt;

  const int count = hwloc_get_nbobjs_by_type(topology.get(), HWLOC_OBJ_NUMANODE);
  if (count <= 0) return std::nullopt;
  std::vector<Topology::Node> nodes;
  std::vector<hwloc_obj_t> objects;
  for (int i = 0; i < count; ++i) {
    hwloc_obj_t object = hwloc_get_obj_by_type(topology.get(), HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    Topology::Node node;
    node.id = object->os_index;
    node.memory = object->attr != nullptr ? object->attr->numanode.local_memory : 0;
    // cpuset bits are the operating system's CPU numbers.
    for (int cpu = hwloc_bitmap_first(object->cpuset); cpu >= 0; cpu = hwloc_bitmap_next(object->cpuset, cpu))
      node.cpus.push_back(static_cast<std::uint32_t>(cpu));
    nodes.push_back(std::move(node));
    objects.push_back(object);
  }

  // Local 10, remote 20 unless the firmware says otherwise (what the kernel assumes too).
  std::vector<std::vector<std::uint32_t>> distances(nodes.size(), std::vector<std::uint32_t>(nodes.size(), 20));
  for (std::size_t i = 0; i < nodes.size(); ++i) distances[i][i] = 10;
  unsigned matrices = 1;
  hwloc_distances_s* published = nullptr;
  if (hwloc_distances_get_by_type(topology.get(), HWLOC_OBJ_NUMANODE, &matrices, &published,
                                  HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) == 0 &&
      matrices == 1 && published != nullptr) {
    for (unsigned a = 0; a < published->nbobjs; ++a)
      for (unsigned b = 0; b < published->nbobjs; ++b) {
        auto i = std::find(objects.begin(), objects.end(), published->objs[a]) - objects.begin();
        auto j = std::find(objects.begin(), objects.end(), published->objs[b]) - objects.begin();
        if (i < static_cast<long>(objects.size()) && j < static_cast<long>(objects.size()))
          distances[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] =
              static_cast<std::uint32_t>(published->values[a * published->nbobjs + b]);
      }
    hwloc_distances_release(topology.get(), published);
  }
  try {
    return Topology(std::move(nodes), std::move(distances));
  } catch (const Error&) {
    return std::nullopt;  // a matrix that makes no sense: the caller falls back to sysfs
  }
}

}  // namespace xmem

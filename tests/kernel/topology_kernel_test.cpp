// The topology from hwloc agrees with the kernel, and binding a thread to its CPU's node works.
#include "kernel/kernel_test.h"

#include <xmem/topology.h>

#include <linux/mempolicy.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

namespace xmem::testing {
namespace {

std::string readLine(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

TEST(TopologyKernel, HwlocAgreesWithTheKernel) {
  auto fromHwloc = Topology::fromSystem();
  auto fromKernel = Topology::fromKernel();
  ASSERT_EQ(fromHwloc.size(), fromKernel.size());
  for (std::size_t i = 0; i < fromHwloc.size(); ++i) {
    EXPECT_EQ(fromHwloc.nodes()[i].id, fromKernel.nodes()[i].id);
    EXPECT_EQ(fromHwloc.nodes()[i].cpus, fromKernel.nodes()[i].cpus);
    EXPECT_GT(fromHwloc.nodes()[i].memory, 0U);
    const auto id = fromHwloc.nodes()[i].id;
    std::string row;
    for (const auto& to : fromHwloc.nodes()) row += (row.empty() ? "" : " ") + std::to_string(fromHwloc.distance(id, to.id));
    EXPECT_EQ(row, readLine("/sys/devices/system/node/node" + std::to_string(id) + "/distance"));
  }
}

TEST(TopologyKernel, BindingAThreadSetsItsMemoryPolicyAndCpu) {
  XMEM_REQUIRE_NATIVE_PLATFORM("sets a thread memory policy and pins a thread");
  auto topology = Topology::fromSystem();
  const std::uint32_t cpu = topology.nodes().front().cpus.front();
  const std::uint32_t node = topology.nodes().front().id;
  std::thread worker([&] {  // a thread of its own: the policy must not leak into other tests
    auto binding = bindThreadToCpu(cpu, /*pinToCpu=*/true, topology);
    EXPECT_TRUE(binding.error.empty()) << binding.error;
    EXPECT_EQ(binding.node, node);
    int mode = -1;
    unsigned long mask[16] = {};
    ASSERT_EQ(::syscall(SYS_get_mempolicy, &mode, mask, 1024UL, nullptr, 0UL), 0);
    EXPECT_EQ(mode, MPOL_BIND);
    EXPECT_EQ(mask[node / 64], 1UL << (node % 64));
    cpu_set_t set;
    ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
    EXPECT_EQ(CPU_COUNT(&set), 1);
    EXPECT_TRUE(CPU_ISSET(cpu, &set));
    // New memory of this thread comes from the node.
    VirtualMemoryOptions options;
    options.size = 4 * MiB;
    options.transparentHugePages = false;
    VirtualMemory memory(options);
    std::memset(memory.data(), 1, memory.size());
    EXPECT_EQ(nodeOfPage(memory.data()), static_cast<int>(node));
    EXPECT_TRUE(VirtualMemory::bindToNUMANode(cpu));
    EXPECT_FALSE(VirtualMemory::bindToNUMANode(-1));
  });
  worker.join();
}

}  // namespace
}  // namespace xmem::testing

#include <xmem/topology.h>
#include <xmem/error.h>

#include "support/fake_platform.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace xmem {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Four nodes whose distances do not follow their numbers: from node 0, node 2 is nearest.
Topology fourNodes() {
  return Topology::fromDistances({0, 1, 2, 3}, {{10, 30, 20, 40},  //
                                                {30, 10, 40, 20},
                                                {20, 40, 10, 30},
                                                {40, 20, 30, 10}});
}

TEST(Topology, NearestNodesFollowDistanceNotNumbers) {
  auto topology = fourNodes();
  EXPECT_THAT(topology.nearestNodes(0), ElementsAre(2, 1, 3));
  EXPECT_THAT(topology.nearestNodes(1), ElementsAre(3, 0, 2));
  EXPECT_THAT(topology.nearestNodes(3), ElementsAre(1, 2, 0));
  EXPECT_EQ(topology.distance(0, 3), 40U);
}

TEST(Topology, NodesComeInIdOrderWhateverTheSourceOrder) {
  // hwloc lists a 4-node QEMU guest by locality: 0, 1, 3, 2.
  auto topology = Topology::fromDistances({0, 1, 3, 2}, {{10, 40, 35, 20}, {40, 10, 15, 17}, {35, 15, 10, 30}, {20, 17, 30, 10}});
  std::vector<std::uint32_t> ids;
  for (const auto& node : topology.nodes()) ids.push_back(node.id);
  EXPECT_THAT(ids, ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(topology.distance(2, 3), 30U);
  EXPECT_EQ(topology.distance(0, 2), 20U);
  EXPECT_EQ(topology.distance(1, 3), 15U);
  EXPECT_THAT(topology.nearestNodes(2), ElementsAre(1, 0, 3));
}

TEST(Topology, TiesGoToTheLowerId) {
  auto topology = Topology::fromDistances({4, 7, 9}, {{10, 20, 20}, {20, 10, 20}, {20, 20, 10}});
  EXPECT_THAT(topology.nearestNodes(9), ElementsAre(4, 7));
  EXPECT_TRUE(topology.has(7));
  EXPECT_FALSE(topology.has(1));
}

TEST(Topology, BadMatricesAreErrors) {
  auto message = [](auto build) {
    try {
      build();
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message([] { Topology::fromDistances({0, 1}, {{10, 20}}); }), HasSubstr("1 rows for 2 nodes"));
  EXPECT_THAT(message([] { Topology::fromDistances({0, 1}, {{10, 20}, {20}}); }), HasSubstr("row 1"));
  EXPECT_THAT(message([] { Topology::fromDistances({0, 0}, {{10, 20}, {20, 10}}); }), HasSubstr("appears twice"));
  EXPECT_THAT(message([] { Topology::fromDistances({0, 1}, {{30, 20}, {20, 10}}); }),
              HasSubstr("node 0 is nearer to node 1 than to itself"));
  EXPECT_THAT(message([] { fourNodes().distance(0, 9); }), HasSubstr("node 9 does not exist: the nodes are 0, 1, 2, 3"));
}

TEST(Topology, CpusMapToTheirNodes) {
  std::vector<Topology::Node> nodes{{0, {0, 1, 4, 5}, 0}, {1, {2, 3, 6, 7}, 0}};
  Topology topology(nodes, {{10, 21}, {21, 10}});
  EXPECT_EQ(topology.nodeOfCpu(5), 0U);
  EXPECT_EQ(topology.nodeOfCpu(6), 1U);
  EXPECT_FALSE(topology.nodeOfCpu(8).has_value());
  EXPECT_THAT([&] {
    try {
      bindThreadToCpu(8, false, topology);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string();
  }(), HasSubstr("CPU 8 is on no NUMA node"));
}

TEST(Topology, ThisMachine) {
  auto topology = Topology::fromSystem();
  ASSERT_GE(topology.size(), 1U);
  auto first = topology.nodes().front().id;
  EXPECT_EQ(topology.distance(first, first), 10U);
  EXPECT_EQ(topology.nearestNodes(first).size(), topology.size() - 1);
}

TEST(Topology, ThisMachineIsReadOnceAndAgainOnlyUnderAnotherPlatform) {
  const auto first = Topology::get();
  EXPECT_EQ(Topology::get().get(), first.get()) << "cached: no second hwloc load";
  testing::FakePlatform fake;
  fake.setNodes(2);
  {
    os::ScopedPlatform installed(fake);
    EXPECT_NE(Topology::get().get(), first.get()) << "read again under the installed platform";
  }
  EXPECT_GE(Topology::get()->size(), 1U) << "and again once it is gone";
}

}  // namespace
}  // namespace xmem

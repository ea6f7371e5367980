#include "mapping/mapping_plan.h"

#include <gtest/gtest.h>

namespace xmem {
namespace {

PlanInput input(std::size_t size, std::vector<HugePageCandidate> huge, bool transparent = true) {
  PlanInput in;
  in.size = size;
  in.hugePages = std::move(huge);
  in.transparent = transparent;
  return in;
}

TEST(MappingPlan, DatasetGoesOnWholeGigabytePagesThenTwoMegabytePages) {
  // RandomX's dataset: 2080 MiB. XMRig rounds it up to 3 GiB of 1 GiB pages; we use 2 + 16.
  auto plan = planMapping(input(2080 * MiB, {{kHugePageSize, 2000}, {kOneGbPageSize, 4}}));
  ASSERT_EQ(plan.segments.size(), 2U);
  EXPECT_EQ(plan.segments[0].kind, PageKind::HugeTlb);
  EXPECT_EQ(plan.segments[0].pageSize, kOneGbPageSize);
  EXPECT_EQ(plan.segments[0].length, 2 * GiB);
  EXPECT_EQ(plan.segments[1].pageSize, kHugePageSize);
  EXPECT_EQ(plan.segments[1].offset, 2 * GiB);
  EXPECT_EQ(plan.segments[1].length, 32 * MiB);
  EXPECT_EQ(plan.length(), 2080 * MiB);
  EXPECT_EQ(plan.largestPageSize(), kOneGbPageSize);
}

TEST(MappingPlan, ShortOfTwoMegabytePagesUsesThemAllThenTransparentPages) {
  auto plan = planMapping(input(2080 * MiB, {{kHugePageSize, 100}}));
  ASSERT_EQ(plan.segments.size(), 2U);
  EXPECT_EQ(plan.segments[0].kind, PageKind::HugeTlb);
  EXPECT_EQ(plan.segments[0].length, 200 * MiB);
  EXPECT_EQ(plan.segments[1].kind, PageKind::Transparent);
  EXPECT_EQ(plan.segments[1].offset, 200 * MiB);
  EXPECT_EQ(plan.segments[1].length, 1880 * MiB);
  EXPECT_NE(plan.decisions.front().find("partial"), std::string::npos) << plan.decisions.front();
}

TEST(MappingPlan, PartialOffMeansAllOrNothing) {
  auto in = input(2080 * MiB, {{kHugePageSize, 100}});
  in.partial = false;
  auto plan = planMapping(in);
  ASSERT_EQ(plan.segments.size(), 1U);
  EXPECT_EQ(plan.segments[0].kind, PageKind::Transparent);
  EXPECT_NE(plan.decisions.front().find("partial use is off"), std::string::npos);
}

TEST(MappingPlan, CountsOfABoundNodeAreSaidToBeThatNodes) {
  auto in = input(2 * GiB, {{kOneGbPageSize, 0}, {kHugePageSize, 10}});
  in.countedNode = 3;
  auto plan = planMapping(in);
  ASSERT_EQ(plan.decisions.size(), 3U);
  EXPECT_EQ(plan.decisions[0], "1 GiB pages: none free on node 3");
  EXPECT_EQ(plan.decisions[1], "2 MiB pages: 10 x 2 MiB (partial: 1024 needed, 10 free on node 3)");
}

TEST(MappingPlan, NothingHugeFallsToTransparentThenBase) {
  auto thp = planMapping(input(64 * MiB, {{kHugePageSize, 0}}));
  ASSERT_EQ(thp.segments.size(), 1U);
  EXPECT_EQ(thp.segments[0].kind, PageKind::Transparent);
  EXPECT_NE(thp.decisions.front().find("none free"), std::string::npos);

  auto base = planMapping(input(64 * MiB, {}, /*transparent=*/false));
  ASSERT_EQ(base.segments.size(), 1U);
  EXPECT_EQ(base.segments[0].kind, PageKind::Base);
  EXPECT_EQ(base.segments[0].length, 64 * MiB);
}

TEST(MappingPlan, SizesRoundToEachPageSize) {
  auto huge = planMapping(input(3 * MiB + 1, {{kHugePageSize, 10}}));
  ASSERT_EQ(huge.segments.size(), 1U);
  EXPECT_EQ(huge.segments[0].length, 4 * MiB) << "the smallest huge size rounds up";

  auto small = planMapping(input(5000, {}, false));
  EXPECT_EQ(small.segments[0].length, 8192U) << "base pages round to the base page size";

  auto below = planMapping(input(1 * MiB, {}, true));
  EXPECT_EQ(below.segments[0].kind, PageKind::Base) << "less than one THP page stays on base pages";
}

TEST(MappingPlan, OneGigabytePagesAreNotUsedForLessThanOnePage) {
  auto plan = planMapping(input(256 * MiB, {{kOneGbPageSize, 4}, {kHugePageSize, 1000}}));
  ASSERT_EQ(plan.segments.size(), 1U);
  EXPECT_EQ(plan.segments[0].pageSize, kHugePageSize);
  EXPECT_NE(plan.decisions.front().find("less than one page"), std::string::npos);
}

TEST(MappingPlan, OnlyOneGigabytePagesEnabledRoundsUp) {
  // When 1 GiB is the only huge size, it is the smallest and covers the rest whole.
  auto plan = planMapping(input(2080 * MiB, {{kOneGbPageSize, 4}}));
  ASSERT_EQ(plan.segments.size(), 1U);
  EXPECT_EQ(plan.segments[0].length, 3 * GiB);
}

TEST(MappingPlan, PlatformsThatCannotMixTakeOneKindWhole) {
  // A size covers the whole or nothing; it rounds up only where that wastes less than an eighth.
  auto in = input(3 * GiB - 100 * MiB, {{kOneGbPageSize, 4}, {kHugePageSize, 2000}});
  in.mixSizes = false;
  auto plan = planMapping(in);
  ASSERT_EQ(plan.segments.size(), 1U);
  EXPECT_EQ(plan.segments[0].pageSize, kOneGbPageSize);
  EXPECT_EQ(plan.segments[0].length, 3 * GiB);

  auto dataset = input(2080 * MiB, {{kOneGbPageSize, 4}, {kHugePageSize, 2000}});
  dataset.mixSizes = false;
  auto datasetPlan = planMapping(dataset);
  ASSERT_EQ(datasetPlan.segments.size(), 1U);
  EXPECT_EQ(datasetPlan.segments[0].pageSize, kHugePageSize) << "3 GiB for 2080 MiB would waste 992 MiB";
  EXPECT_EQ(datasetPlan.segments[0].length, 2080 * MiB);

  auto lastLeft = input(64 * MiB, {{kOneGbPageSize, 4}});
  lastLeft.mixSizes = false;
  auto lastLeftPlan = planMapping(lastLeft);
  ASSERT_EQ(lastLeftPlan.segments.size(), 1U);
  EXPECT_NE(lastLeftPlan.segments[0].kind, PageKind::HugeTlb) << "no 1 GiB page for 64 MiB, even as the last size";

  auto mixing = input(2080 * MiB, {{kOneGbPageSize, 4}, {kHugePageSize, 2000}});
  EXPECT_EQ(planMapping(mixing).segments.size(), 2U) << "Linux mixes: 2 x 1 GiB, then 2 MiB pages";

  auto shortIn = input(2080 * MiB, {{kHugePageSize, 100}});
  shortIn.mixSizes = false;
  auto fallback = planMapping(shortIn);
  ASSERT_EQ(fallback.segments.size(), 1U);
  EXPECT_EQ(fallback.segments[0].kind, PageKind::Transparent);
}

}  // namespace
}  // namespace xmem

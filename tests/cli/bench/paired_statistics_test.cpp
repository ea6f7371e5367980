// The statistics `xmem bench` judges its hashrate target with.
#include "paired_statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace xmem::bench {
namespace {

TEST(PairedStatistics, TenValuesGiveTheSecondAndNinthAsA98PercentInterval) {
  const auto got = medianWithInterval({9, 1, 8, 2, 7, 3, 6, 4, 5, 10});
  EXPECT_DOUBLE_EQ(got.median, 5.5);
  EXPECT_DOUBLE_EQ(got.low, 2);
  EXPECT_DOUBLE_EQ(got.high, 9);
  EXPECT_NEAR(got.confidence, 1.0 - 2.0 * 11.0 / 1024.0, 1e-12);  // 1 - 2 P(Binomial(10, 1/2) <= 1)
  EXPECT_EQ(got.count, 10U);
}

TEST(PairedStatistics, FewValuesFallBackToTheirRangeAndSaySo) {
  const auto three = medianWithInterval({3, 1, 2});
  EXPECT_DOUBLE_EQ(three.median, 2);
  EXPECT_DOUBLE_EQ(three.low, 1);
  EXPECT_DOUBLE_EQ(three.high, 3);
  EXPECT_DOUBLE_EQ(three.confidence, 0.75);
  const auto one = medianWithInterval({4});
  EXPECT_DOUBLE_EQ(one.median, 4);
  EXPECT_DOUBLE_EQ(one.confidence, 0);
  const auto none = medianWithInterval({std::numeric_limits<double>::quiet_NaN()});
  EXPECT_EQ(none.count, 0U);
  EXPECT_EQ(verdict(none, 1.0), "not measured");
}

TEST(PairedStatistics, PairingCancelsTheDriftBothSourcesShare) {
  // The machine slows down round after round; a is 2% faster than b in every round.
  std::vector<double> a, b;
  for (int round = 0; round < 12; ++round) {
    const double drift = 1.0 - 0.03 * round;
    b.push_back(800 * drift);
    a.push_back(816 * drift);
  }
  const auto ratio = pairedRatio(a, b);
  EXPECT_NEAR(ratio.median, 1.02, 1e-9);
  EXPECT_NEAR(ratio.low, 1.02, 1e-9) << "the drift shares no part of the ratio";
  EXPECT_EQ(verdict(ratio, 1.0), "met");
  // Unpaired, the same figures overlap entirely.
  EXPECT_LT(medianWithInterval(a).low, medianWithInterval(b).high);
}

TEST(PairedStatistics, VerdictsTellLevelFromBehind) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto level = pairedRatio({98, 101, 99, 97, 102, 99, nan}, {100, 100, 100, 100, 100, 100, 100});
  EXPECT_EQ(level.count, 6U) << "a round without a measurement is left out";
  EXPECT_LT(level.median, 1.0);
  EXPECT_EQ(verdict(level, 1.0), "level");
  const auto behind = pairedRatio({90, 91, 89, 92, 90, 88}, {100, 100, 100, 100, 100, 100});
  EXPECT_EQ(verdict(behind, 1.0), "not met");
}

}  // namespace
}  // namespace xmem::bench

// The targets judged from made-up figures: which ones a run has, their ratios and verdicts.
#include "verdicts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace xmem::bench {
namespace {

using ::testing::HasSubstr;

StrategyResult strategy(const std::string& name, double readsM, double prefaultGBs, double memsetGBs) {
  Figures round;
  round.readsM = readsM;
  round.prefaultGBs = prefaultGBs;
  round.memsetGBs = memsetGBs;
  return {name, 0, {}, std::vector<Figures>(5, round)};
}

SourceResult source(const std::string& name, double rate, double initSeconds) {
  return {name, {}, {{"mode", "fast"}, {"init_seconds", initSeconds}, {"hashes_right", true}}, std::vector<double>(12, rate)};
}

TEST(Verdicts, EveryTargetTheFiguresAllow) {
  const std::vector<StrategyResult> strategies = {strategy("xmem auto", 100, 9, 10), strategy("1 GiB", 100, 9, 10)};
  const std::vector<SourceResult> sources = {source("system allocator (4 KiB)", 500, 0), source("librandomx LARGE_PAGES", 900, 10),
                                             source("xmem (no pages reserved)", 1000, 5), source("jemalloc, THP", 800, 20)};
  const auto targets = judgeTargets(strategies, sources, {0});
  ASSERT_EQ(targets.size(), 4U);
  EXPECT_THAT(targets[0].what, HasSubstr("random reads vs 1 GiB pages"));
  EXPECT_DOUBLE_EQ(targets[0].ratio.median, 1.0);
  EXPECT_EQ(verdictOf(targets[0], false), "met");
  EXPECT_DOUBLE_EQ(targets[1].ratio.median, 0.9) << "pre-fault over memset";
  EXPECT_THAT(targets[2].what, HasSubstr("best peer (librandomx LARGE_PAGES)")) << "xmem and the system are no peers";
  EXPECT_NEAR(targets[2].ratio.median, 1000.0 / 900.0, 1e-12);
  EXPECT_DOUBLE_EQ(targets[3].ratio.median, 2.0) << "init 5 s against 10 s";
  EXPECT_EQ(verdictOf(targets[3], true), "not judged") << "a quick run judges nothing";
}

TEST(Verdicts, ShortOfTheGoalIsNotMetAndMissingFiguresJudgeNothing) {
  const std::vector<StrategyResult> strategies = {strategy("xmem auto", 50, 1, 10), strategy("1 GiB", 100, 1, 10)};
  const auto targets = judgeTargets(strategies, {}, {0});
  ASSERT_EQ(targets.size(), 2U);
  EXPECT_EQ(verdictOf(targets[0], false), "not met");
  EXPECT_TRUE(judgeTargets({}, {}, {0}).empty());
  auto skipped = strategy("xmem auto", 1, 1, 1);
  skipped.skipped = "not here";
  EXPECT_TRUE(judgeTargets({skipped}, {}, {0}).empty());
}

}  // namespace
}  // namespace xmem::bench

// What the library returns as data, spelled as the commands a person runs.
#include "remedies.h"
#include "support/fake_platform.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace xmem::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Remedies, MissingPagesBecomeAReserveCommandAndTheCountFile) {
  const MissingPages missing{.pageSize = kOneGbPageSize, .node = 0U, .pages = 2, .total = 6, .countFile = "/sys/x/nr_hugepages"};
  EXPECT_EQ(reserveCommand(missing), "xmem reserve --node 0 --page-size 1G --count 2   # or: echo 6 > /sys/x/nr_hugepages");
  EXPECT_EQ(reserveCommand({.pageSize = kHugePageSize, .pages = 3}), "xmem reserve --page-size 2M --count 3");
}

// arm64's sizes too: each in the largest unit that divides it, as `xmem reserve --page-size` reads it.
TEST(Remedies, EveryPageSizeBecomesAFlagReserveReads) {
  for (auto [pageSize, flag] : {std::pair<std::size_t, const char*>{64 * KiB, "64K"}, {2 * MiB, "2M"}, {32 * MiB, "32M"},
                                {512 * MiB, "512M"}, {GiB, "1G"}, {16 * GiB, "16G"}}) {
    EXPECT_EQ(pageSizeFlag(pageSize), flag);
    EXPECT_EQ(parseSize(flag), pageSize) << flag;
  }
  EXPECT_THAT(reserveCommand({.pageSize = 64 * KiB, .node = 0U, .pages = 16, .total = 16}),
              HasSubstr("--page-size 64K --count 16"));
}

TEST(Remedies, StepsBecomeTheShellCommandsTheyAre) {
  Reservation reservation;
  reservation.path = "/fake/2097152/0";
  reservation.steps = {{ReservationStep::Kind::WriteCount, 8}, {ReservationStep::Kind::CompactMemory, 0},
                       {ReservationStep::Kind::WriteCount, 8}};
  EXPECT_THAT(stepCommands(reservation), ElementsAre("echo 8 > /fake/2097152/0", "echo 1 > /proc/sys/vm/compact_memory",
                                                     "echo 8 > /fake/2097152/0"));
}

TEST(Remedies, HelpNamesTheBootParameterForItsPageSize) {
  Reservation stuck;
  stuck.advice = "the kernel found room for 4 of 8 pages: free memory is fragmented";
  stuck.help = {ReservationHelp::ReserveAtBoot};
  EXPECT_THAT(adviceText(stuck, kOneGbPageSize), HasSubstr("found room for 4 of 8 pages"));
  EXPECT_THAT(adviceText(stuck, kOneGbPageSize), HasSubstr("hugepagesz=1G hugepages=N"));
  EXPECT_THAT(helpText(ReservationHelp::DropCaches, kHugePageSize), HasSubstr("drop_caches"));
}

TEST(Remedies, APermissionErrorOfAReservationGetsTheCommandThatWorksAsRoot) {
  testing::FakePlatform fake;
  fake.setNodes(2);
  os::ScopedPlatform installed(fake);
  const Error denied(ErrorCode::PermissionDenied, "needs root", {.node = 1U, .pageSize = kHugePageSize, .pages = 4});
  const auto command = rootCommandFor(denied);
  ASSERT_TRUE(command.has_value());
  EXPECT_THAT(*command, HasSubstr("sudo xmem reserve --page-size 2M --node 1 --total 4"));
  EXPECT_THAT(*command, HasSubstr("echo 4 | sudo tee /fake/2097152/1"));
  EXPECT_FALSE(rootCommandFor(Error(ErrorCode::PermissionDenied, "mlock")).has_value()) << "not about pages";
}

}  // namespace
}  // namespace xmem::cli

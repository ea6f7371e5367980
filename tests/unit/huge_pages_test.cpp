// Reservation logic through the fake platform: records, compaction, partial results, release.
#include "support/fake_platform.h"

#include <xmem/error.h>
#include <xmem/huge_pages.h>
#include <xmem/system_info.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace xmem {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class Reserve : public ::testing::Test {
 protected:
  void SetUp() override {
    state = std::filesystem::temp_directory_path() / ("xmem-state-" + std::to_string(::getpid()));
    std::filesystem::remove_all(state);
    ::setenv("XMEM_STATE_DIR", state.c_str(), 1);
    fake.setNodes(2);
    scoped.emplace(fake);
  }
  void TearDown() override {
    std::filesystem::remove_all(state);
    ::unsetenv("XMEM_STATE_DIR");
  }
  std::uint64_t total(std::optional<std::uint32_t> node) {
    HugePageCounts counts;
    fake.hugePageCounts(kHugePageSize, node, counts);
    return counts.total;
  }

  std::filesystem::path state;
  testing::FakePlatform fake;
  std::optional<os::ScopedPlatform> scoped;
};

TEST_F(Reserve, ReservesOnANodeAndReleaseRestores) {
  fake.setHugePages(kHugePageSize, 1, 3);
  auto reservation = reserveHugePages({.pageSize = kHugePageSize, .node = 1U, .count = 5});
  EXPECT_EQ(reservation.before, 3U);
  EXPECT_EQ(reservation.target, 8U);
  EXPECT_EQ(reservation.after, 8U);
  EXPECT_TRUE(reservation.complete());
  EXPECT_EQ(total(1U), 8U);
  EXPECT_EQ(total(0U), 0U) << "only the chosen node changes";
  EXPECT_TRUE(std::filesystem::exists(reservationStatePath()));

  reserveHugePages({.pageSize = kHugePageSize, .node = 1U, .total = 10});  // the first original stays recorded
  auto restored = releaseHugePages();
  ASSERT_EQ(restored.size(), 1U);
  EXPECT_EQ(restored[0].original, 3U);
  EXPECT_EQ(restored[0].changedTo, 10U);
  EXPECT_EQ(restored[0].now, 3U);
  EXPECT_EQ(total(1U), 3U);
  EXPECT_FALSE(std::filesystem::exists(reservationStatePath()));
  EXPECT_TRUE(releaseHugePages().empty()) << "nothing left to release";
}

TEST_F(Reserve, PartialResultCompactsAndAdvises) {
  fake.reservable[kOneGbPageSize] = 2;
  auto reservation = reserveHugePages({.pageSize = kOneGbPageSize, .node = 0U, .count = 4});
  EXPECT_TRUE(reservation.complete()) << "the fake gives 2 per attempt: 2 before compaction, 2 after";
  EXPECT_EQ(reservation.after, 4U);
  EXPECT_TRUE(reservation.compacted);
  using Step = ReservationStep;
  EXPECT_EQ(reservation.steps, (std::vector<Step>{{Step::Kind::WriteCount, 4}, {Step::Kind::CompactMemory, 0}, {Step::Kind::WriteCount, 4}}))
      << "write, compact, write again";
  EXPECT_EQ(fake.compactions, 1);
  fake.reservable[kOneGbPageSize] = 0;
  auto stuck = reserveHugePages({.pageSize = kOneGbPageSize, .node = 0U, .count = 4});
  EXPECT_FALSE(stuck.complete());
  EXPECT_THAT(stuck.advice, HasSubstr("found room for 4 of 8"));
  EXPECT_EQ(stuck.help, std::vector{ReservationHelp::ReserveAtBoot}) << "1 GiB pages: at boot, before memory fragments";
  releaseHugePages();
}

TEST_F(Reserve, DryRunChangesNothing) {
  auto reservation = reserveHugePages({.node = 0U, .count = 16, .dryRun = true});
  EXPECT_EQ(total(0U), 0U);
  EXPECT_EQ(reservation.steps, (std::vector{ReservationStep{ReservationStep::Kind::WriteCount, 16}}));
  EXPECT_EQ(reservation.path, "/fake/2097152/0");
  EXPECT_FALSE(std::filesystem::exists(reservationStatePath()));
}

TEST_F(Reserve, WithoutPermissionTheErrorSaysWhatWasAsked) {
  fake.switches.countsWritable = false;
  try {
    reserveHugePages({.node = 1U, .count = 4});
    ADD_FAILURE() << "expected PermissionDenied";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::PermissionDenied);
    EXPECT_THAT(error.what(), HasSubstr("needs root"));
    EXPECT_THAT(error.what(), Not(HasSubstr("sudo"))) << "the library spells no command line";
    EXPECT_EQ(error.context().pageSize, kHugePageSize);
    EXPECT_EQ(error.context().node, 1U);
    EXPECT_EQ(error.context().pages, 4U) << "the total to reach";
  }
}

TEST_F(Reserve, BadRequestsAreErrors) {
  auto message = [](ReservationRequest request) {
    try {
      reserveHugePages(request);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message({.pageSize = 3 * MiB, .count = 1}), HasSubstr("page size 3 MiB is not one this kernel offers: expected 2M, 1G"));
  EXPECT_THAT(message({.node = 7U, .count = 1}), HasSubstr("node 7 does not exist"));
  EXPECT_THAT(message({}), HasSubstr("nothing to reserve"));
  // A count that would wrap the sum (and shrink the pool) or that no machine of this size holds.
  EXPECT_THAT(message({.count = ~std::uint64_t{0}}), HasSubstr("is more than the machine's"));
  EXPECT_THAT(message({.total = ~std::uint64_t{0}}), HasSubstr("is more than the machine's"));
  fake.setHugePages(kHugePageSize, 0, 8);
  const std::uint64_t most = fake.machine.memoryTotal / kHugePageSize;
  EXPECT_THAT(message({.count = most}), HasSubstr("8 reserved + "));
}

TEST_F(Reserve, ScopedFreePagesSetsFreeCountsAndPutsEachBack) {
  fake.setHugePages(kHugePageSize, 1, 3);
  {
    ScopedFreeHugePages pages;
    EXPECT_TRUE(pages.makeFree(kHugePageSize, 10, 1U).complete());
    EXPECT_EQ(total(1U), 10U);
    EXPECT_TRUE(pages.makeFree(kHugePageSize, 1, 1U).complete()) << "fewer than found is fine too";
    EXPECT_EQ(total(1U), 1U);
    fake.reservable[kOneGbPageSize] = 0;
    auto none = pages.makeFree(kOneGbPageSize, 2, 0U);
    EXPECT_FALSE(none.complete());
    EXPECT_THAT(none.advice, HasSubstr("found room for 0 of 2"));
  }
  EXPECT_EQ(total(1U), 3U) << "the count found before the first change";
  EXPECT_FALSE(std::filesystem::exists(reservationStatePath())) << "put back: nothing left for xmem release";
  HugePageCounts gigabyte;
  fake.hugePageCounts(kOneGbPageSize, 0U, gigabyte);
  EXPECT_EQ(gigabyte.total, 0U);

  reserveHugePages({.pageSize = kHugePageSize, .node = 1U, .count = 2});  // the operator's, 3 -> 5
  {
    ScopedFreeHugePages pages;
    pages.makeFree(kHugePageSize, 9, 1U);
  }
  EXPECT_EQ(total(1U), 5U);
  auto restored = releaseHugePages();
  ASSERT_EQ(restored.size(), 1U) << "the operator's reservation stays recorded";
  EXPECT_EQ(restored[0].original, 3U);

  fake.switches.countsWritable = false;
  ScopedFreeHugePages refused;
  EXPECT_TRUE(refused.makeFree(kHugePageSize, 3, 1U).complete()) << "already so: nothing to write";
  EXPECT_THROW(refused.makeFree(kHugePageSize, 5, 1U), Error);
}

TEST_F(Reserve, SeveralFreeCountsAtOnceLargestFirstAndTheFirstShortfallSaid) {
  fake.setHugePages(kHugePageSize, 1, 3);
  {
    ScopedFreeHugePages pages;
    EXPECT_FALSE(makeHugePagesFree(pages, {{kHugePageSize, 6}, {kOneGbPageSize, 1}}, 1U));
    EXPECT_EQ(total(1U), 6U);
    HugePageCounts gigabyte;
    fake.hugePageCounts(kOneGbPageSize, 1U, gigabyte);
    EXPECT_EQ(gigabyte.free, 1U);

    fake.reservable[kOneGbPageSize] = 0;
    const auto shortfall = makeHugePagesFree(pages, {{kHugePageSize, 2}, {kOneGbPageSize, 3}}, 1U);
    ASSERT_TRUE(shortfall);
    EXPECT_EQ(shortfall->pageSize, kOneGbPageSize) << "1 GiB pages first: they need long free runs";
    EXPECT_EQ(shortfall->wanted, 3U);
    EXPECT_LT(shortfall->got, 3U);
    EXPECT_FALSE(shortfall->failed);
    EXPECT_THAT(shortfall->why, HasSubstr("found room for"));
    EXPECT_EQ(total(1U), 6U) << "stops at the first shortfall";
  }
  EXPECT_EQ(total(1U), 3U) << "every count put back";

  ScopedFreeHugePages pages;
  EXPECT_FALSE(makeHugePagesFree(pages, {{4 * MiB, 0}, {kHugePageSize, 1}}, 1U)) << "none of a size there is none of";
  const auto unknown = makeHugePagesFree(pages, {{4 * MiB, 1}}, 1U);
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->failed);
  EXPECT_THAT(unknown->why, HasSubstr("not one this kernel offers"));
}

// Two xmem processes reserving at once, each on its own nodes: every record reaches the state
// file, so a release afterwards can put every count back.
TEST_F(Reserve, ThreeProcessesReservingAtOnceLoseNoRecord) {
  constexpr std::uint32_t kNodes = 64;
  constexpr std::uint32_t kProcesses = 3;
  fake.setNodes(kNodes);
  for (std::uint32_t node = 0; node < kNodes; ++node) fake.setHugePages(kHugePageSize, node, node);
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> children;
  for (std::uint32_t first = 0; first < kProcesses; ++first) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(start[1]);
      char go = 0;
      (void)!::read(start[0], &go, 1);  // all begin when the parent closes the pipe
      int status = 0;
      try {
        for (std::uint32_t node = first; node < kNodes; node += kProcesses)
          reserveHugePages({.pageSize = kHugePageSize, .node = node, .count = 1});
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(child);
  }
  ::close(start[0]);
  ::close(start[1]);
  for (pid_t child : children) {
    int status = -1;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child failed to reserve";
  }

  std::ifstream file(reservationStatePath());
  std::set<std::string> recorded;
  std::string path;
  std::uint64_t original = 0;
  while (file >> path >> original) {
    recorded.insert(path);
    EXPECT_EQ(path, "/fake/2097152/" + std::to_string(original)) << "each node's count before it changed";
  }
  EXPECT_EQ(recorded.size(), kNodes) << "records lost to a concurrent write";
  for (const auto& entry : std::filesystem::directory_iterator(state))
    EXPECT_THAT(entry.path().filename().string(), ::testing::AnyOf("reservations", "reservations.lock"))
        << "no temporary file left behind";
  SystemInfo::refresh();  // this process has not probed the 64-node machine yet
  EXPECT_EQ(releaseHugePages().size(), kNodes) << "every count can be put back";
}

// A benchmark killed while it holds pages free (ScopedFreeHugePages) leaves a record naming it.
// Once it is gone, abandonedReservations() says what it left, and a release puts it back. A
// change of a live process, or one meant to last, is not abandoned.
TEST_F(Reserve, AKilledProcesssChangesAreAbandonedUntilReleased) {
  fake.setHugePages(kHugePageSize, 1, 3);
  fake.setHugePages(kHugePageSize, 0, 2);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ScopedFreeHugePages counts;
    counts.makeFree(kHugePageSize, 8, 1U);
    ::kill(::getpid(), SIGKILL);  // before its destructor could put the count back
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // The kernel's counts are shared between processes; the fake's are copied at fork. Do here what
  // the child did to its copy.
  ASSERT_TRUE(fake.setHugePageCount(kHugePageSize, 1U, 8));

  EXPECT_TRUE(reserveHugePages({.pageSize = kHugePageSize, .node = 0U, .count = 2}).complete());  // meant to last
  ScopedFreeHugePages mine;
  mine.makeFree(kHugePageSize, 6, 0U);  // this process's, alive

  const auto abandoned = abandonedReservations();
  ASSERT_EQ(abandoned.size(), 1U) << "only the dead process's change";
  EXPECT_EQ(abandoned[0].owner, child);
  EXPECT_TRUE(abandoned[0].ownerGone);
  EXPECT_EQ(abandoned[0].node, 1U);
  EXPECT_EQ(abandoned[0].original, 3U);
  EXPECT_EQ(abandoned[0].now, 8U);
  const auto recorded = recordedReservations();
  ASSERT_EQ(recorded.size(), 2U);
  EXPECT_EQ(recorded[0].owner, 0) << "node 0: reserved to last, then held free by a live process: still lasting";
  EXPECT_FALSE(recorded[0].ownerGone);

  mine.restore();
  EXPECT_EQ(total(0U), 4U) << "the live one put back its own change, not the lasting one";
  releaseHugePages();
  EXPECT_EQ(total(1U), 3U);
  EXPECT_EQ(total(0U), 2U);
  EXPECT_THAT(abandonedReservations(), ::testing::IsEmpty());
  EXPECT_THAT(recordedReservations(), ::testing::IsEmpty());
}

// Two holders of free pages that overlap, and a release in the middle of one: whoever puts the
// count back first puts it back for both, and a holder whose record is gone changes nothing (it
// once wrote its stale count back and left a record naming itself, which every start then
// reported as a dead process's).
TEST_F(Reserve, OverlappingHoldersAndAReleaseInBetweenLeaveTheCountAsFound) {
  fake.setHugePages(kHugePageSize, 1, 3);
  {
    ScopedFreeHugePages first;
    first.makeFree(kHugePageSize, 8, 1U);
    ScopedFreeHugePages second;
    second.makeFree(kHugePageSize, 12, 1U);
    EXPECT_EQ(total(1U), 12U);
    first.restore();
    EXPECT_EQ(total(1U), 3U);
    EXPECT_THAT(recordedReservations(), ::testing::IsEmpty());
  }  // second restores here, after first
  EXPECT_EQ(total(1U), 3U) << "the second holder must not write its stale count back";
  EXPECT_THAT(recordedReservations(), ::testing::IsEmpty()) << "nor leave a record naming itself";

  ScopedFreeHugePages holder;
  holder.makeFree(kHugePageSize, 9, 1U);
  releaseHugePages();  // `xmem release` while it holds them
  EXPECT_EQ(total(1U), 3U);
  holder.restore();
  EXPECT_EQ(total(1U), 3U);
  EXPECT_THAT(recordedReservations(), ::testing::IsEmpty());
}

// The records of an earlier xmem (two fields a line) read as changes meant to last.
TEST_F(Reserve, RecordsWithoutAnOwnerAreLasting) {
  fake.setHugePages(kHugePageSize, 1, 5);
  std::filesystem::create_directories(state);
  std::ofstream(reservationStatePath()) << "/fake/2097152/1 2\n/fake/2097152/0 0 999999999\ngarbage\n";
  const auto recorded = recordedReservations();
  ASSERT_EQ(recorded.size(), 2U);
  EXPECT_EQ(recorded[1].owner, 0);
  EXPECT_EQ(recorded[1].original, 2U);
  EXPECT_EQ(recorded[0].owner, 999999999) << "a pid past any kernel's: never alive";
  EXPECT_TRUE(recorded[0].ownerGone);
  EXPECT_THAT(abandonedReservations(), ::testing::IsEmpty()) << "node 0's count is back at its original already";
}

TEST_F(Reserve, PersistentConfigurationFollowsTheCounts) {
  fake.setHugePages(kHugePageSize, 0, 64);
  fake.setHugePages(kHugePageSize, 1, 32);
  fake.setHugePages(kOneGbPageSize, 1, 2);
  ::setenv("XMEM_SYSCTL_DIR", state.c_str(), 1);
  auto configuration = persistentConfiguration();
  EXPECT_EQ(configuration.sysctlPath, (state / "60-xmem-hugepages.conf").string());
  EXPECT_THAT(configuration.sysctlContent, HasSubstr("vm.nr_hugepages = 96"));
  EXPECT_EQ(configuration.kernelCommandLine, "hugepagesz=2M hugepages=0:64,1:32 hugepagesz=1G hugepages=1:2");
  std::filesystem::create_directories(state);
  writePersistentConfiguration(configuration);
  std::ifstream written(configuration.sysctlPath);
  std::string all((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, configuration.sysctlContent);
  ::unsetenv("XMEM_SYSCTL_DIR");
}

}  // namespace
}  // namespace xmem

// The generic POSIX platform against the real kernel: what it does with calls every Unix has, and
// Unsupported for everything else. It is called directly here (in both runs of the suite).
#include "kernel/kernel_test.h"

#include "os/posix/posix_platform.h"

#include <sys/resource.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include <cerrno>
#include <cstring>

namespace xmem::testing {
namespace {

using ::testing::HasSubstr;
using Kind = os::Status::Kind;

class PosixPlatformKernel : public KernelTest {
 protected:
  os::Platform& posix = os::posixPlatform();
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

  int nodeOf(const void* address) {
    int node = 99;
    const void* pages[] = {address};
    EXPECT_TRUE(posix.pageNodes(pages, 1, &node).ok());
    return node;
  }
  std::uint8_t* mapReadWrite(std::size_t length, void* at = nullptr) {
    os::MapRequest request;
    request.length = length;
    request.fixedAddress = at;
    os::MapResult result;
    EXPECT_TRUE(posix.map(request, result).ok());
    return static_cast<std::uint8_t*>(result.address);
  }
  // 64 KiB on base pages; the test installs the POSIX platform around it.
  static VirtualMemoryOptions basePages() {
    VirtualMemoryOptions options;
    options.size = 64 * KiB;
    options.hugePages = false;
    options.transparentHugePages = false;
    return options;
  }
};

TEST_F(PosixPlatformKernel, ReservesAlignedAndGivesTheSlackBack) {
  constexpr std::size_t kAlignment = 64 * MiB;
  void* reserved = nullptr;
  ASSERT_TRUE(posix.reserve(2 * page, kAlignment, reserved).ok());
  const auto start = reinterpret_cast<std::uintptr_t>(reserved);
  EXPECT_EQ(start % kAlignment, 0U);
  // The reservation is address space (mapped, nothing resident); the slack after it is gone.
  EXPECT_EQ(nodeOf(reserved), os::page_answer::kNotPresent);
  EXPECT_EQ(nodeOf(reinterpret_cast<void*>(start + 2 * page)), os::page_answer::kNotMapped);
  os::PageSurvey survey;
  ASSERT_TRUE(posix.survey(reinterpret_cast<void*>(start - page), 4 * page, survey).ok());
  ASSERT_EQ(survey.areas.size(), 1U) << "the reservation, and nothing on either side";
  EXPECT_EQ(survey.areas[0].start, start);
  EXPECT_EQ(survey.areas[0].end, start + 2 * page);
  EXPECT_FALSE(survey.hugeKnown);
  EXPECT_TRUE(posix.unmap(reserved, 2 * page).ok());
  EXPECT_EQ(nodeOf(reserved), os::page_answer::kNotMapped);
}

TEST_F(PosixPlatformKernel, MapsInsideAReservationAndReportsResidentPages) {
  void* reserved = nullptr;
  ASSERT_TRUE(posix.reserve(8 * page, 0, reserved).ok());
  auto* inside = mapReadWrite(4 * page, static_cast<std::uint8_t*>(reserved) + 2 * page);
  ASSERT_EQ(inside, static_cast<std::uint8_t*>(reserved) + 2 * page);
  RangeUsage usage;
  ASSERT_TRUE(posix.query(inside, 4 * page, usage).ok());
  EXPECT_EQ(usage.residentBytes, 0U) << "new memory is not touched";
  inside[0] = 1;
  inside[3 * page] = 2;
  ASSERT_TRUE(posix.query(inside, 4 * page, usage).ok());
  EXPECT_EQ(usage.residentBytes, 2 * page);
  EXPECT_EQ(usage.bytesByPageSize[page], 4 * page);
  EXPECT_EQ(usage.bytesByNode[0], 2 * page);
  EXPECT_EQ(usage.hugeTlbBytes + usage.thpBytes, 0U);
  EXPECT_EQ(nodeOf(inside), 0);
  EXPECT_EQ(nodeOf(inside + page), os::page_answer::kNotPresent);
  EXPECT_TRUE(posix.unmap(reserved, 8 * page).ok());
}

TEST_F(PosixPlatformKernel, QueryOverAHoleCountsOnlyWhatIsMapped) {
  auto* memory = mapReadWrite(3 * page);
  ASSERT_TRUE(posix.unmap(memory + page, page).ok());
  memory[0] = 1;
  RangeUsage usage;
  ASSERT_TRUE(posix.query(memory, 3 * page, usage).ok());
  EXPECT_EQ(usage.bytesByPageSize[page], 2 * page);
  EXPECT_EQ(usage.residentBytes, page);
  os::PageSurvey survey;
  ASSERT_TRUE(posix.survey(memory, 3 * page, survey).ok());
  EXPECT_EQ(survey.areas.size(), 2U);
  posix.unmap(memory, page);
  posix.unmap(memory + 2 * page, page);
}

TEST_F(PosixPlatformKernel, PopulateFaultsEveryPageInAndKeepsTheContents) {
  auto* memory = mapReadWrite(16 * page);
  std::memset(memory + 5 * page, 0x5a, page);
  ASSERT_TRUE(posix.populate(memory, 16 * page).ok());
  RangeUsage usage;
  ASSERT_TRUE(posix.query(memory, 16 * page, usage).ok());
  EXPECT_EQ(usage.residentBytes, 16 * page);
  EXPECT_EQ(memory[5 * page], 0x5a);
  EXPECT_EQ(memory[0], 0);
  posix.unmap(memory, 16 * page);
}

TEST_F(PosixPlatformKernel, DontNeedGivesThePagesBackAndTheyReadAsZero) {
  auto* memory = mapReadWrite(4 * page);
  std::memset(memory, 0xff, 4 * page);
  ASSERT_TRUE(posix.advise(memory, 4 * page, os::Advice::DontNeed).ok());
  RangeUsage usage;
  ASSERT_TRUE(posix.query(memory, 4 * page, usage).ok());
  EXPECT_EQ(usage.residentBytes, 0U);
  EXPECT_EQ(usage.bytesByPageSize[page], 4 * page) << "still mapped";
  for (std::size_t i = 0; i < 4 * page; i += 512) ASSERT_EQ(memory[i], 0) << "at " << i;
  memory[0] = 7;  // and writable again
  posix.unmap(memory, 4 * page);
}

// The POSIX advise() maps pages anew read-write: VirtualMemory puts its protection back.
TEST_F(PosixPlatformKernel, DiscardKeepsTheProtectionOfAVirtualMemory) {
  os::ScopedPlatform installed(posix);
  SystemInfo::refresh();
  VirtualMemory memory(basePages());
  memory.data()[0] = 1;
  memory.protectRX();
  EXPECT_EQ(memory.discard(), 64 * KiB);
  EXPECT_EQ(smapsAt(memory.data()).found, true);
  EXPECT_EQ(memory.data()[0], 0);
  EXPECT_DEATH(memory.data()[0] = 2, "") << "read-execute after discard, as before it";
  memory.protectRW();
}

// The cascade on a system without huge pages: base pages, and the report says so and why.
TEST_F(PosixPlatformKernel, AskingForHugePagesGetsBasePagesAndTheReportSaysWhy) {
  os::ScopedPlatform installed(posix);
  SystemInfo::refresh();
  VirtualMemoryOptions options;
  options.size = 4 * MiB;
  options.hugePages = true;
  options.oneGbPages = true;
  options.transparentHugePages = true;
  options.node = 0;
  VirtualMemory memory(options);
  EXPECT_FALSE(memory.isHugePages());
  EXPECT_EQ(memory.report().hugeTlbBytes(), 0U);
  const auto said = decisions(memory);
  EXPECT_FALSE(said.empty()) << "a worse page size than asked is never silent";
  EXPECT_EQ(smapsAt(memory.data()).kernelPageSize, page);
  memory.data()[0] = 1;
}

// Mapped anew, the pages would come back unlocked: a locked VirtualMemory locks them again.
TEST_F(PosixPlatformKernel, DiscardKeepsTheLockOfAVirtualMemory) {
  if (kMlockIsIntercepted) GTEST_SKIP() << "NOT RUN under a sanitizer: its mlock() succeeds without locking";
  os::ScopedPlatform installed(posix);
  SystemInfo::refresh();
  auto options = basePages();
  options.lock = LockPolicy::Required;
  VirtualMemory memory(options);
  ASSERT_TRUE(memory.isLocked());
  EXPECT_EQ(smapsAt(memory.data()).locked, 64 * KiB);
  EXPECT_EQ(memory.discard(), 64 * KiB);
  EXPECT_EQ(smapsAt(memory.data()).locked, 64 * KiB) << "locked again after the give-back";
  EXPECT_THAT(decisions(memory), ::testing::Not(HasSubstr("kernel disagrees"))) << "mincore cannot see locks: not claimed";
}

TEST_F(PosixPlatformKernel, ProtectionChangesReachTheKernel) {
  auto* memory = mapReadWrite(2 * page);
  ASSERT_TRUE(posix.protect(memory, 2 * page, Protection::Read).ok());
  EXPECT_DEATH(memory[0] = 1, "");
  ASSERT_TRUE(posix.protect(memory, 2 * page, Protection::ReadWrite).ok());
  memory[0] = 1;
  posix.unmap(memory, 2 * page);
  const auto unmapped = posix.protect(memory, 2 * page, Protection::ReadWrite);
  EXPECT_EQ(unmapped.kind, Kind::NoMemory) << "mprotect of an unmapped range: ENOMEM";
}


TEST_F(PosixPlatformKernel, LockFailsPastTheLimitWithoutPrivilege) {
  if (kMlockIsIntercepted) GTEST_SKIP() << "NOT RUN under a sanitizer: its mlock() succeeds without locking";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto underALimit = [&] {
    rlimit limit{2 * page, 2 * page};
    if (::setuid(65534) != 0 && ::geteuid() == 0) std::_Exit(10);  // root ignores the limit
    if (::setrlimit(RLIMIT_MEMLOCK, &limit) != 0) std::_Exit(11);
    MemlockLimit read;
    if (!posix.memlockLimit(read).ok() || read.soft != 2 * page || read.privileged) std::_Exit(12);
    auto* memory = mapReadWrite(8 * page);
    const auto failed = posix.lock(memory, 8 * page);
    if (failed.ok()) std::_Exit(13);
    if (failed.kind != Kind::NoMemory && failed.kind != Kind::NoPermission) std::_Exit(14);
    if (!posix.lock(memory, page).ok() || !posix.unlock(memory, page).ok()) std::_Exit(15);
    std::_Exit(0);
  };
  EXPECT_EXIT(underALimit(), ::testing::ExitedWithCode(0), "");
}

TEST_F(PosixPlatformKernel, SaysUnsupportedForWhatOnlyOtherPlatformsDo) {
  EXPECT_FALSE(posix.capabilities().hugePagesInReservation);
  EXPECT_FALSE(posix.capabilities().transparentHugePages);
  HugePageCounts counts;
  EXPECT_EQ(posix.hugePageCounts(2 * MiB, std::nullopt, counts).kind, Kind::Unsupported);
  EXPECT_EQ(posix.setHugePageCount(2 * MiB, std::nullopt, 1).kind, Kind::Unsupported);
  EXPECT_EQ(posix.checkHugePageCountWritable(2 * MiB, 0U).kind, Kind::Unsupported);
  EXPECT_EQ(posix.compactMemory().kind, Kind::Unsupported);
  os::MapRequest huge;
  huge.length = 2 * MiB;
  huge.hugePageSize = 2 * MiB;
  os::MapResult result;
  EXPECT_EQ(posix.map(huge, result).kind, Kind::Unsupported);

  os::MapRequest placed;
  placed.length = page;
  placed.placement = {NumaPolicy::Bind, NodeSet{0}};
  ASSERT_TRUE(posix.map(placed, result).ok());
  EXPECT_TRUE(result.placementStatus.ok()) << "node 0 holds all memory: bound to it is what happens anyway";
  posix.unmap(result.address, page);
  placed.placement = {NumaPolicy::Interleave, NodeSet{0, 1}};
  ASSERT_TRUE(posix.map(placed, result).ok()) << "the mapping exists; its placement could not be applied";
  EXPECT_EQ(result.placementStatus.kind, Kind::Unsupported);
  EXPECT_EQ(posix.advise(result.address, page, os::Advice::HugePages).kind, Kind::Unsupported);
  EXPECT_EQ(posix.advise(result.address, page, os::Advice::Collapse).kind, Kind::Unsupported);
  EXPECT_EQ(posix.name(result.address, page, "xmem:test").kind, Kind::Unsupported);
  void* pages[] = {result.address};
  int status = 0;
  EXPECT_EQ(posix.movePages(pages, 1, 0, &status).kind, Kind::Unsupported);
  posix.unmap(result.address, page);

  EXPECT_TRUE(posix.bindThreadMemory({}).ok()) << "no policy is always possible";
  EXPECT_TRUE(posix.bindThreadMemory({NumaPolicy::Bind, NodeSet{0}}).ok());
  EXPECT_EQ(posix.bindThreadMemory({NumaPolicy::Preferred, NodeSet{1}}).kind, Kind::Unsupported);
  EXPECT_EQ(posix.pinThread(0).kind, Kind::Unsupported);
  EXPECT_EQ(posix.currentNode(), 0U);
  ProcessUsage usage;
  EXPECT_EQ(posix.processUsage(0, 0, usage).kind, Kind::Unsupported);
  KernelCounters kernel;
  EXPECT_EQ(posix.kernelCounters(kernel).kind, Kind::Unsupported);
  EXPECT_TRUE(posix.bootConfiguration({}, "").path.empty());
}

TEST_F(PosixPlatformKernel, ProbeSaysOneNodeAndNoHugePages) {
  const auto facts = posix.probe();
  EXPECT_EQ(facts.platform, "posix");
  EXPECT_THAT(facts.kernel, HasSubstr("Linux"));
  EXPECT_EQ(facts.basePageSize, page);
  EXPECT_GT(facts.memoryTotal, 0U);
  EXPECT_TRUE(facts.hugePageSizes.empty());
  EXPECT_EQ(facts.defaultHugePageSize, 0U);
  EXPECT_EQ(facts.thp.mode, ThpMode::Unsupported);
  ASSERT_EQ(facts.nodes.size(), 1U);
  EXPECT_EQ(facts.nodes[0].cpus.size(), posix.cpuCount());
  EXPECT_FALSE(facts.populateReportsErrors);
  EXPECT_FALSE(facts.namedMappings);
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &limit), 0);
  EXPECT_EQ(facts.memlock.soft, limit.rlim_cur == RLIM_INFINITY ? MemlockLimit::kUnlimited : limit.rlim_cur);
  EXPECT_FALSE(posix.hostName().empty());
}

TEST(PosixErrors, NamesTheUsualCodesWithoutGlibc) {
  EXPECT_EQ(os::describeErrno(ENOMEM), "Cannot allocate memory (ENOMEM)");
  EXPECT_EQ(os::describeErrno(ENOSYS), "not supported here (ENOSYS)");
  EXPECT_EQ(os::describeErrno(EDOM), "Numerical argument out of domain") << "no name: the text alone";
  EXPECT_EQ(os::errnoStatus(EOPNOTSUPP).kind, Kind::Unsupported);
}

}  // namespace
}  // namespace xmem::testing

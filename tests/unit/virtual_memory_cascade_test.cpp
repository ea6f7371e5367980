// Every path of VirtualMemory's cascade, driven through the fake platform.
#include "mapping/backoff_table.h"
#include "support/fake_platform.h"

#include <xmem/memory_pool.h>
#include <xmem/system_info.h>
#include <xmem/virtual_memory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xmem {
namespace {

using ::testing::HasSubstr;
using testing::FakePlatform;

class Cascade : public ::testing::Test {
 protected:
  void SetUp() override {
    BackoffTable::instance().reset();
    BackoffTable::instance().setClock([this] { return now; });
  }
  void TearDown() override {
    BackoffTable::instance().reset();
    EXPECT_EQ(fake.liveRegions(), 0U) << "every mapping is given back";
    EXPECT_THAT(fake.violations(), ::testing::IsEmpty());
  }
  // Call after configuring `fake`: the machine is probed on first use.
  void install() { scoped.emplace(fake); }

  static VirtualMemoryOptions options(std::size_t size) {
    VirtualMemoryOptions o;
    o.size = size;
    return o;
  }
  static std::string decisions(const VirtualMemory& memory) {
    std::string all;
    for (const auto& line : memory.report().decisions) all += line + "\n";
    return all;
  }

  FakePlatform fake;
  std::optional<os::ScopedPlatform> scoped;
  BackoffTable::Clock::time_point now{};
};

TEST_F(Cascade, InvalidInputIsATypedErrorNamingTheValue) {
  install();
  auto expectInvalid = [](VirtualMemoryOptions o, const char* fragment) {
    try {
      VirtualMemory memory(o);
      ADD_FAILURE() << "expected an error mentioning " << fragment;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
      EXPECT_THAT(error.what(), HasSubstr(fragment));
    }
  };
  expectInvalid(options(0), "size 0");
  auto badAlignment = options(4096);
  badAlignment.alignment = 48;
  expectInvalid(badAlignment, "alignment 48 is not a power of two");
  auto badNode = options(4096);
  badNode.node = 5;
  expectInvalid(badNode, "node 5 does not exist: this machine has node(s) 0");
  expectInvalid(options(~std::size_t{0}), "beyond any machine");

  auto result = VirtualMemory::tryAllocate(options(0));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(result.error().context().size, 0U);
}

TEST_F(Cascade, OneGigabytePagesFailThenTwoMegabytePagesAndTheFailureIsRemembered) {
  fake.setHugePages(kOneGbPageSize, 0, 4);
  fake.setHugePages(kHugePageSize, 0, 2000);
  fake.switches.failMapOfPageSize = {kOneGbPageSize};
  install();
  auto o = options(2080 * MiB);
  o.oneGbPages = true;
  {
    VirtualMemory memory(o);
    EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kOneGbPageSize), 0U);
    EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kHugePageSize), 2080 * MiB);
    EXPECT_TRUE(memory.isHugePages());
    EXPECT_FALSE(memory.isOneGbPages());
    EXPECT_THAT(decisions(memory), HasSubstr("1 GiB pages: mapping 2 GiB failed: Cannot allocate memory (ENOMEM)"));
  }
  EXPECT_EQ(fake.mapCalls(kOneGbPageSize), 1U);

  // Within the back-off, 1 GiB pages are not tried again.
  now += std::chrono::seconds(5);
  {
    VirtualMemory memory(o);
    EXPECT_THAT(decisions(memory), HasSubstr("1 GiB pages: skipped for another 25000 ms"));
  }
  EXPECT_EQ(fake.mapCalls(kOneGbPageSize), 1U);

  // After it, they are, and once they work the dataset lands on 2 x 1 GiB + 16 x 2 MiB.
  now += std::chrono::seconds(30);
  fake.switches.failMapOfPageSize.clear();
  VirtualMemory memory(o);
  EXPECT_EQ(fake.mapCalls(kOneGbPageSize), 2U);
  EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kOneGbPageSize), 2 * GiB);
  EXPECT_EQ(memory.report().bytesOf(PageKind::HugeTlb, kHugePageSize), 32 * MiB);
  EXPECT_TRUE(memory.isOneGbPages());
  EXPECT_EQ(memory.mappedSize(), 2080 * MiB);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(memory.data()) % kOneGbPageSize, 0U) << "1 GiB pages need 1 GiB alignment";
}

TEST_F(Cascade, ShortOfTwoMegabytePagesGivesAPartialMappingThatSaysHowMuchIsHuge) {
  fake.setHugePages(kHugePageSize, 0, 100);
  install();
  auto o = options(2080 * MiB);
  o.prefaultThreads = 2;
  VirtualMemory memory(o);
  const auto& report = memory.report();
  ASSERT_EQ(report.segments.size(), 2U);
  EXPECT_EQ(report.hugeTlbBytes(), 200 * MiB);
  EXPECT_EQ(report.thpEligibleBytes(), 1880 * MiB);
  EXPECT_TRUE(report.verified);
  EXPECT_EQ(report.thpVerifiedBytes, 1880 * MiB) << "THP bytes come from the (fake) kernel after faulting in";
  EXPECT_DOUBLE_EQ(report.hugeFraction(), 1.0);
  EXPECT_EQ(memory.hugePages(), std::make_pair(std::size_t{1040}, std::size_t{1040}));
  EXPECT_THAT(report.summary(), HasSubstr("200 MiB on 2 MiB pages + 1880 MiB transparent"));
  EXPECT_EQ(fake.populatedBytes(), 2080 * MiB) << "pre-faulting covers the whole mapping once";
  memory.data()[memory.size() - 1] = 1;  // the pointer is real memory
}

TEST_F(Cascade, OvercommittedPagesCountAsObtainable) {
  fake.setHugePages(kHugePageSize, 0, 2);
  fake.setOvercommit(kHugePageSize, 100);
  install();
  VirtualMemory memory(options(64 * MiB));
  EXPECT_EQ(memory.report().hugeTlbBytes(), 64 * MiB) << "2 free + 30 surplus pages";
  auto availability = hugePageAvailability(kHugePageSize);
  EXPECT_TRUE(availability.available);
  EXPECT_EQ(availability.freePages, 70U);
}

TEST_F(Cascade, UnverifiedTransparentPagesDoNotCountAsHuge) {
  install();
  VirtualMemory memory(options(64 * MiB));
  EXPECT_EQ(memory.report().thpEligibleBytes(), 64 * MiB);
  EXPECT_EQ(memory.report().thpVerifiedBytes, 0U) << "nothing touched yet, nothing claimed";
  EXPECT_DOUBLE_EQ(memory.report().hugeFraction(), 0.0);
  EXPECT_FALSE(memory.isHugePages());
}

TEST_F(Cascade, NothingHugeAndNoTransparentPagesGivesBasePagesAndSaysWhy) {
  fake.machine.thp.mode = ThpMode::Never;
  install();
  VirtualMemory memory(options(64 * MiB));
  ASSERT_EQ(memory.report().segments.size(), 1U);
  EXPECT_EQ(memory.report().segments[0].kind, PageKind::Base);
  EXPECT_THAT(decisions(memory), HasSubstr("2 MiB pages: none free"));
  EXPECT_THAT(decisions(memory), HasSubstr("transparent huge pages: unavailable (THP mode never)"));
}

TEST_F(Cascade, TransparentPagesTurnedOffStayOffWhereTheKernelGivesThemToAll) {
  fake.machine.thp.mode = ThpMode::Always;
  install();
  auto o = options(8 * MiB);
  o.hugePages = false;
  o.transparentHugePages = false;
  VirtualMemory memory(o);
  ASSERT_EQ(fake.mappings().size(), 1U);
  EXPECT_TRUE(fake.mappings()[0].advisedNoHuge) << "MADV_NOHUGEPAGE, or THP=always would make them huge";
  auto allowed = options(8 * MiB);
  allowed.hugePages = false;
  VirtualMemory transparent(allowed);
  EXPECT_FALSE(fake.mappings()[1].advisedNoHuge);
}

TEST_F(Cascade, FailedMadviseIsReported) {
  fake.switches.failAdvise = true;
  install();
  VirtualMemory memory(options(8 * MiB));
  EXPECT_THAT(decisions(memory), HasSubstr("madvise failed"));
}

TEST_F(Cascade, OutOfMemoryEverywhereIsAnErrorWithoutAPointer) {
  fake.switches.failBaseMap = true;
  install();
  auto result = VirtualMemory::tryAllocate(options(64 * MiB));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory);
  EXPECT_EQ(result.error().context().osError, ENOMEM);
}

TEST_F(Cascade, LockFailureIsExplainedWithTheLimit) {
  fake.switches.failLock = true;
  install();
  auto o = options(64 * MiB);
  o.lock = LockPolicy::BestEffort;
  {
    VirtualMemory memory(o);
    EXPECT_FALSE(memory.isLocked());
    EXPECT_THAT(memory.report().lockError, HasSubstr("RLIMIT_MEMLOCK is 8 MiB (hard limit 8 MiB)"));
    EXPECT_THAT(memory.report().lockError, HasSubstr("ulimit -l"));
  }
  o.lock = LockPolicy::Required;
  try {
    VirtualMemory memory(o);
    ADD_FAILURE() << "a required lock that fails is an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::OutOfMemory);
    EXPECT_THAT(error.what(), HasSubstr("mlock of 64 MiB failed"));
  }
}

TEST_F(Cascade, LockSucceedsAndIsReported) {
  install();
  auto o = options(16 * MiB);
  o.lock = LockPolicy::Required;
  VirtualMemory memory(o);
  EXPECT_TRUE(memory.isLocked());
  EXPECT_TRUE(memory.report().locked);
  EXPECT_THAT(memory.report().summary(), HasSubstr("locked"));
}

TEST_F(Cascade, BindFailureDependsOnThePolicy) {
  fake.setNodes(2);
  fake.switches.failBind = true;
  install();
  auto o = options(16 * MiB);
  o.node = 1;
  o.numaPolicy = NumaPolicy::Preferred;
  {
    VirtualMemory memory(o);
    EXPECT_FALSE(memory.report().bound);
    EXPECT_THAT(memory.report().bindError, HasSubstr("EINVAL"));
    EXPECT_THAT(memory.report().summary(), HasSubstr("preferred node 1 (not applied)"));
  }
  o.numaPolicy = NumaPolicy::Bind;
  auto result = VirtualMemory::tryAllocate(o);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().what(), HasSubstr("cannot bind 16 MiB to node 1"));
  EXPECT_EQ(result.error().context().node, 1U);
}

TEST_F(Cascade, StrictBindingCountsTheNodesOwnFreePages) {
  fake.setNodes(2);
  fake.setHugePages(kHugePageSize, 0, 1000);  // plenty on node 0, none on node 1
  fake.setHugePages(kHugePageSize, 1, 0);
  install();
  auto o = options(64 * MiB);
  o.node = 1;
  o.numaPolicy = NumaPolicy::Bind;
  VirtualMemory memory(o);
  EXPECT_EQ(memory.report().hugeTlbBytes(), 0U) << "node 0's pages must not be counted for node 1";
  EXPECT_EQ(fake.mapCalls(kHugePageSize), 0U) << "no doomed mapping is attempted";
  EXPECT_TRUE(memory.report().bound);
}

TEST_F(Cascade, StrictBindingFaultsHugePagesInAndFallsBackInsteadOfSigbus) {
  // The node claims free pages but faulting fails (another process took them): EFAULT, not SIGBUS.
  fake.setNodes(2);
  fake.setHugePages(kHugePageSize, 1, 1000);
  fake.switches.failPopulateOfPageSize = {kHugePageSize};
  install();
  auto o = options(64 * MiB);
  o.node = 1;
  o.numaPolicy = NumaPolicy::Bind;
  VirtualMemory memory(o);
  EXPECT_EQ(memory.report().hugeTlbBytes(), 0U);
  EXPECT_EQ(memory.report().thpEligibleBytes(), 64 * MiB);
  EXPECT_THAT(decisions(memory), HasSubstr("faulting in 64 MiB on node 1 failed"));
  EXPECT_TRUE(BackoffTable::instance().backoff(kHugePageSize, 1U).has_value());
}

TEST_F(Cascade, StrictBindingOnHugePagesThatWorkIsPopulatedOnTheNode) {
  fake.setNodes(2);
  fake.setHugePages(kHugePageSize, 1, 1000);
  install();
  auto o = options(64 * MiB);
  o.node = 1;
  o.numaPolicy = NumaPolicy::Bind;
  VirtualMemory memory(o);
  EXPECT_EQ(memory.report().hugeTlbBytes(), 64 * MiB);
  EXPECT_EQ(memory.report().residentBytesByNode.at(1), 64 * MiB);
  auto mappings = fake.mappings();
  ASSERT_EQ(mappings.size(), 1U);
  EXPECT_EQ(mappings[0].placement.policy, NumaPolicy::Bind);
  EXPECT_TRUE(mappings[0].placement.nodes.contains(1));
}

TEST_F(Cascade, InterleaveCoversAllNodesWhenNoneAreNamed) {
  fake.setNodes(3);
  install();
  auto o = options(16 * MiB);
  o.numaPolicy = NumaPolicy::Interleave;
  VirtualMemory memory(o);
  auto mappings = fake.mappings();
  ASSERT_EQ(mappings.size(), 1U);
  EXPECT_EQ(mappings[0].placement.nodes.nodes(), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_TRUE(memory.report().bound);
}

TEST_F(Cascade, TheSpecConstructorPrefersTheNodeAndHonoursHugePagesOff) {
  fake.setHugePages(kHugePageSize, 0, 10);
  install();
  VirtualMemory off(8 * MiB, /*hugePages=*/false, false, false, 0, 64);
  ASSERT_EQ(off.report().segments.size(), 1U);
  EXPECT_EQ(off.report().segments[0].kind, PageKind::Base);
  EXPECT_EQ(off.report().numaPolicy, NumaPolicy::Preferred);
  VirtualMemory on(8 * MiB, true, false, false);
  EXPECT_TRUE(on.isHugePages());
}

TEST_F(Cascade, AlignmentAboveThePageSizeIsHonoured) {
  install();
  auto o = options(4096);
  o.alignment = 64 * MiB;
  VirtualMemory memory(o);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(memory.data()) % (64 * MiB), 0U);
}

class FakePool final : public IMemoryPool {
 public:
  bool huge = true;
  std::uint8_t* chunk = nullptr;
  std::vector<std::pair<void*, std::size_t>> released;
  bool isHugePages(std::uint32_t) const override { return huge; }
  std::uint8_t* get(std::size_t, std::uint32_t) override { return chunk; }
  void release(std::uint32_t) override {}
  bool release(void* p, std::size_t size, std::uint32_t) noexcept override {
    released.emplace_back(p, size);
    return true;
  }
};

TEST_F(Cascade, PoolIsAskedFirstAndGetsItsChunkBack) {
  install();
  alignas(4096) static std::uint8_t storage[2 * 4096];
  auto pool = std::make_shared<FakePool>();
  pool->chunk = storage;
  auto previous = setGlobalPool(pool);
  {
    auto o = options(4096);
    o.usePool = true;
    VirtualMemory memory(o);
    EXPECT_EQ(memory.data(), storage);
    EXPECT_TRUE(memory.isExternal());
    EXPECT_TRUE(memory.isHugePages());
    EXPECT_EQ(fake.mapCalls(0), 0U);
    EXPECT_THROW(memory.protectRX(), Error) << "a pool chunk shares pages: no protection change";
    EXPECT_EQ(memory.discard(), 0U) << "a pool chunk's pages are the pool's";
  }
  ASSERT_EQ(pool->released.size(), 1U);
  EXPECT_EQ(pool->released[0].first, storage);

  pool->chunk = nullptr;  // the pool is exhausted: the cascade takes over
  {
    auto o = options(4096);
    o.usePool = true;
    VirtualMemory memory(o);
    EXPECT_FALSE(memory.isExternal());
    EXPECT_THAT(decisions(memory), HasSubstr("pool: cannot serve 4 KiB on node 0"));
  }
  setGlobalPool(previous);
}

TEST_F(Cascade, APoolChunkIsLockedWhenALockIsRequiredOrItIsAnError) {
  install();
  alignas(4096) static std::uint8_t storage[4096];
  auto pool = std::make_shared<FakePool>();
  pool->chunk = storage;
  auto previous = setGlobalPool(pool);
  auto o = options(4096);
  o.usePool = true;
  o.lock = LockPolicy::Required;
  {
    VirtualMemory memory(o);
    EXPECT_EQ(memory.data(), storage);
    EXPECT_TRUE(memory.isLocked());
    EXPECT_TRUE(memory.report().locked);
  }
  fake.switches.failLock = true;
  try {
    VirtualMemory memory(o);
    ADD_FAILURE() << "a required lock that fails is an error, from a pool too";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::OutOfMemory);
    EXPECT_THAT(error.what(), HasSubstr("mlock of 4 KiB failed"));
  }
  EXPECT_EQ(pool->released.size(), 2U) << "the unlocked chunk went back to the pool";
  o.lock = LockPolicy::BestEffort;
  {
    VirtualMemory memory(o);
    EXPECT_EQ(memory.data(), storage);
    EXPECT_FALSE(memory.isLocked());
    EXPECT_THAT(memory.report().lockError, HasSubstr("mlock of 4 KiB failed"));
  }
  setGlobalPool(previous);
}

TEST_F(Cascade, ExecutableMemoryIsWriteXorExecuteUnlessAsked) {
  install();
  auto jit = VirtualMemory::allocateExecutableMemory(4096, false);
  EXPECT_EQ(fake.mappings().at(0).protection, Protection::ReadWrite) << "JIT memory starts writable, not executable";
  jit.protectRX();
  EXPECT_EQ(fake.mappings().at(0).protection, Protection::ReadExecute);
  try {
    jit.protectRWX();
    ADD_FAILURE() << "RWX must be refused by default";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::PermissionDenied);
    EXPECT_THAT(error.what(), HasSubstr("W^X"));
  }
  auto o = options(4096);
  o.executable = true;
  o.allowWriteExecute = true;
  VirtualMemory rwx(o);
  rwx.protectRWX();
  EXPECT_EQ(fake.mappings().at(1).protection, Protection::ReadWriteExecute);
}

TEST_F(Cascade, NamingIsReportedOrExplained) {
  install();
  auto o = options(8 * MiB);
  o.name = "xmem:dataset";
  VirtualMemory named(o);
  EXPECT_TRUE(named.report().named);
}

TEST_F(Cascade, NamingWithoutKernelSupportIsExplained) {
  fake.machine.namedMappings = false;
  install();
  auto o = options(8 * MiB);
  o.name = "xmem:dataset";
  VirtualMemory memory(o);
  EXPECT_FALSE(memory.report().named);
  EXPECT_THAT(decisions(memory), HasSubstr("CONFIG_ANON_VMA_NAME"));
}

TEST_F(Cascade, MovingTransfersOwnershipOnce) {
  fake.setHugePages(kHugePageSize, 0, 8);
  install();
  VirtualMemory first(options(16 * MiB));
  auto* data = first.data();
  VirtualMemory second(std::move(first));
  EXPECT_EQ(first.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(second.data(), data);
  VirtualMemory third(options(4096));
  third = std::move(second);
  EXPECT_EQ(third.data(), data);
  EXPECT_EQ(fake.liveRegions(), 1U) << "the overwritten mapping was released";
}

TEST_F(Cascade, FreedMappingsGiveTheirHugePagesBack) {
  fake.setHugePages(kHugePageSize, 0, 8);
  install();
  { VirtualMemory memory(options(16 * MiB)); }
  HugePageCounts counts;
  ASSERT_TRUE(fake.hugePageCounts(kHugePageSize, std::nullopt, counts));
  EXPECT_EQ(counts.free, 8U);
}

TEST_F(Cascade, PrefaultReportsProgressToTheEnd) {
  install();
  auto o = options(256 * MiB);
  o.prefaultThreads = 2;
  std::vector<std::size_t> seen;
  std::size_t whole = 0;
  o.prefaultProgress = [&](std::size_t done, std::size_t total) {
    seen.push_back(done);
    whole = total;
  };
  VirtualMemory memory(o);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(whole, 256 * MiB);
  EXPECT_EQ(seen.back(), 256 * MiB) << "ends at the whole mapping";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << "never goes backwards";
  EXPECT_EQ(seen.size(), 8U) << "one call per 32 MiB chunk";
}

TEST_F(Cascade, PrefaultFailureIsAnErrorAndLeaksNothing) {
  fake.setHugePages(kHugePageSize, 0, 8);
  fake.switches.failPopulateOfPageSize = {kHugePageSize};
  install();
  auto o = options(16 * MiB);
  o.prefaultThreads = 2;
  auto result = VirtualMemory::tryAllocate(o);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().what(), HasSubstr("faulting in 16 MiB failed"));
}


// arm64's layouts: the page sizes are the kernel's, not 4 KiB, 2 MiB and 1 GiB by assumption.
class ArmLayouts : public Cascade {
 protected:
  void layout(std::size_t basePage, std::vector<std::pair<std::size_t, std::uint64_t>> freeBySize, std::size_t thpSize) {
    fake.machine.basePageSize = basePage;
    fake.machine.hugePageSizes.clear();
    for (const auto& [pageSize, free] : freeBySize) fake.setHugePages(pageSize, 0, free);
    fake.machine.defaultHugePageSize = thpSize;
    fake.machine.thp.pmdSize = thpSize;
    fake.machine.cpuHasOneGbPages = true;  // the kernel offers them (arm64 has no CPU flag to check)
    install();
  }
  // Every part starts at a multiple of its page size, and the parts tile the mapping.
  static void expectTiled(const VirtualMemory& memory) {
    std::size_t next = 0;
    for (const auto& segment : memory.report().segments) {
      EXPECT_EQ(segment.offset, next);
      EXPECT_EQ(segment.offset % segment.pageSize, 0U) << formatBytes(segment.pageSize) << " part at " << segment.offset;
      EXPECT_EQ(segment.length % segment.pageSize, 0U);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(memory.data() + segment.offset) % segment.pageSize, 0U);
      next += segment.length;
    }
    EXPECT_EQ(next, memory.report().mappedSize);
  }
  static std::vector<std::pair<std::size_t, std::size_t>> parts(const VirtualMemory& memory) {
    std::vector<std::pair<std::size_t, std::size_t>> out;  // (page size, bytes)
    for (const auto& segment : memory.report().segments) out.emplace_back(segment.pageSize, segment.length);
    return out;
  }
  using Parts = std::vector<std::pair<std::size_t, std::size_t>>;
};

TEST_F(ArmLayouts, FourKiBBasePagesUseEveryHugeSizeTheKernelLists) {
  layout(4 * KiB, {{64 * KiB, 100}, {2 * MiB, 10}, {32 * MiB, 1}, {kOneGbPageSize, 2}}, 2 * MiB);
  auto o = options(2 * GiB + 32 * MiB + 20 * MiB + 256 * KiB);
  o.oneGbPages = true;
  VirtualMemory memory(o);
  EXPECT_EQ(parts(memory), (Parts{{kOneGbPageSize, 2 * GiB}, {32 * MiB, 32 * MiB}, {2 * MiB, 20 * MiB}, {64 * KiB, 256 * KiB}}))
      << decisions(memory);
  EXPECT_EQ(memory.report().hugeTlbBytes(), memory.report().mappedSize);
  expectTiled(memory);
}

TEST_F(ArmLayouts, SixtyFourKiBBasePagesPut512MiBPagesFirstAndTheRestOnBasePages) {
  // 64 KiB base pages: 2 MiB (contiguous PTEs), 512 MiB (the PMD, also THP's size), 16 GiB.
  layout(64 * KiB, {{2 * MiB, 0}, {512 * MiB, 8}, {16 * GiB, 0}}, 512 * MiB);
  auto o = options(2080 * MiB);
  o.oneGbPages = true;
  VirtualMemory memory(o);
  EXPECT_EQ(parts(memory), (Parts{{512 * MiB, 2048 * MiB}, {64 * KiB, 32 * MiB}})) << decisions(memory);
  EXPECT_THAT(decisions(memory), HasSubstr("16 GiB pages: skipped, 2080 MiB is less than one page"));
  EXPECT_THAT(decisions(memory), HasSubstr("2 MiB pages: none free"));
  EXPECT_THAT(decisions(memory), HasSubstr("transparent huge pages: skipped, 32 MiB is less than one page"));
  expectTiled(memory);
}

TEST_F(ArmLayouts, SixteenKiBBasePagesRoundToTheirOwnBasePage) {
  layout(16 * KiB, {{2 * MiB, 100}, {32 * MiB, 2}, {kOneGbPageSize, 4}}, 32 * MiB);
  {
    VirtualMemory memory(options(100 * MiB));  // no oneGbPages: 1 GiB pages are not asked for
    EXPECT_EQ(parts(memory), (Parts{{32 * MiB, 64 * MiB}, {2 * MiB, 36 * MiB}})) << decisions(memory);
    expectTiled(memory);
  }

  auto small = options(20 * KiB);
  small.hugePages = false;
  small.transparentHugePages = false;
  VirtualMemory base(small);
  EXPECT_EQ(parts(base), (Parts{{16 * KiB, 32 * KiB}})) << "whole 16 KiB pages";
  EXPECT_EQ(base.report().mappedSize, 32 * KiB);
}

TEST_F(ArmLayouts, AKernelWithoutTwoMegabytePagesSaysSo) {
  layout(64 * KiB, {}, 512 * MiB);
  VirtualMemory memory(options(4 * MiB));
  EXPECT_THAT(decisions(memory), HasSubstr("2 MiB pages: not offered by the kernel"));
  EXPECT_EQ(parts(memory), (Parts{{64 * KiB, 4 * MiB}}));
}

}  // namespace
}  // namespace xmem

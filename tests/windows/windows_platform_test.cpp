// The Windows platform's logic over a fake of the Win32 calls: what no test machine, and not Wine,
// can show (every privilege state, every large-page error, nodes and processor groups, the
// working-set quota). The same tests run natively on Linux and, cross-built, under Wine.
#include "mapping/backoff_table.h"
#include "os/windows/windows_platform.h"
#include "windows/fake_win_api.h"

#include <xmem/error.h>
#include <xmem/huge_pages.h>
#include <xmem/numa_memory_pool.h>
#include <xmem/topology.h>
#include <xmem/system_info.h>
#include <xmem/virtual_memory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

namespace xmem {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using os::windows::TokenPrivilege;
using State = LargePageRight::State;
namespace error = os::windows::error;

os::MapRequest mapRequest(std::size_t length, std::size_t hugePageSize = 0) {
  os::MapRequest request;
  request.length = length;
  request.hugePageSize = hugePageSize;
  return request;
}

// ---- "Lock pages in memory", as the user's situation

TEST(WindowsRight, EachTokenStateIsJudgedWithItsGuidance) {
  struct Case {
    const char* what;
    TokenPrivilege token;
    os::windows::Elevation elevation;
    TokenPrivilege linked;
    bool assigned;
    State expected;
    std::vector<const char*> guidance;
  };
  using os::windows::Elevation;
  const Case cases[] = {
      {"enabled", TokenPrivilege::Enabled, Elevation::Default, TokenPrivilege::Absent, false, State::Enabled, {}},
      {"held, disabled", TokenPrivilege::Disabled, Elevation::Default, TokenPrivilege::Absent, false, State::Disabled,
       {"enables it for this process"}},
      {"only the elevated token", TokenPrivilege::Absent, Elevation::Limited, TokenPrivilege::Disabled, false,
       State::NeedsElevation, {"Run as administrator", "whoami /priv"}},
      {"assigned after sign-in", TokenPrivilege::Absent, Elevation::Default, TokenPrivilege::Absent, true,
       State::NeedsSignOut, {"sign out and back in", "whoami /priv"}},
      {"a filtered admin whose elevated token lacks it too", TokenPrivilege::Absent, Elevation::Limited,
       TokenPrivilege::Absent, false, State::NotAssigned, {"secpol.msc"}},
      {"not assigned", TokenPrivilege::Absent, Elevation::Default, TokenPrivilege::Absent, false, State::NotAssigned,
       {"secpol.msc > Security Settings > Local Policies > User Rights Assignment > Lock pages in memory",
        "RIG-7\\miner", "ntrights +r SeLockMemoryPrivilege", "Grant-CPrivilege", "secedit /export", "sign out",
        "whoami /priv", "base pages"}},
  };
  for (const auto& c : cases) {
    testing::FakeWinApi api;
    api.token = c.token;
    api.elevationType = c.elevation;
    api.linkedToken = c.linked;
    api.rightAssigned = c.assigned;
    const auto right = os::judgeLockMemoryRight(api);
    EXPECT_EQ(right.state, c.expected) << c.what;
    EXPECT_EQ(right.account, "RIG-7\\miner");
    EXPECT_EQ(right.usable(), c.expected == State::Enabled || c.expected == State::Disabled) << c.what;
    if (c.guidance.empty()) {
      EXPECT_EQ(right.guidance, "") << c.what;
    }
    for (const char* words : c.guidance) EXPECT_THAT(right.guidance, HasSubstr(words)) << c.what;
    EXPECT_EQ(api.enableCalls, 0) << "judging changes nothing: " << c.what;
  }
}

TEST(WindowsRight, UnreadableLocalPolicyIsNotTakenForNotAssigned) {
  testing::FakeWinApi api;
  api.token = TokenPrivilege::Absent;
  api.policyError = error::kAccessDenied;  // a standard user may not ask LSA
  const auto right = os::judgeLockMemoryRight(api);
  EXPECT_EQ(right.state, State::NotAssigned);
  EXPECT_THAT(right.guidance, AllOf(HasSubstr("Local policy could not be read"), HasSubstr("ERROR_ACCESS_DENIED"),
                                    HasSubstr("If the right was assigned already, sign out")));
}

TEST(WindowsRight, AnUnreadableTokenIsUnknownAndSaysWhy) {
  testing::FakeWinApi api;
  api.tokenError = error::kAccessDenied;
  const auto right = os::judgeLockMemoryRight(api);
  EXPECT_EQ(right.state, State::Unknown);
  EXPECT_THAT(right.guidance, HasSubstr("ERROR_ACCESS_DENIED"));
}

// ---- Error codes

TEST(WindowsErrors, TheLargePageFailuresAreNamedWithWhatToDo) {
  EXPECT_THAT(os::describeWindowsError(1314), AllOf(HasSubstr("ERROR_PRIVILEGE_NOT_HELD, 1314"), HasSubstr("Lock pages in memory")));
  EXPECT_THAT(os::describeWindowsError(1450),
              AllOf(HasSubstr("ERROR_NO_SYSTEM_RESOURCES, 1450"), HasSubstr("contiguous"), HasSubstr("reboot")));
  EXPECT_THAT(os::describeWindowsError(1455), AllOf(HasSubstr("ERROR_COMMITMENT_LIMIT, 1455"), HasSubstr("page file")));
  EXPECT_THAT(os::describeWindowsError(87), AllOf(HasSubstr("ERROR_INVALID_PARAMETER, 87"), HasSubstr("multiple of the large page size")));
  EXPECT_THAT(os::describeWindowsError(1300), HasSubstr("ERROR_NOT_ALL_ASSIGNED, 1300"));
  testing::FakeWinApi api;
  EXPECT_EQ(os::describeWindowsError(1816, &api), "Not enough quota is available to process this command (1816)")
      << "other codes in FormatMessage's words, trimmed";
  EXPECT_EQ(os::describeWindowsError(4242), "Windows error (4242)");
}

TEST(WindowsErrors, CodesMapToTheKindsTheLayersAboveDecideOn) {
  using Kind = os::Status::Kind;
  EXPECT_TRUE(os::windowsStatus(0).ok());
  EXPECT_EQ(os::windowsStatus(error::kPrivilegeNotHeld).kind, Kind::NoPermission);
  EXPECT_EQ(os::windowsStatus(error::kNoSystemResources).kind, Kind::NoMemory);
  EXPECT_EQ(os::windowsStatus(error::kCommitmentLimit).kind, Kind::NoMemory);
  EXPECT_EQ(os::windowsStatus(error::kInvalidParameter).kind, Kind::Invalid);
  EXPECT_EQ(os::windowsStatus(error::kNotSupported).kind, Kind::Unsupported);
  EXPECT_EQ(os::windowsStatus(error::kInvalidAddress).kind, Kind::BadAddress);
  EXPECT_EQ(os::windowsStatus(error::kPrivilegeNotHeld).code, 1314);
}

// ---- Processors, groups and nodes

TEST(WindowsTopology, NodesSpanGroupsCpuLessNodesAreLeftOutCpusAreNumberedFlat) {
  testing::FakeWinApi api;
  api.groups = {64, 32};
  api.addNumaNode(0, {{0, 0x00000000ffffffffULL}});
  api.addNumaNode(1, {{0, 0xffffffff00000000ULL}, {1, 0x000000000000ffffULL}});  // spans both groups
  api.addNumaNode(2, {});                                                          // memory only
  api.addNumaNode(3, {{1, 0x00000000ffff0000ULL}});
  api.nodeFreeMemory = {{0, 5 * GiB}, {1, 6 * GiB}, {3, 7 * GiB}};
  os::WindowsPlatform platform(api);
  const auto facts = platform.probe();
  ASSERT_EQ(facts.nodes.size(), 3U);
  EXPECT_EQ(facts.nodes[0].id, 0U);
  EXPECT_EQ(facts.nodes[1].id, 1U);
  EXPECT_EQ(facts.nodes[2].id, 3U) << "node 2 has no CPUs";
  EXPECT_EQ(facts.nodes[1].cpus.size(), 48U);
  EXPECT_EQ(facts.nodes[1].cpus.front(), 32U);
  EXPECT_EQ(facts.nodes[1].cpus.back(), 64U + 15U) << "group 1's CPUs follow group 0's";
  EXPECT_EQ(facts.nodes[2].cpus.front(), 64U + 16U);
  EXPECT_EQ(facts.nodes[2].memoryFree, 7 * GiB);
  EXPECT_TRUE(facts.nodes[0].distances.empty()) << "Windows exposes no distances";
  EXPECT_EQ(platform.cpuCount(), 96U);

  ASSERT_TRUE(platform.pinThread(70));
  EXPECT_THAT(api.affinityCalls, ElementsAre(std::make_pair(std::uint16_t{1}, std::uint64_t{1} << 6)));
  EXPECT_EQ(platform.pinThread(96).kind, os::Status::Kind::Invalid) << "past the last CPU";

  api.currentGroup = 1;
  api.currentNumber = 5;
  EXPECT_EQ(platform.currentCpu(), 69U);
  api.processorNodeAnswer = 1;
  EXPECT_EQ(platform.currentNode(), 1U);
  api.processorNodeWorks = false;  // Wine: GetNumaProcessorNodeEx is not implemented
  api.currentNumber = 20;
  EXPECT_EQ(platform.currentNode(), 3U) << "from the CPU's node in the topology";
}

TEST(WindowsTopology, OldRecordsBrokenRecordsAndNoRecords) {
  {
    testing::FakeWinApi api;
    api.groups = {8};
    api.addNumaNode(0, {{0, 0x0f}}, /*groupCount0=*/true);
    api.addNumaNode(1, {{0, 0xf0}}, /*groupCount0=*/true);
    const auto facts = os::WindowsPlatform(api).probe();
    ASSERT_EQ(facts.nodes.size(), 2U) << "GroupCount 0 (before Windows 10 20H2): one mask";
    EXPECT_THAT(facts.nodes[1].cpus, ElementsAre(4U, 5U, 6U, 7U));
  }
  {
    testing::FakeWinApi api;
    api.groups = {4};
    api.addNumaNode(0, {{0, 0x0f}});
    api.numaRecords[4] = 3;  // a record whose size is smaller than its header
    const auto facts = os::WindowsPlatform(api).probe();
    ASSERT_EQ(facts.nodes.size(), 1U) << "no guessing past a broken record: one node of every CPU";
    EXPECT_THAT(facts.nodes[0].cpus, ElementsAre(0U, 1U, 2U, 3U));
    EXPECT_EQ(facts.nodes[0].memoryTotal, api.system.memoryTotal);
  }
}

TEST(WindowsTopology, TheLargestDataCacheIsTheLastLevel) {
  testing::FakeWinApi api;
  api.addCache(1, 1, 32 * 1024);   // instruction
  api.addCache(2, 0, 1 * MiB);    // unified
  api.addCache(3, 0, 32 * MiB);
  api.addCache(1, 2, 48 * 1024);   // data
  EXPECT_EQ(os::WindowsPlatform(api).probe().lastLevelCacheBytes, 32 * MiB);
}

// ---- Memory, through the platform

class WindowsMemory : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(api.liveAllocations(), 0U) << "every allocation is given back"; }
  testing::FakeWinApi api;
};

TEST_F(WindowsMemory, ProbeOffersTheLargePageSizesThisWindowsMaps) {
  {
    os::WindowsPlatform platform(api);
    const auto facts = platform.probe();
    EXPECT_EQ(facts.platform, "windows");
    EXPECT_EQ(facts.defaultHugePageSize, 2 * MiB);
    ASSERT_EQ(facts.hugePageSizes.size(), 2U);
    EXPECT_EQ(facts.hugePageSizes[1].pageSize, GiB) << "VirtualAlloc2 and a CPU with 1 GiB pages";
    EXPECT_TRUE(platform.capabilities().hugePagesWithoutPool);
    EXPECT_FALSE(platform.capabilities().hugePagesInReservation);
    HugePageCounts counts;
    EXPECT_EQ(platform.hugePageCounts(2 * MiB, std::nullopt, counts).kind, os::Status::Kind::Unsupported) << "no pool";
  }
  api.withVirtualAlloc2 = false;  // Windows before 10 1803
  EXPECT_EQ(os::WindowsPlatform(api).probe().hugePageSizes.size(), 1U);
  api.largePageMin = 0;
  EXPECT_TRUE(os::WindowsPlatform(api).probe().hugePageSizes.empty());
}

TEST_F(WindowsMemory, LargePagesEnableTheRightOnceAndNameThePageSize) {
  api.token = TokenPrivilege::Disabled;
  os::WindowsPlatform platform(api);
  auto request = mapRequest(4 * MiB, 2 * MiB);
  os::MapResult first;
  os::MapResult second;
  ASSERT_TRUE(platform.map(request, first));
  ASSERT_TRUE(platform.map(request, second));
  EXPECT_EQ(api.enableCalls, 1) << "AdjustTokenPrivileges once, before the first large page";
  ASSERT_FALSE(api.allocCalls.empty());
  EXPECT_TRUE(api.allocCalls.back().virtualAlloc2);
  EXPECT_EQ(api.allocCalls.back().attributes, os::windows::kNonPagedLarge);
  EXPECT_NE(api.allocCalls.back().type & os::windows::kMemLargePages, 0U);
  EXPECT_TRUE(api.allocationAt(first.address)->large);

  request.hugePageSize = GiB;
  request.length = GiB;
  os::MapResult gigantic;
  ASSERT_TRUE(platform.map(request, gigantic));
  EXPECT_EQ(api.allocCalls.back().attributes, os::windows::kNonPagedHuge);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(gigantic.address) % GiB, 0U);

  request.length = 3 * MiB;
  request.hugePageSize = 2 * MiB;
  os::MapResult uneven;
  EXPECT_EQ(platform.map(request, uneven).code, 87) << "not a multiple of the page size: refused before asking";
  for (void* address : {first.address, second.address, gigantic.address})
    EXPECT_TRUE(platform.unmap(address, address == gigantic.address ? GiB : 4 * MiB));
}

TEST_F(WindowsMemory, AnOlderWindows10WithoutPageSizeAttributesGetsPlainLargePages) {
  api.attributesRejected = true;
  os::WindowsPlatform platform(api);
  auto request = mapRequest(2 * MiB, 2 * MiB);
  os::MapResult result;
  ASSERT_TRUE(platform.map(request, result));
  EXPECT_FALSE(api.allocCalls.back().virtualAlloc2) << "VirtualAlloc(MEM_LARGE_PAGES) after VirtualAlloc2 said 87";
  EXPECT_TRUE(platform.unmap(result.address, 2 * MiB));
}

TEST_F(WindowsMemory, NoAbsentTokenIsEnabledAndTheMapSaysPrivilegeNotHeld) {
  api.token = TokenPrivilege::Absent;
  os::WindowsPlatform platform(api);
  auto request = mapRequest(2 * MiB, 2 * MiB);
  os::MapResult result;
  const auto status = platform.map(request, result);
  EXPECT_EQ(api.enableCalls, 1);
  EXPECT_EQ(status.code, 1314) << "the map is still tried, and its own error is what the caller hears";
  EXPECT_EQ(status.kind, os::Status::Kind::NoPermission);
}

TEST_F(WindowsMemory, PlacementPrefersANodeAndCallsBindOrInterleaveUnsupported) {
  api.groups = {8};
  api.addNumaNode(0, {{0, 0x0f}});
  api.addNumaNode(1, {{0, 0xf0}});
  os::WindowsPlatform platform(api);
  auto request = mapRequest(64 * 1024);
  request.placement = {NumaPolicy::Preferred, NodeSet::single(1)};
  os::MapResult preferred;
  ASSERT_TRUE(platform.map(request, preferred));
  EXPECT_TRUE(preferred.placementStatus);
  EXPECT_EQ(api.allocCalls.back().node, 1U) << "VirtualAllocExNuma's preferred node";
  request.placement = {NumaPolicy::Bind, NodeSet::single(1)};
  os::MapResult bound;
  ASSERT_TRUE(platform.map(request, bound));
  EXPECT_EQ(bound.placementStatus.kind, os::Status::Kind::Unsupported) << "Windows has no strict bind";
  request.placement = {NumaPolicy::Interleave, NodeSet{0, 1}};
  os::MapResult interleaved;
  ASSERT_TRUE(platform.map(request, interleaved));
  EXPECT_EQ(interleaved.placementStatus.kind, os::Status::Kind::Unsupported);
  EXPECT_EQ(api.allocCalls.back().node, os::windows::kNoNode) << "first touch spreads better than one node";
  request.placement = {NumaPolicy::Bind, NodeSet{0, 1}};
  os::MapResult everywhere;
  ASSERT_TRUE(platform.map(request, everywhere));
  EXPECT_TRUE(everywhere.placementStatus) << "bound to every node: where every page is anyway";
  request.placement = {NumaPolicy::Preferred, NodeSet::single(5)};
  os::MapResult missing;
  ASSERT_TRUE(platform.map(request, missing));
  EXPECT_EQ(missing.placementStatus.kind, os::Status::Kind::NotFound);

  EXPECT_TRUE(platform.bindThreadMemory({NumaPolicy::Preferred, NodeSet::single(1)}));
  EXPECT_THAT(api.idealProcessorCalls, ElementsAre(std::make_pair(std::uint16_t{0}, std::uint8_t{4})))
      << "first touch follows the ideal processor: the node's first CPU";
  api.currentNumber = 6;  // running on node 1's CPU 6: that becomes the ideal processor
  EXPECT_EQ(platform.bindThreadMemory({NumaPolicy::Bind, NodeSet::single(1)}).kind, os::Status::Kind::Unsupported)
      << "preferred, and said to be no bind";
  EXPECT_EQ(api.idealProcessorCalls.back(), std::make_pair(std::uint16_t{0}, std::uint8_t{6}));
  api.idealProcessorCalls.clear();
  EXPECT_EQ(platform.bindThreadMemory({NumaPolicy::Interleave, NodeSet{0, 1}}).kind, os::Status::Kind::Unsupported);
  EXPECT_TRUE(api.idealProcessorCalls.empty()) << "an interleave prefers no node";
  EXPECT_TRUE(platform.bindThreadMemory({}));
  for (void* address : {preferred.address, bound.address, interleaved.address, everywhere.address, missing.address})
    EXPECT_TRUE(platform.unmap(address, 64 * 1024));
}

TEST_F(WindowsMemory, OneNodeHoldsAnyPlacementOnIt) {
  os::WindowsPlatform platform(api);  // no NUMA records (Wine's answer here): one node
  auto request = mapRequest(64 * 1024);
  request.placement = {NumaPolicy::Bind, NodeSet::single(0)};
  os::MapResult result;
  ASSERT_TRUE(platform.map(request, result));
  EXPECT_TRUE(result.placementStatus);
  EXPECT_TRUE(platform.bindThreadMemory({NumaPolicy::Bind, NodeSet::single(0)}));
  EXPECT_TRUE(platform.unmap(result.address, 64 * 1024));
}

TEST_F(WindowsMemory, ReservationsAreAlignedWithOrWithoutVirtualAlloc2) {
  for (const bool hasVirtualAlloc2 : {true, false}) {
    api.withVirtualAlloc2 = hasVirtualAlloc2;
    os::WindowsPlatform platform(api);
    void* reserved = nullptr;
    ASSERT_TRUE(platform.reserve(8 * MiB, 4 * MiB, reserved));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(reserved) % (4 * MiB), 0U) << hasVirtualAlloc2;
    EXPECT_EQ(api.allocationAt(reserved)->committed[0], false);
    auto request = mapRequest(1 * MiB);
    request.fixedAddress = static_cast<std::uint8_t*>(reserved) + MiB;
    os::MapResult mapped;
    ASSERT_TRUE(platform.map(request, mapped));
    EXPECT_EQ(mapped.address, request.fixedAddress);
    static_cast<std::uint8_t*>(mapped.address)[0] = 7;
    EXPECT_TRUE(platform.unmap(mapped.address, MiB)) << "part of an allocation: decommitted";
    EXPECT_EQ(api.freeTypes.back(), os::windows::kMemDecommit);
    EXPECT_TRUE(platform.unmap(reserved, 8 * MiB));
    EXPECT_EQ(api.freeTypes.back(), os::windows::kMemRelease);
  }
}

TEST_F(WindowsMemory, UnmappingSpansAllocationsWholeOrInPart) {
  os::WindowsPlatform platform(api);
  // Two allocations side by side: address space found, given back, then taken in two parts.
  void* first = nullptr;
  ASSERT_TRUE(platform.reserve(8 * MiB, 4 * MiB, first));
  ASSERT_TRUE(platform.unmap(first, 8 * MiB));
  void* second = static_cast<std::uint8_t*>(first) + 4 * MiB;
  for (void* at : {first, second})
    ASSERT_EQ(api.virtualAlloc(at, 4 * MiB, os::windows::kMemReserve | os::windows::kMemCommit,
                               os::windows::kPageReadWrite, os::windows::kNoNode),
              at);
  ASSERT_TRUE(platform.unmap(static_cast<std::uint8_t*>(first) + MiB, 6 * MiB))
      << "the tail of the first and the head of the second decommitted";
  EXPECT_EQ(api.liveAllocations(), 2U);
  EXPECT_FALSE(api.allocationAt(second)->committed[0]);
  EXPECT_TRUE(api.allocationAt(second)->committed.back());
  ASSERT_TRUE(platform.unmap(first, 8 * MiB)) << "both released";
  EXPECT_EQ(api.liveAllocations(), 0U);
}

TEST_F(WindowsMemory, GivingPagesBackDecommitsThemAndTheyReadZero) {
  os::WindowsPlatform platform(api);
  auto request = mapRequest(256 * 1024);
  os::MapResult result;
  ASSERT_TRUE(platform.map(request, result));
  auto* bytes = static_cast<std::uint8_t*>(result.address);
  std::memset(bytes, 0x5a, request.length);
  ASSERT_TRUE(platform.advise(bytes, request.length, os::Advice::DontNeed));
  EXPECT_TRUE(api.allocationAt(bytes)->committed[0]) << "committed again";
  RangeUsage usage;
  ASSERT_TRUE(platform.query(bytes, request.length, usage));
  EXPECT_EQ(usage.residentBytes, 0U) << "given back";
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[request.length - 1], 0);
  EXPECT_EQ(platform.advise(bytes, request.length, os::Advice::HugePages).kind, os::Status::Kind::Unsupported);
  EXPECT_TRUE(platform.unmap(bytes, request.length));
}

TEST_F(WindowsMemory, ExecutableProtectionFlushesTheInstructionCache) {
  os::WindowsPlatform platform(api);
  auto request = mapRequest(64 * 1024);
  os::MapResult result;
  ASSERT_TRUE(platform.map(request, result));
  ASSERT_TRUE(platform.protect(result.address, request.length, Protection::ReadExecute));
  EXPECT_EQ(api.allocationAt(result.address)->protect, os::windows::kPageExecuteRead);
  EXPECT_EQ(api.flushCalls, 1);
  ASSERT_TRUE(platform.protect(result.address, request.length, Protection::ReadWrite));
  EXPECT_EQ(api.flushCalls, 1) << "no code to flush when it becomes writable";
  EXPECT_TRUE(platform.unmap(result.address, request.length));
}

TEST_F(WindowsMemory, LockingGrowsTheWorkingSetWhenItsQuotaRefuses) {
  os::WindowsPlatform platform(api);
  auto request = mapRequest(1 * MiB);  // more than the 200 KiB minimum working set
  os::MapResult result;
  ASSERT_TRUE(platform.map(request, result));
  ASSERT_TRUE(platform.lock(result.address, request.length));
  EXPECT_GE(api.workingSetMin, 200 * 1024 + MiB);
  RangeUsage usage;
  ASSERT_TRUE(platform.query(result.address, request.length, usage));
  EXPECT_EQ(usage.lockedBytes, MiB);
  EXPECT_TRUE(platform.unlock(result.address, request.length));
  EXPECT_TRUE(platform.unlock(result.address, request.length)) << "not locked is what unlock wants";

  api.workingSetMin = 200 * 1024;
  api.workingSetGrowFails = true;
  const auto status = platform.lock(result.address, request.length);
  EXPECT_EQ(status.kind, os::Status::Kind::Other);
  EXPECT_THAT(platform.describeError(status.code), HasSubstr("quota")) << "the working-set call's own error";
  EXPECT_TRUE(platform.unmap(result.address, request.length));
}

TEST_F(WindowsMemory, LargePagesAreLockedByNature) {
  os::WindowsPlatform platform(api);
  auto request = mapRequest(2 * MiB, 2 * MiB);
  os::MapResult result;
  ASSERT_TRUE(platform.map(request, result));
  EXPECT_TRUE(platform.lock(result.address, request.length));
  RangeUsage usage;
  ASSERT_TRUE(platform.query(result.address, request.length, usage));
  EXPECT_EQ(usage.hugeTlbBytes, 2 * MiB);
  EXPECT_EQ(usage.bytesByPageSize.at(2 * MiB), 2 * MiB);
  os::PageSurvey survey;
  ASSERT_TRUE(platform.survey(result.address, request.length, survey));
  ASSERT_EQ(survey.areas.size(), 1U);
  EXPECT_EQ(survey.areas[0].hugeTlbPageSize, 2 * MiB);
  EXPECT_TRUE(platform.unmap(result.address, request.length));
}

TEST_F(WindowsMemory, PageNodesComeFromTheWorkingSet) {
  api.groups = {8};
  api.addNumaNode(0, {{0, 0x0f}});
  api.addNumaNode(1, {{0, 0xf0}});
  os::WindowsPlatform platform(api);
  void* reserved = nullptr;
  ASSERT_TRUE(platform.reserve(128 * 1024, 0, reserved));
  auto request = mapRequest(64 * 1024);
  request.placement = {NumaPolicy::Preferred, NodeSet::single(1)};
  os::MapResult result;
  ASSERT_TRUE(platform.map(request, result));
  const void* pages[] = {result.address, reserved};
  int nodes[2] = {};
  ASSERT_TRUE(platform.pageNodes(pages, 2, nodes));
  EXPECT_EQ(nodes[0], os::page_answer::kNotPresent) << "committed, never touched";
  EXPECT_EQ(nodes[1], os::page_answer::kNotMapped) << "reserved only";
  RangeUsage before;
  ASSERT_TRUE(platform.query(result.address, request.length, before));
  EXPECT_EQ(before.residentBytes, 0U);
  EXPECT_TRUE(platform.populate(result.address, request.length));
  ASSERT_TRUE(platform.pageNodes(pages, 2, nodes));
  EXPECT_EQ(nodes[0], 1) << "touched: on its preferred node";
  RangeUsage after;
  ASSERT_TRUE(platform.query(result.address, request.length, after));
  EXPECT_EQ(after.residentBytes, request.length) << "populate touched every page";
  EXPECT_EQ(after.bytesByNode.at(1), request.length);
  EXPECT_EQ(platform.populate(reserved, 4096).kind, os::Status::Kind::BadAddress) << "not committed: no touch";
  EXPECT_TRUE(platform.unmap(result.address, request.length));
  EXPECT_TRUE(platform.unmap(reserved, 128 * 1024));
}

// ---- The cascade, end to end through VirtualMemory

class WindowsCascade : public ::testing::Test {
 protected:
  void SetUp() override { BackoffTable::instance().reset(); }
  void TearDown() override {
    scoped.reset();
    platform.reset();
    BackoffTable::instance().reset();
    EXPECT_EQ(api.liveAllocations(), 0U) << "every allocation is given back";
  }
  void install() {
    platform.emplace(api);
    scoped.emplace(*platform);
  }
  static std::string decisions(const VirtualMemory& memory) {
    std::string all;
    for (const auto& line : memory.report().decisions) all += line + "\n";
    return all;
  }
  static VirtualMemoryOptions options(std::size_t size) {
    VirtualMemoryOptions o;
    o.size = size;
    o.oneGbPages = true;
    return o;
  }

  testing::FakeWinApi api;
  std::optional<os::WindowsPlatform> platform;
  std::optional<os::ScopedPlatform> scoped;
};

TEST_F(WindowsCascade, OneGbPagesWhenTheyFitWholeTwoMiBOtherwiseNeverMixed) {
  install();
  {
    VirtualMemory memory(options(GiB));
    EXPECT_TRUE(memory.isOneGbPages()) << decisions(memory);
    ASSERT_EQ(memory.report().segments.size(), 1U);
  }
  {
    VirtualMemory memory(options(2080 * MiB));  // RandomX's dataset
    EXPECT_THAT(decisions(memory), HasSubstr("1 GiB pages: skipped, 2080 MiB would take 3 x 1 GiB"));
    ASSERT_EQ(memory.report().segments.size(), 1U) << "one page size per allocation on Windows";
    EXPECT_EQ(memory.report().segments[0].pageSize, 2 * MiB);
    EXPECT_EQ(memory.report().hugeTlbBytes(), 2080 * MiB);
  }
  api.largePageErrors = {{2 * MiB, error::kNoSystemResources}};
  api.allocCalls.clear();
  {
    VirtualMemory memory(options(64 * MiB));
    EXPECT_THAT(decisions(memory), HasSubstr("1 GiB pages: skipped, 64 MiB would take 1 x 1 GiB"));
    EXPECT_EQ(memory.report().hugeTlbBytes(), 0U) << "2 MiB pages failed; 1 GiB pages would waste 960 MiB: "
                                                  << decisions(memory);
    EXPECT_THAT(api.allocCalls, Not(::testing::Contains(::testing::Field(&testing::FakeWinApi::AllocCall::attributes,
                                                                          os::windows::kNonPagedHuge))));
  }
}

TEST_F(WindowsCascade, EachLargePageFailureFallsBackAndIsNamed) {
  struct Case {
    std::uint32_t code;
    const char* words;
  };
  for (const Case c : {Case{1450, "contiguous"}, Case{1455, "commit limit"}, Case{87, "invalid parameter"}}) {
    BackoffTable::instance().reset();
    api.largePageErrors = {{GiB, c.code}, {2 * MiB, c.code}};
    install();
    {  // the mapping goes before the platform it was made on
      VirtualMemory memory(options(GiB));
      const auto all = decisions(memory);
      EXPECT_EQ(memory.report().hugeTlbBytes(), 0U) << all;
      EXPECT_THAT(all, HasSubstr("1 GiB pages")) << "1 GiB, then 2 MiB, then base pages";
      EXPECT_THAT(all, HasSubstr(std::to_string(c.code))) << all;
      EXPECT_THAT(all, HasSubstr(c.words)) << all;
      EXPECT_EQ(memory.report().segments.at(0).kind, PageKind::Base);
    }
    scoped.reset();
    platform.reset();
  }
}

TEST_F(WindowsCascade, WithoutTheRightTheReportSaysSoAndBasePagesServe) {
  api.token = TokenPrivilege::Absent;
  install();
  VirtualMemory memory(options(64 * MiB));
  const auto all = decisions(memory);
  EXPECT_THAT(all, HasSubstr("\"Lock pages in memory\" is not assigned"));
  EXPECT_THAT(all, HasSubstr("ERROR_PRIVILEGE_NOT_HELD, 1314"));
  EXPECT_EQ(memory.report().hugeTlbBytes(), 0U);
  EXPECT_NE(memory.data(), nullptr);
  const auto availability = hugePageAvailability(2 * MiB);
  EXPECT_FALSE(availability.available);
  EXPECT_THAT(availability.reason, HasSubstr("\"Lock pages in memory\" is not assigned for RIG-7\\miner"));
  EXPECT_THAT(SystemInfo::get()->largePageRight.guidance, HasSubstr("secpol.msc"));
}

TEST_F(WindowsCascade, AvailabilitySaysThereIsNoPoolToReserve) {
  install();
  ScopedFreeHugePages counts;
  EXPECT_EQ(makeHugePagesFree(counts, {{2 * MiB, 34}}), std::nullopt) << "nothing to make free without a pool";
  const auto availability = hugePageAvailability(2 * MiB);
  EXPECT_TRUE(availability.available);
  EXPECT_THAT(availability.reason, HasSubstr("no pool"));
}

TEST_F(WindowsCascade, ABindTheMachineCannotHoldFailsTheAllocationClearly) {
  api.groups = {8};
  api.addNumaNode(0, {{0, 0x0f}});
  api.addNumaNode(1, {{0, 0xf0}});
  install();
  auto o = options(4 * MiB);
  o.node = 1;
  o.numaPolicy = NumaPolicy::Bind;
  try {
    VirtualMemory memory(o);
    ADD_FAILURE() << "Windows cannot bind: " << decisions(memory);
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("cannot bind"), HasSubstr("not supported")));
  }
  o.numaPolicy = NumaPolicy::Preferred;
  VirtualMemory memory(o);
  EXPECT_TRUE(memory.report().bound) << decisions(memory);
  EXPECT_EQ(api.allocCalls.back().node, 1U);
}

TEST_F(WindowsCascade, ALockThatFailsIsExplainedInWindowsWords) {
  api.workingSetGrowFails = true;
  install();
  auto o = options(4 * MiB);
  o.hugePages = false;
  o.lock = LockPolicy::BestEffort;
  VirtualMemory memory(o);
  EXPECT_FALSE(memory.isLocked());
  EXPECT_THAT(memory.report().lockError, AllOf(HasSubstr("the working set is 200 KiB to"), HasSubstr("SetProcessWorkingSetSizeEx"),
                                               Not(HasSubstr("RLIMIT_MEMLOCK")), Not(HasSubstr("CAP_IPC_LOCK"))));
}

TEST_F(WindowsCascade, NodeLocalPoolsPreferTheirNodeWhereWindowsCannotBind) {
  api.groups = {8};
  api.addNumaNode(0, {{0, 0x0f}});
  api.addNumaNode(1, {{0, 0xf0}});
  install();
  EXPECT_EQ(os::nodeLocalPolicy(), NumaPolicy::Preferred);
  MemoryPoolOptions perNode;
  perNode.capacity = 8 * MiB;
  perNode.hugePages = false;
  NumaMemoryPool pool(perNode, Topology::fromKernel());  // the fake's nodes (Linux would ask hwloc)
  auto chunk = pool.tryAllocate(64 * 1024, 1);
  ASSERT_TRUE(chunk) << "a pool of node 1 on Windows: preferred there, not refused";
  EXPECT_EQ(api.allocCalls.back().node, 1U);
  EXPECT_TRUE(pool.deallocate(chunk.value().address, 64 * 1024));
}

}  // namespace
}  // namespace xmem

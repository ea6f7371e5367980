// Every fault, injected: each core scenario runs once to count the platform calls it makes, then
// once per call with that call failing (the first, the second, ... the n-th). After each run: no
// region leaked (the fake's ledger), nothing handed out that is not mapped on the page size its
// report names, a failure that ends in an Error carries the OS's reason, and the same scenario
// works again on the same machine. Figures are printed: "fault injection: NAME: N faults injected".
#include <xmem/error.h>
#include <xmem/huge_pages.h>
#include <xmem/memory_pool.h>
#include <xmem/placement.h>
#include <xmem/profile_allocation.h>
#include <xmem/profiles.h>
#include <xmem/virtual_memory.h>

#include "mapping/backoff_table.h"
#include "os/os.h"
#include "support/fake_platform.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace xmem {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::FakePlatform;

const std::string kReason = std::strerror(ENOMEM);  // what every injected fault fails with

// [address, address + length) lies in mappings of the fake of page size `hugePageSize` (0: base).
bool mappedOn(const FakePlatform& fake, const std::uint8_t* address, std::size_t length, std::size_t hugePageSize) {
  const std::uint8_t* at = address;
  const std::uint8_t* end = address + length;
  const auto mappings = fake.mappings();
  while (at < end) {
    auto found = std::find_if(mappings.begin(), mappings.end(), [&](const FakePlatform::Mapping& mapping) {
      return at >= mapping.address && at < mapping.address + mapping.length;
    });
    if (found == mappings.end() || found->hugePageSize != hugePageSize) return false;
    at = found->address + found->length;
  }
  return true;
}

// What a run told its user, besides an Error: reports, advice, messages. A run that got all it
// asked for by another way (a retry) says kRecovered.
using Said = std::string;
constexpr const char* kRecovered = "[recovered]";

void sayReport(Said& said, const AllocationReport& report) {
  said += report.summary() + "\n" + report.bindError + "\n" + report.lockError + "\n";
  for (const auto& decision : report.decisions) said += decision + "\n";
}

// Every segment of the report is on the pages it names; pool chunks are inside a pool's mapping.
void expectHonest(const FakePlatform& fake, const VirtualMemory& memory, Said& said) {
  ASSERT_NE(memory.data(), nullptr);
  sayReport(said, memory.report());
  for (const auto& segment : memory.report().segments) {
    const auto* begin = memory.data() + segment.offset;
    if (segment.kind == PageKind::Pool) continue;  // checked by the pool's own mapping
    const std::size_t pageSize = segment.kind == PageKind::HugeTlb ? segment.pageSize : 0;
    EXPECT_TRUE(mappedOn(fake, begin, segment.length, pageSize))
        << "segment at +" << segment.offset << " of " << segment.length << " bytes is not mapped on "
        << (pageSize != 0 ? formatBytes(pageSize) : std::string("base")) << " pages: " << memory.report().summary();
  }
}

void expectInAMapping(const FakePlatform& fake, const std::uint8_t* chunk, std::size_t size) {
  const auto mappings = fake.mappings();
  const bool inside = std::any_of(mappings.begin(), mappings.end(), [&](const FakePlatform::Mapping& mapping) {
    return chunk >= mapping.address && chunk + size <= mapping.address + mapping.length;
  });
  EXPECT_TRUE(inside) << "a chunk of " << size << " bytes handed out outside every mapping";
}

struct Scenario {
  std::function<void(FakePlatform&)> setUp;  ///< the machine, before the platform is installed
  /// The work and its checks; throws Error when it fails, else puts what it told its user in Said.
  std::function<void(FakePlatform&, Said&)> run;
  std::function<void(FakePlatform&)> after = [](FakePlatform&) {};  ///< checks once the work is undone
};

struct Figures {
  std::size_t faults = 0;
  std::size_t errors = 0;  ///< ended in an Error that gives the OS's reason
  std::size_t said = 0;    ///< worked on, with the reason in a report
  std::size_t recovered = 0;  ///< got all it asked for by another way
  std::size_t absorbed = 0;   ///< none of the above: a failure no one was told of
  std::map<std::string, std::size_t> errorsByCall, saidByCall, absorbedByCall;
};

void printCalls(const char* what, const std::map<std::string, std::size_t>& byCall) {
  std::printf("; %s:", what);
  for (const auto& [call, count] : byCall) std::printf(" %s %zu", call.c_str(), count);
}

// Runs `scenario` once per fault point it reaches, with that point failing.
Figures injectEveryFault(const char* name, const Scenario& scenario) {
  VirtualMemory::setHugePageRetryDelay(std::chrono::milliseconds(0));  // a failure must not change the next run
  std::size_t points = 0;
  {
    FakePlatform fake;
    scenario.setUp(fake);
    os::ScopedPlatform installed(fake);
    Said said;
    scenario.run(fake, said);
    points = fake.faultPoints();
    // Else a report that says the reason anyway would pass every fault as "said".
    EXPECT_EQ(said.find(kReason), std::string::npos) << name << " says \"" << kReason << "\" with no fault:\n" << said;
    scenario.after(fake);
  }
  EXPECT_GT(points, 0U) << name << " reached no platform call";
  Figures figures;
  for (std::size_t at = 1; at <= points; ++at) {
    FakePlatform fake;
    scenario.setUp(fake);
    os::ScopedPlatform installed(fake);
    fake.faults.failAt = at;
    std::string failed;
    Said said;
    try {
      scenario.run(fake, said);
      failed = fake.failedCall();
      if (said.find(kReason) != std::string::npos) {
        ++figures.said;
        ++figures.saidByCall[failed];
      } else if (said.find(kRecovered) != std::string::npos) {
        ++figures.recovered;
      } else {
        ++figures.absorbed;
        ++figures.absorbedByCall[failed];
        ADD_FAILURE() << name << ": fault " << at << " (" << failed << ") failed silently; the run said:\n" << said;
      }
    } catch (const Error& error) {
      failed = fake.failedCall();
      ++figures.errors;
      ++figures.errorsByCall[failed];
      EXPECT_THAT(error.what(), HasSubstr(kReason)) << name << ": fault " << at << " (" << failed << ")";
    }
    SCOPED_TRACE(std::string(name) + ": fault " + std::to_string(at) + " of " + std::to_string(points) + " (" +
                 failed + ")");
    EXPECT_FALSE(failed.empty()) << "the run did not reach its fault point: the scenario is not repeatable";
    scenario.after(fake);
    EXPECT_EQ(fake.liveRegions(), 0U) << "regions leaked";
    EXPECT_THAT(fake.violations(), IsEmpty());
    fake.faults.failAt = 0;
    EXPECT_NO_THROW(scenario.run(fake, said)) << "the same work after the failure";
    scenario.after(fake);
    EXPECT_EQ(fake.liveRegions(), 0U) << "regions leaked by the run after the failure";
    ++figures.faults;
  }
  BackoffTable::instance().reset();
  std::printf("fault injection: %s: %zu faults injected: %zu ended in an Error, %zu in a report, %zu recovered, %zu silent",
              name, figures.faults, figures.errors, figures.said, figures.recovered, figures.absorbed);
  printCalls("errors", figures.errorsByCall);
  printCalls("reported", figures.saidByCall);
  if (figures.absorbed != 0) printCalls("silent", figures.absorbedByCall);
  std::printf("\n");
  return figures;
}

const Topology& twoNodes() {
  static const Topology topology({{0, {0, 1}, 16 * GiB}, {1, {2, 3}, 16 * GiB}}, {{10, 20}, {20, 10}});
  return topology;
}

// Each profile's whole layout on two nodes with 1 GiB and 2 MiB pages free, JIT on huge pages,
// pre-faulted and locked where it can be: the most platform calls a miner's start makes.
TEST(FaultInjection, EveryProfileLayout) {
  Figures all;
  for (const auto& profile : memoryProfiles()) {
    Scenario scenario;
    scenario.setUp = [](FakePlatform& fake) {
      fake.setNodes(2);
      for (std::uint32_t node = 0; node < 2; ++node) {
        fake.setHugePages(kOneGbPageSize, node, 4);
        fake.setHugePages(kHugePageSize, node, 2000);
      }
    };
    scenario.run = [&profile](FakePlatform& fake, Said& said) {
      ProfileAllocationOptions options;
      options.plan.threads = 2;
      options.plan.jitHugePages = true;
      options.prefaultThreads = 1;
      options.lock = LockPolicy::BestEffort;
      auto allocation = ProfileAllocation::allocate(profile, options, twoNodes());
      for (const auto& node : allocation.nodes()) {
        if (node.dataset) expectHonest(fake, *node.dataset, said);
        if (node.cache) expectHonest(fake, *node.cache, said);
        for (const auto& jit : node.jit) expectHonest(fake, jit, said);
        if (node.pool) sayReport(said, node.pool->report());
        for (const auto& lease : node.scratchpads) expectInAMapping(fake, lease.data(), node.scratchpadSize);
      }
    };
    const auto figures = injectEveryFault(profile.name.c_str(), scenario);
    all.faults += figures.faults;
    all.errors += figures.errors;
    all.said += figures.said;
    all.absorbed += figures.absorbed;
  }
  std::printf("fault injection: every profile layout: %zu faults injected: %zu ended in an Error, %zu in a report, %zu silent\n",
              all.faults, all.errors, all.said, all.absorbed);
}

// One mapping down the whole cascade (1 GiB, 2 MiB, THP, base), bound to node 1, executable,
// locked, named, pre-faulted, then flipped RX and back.
TEST(FaultInjection, OneMappingDownTheCascade) {
  Scenario scenario;
  scenario.setUp = [](FakePlatform& fake) {
    fake.setNodes(2);
    fake.setHugePages(kOneGbPageSize, 1, 1);
    fake.setHugePages(kHugePageSize, 1, 2);  // 6 MiB past the 1 GiB page: 2 MiB pages, then THP
  };
  scenario.run = [](FakePlatform& fake, Said& said) {
    VirtualMemory::Options options;
    options.size = GiB + 6 * MiB;
    options.oneGbPages = true;
    options.node = 1;
    options.numaPolicy = NumaPolicy::Bind;
    options.executable = true;
    options.lock = LockPolicy::BestEffort;
    options.prefaultThreads = 2;
    options.name = "xmem:fault-test";
    VirtualMemory memory(options);
    expectHonest(fake, memory, said);
    memory.protectRX();
    memory.protectRW();
    memory.data()[memory.size() - 1] = 1;
  };
  injectEveryFault("one mapping down the cascade", scenario);
}

// A pool that starts small, grows twice serving chunks of several classes, gives them back and trims.
TEST(FaultInjection, APoolGrowsServesAndTrims) {
  Scenario scenario;
  scenario.setUp = [](FakePlatform& fake) { fake.setHugePages(kHugePageSize, 0, 6); };
  scenario.run = [](FakePlatform& fake, Said& said) {
    MemoryPoolOptions options;
    options.capacity = 4 * MiB;
    options.growthSize = 4 * MiB;
    options.maxCapacity = 16 * MiB;
    options.growthMayDegrade = true;
    options.node = 0;
    MemoryPool pool(options);
    sayReport(said, pool.report());
    std::vector<std::pair<std::uint8_t*, std::size_t>> chunks;
    for (const std::size_t size : {2 * MiB, 2 * MiB, 64 * KiB, MiB, 2 * MiB, 4 * MiB}) {
      auto chunk = pool.tryAllocate(size);
      if (!chunk) {
        said += chunk.error().what() + std::string("\n");
        continue;
      }
      expectInAMapping(fake, chunk.value(), size);
      said += pool.lastGrowth() + "\n";
      chunks.emplace_back(chunk.value(), size);
    }
    for (const auto& [chunk, size] : chunks) EXPECT_TRUE(pool.deallocate(chunk, size));
    pool.trim();
    EXPECT_EQ(pool.stats().inUse, 0U);
  };
  injectEveryFault("a pool grows, serves and trims", scenario);
}

// Reserving on a node and system-wide, then releasing: whatever failed, the records still know every
// count changed, so one release afterwards puts each back, and no record is left.
TEST(FaultInjection, ReserveAndRelease) {
  const auto state = std::filesystem::temp_directory_path() / ("xmem-fault-state-" + std::to_string(::getpid()));
  ::setenv(kStateDirVariable, state.c_str(), 1);
  const auto totalOf = [](FakePlatform& fake, std::size_t pageSize, std::optional<std::uint32_t> node) {
    HugePageCounts counts;
    fake.faults.failAt = 0;
    EXPECT_TRUE(fake.hugePageCounts(pageSize, node, counts));
    return counts.total;
  };
  Scenario scenario;
  scenario.setUp = [&state](FakePlatform& fake) {
    std::filesystem::remove_all(state);
    fake.setNodes(2);
    fake.setHugePages(kHugePageSize, 1, 3);
    fake.setHugePages(kOneGbPageSize, 0, 1);
  };
  scenario.run = [](FakePlatform&, Said& said) {
    for (const auto& request : {ReservationRequest{.pageSize = kHugePageSize, .node = 1U, .count = 5},
                                ReservationRequest{.pageSize = kOneGbPageSize, .node = 0U, .total = 2}}) {
      const auto reservation = reserveHugePages(request);
      said += reservation.advice + "\n";
      // The kernel's NoMemory on a count write means "fewer pages": compaction and a second write follow.
      if (reservation.compacted && reservation.complete()) said += kRecovered;
      EXPECT_TRUE(reservation.complete() || !reservation.advice.empty()) << "fewer pages, and no word why";
    }
    (void)recordedReservations();
    for (const auto& count : releaseHugePages()) {
      said += count.error + "\n";
      EXPECT_TRUE(count.now == count.original || !count.error.empty()) << count.path << " not put back, and no word why";
    }
  };
  scenario.after = [&totalOf](FakePlatform& fake) {
    (void)releaseHugePages();  // what a user runs after a failed reserve or release
    EXPECT_EQ(totalOf(fake, kHugePageSize, 1U), 3U) << "a 2 MiB count on node 1 left changed";
    EXPECT_EQ(totalOf(fake, kOneGbPageSize, 0U), 1U) << "a 1 GiB count on node 0 left changed";
    EXPECT_THAT(recordedReservations(), IsEmpty()) << "records left after the release";
  };
  injectEveryFault("reserve and release", scenario);
  std::filesystem::remove_all(state);
  ::unsetenv(kStateDirVariable);
}

// Memory xmem did not map: located, promoted to THP in place and moved to node 1.
TEST(FaultInjection, WherePromoteAndMigrate) {
  Scenario scenario;
  scenario.setUp = [](FakePlatform& fake) { fake.setNodes(2); };
  scenario.run = [](FakePlatform&, Said& said) {
    VirtualMemory::Options options;
    options.size = 8 * MiB;
    options.hugePages = false;
    options.transparentHugePages = false;
    options.prefaultThreads = 1;
    VirtualMemory memory(options);
    auto before = where(memory.data(), memory.size());
    EXPECT_EQ(before.length, memory.size());
    auto promoted = promote(memory.data(), memory.size());
    said += promoted.message + "\n";
    EXPECT_LE(promoted.hugeAfter, promoted.eligibleBytes);
    auto moved = migrate(memory.data(), memory.size(), 1);
    said += moved.message + "\n";
    EXPECT_LE(moved.moved + moved.failed() + moved.alreadyThere + moved.notPresent, moved.pages);
    auto after = where(memory.data(), memory.size());
    EXPECT_EQ(after.length, memory.size());
  };
  injectEveryFault("where, promote and migrate", scenario);
}

}  // namespace
}  // namespace xmem

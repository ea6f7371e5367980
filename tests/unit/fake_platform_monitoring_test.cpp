// The fake platform's monitoring answers are what a test sets, filtered as the real ones are, so
// the monitor's tests can inject several nodes and failures on a one-node machine.
#include "support/fake_platform.h"

#include <xmem/types.h>

#include <gtest/gtest.h>

namespace xmem::testing {
namespace {

MappingUsage mapping(std::uintptr_t start, std::size_t size, std::map<std::uint32_t, std::size_t> nodes) {
  MappingUsage usage;
  usage.start = start;
  usage.end = start + size;
  usage.bytesByNode = std::move(nodes);
  return usage;
}

TEST(FakePlatformMonitoring, ProcessesAsSetWithSmallMappingsLeftOut) {
  FakePlatform platform;
  ProcessUsage usage;
  usage.pid = 42;
  usage.command = "xmrig";
  usage.hugeTlbBytes = 3 * GiB;
  usage.mappings = {mapping(0x1000, 4 * KiB, {{0, 4 * KiB}}),
                    mapping(0x40000000, 2 * GiB, {{0, 1 * GiB}, {1, 1 * GiB}}),
                    mapping(0xc0000000, 1 * GiB, {{1, 1 * GiB}})};
  platform.processes[42] = usage;

  ProcessUsage out;
  ASSERT_TRUE(platform.processUsage(42, 1 * MiB, out));
  EXPECT_EQ(out.command, "xmrig");
  EXPECT_EQ(out.hugeTlbBytes, 3 * GiB) << "status totals cover every mapping";
  ASSERT_EQ(out.mappings.size(), 2U);
  EXPECT_EQ(out.mappings[0].bytesByNode.at(1), 1 * GiB);
  ASSERT_TRUE(platform.processUsage(42, 0, out));
  EXPECT_EQ(out.mappings.size(), 3U);
}

TEST(FakePlatformMonitoring, MissingAndForbiddenProcesses) {
  FakePlatform platform;
  platform.processes[7] = {};
  platform.processErrno[7] = 13;  // EACCES
  ProcessUsage out;
  out.command = "untouched";
  EXPECT_EQ(platform.processUsage(8, 0, out).kind, os::Status::Kind::NotFound);
  EXPECT_EQ(platform.processUsage(7, 0, out).kind, os::Status::Kind::NoPermission);
  EXPECT_EQ(out.command, "untouched") << "out is written only on success";
}

TEST(FakePlatformMonitoring, KernelCountersRecordsAndHost) {
  FakePlatform platform;
  platform.counters.events["thp_fault_fallback"] = 5;
  platform.counters.buddy = {{0, "Normal", {1, 2, 3}}, {1, "Normal", {4}}};
  platform.publishedRecords[{42, "xmem-records"}] = "abcdef";
  platform.host = "rig-7";

  KernelCounters counters;
  ASSERT_TRUE(platform.kernelCounters(counters));
  EXPECT_EQ(counters.events.at("thp_fault_fallback"), 5U);
  EXPECT_EQ(counters.buddy.size(), 2U);
  platform.kernelCountersErrno = 2;  // ENOENT
  EXPECT_EQ(platform.kernelCounters(counters).kind, os::Status::Kind::NotFound);

  std::string records;
  ASSERT_TRUE(platform.readPublishedRecords(42, "xmem-records", 4, records));
  EXPECT_EQ(records, "abcd");
  EXPECT_EQ(platform.readPublishedRecords(42, "other", 4, records).kind, os::Status::Kind::NotFound);
  EXPECT_EQ(platform.readPublishedRecords(43, "xmem-records", 4, records).kind, os::Status::Kind::NotFound);
  EXPECT_EQ(platform.hostName(), "rig-7");
}

}  // namespace
}  // namespace xmem::testing

// The Windows platform over the real Win32 calls, in a Windows build (under Wine in CI). Wine maps
// no large pages (87) and puts no "Lock pages in memory" in its token: so these runs prove the
// fallbacks and the "not assigned" guidance end to end, and the base-page paths for real.
#include "mapping/backoff_table.h"
#include "os/windows/win_api.h"
#include "os/windows/windows_platform.h"

#include <xmem/system_info.h>
#include <xmem/virtual_memory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <windows.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace xmem {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

bool underWine() { return os::current().probe().kernel.find("(Wine)") != std::string::npos; }

std::string decisions(const VirtualMemory& memory) {
  std::string all;
  for (const auto& line : memory.report().decisions) all += line + "\n";
  return all;
}

TEST(Win32Platform, IsTheNativePlatformAndProbesThisWindows) {
  auto& platform = os::current();
  const auto facts = platform.probe();
  EXPECT_EQ(facts.platform, "windows");
  EXPECT_THAT(facts.kernel, HasSubstr("Windows "));
  EXPECT_EQ(facts.basePageSize, 4096U);
  EXPECT_GT(facts.memoryTotal, 0U);
  ASSERT_FALSE(facts.nodes.empty());
  EXPECT_FALSE(facts.nodes[0].cpus.empty());
  EXPECT_GE(platform.cpuCount(), 1U);
  EXPECT_LT(platform.currentCpu(), platform.cpuCount());
  EXPECT_EQ(facts.defaultHugePageSize, 2 * MiB) << "GetLargePageMinimum on x86-64";
  EXPECT_FALSE(facts.largePageRight.account.empty()) << "the account the right is judged for";
  std::printf("[ info ] %s, %zu node(s), %u CPU(s); \"Lock pages in memory\": %s\n", facts.kernel.c_str(),
              facts.nodes.size(), platform.cpuCount(), std::string(toString(facts.largePageRight.state)).c_str());
  if (underWine()) {
    EXPECT_EQ(facts.largePageRight.state, LargePageRight::State::NotAssigned) << "Wine's token lacks it";
    EXPECT_THAT(facts.largePageRight.guidance, HasSubstr("secpol.msc"));
  }
}

TEST(Win32Platform, AdjustTokenPrivilegesSucceedsWithoutEnablingWhatIsAbsent) {
  if (!underWine()) GTEST_SKIP() << "SKIPPED: only Wine's token is known to lack the right";
  EXPECT_EQ(os::windows::win32Api().enableLockMemoryPrivilege(), os::windows::error::kNotAllAssigned);
}

TEST(Win32Platform, TheCascadeFallsBackFromLargePagesWithEveryStepSaid) {
  BackoffTable::instance().reset();
  VirtualMemoryOptions options;
  options.size = 64 * MiB;
  options.oneGbPages = true;
  VirtualMemory memory(options);
  const auto all = decisions(memory);
  std::printf("%s", all.c_str());
  ASSERT_NE(memory.data(), nullptr);
  std::memset(memory.data(), 0x5a, options.size);
  if (memory.report().hugeTlbBytes() == 0) {
    EXPECT_THAT(all, AnyOf(HasSubstr("ERROR_INVALID_PARAMETER, 87"), HasSubstr("ERROR_PRIVILEGE_NOT_HELD, 1314"),
                           HasSubstr("ERROR_NO_SYSTEM_RESOURCES, 1450"), HasSubstr("ERROR_COMMITMENT_LIMIT, 1455")));
    EXPECT_EQ(memory.report().segments.at(0).kind, PageKind::Base);
  }
  if (underWine()) {
    EXPECT_THAT(all, HasSubstr("ERROR_INVALID_PARAMETER, 87")) << "Wine maps no large pages";
  }
  const auto usage = memory.usage();
  EXPECT_EQ(usage.residentBytes, options.size) << "QueryWorkingSetEx sees every touched page";
  BackoffTable::instance().reset();
}

TEST(Win32Platform, ReserveCommitDecommitRelease) {
  auto& platform = os::current();
  void* reserved = nullptr;
  ASSERT_TRUE(platform.reserve(16 * MiB, 4 * MiB, reserved));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(reserved) % (4 * MiB), 0U);
  os::MapRequest request;
  request.length = 2 * MiB;
  request.fixedAddress = static_cast<std::uint8_t*>(reserved) + 4 * MiB;
  os::MapResult mapped;
  ASSERT_TRUE(platform.map(request, mapped));
  auto* bytes = static_cast<std::uint8_t*>(mapped.address);
  std::memset(bytes, 0x77, request.length);
  RangeUsage before;
  ASSERT_TRUE(platform.query(bytes, request.length, before));
  EXPECT_EQ(before.residentBytes, request.length);
  ASSERT_TRUE(platform.advise(bytes, request.length, os::Advice::DontNeed));
  RangeUsage after;
  ASSERT_TRUE(platform.query(bytes, request.length, after));
  EXPECT_EQ(after.residentBytes, 0U) << "given back (reading them below faults two in again)";
  EXPECT_EQ(bytes[0], 0) << "decommitted and committed again: zero";
  EXPECT_EQ(bytes[request.length - 1], 0);
  ASSERT_TRUE(platform.populate(bytes, request.length));
  ASSERT_TRUE(platform.query(bytes, request.length, after));
  EXPECT_EQ(after.residentBytes, request.length) << "populate touched every page";
  EXPECT_TRUE(platform.unmap(bytes, request.length));
  MEMORY_BASIC_INFORMATION info{};
  ASSERT_NE(::VirtualQuery(bytes, &info, sizeof(info)), 0U);
  EXPECT_EQ(info.State, static_cast<DWORD>(MEM_RESERVE)) << "a part: decommitted, still reserved";
  EXPECT_TRUE(platform.unmap(reserved, 16 * MiB));
  ASSERT_NE(::VirtualQuery(reserved, &info, sizeof(info)), 0U);
  EXPECT_EQ(info.State, static_cast<DWORD>(MEM_FREE)) << "the whole: released";
}

TEST(Win32Platform, JitCodeRunsAfterProtectRx) {
  VirtualMemory code = VirtualMemory::allocateExecutableMemory(64 * 1024, false);
  const std::uint8_t returns42[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};  // mov eax, 42; ret
  std::memcpy(code.data(), returns42, sizeof(returns42));
  code.protectRX();
  auto function = reinterpret_cast<int (*)()>(reinterpret_cast<void*>(code.data()));
  EXPECT_EQ(function(), 42);
  code.protectRW();
  code.data()[1] = 7;
  code.protectRX();
  EXPECT_EQ(function(), 7) << "rewritten code runs as written (x86 keeps its caches coherent; the flush is the fake's test)";
}

TEST(Win32Platform, LockAndUnlock) {
  VirtualMemoryOptions options;
  options.size = 8 * MiB;
  options.hugePages = false;
  options.lock = LockPolicy::Required;
  VirtualMemory memory(options);
  EXPECT_TRUE(memory.isLocked()) << memory.report().lockError;
}

TEST(Win32Platform, PinningAndTheCurrentCpu) {
  auto& platform = os::current();
  ASSERT_TRUE(platform.pinThread(0));
  EXPECT_EQ(platform.currentCpu(), 0U);
  EXPECT_EQ(platform.currentNode(), 0U);
  EXPECT_EQ(platform.pinThread(platform.cpuCount()).kind, os::Status::Kind::Invalid);
}

TEST(Win32Platform, FilesAreLockedAndReplacedWhole) {
  auto& platform = os::current();
  char directory[MAX_PATH] = {};
  ASSERT_NE(::GetTempPathA(MAX_PATH, directory), 0U);
  const std::string path = std::string(directory) + "xmem-win32-test-" + std::to_string(::GetCurrentProcessId());
  int handle = -1;
  ASSERT_TRUE(platform.lockFile((path + ".lock").c_str(), handle));
  ASSERT_TRUE(platform.replaceFile(path.c_str(), "first", 5));
  ASSERT_TRUE(platform.replaceFile(path.c_str(), "second", 6));
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  file.close();
  EXPECT_EQ(contents.str(), "second");
  EXPECT_TRUE(platform.unlockFile(handle));
  ::DeleteFileA(path.c_str());
  ::DeleteFileA((path + ".lock").c_str());
}

TEST(Win32Platform, ErrorsAreDescribedInWindowsWords) {
  EXPECT_THAT(os::describeOsError(1450), HasSubstr("ERROR_NO_SYSTEM_RESOURCES, 1450"));
  EXPECT_THAT(os::describeOsError(2), HasSubstr("ERROR_FILE_NOT_FOUND"));
  EXPECT_THAT(os::describeOsError(1816), HasSubstr("(1816)")) << "FormatMessage's text for the others";
}

}  // namespace
}  // namespace xmem

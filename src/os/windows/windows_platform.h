// The Windows platform: VirtualAlloc's reservations and large pages, VirtualAllocExNuma's
// preferred nodes, processor groups, VirtualLock with the working set it needs, and the
// "Lock pages in memory" right judged without changing anything. Its logic is portable C++ over
// WinApi (win_api.h), built on every OS: the unit suite drives it with a fake WinApi, Windows and
// Wine with the real one (win32_api.cpp).
#pragma once

#include "os/os.h"
#include "os/windows/win_api.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace xmem::os {

#if defined(_WIN32)
/// The platform of this process, over the real Win32 calls.
Platform& windowsPlatform() noexcept;
#endif

/// "Insufficient system resources exist ... (ERROR_NO_SYSTEM_RESOURCES 1450): not enough
/// contiguous memory ..." for a Win32 error code: xmem's words for the codes it meets (the same on
/// every OS), FormatMessage's where `api` is given and has some.
std::string describeWindowsError(int code, windows::WinApi* api = nullptr);
/// The Status of a Win32 error code (0 is success).
Status windowsStatus(std::uint32_t code) noexcept;

/// Judges "Lock pages in memory" from the token, the linked elevated token and local policy, as
/// the user's own situation: what it is, and what to do (secpol.msc, the command-line ways, a
/// sign-out, whoami /priv). Reads only; enabling is enableLockMemoryRight()'s.
LargePageRight judgeLockMemoryRight(windows::WinApi& api);

class WindowsPlatform final : public Platform {
 public:
  explicit WindowsPlatform(windows::WinApi& api);

  Capabilities capabilities() const noexcept override;
  MachineFacts probe() override;
  Status hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t> node, HugePageCounts& out) noexcept override;
  Status setHugePageCount(std::size_t pageSize, std::optional<std::uint32_t> node, std::uint64_t count) noexcept override;
  Status checkHugePageCountWritable(std::size_t pageSize, std::optional<std::uint32_t> node) noexcept override;
  Status compactMemory() noexcept override;
  std::string hugePageCountPath(std::size_t pageSize, std::optional<std::uint32_t> node) const override;
  std::string stateDirectory() const override;
  BootConfiguration bootConfiguration(const std::vector<BootPages>& pages, const std::string& directory) const override;
  Status lockFile(const char* path, int& handle) noexcept override;
  Status unlockFile(int handle) noexcept override;
  Status replaceFile(const char* path, const char* data, std::size_t length) noexcept override;
  Status memlockLimit(MemlockLimit& out) noexcept override;
  std::string memlockLimitAdvice() const override;
  std::string describeMemlockLimit(const MemlockLimit& limit) const override;
  Status reserve(std::size_t length, std::size_t alignment, void*& out) noexcept override;
  Status map(const MapRequest& request, MapResult& out) noexcept override;
  Status unmap(void* address, std::size_t length) noexcept override;
  Status advise(void* address, std::size_t length, Advice advice) noexcept override;
  Status protect(void* address, std::size_t length, Protection protection) noexcept override;
  Status lock(void* address, std::size_t length) noexcept override;
  Status unlock(void* address, std::size_t length) noexcept override;
  Status name(void* address, std::size_t length, const char* name) noexcept override;
  Status populate(void* address, std::size_t length) noexcept override;
  Status query(const void* address, std::size_t length, RangeUsage& out) noexcept override;
  Status survey(const void* address, std::size_t length, PageSurvey& out) noexcept override;
  Status pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept override;
  Status movePages(void* const* pages, std::size_t count, std::uint32_t node, int* status) noexcept override;
  Status bindThreadMemory(const Placement& placement) noexcept override;
  Status pinThread(std::uint32_t cpu) noexcept override;
  std::uint32_t currentNode() noexcept override;
  std::uint32_t currentCpu() noexcept override;
  std::uint32_t cpuCount() noexcept override;
  Status processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out) override;
  Status kernelCounters(KernelCounters& out) override;
  Status readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes, std::string& out) override;
  std::string hostName() const override;
  std::int64_t processId() const noexcept override;
  bool processAlive(std::int64_t pid) const noexcept override;
  std::string describeError(int code) const override;

 private:
  struct Node {
    std::uint32_t id = 0;
    std::vector<std::uint32_t> cpus;  ///< flat CPU numbers (over all processor groups)
  };

  Status lastError() const noexcept;
  Status mapLargePages(const MapRequest& request, MapResult& out) noexcept;
  Status mapBasePages(const MapRequest& request, MapResult& out) noexcept;
  /// The node VirtualAlloc is to prefer, or why the placement cannot be had on Windows.
  Status preferredNode(const Placement& placement, std::uint32_t& node) const noexcept;
  /// Enables "Lock pages in memory" once, before the first large-page map (AdjustTokenPrivileges).
  void enableLockMemoryRight() noexcept;
  /// The whole allocation `address` lies in: its base and length, from VirtualQuery.
  bool allocationOf(void* address, std::uint8_t*& base, std::size_t& length) const noexcept;
  /// Calls `visit(page)` for each base page's QueryWorkingSetEx entry of the range, in chunks.
  template <typename Visit>
  bool visitWorkingSet(const void* address, std::size_t length, Visit&& visit) const noexcept;
  /// Calls `visit(start, end)` for each committed region of the range, clipped to it.
  template <typename Visit>
  void visitCommitted(const void* address, std::size_t length, Visit&& visit) const;
  /// A flat CPU number as (group, number in group), false past the last CPU.
  bool groupOf(std::uint32_t cpu, std::uint16_t& group, std::uint8_t& number) const noexcept;

  windows::WinApi& api_;
  windows::SystemFacts system_;
  std::size_t largePageMinimum_ = 0;
  bool virtualAlloc2_ = false;
  std::vector<std::uint32_t> groupFirstCpu_;  ///< prefix sums of each group's processor count
  std::uint32_t cpuCount_ = 1;
  std::vector<Node> nodes_;  ///< probed at construction: nodes with CPUs, and their CPUs
  std::once_flag rightEnabled_;
  std::mutex workingSetMutex_;  ///< one working-set raise at a time
};

namespace windows {
/// The NUMA nodes in GetLogicalProcessorInformationEx(RelationNumaNode)'s records, with their CPUs
/// numbered flat over the groups (`groupFirstCpu`): nodes without CPUs are left out, a node may
/// span groups (GroupCount > 1 since Windows 10 20H2).
struct NodeCpus {
  std::uint32_t node = 0;
  std::vector<std::uint32_t> cpus;
};
std::vector<NodeCpus> parseNumaNodes(const std::vector<std::uint8_t>& records, const std::vector<std::uint32_t>& groupFirstCpu);
/// The largest data or unified cache in RelationCache records (0 when none).
std::size_t parseLargestCache(const std::vector<std::uint8_t>& records);
}  // namespace windows

}  // namespace xmem::os

// A WinApi for unit tests: a Windows machine as configured (privilege states, large page errors,
// nodes and processor groups, a working-set quota), with memory that is real so the pointers the
// platform returns work. It checks what Windows checks (large pages need the privilege enabled,
// whole allocations only, sizes in large-page units) and records what it was asked.
#pragma once

#include "os/windows/win_api.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace xmem::testing {

class FakeWinApi final : public os::windows::WinApi {
 public:
  struct Allocation {
    std::uint8_t* base = nullptr;
    std::size_t size = 0;
    bool large = false;
    std::uint32_t node = os::windows::kNoNode;
    std::uint32_t protect = 0;
    std::vector<bool> committed;  ///< per base page
    std::vector<bool> locked;
    void* backing = nullptr;      ///< the real memory behind it, aligned within
    std::size_t backingSize = 0;
  };
  struct AllocCall {
    bool virtualAlloc2 = false;
    std::uint32_t type = 0;
    std::uint32_t protect = 0;
    std::size_t alignment = 0;
    std::uint32_t node = os::windows::kNoNode;
    std::uint64_t attributes = 0;
  };

  FakeWinApi();
  ~FakeWinApi() override;

  // The machine
  os::windows::SystemFacts system{4096, 65536, 16ULL << 30, 12ULL << 30, "Windows 10.0.19045"};
  std::size_t largePageMin = 2u << 20;
  bool withVirtualAlloc2 = true;
  bool oneGbPages = true;
  /// Large-page allocations of this page size fail with this code (1314, 1450, 1455, 87 ...).
  std::map<std::size_t, std::uint32_t> largePageErrors;
  /// A Windows 10 before 1903: VirtualAlloc2 rejects a page-size attribute with 87.
  bool attributesRejected = false;

  // "Lock pages in memory"
  os::windows::TokenPrivilege token = os::windows::TokenPrivilege::Enabled;
  os::windows::TokenPrivilege linkedToken = os::windows::TokenPrivilege::Absent;
  os::windows::Elevation elevationType = os::windows::Elevation::Default;
  bool rightAssigned = false;
  std::uint32_t policyError = 0;  ///< local policy cannot be read (e.g. 5 for a standard user)
  std::uint32_t tokenError = 0;  ///< the token cannot be read (e.g. 5)
  int enableCalls = 0;

  // The working set: VirtualLock holds up to its minimum
  std::size_t workingSetMin = 200 * 1024;
  std::size_t workingSetMax = 1380 * 1024;
  bool workingSetGrowFails = false;
  std::size_t lockedBytes = 0;

  // Processors and nodes
  std::vector<std::uint32_t> groups{8};
  std::vector<std::uint8_t> numaRecords;  ///< GetLogicalProcessorInformationEx(RelationNumaNode)
  std::vector<std::uint8_t> cacheRecords;
  std::uint16_t currentGroup = 0;
  std::uint8_t currentNumber = 0;
  bool processorNodeWorks = true;
  std::uint16_t processorNodeAnswer = 0;
  std::vector<std::pair<std::uint16_t, std::uint64_t>> affinityCalls;
  std::vector<std::pair<std::uint16_t, std::uint8_t>> idealProcessorCalls;
  std::map<std::uint16_t, std::uint64_t> nodeFreeMemory;

  /// A NUMA node's record; each (group, mask) is one GROUP_AFFINITY. `groupCount0`: the record as
  /// Windows before 10 20H2 wrote it (GroupCount 0, one mask).
  void addNumaNode(std::uint32_t node, const std::vector<std::pair<std::uint16_t, std::uint64_t>>& masks,
                   bool groupCount0 = false);
  void addCache(std::uint8_t level, std::uint32_t type, std::uint32_t bytes);

  // What was asked
  std::vector<AllocCall> allocCalls;
  int flushCalls = 0;
  std::vector<std::uint32_t> freeTypes;
  const Allocation* allocationAt(const void* address) const;
  std::size_t liveAllocations() const { return allocations_.size(); }

  // WinApi
  std::uint32_t lastError() noexcept override { return lastError_; }
  std::string formatMessage(std::uint32_t code) override;
  os::windows::SystemFacts systemFacts() noexcept override { return system; }
  std::size_t largePageMinimum() noexcept override { return largePageMin; }
  bool hasVirtualAlloc2() noexcept override { return withVirtualAlloc2; }
  bool cpuHasOneGbPages() noexcept override { return oneGbPages; }
  std::string computerName() override { return "RIG-7"; }
  std::uint32_t currentProcessId() noexcept override { return 4242; }
  bool processAlive(std::uint32_t pid) noexcept override { return pid == 4242; }
  std::string localAppData() override { return "C:\\Users\\miner\\AppData\\Local"; }
  void* virtualAlloc(void* address, std::size_t size, std::uint32_t type, std::uint32_t protect,
                     std::uint32_t node) noexcept override;
  void* virtualAlloc2(std::size_t size, std::uint32_t type, std::uint32_t protect, std::size_t alignment,
                      std::uint32_t node, std::uint64_t attributeFlags) noexcept override;
  bool virtualFree(void* address, std::size_t size, std::uint32_t type) noexcept override;
  bool virtualProtect(void* address, std::size_t size, std::uint32_t protect, std::uint32_t& old) noexcept override;
  bool flushInstructionCache(const void*, std::size_t) noexcept override;
  bool virtualLock(void* address, std::size_t size) noexcept override;
  bool virtualUnlock(void* address, std::size_t size) noexcept override;
  bool virtualQuery(const void* address, os::windows::MemoryRegion& out) noexcept override;
  bool queryWorkingSetEx(os::windows::WorkingSetPage* pages, std::size_t count) noexcept override;
  bool workingSetSize(std::size_t& minimum, std::size_t& maximum, std::uint32_t& flags) noexcept override;
  bool setWorkingSetSize(std::size_t minimum, std::size_t maximum, std::uint32_t flags) noexcept override;
  std::uint32_t lockMemoryPrivilege(bool linked, os::windows::TokenPrivilege& out) noexcept override;
  std::uint32_t elevation(os::windows::Elevation& out) noexcept override;
  std::uint32_t lockMemoryRightAssigned(bool& out) noexcept override;
  std::uint32_t enableLockMemoryPrivilege() noexcept override;
  std::string accountName() override { return "RIG-7\\miner"; }
  std::uint32_t logicalProcessorInformation(std::uint32_t relationship, std::vector<std::uint8_t>& out) override;
  std::vector<std::uint32_t> groupProcessorCounts() override { return groups; }
  bool numaAvailableMemory(std::uint16_t node, std::uint64_t& bytes) noexcept override;
  void currentProcessor(std::uint16_t& group, std::uint8_t& number) noexcept override;
  bool processorNode(std::uint16_t group, std::uint8_t number, std::uint16_t& node) noexcept override;
  bool setThreadGroupAffinity(std::uint16_t group, std::uint64_t mask) noexcept override;
  bool setThreadIdealProcessor(std::uint16_t group, std::uint8_t number) noexcept override;
  bool lockFile(const char*, std::intptr_t& handle) noexcept override;
  bool unlockFile(std::intptr_t) noexcept override { return true; }
  bool replaceFile(const char* path, const char* data, std::size_t length) noexcept override;
  std::map<std::string, std::string> files;

 private:
  bool fail(std::uint32_t code) noexcept {
    lastError_ = code;
    return false;
  }
  void* allocate(void* address, std::size_t size, std::uint32_t type, std::uint32_t protect, std::size_t alignment,
                 std::uint32_t node, std::size_t largePageSize) noexcept;
  Allocation* find(const void* address) noexcept;

  std::uint32_t lastError_ = 0;
  std::map<std::uintptr_t, Allocation> allocations_;  ///< by base
};

}  // namespace xmem::testing

#include "windows/fake_win_api.h"

#include <xmem/types.h>

#include <algorithm>
#include <cstring>

#if defined(_WIN32)
#include <windows.h>
#include <psapi.h>
#else
#include <sys/mman.h>
#endif

namespace xmem::testing {
namespace {

using namespace os::windows;

// The fake's pages come from the real OS: at `hint` exactly, or anywhere. Untouched, they cost
// no memory, so a fake 1 GiB allocation is cheap.
void* backingMemory(void* hint, std::size_t size) noexcept {
#if defined(_WIN32)
  return ::VirtualAlloc(hint, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
#else
  void* memory = ::mmap(hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return nullptr;
  if (hint != nullptr && memory != hint) {
    ::munmap(memory, size);
    return nullptr;
  }
  return memory;
#endif
}

// Whether the page at `address` is in memory now: the fake's working set is the real one.
bool residentNow(const void* address, std::size_t page) noexcept {
#if defined(_WIN32)
  static_cast<void>(page);
  PSAPI_WORKING_SET_EX_INFORMATION info{};
  info.VirtualAddress = const_cast<void*>(address);
  return ::QueryWorkingSetEx(::GetCurrentProcess(), &info, sizeof(info)) != 0 && info.VirtualAttributes.Valid != 0;
#else
  unsigned char state = 0;
  return ::mincore(const_cast<void*>(address), page, &state) == 0 && (state & 1U) != 0;
#endif
}

// Gives a page's memory back to the OS: it reads zero, and is not in memory until touched.
void dropPage(void* address, std::size_t page) noexcept {
#if defined(_WIN32)
  ::VirtualFree(address, page, MEM_DECOMMIT);
  ::VirtualAlloc(address, page, MEM_COMMIT, PAGE_READWRITE);
#else
  ::madvise(address, page, MADV_DONTNEED);
#endif
}

void releaseBacking(void* memory, std::size_t size) noexcept {
#if defined(_WIN32)
  static_cast<void>(size);
  ::VirtualFree(memory, 0, MEM_RELEASE);
#else
  ::munmap(memory, size);
#endif
}

template <typename T>
void append(std::vector<std::uint8_t>& bytes, T value) {
  const auto at = bytes.size();
  bytes.resize(at + sizeof(T));
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

void appendAffinity(std::vector<std::uint8_t>& bytes, std::uint16_t group, std::uint64_t mask) {
  append(bytes, mask);
  append(bytes, group);
  for (int i = 0; i < 3; ++i) append(bytes, std::uint16_t{0});
}

}  // namespace

FakeWinApi::FakeWinApi() = default;

FakeWinApi::~FakeWinApi() {
  for (auto& [base, allocation] : allocations_) releaseBacking(allocation.backing, allocation.backingSize);
}

void FakeWinApi::addNumaNode(std::uint32_t node, const std::vector<std::pair<std::uint16_t, std::uint64_t>>& masks,
                             bool groupCount0) {
  const std::size_t entries = std::max<std::size_t>(1, masks.size());
  append(numaRecords, kRelationNumaNode);
  append(numaRecords, static_cast<std::uint32_t>(8 + 24 + 16 * entries));
  append(numaRecords, node);
  for (int i = 0; i < 18; ++i) append(numaRecords, std::uint8_t{0});
  append(numaRecords, static_cast<std::uint16_t>(groupCount0 ? 0 : masks.size()));
  for (const auto& [group, mask] : masks) appendAffinity(numaRecords, group, mask);
  if (masks.empty()) appendAffinity(numaRecords, 0, 0);
}

void FakeWinApi::addCache(std::uint8_t level, std::uint32_t type, std::uint32_t bytes) {
  append(cacheRecords, kRelationCache);
  append(cacheRecords, std::uint32_t{8 + 32 + 16});
  append(cacheRecords, level);
  append(cacheRecords, std::uint8_t{8});
  append(cacheRecords, std::uint16_t{64});
  append(cacheRecords, bytes);
  append(cacheRecords, type);
  for (int i = 0; i < 18; ++i) append(cacheRecords, std::uint8_t{0});
  append(cacheRecords, std::uint16_t{1});
  appendAffinity(cacheRecords, 0, 0xff);
}

std::string FakeWinApi::formatMessage(std::uint32_t code) {
  return code == 1816 ? "Not enough quota is available to process this command.\r\n" : "";
}

FakeWinApi::Allocation* FakeWinApi::find(const void* address) noexcept {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  auto next = allocations_.upper_bound(at);
  if (next == allocations_.begin()) return nullptr;
  auto& allocation = std::prev(next)->second;
  return at < reinterpret_cast<std::uintptr_t>(allocation.base) + allocation.size ? &allocation : nullptr;
}

const FakeWinApi::Allocation* FakeWinApi::allocationAt(const void* address) const {
  return const_cast<FakeWinApi*>(this)->find(address);
}

void* FakeWinApi::allocate(void* address, std::size_t size, std::uint32_t type, std::uint32_t protect,
                           std::size_t alignment, std::uint32_t node, std::size_t largePageSize) noexcept {
  const std::size_t page = system.pageSize;
  if (size == 0) return fail(error::kInvalidParameter), nullptr;
  if (address != nullptr && (type & kMemReserve) == 0) {
    // Commit inside an existing allocation (the pages come back zeroed if they were decommitted).
    Allocation* allocation = find(address);
    if (allocation == nullptr || allocation->large) return fail(error::kInvalidAddress), nullptr;
    const std::size_t first = static_cast<std::size_t>(static_cast<std::uint8_t*>(address) - allocation->base) / page;
    const std::size_t count = (size + page - 1) / page;
    if (first + count > allocation->committed.size()) return fail(error::kInvalidAddress), nullptr;
    for (std::size_t i = first; i < first + count; ++i) allocation->committed[i] = true;  // zero: dropped when decommitted
    allocation->protect = protect;
    lastError_ = 0;
    return address;
  }
  if (largePageSize != 0) {
    if (token != TokenPrivilege::Enabled) return fail(error::kPrivilegeNotHeld), nullptr;
    if (auto it = largePageErrors.find(largePageSize); it != largePageErrors.end()) return fail(it->second), nullptr;
    if (size % largePageSize != 0 || (type & kMemCommit) == 0) return fail(error::kInvalidParameter), nullptr;
    alignment = std::max(alignment, largePageSize);
  }
  alignment = std::max(alignment, system.allocationGranularity);
  const std::size_t rounded = (size + page - 1) / page * page;
  Allocation allocation;
  allocation.backingSize = address != nullptr ? rounded : rounded + alignment;
  allocation.backing = backingMemory(address, allocation.backingSize);
  if (allocation.backing == nullptr) return fail(address != nullptr ? error::kInvalidAddress : error::kNotEnoughMemory), nullptr;
  const auto raw = reinterpret_cast<std::uintptr_t>(allocation.backing);
  allocation.base = reinterpret_cast<std::uint8_t*>((raw + alignment - 1) / alignment * alignment);
  if (address != nullptr && allocation.base != address) {
    releaseBacking(allocation.backing, allocation.backingSize);
    return fail(error::kInvalidAddress), nullptr;
  }
  allocation.size = rounded;
  allocation.large = largePageSize != 0;
  allocation.node = node;
  allocation.protect = protect;
  allocation.committed.assign(rounded / page, (type & kMemCommit) != 0);
  allocation.locked.assign(rounded / page, false);
  auto* base = allocation.base;
  allocations_[reinterpret_cast<std::uintptr_t>(base)] = std::move(allocation);
  lastError_ = 0;
  return base;
}

void* FakeWinApi::virtualAlloc(void* address, std::size_t size, std::uint32_t type, std::uint32_t protect,
                               std::uint32_t node) noexcept {
  allocCalls.push_back({false, type, protect, 0, node, 0});
  return allocate(address, size, type, protect, 0, node, (type & kMemLargePages) != 0 ? largePageMin : 0);
}

void* FakeWinApi::virtualAlloc2(std::size_t size, std::uint32_t type, std::uint32_t protect, std::size_t alignment,
                                std::uint32_t node, std::uint64_t attributeFlags) noexcept {
  allocCalls.push_back({true, type, protect, alignment, node, attributeFlags});
  if (!withVirtualAlloc2) return fail(error::kCallNotImplemented), nullptr;
  if (attributeFlags != 0 && attributesRejected) return fail(error::kInvalidParameter), nullptr;
  if (alignment != 0 && (alignment < system.allocationGranularity || (alignment & (alignment - 1)) != 0))
    return fail(error::kInvalidParameter), nullptr;
  std::size_t largePageSize = 0;
  if ((type & kMemLargePages) != 0) {
    largePageSize = (attributeFlags & kNonPagedHuge) != 0 ? GiB : largePageMin;
    if (largePageSize == GiB && !oneGbPages) return fail(error::kInvalidParameter), nullptr;
  }
  return allocate(nullptr, size, type, protect, alignment, node, largePageSize);
}

bool FakeWinApi::virtualFree(void* address, std::size_t size, std::uint32_t type) noexcept {
  freeTypes.push_back(type);
  Allocation* allocation = find(address);
  if (allocation == nullptr) return fail(error::kInvalidAddress);
  if (type == kMemRelease) {
    if (size != 0 || address != allocation->base) return fail(error::kInvalidParameter);
    for (std::size_t i = 0; i < allocation->locked.size(); ++i)
      if (allocation->locked[i]) lockedBytes -= system.pageSize;
    releaseBacking(allocation->backing, allocation->backingSize);
    allocations_.erase(reinterpret_cast<std::uintptr_t>(address));
    return true;
  }
  if (type != kMemDecommit || allocation->large) return fail(error::kInvalidParameter);
  const std::size_t page = system.pageSize;
  const std::size_t first = static_cast<std::size_t>(static_cast<std::uint8_t*>(address) - allocation->base) / page;
  const std::size_t count = (size + page - 1) / page;
  if (first + count > allocation->committed.size()) return fail(error::kInvalidAddress);
  for (std::size_t i = first; i < first + count; ++i) {
    if (allocation->locked[i]) lockedBytes -= page;
    allocation->committed[i] = false;
    allocation->locked[i] = false;
    dropPage(allocation->base + i * page, page);  // what a decommitted page held is gone
  }
  return true;
}

bool FakeWinApi::virtualProtect(void* address, std::size_t, std::uint32_t protect, std::uint32_t& old) noexcept {
  Allocation* allocation = find(address);
  if (allocation == nullptr) return fail(error::kInvalidAddress);
  old = allocation->protect;
  allocation->protect = protect;
  return true;
}

bool FakeWinApi::flushInstructionCache(const void*, std::size_t) noexcept {
  ++flushCalls;
  return true;
}

bool FakeWinApi::virtualLock(void* address, std::size_t size) noexcept {
  Allocation* allocation = find(address);
  if (allocation == nullptr) return fail(error::kInvalidAddress);
  if (allocation->large) return fail(error::kInvalidParameter);  // what this fake assumes of Windows
  if (allocation->protect == kPageNoAccess) return fail(error::kNoAccess);
  const std::size_t page = system.pageSize;
  const std::size_t first = static_cast<std::size_t>(static_cast<std::uint8_t*>(address) - allocation->base) / page;
  const std::size_t count = (size + page - 1) / page;
  std::size_t adding = 0;
  for (std::size_t i = first; i < first + count; ++i) {
    if (!allocation->committed[i]) return fail(error::kNoAccess);
    if (!allocation->locked[i]) adding += page;
  }
  if (lockedBytes + adding > workingSetMin) return fail(error::kWorkingSetQuota);
  for (std::size_t i = first; i < first + count; ++i) {
    allocation->locked[i] = true;
    // Locked pages are in memory: VirtualLock faults them in.
    auto* byte = allocation->base + i * page;
    *static_cast<volatile std::uint8_t*>(byte) = *static_cast<volatile std::uint8_t*>(byte);
  }
  lockedBytes += adding;
  return true;
}

bool FakeWinApi::virtualUnlock(void* address, std::size_t size) noexcept {
  Allocation* allocation = find(address);
  if (allocation == nullptr) return fail(error::kInvalidAddress);
  const std::size_t page = system.pageSize;
  const std::size_t first = static_cast<std::size_t>(static_cast<std::uint8_t*>(address) - allocation->base) / page;
  bool any = false;
  for (std::size_t i = first; i < first + (size + page - 1) / page && i < allocation->locked.size(); ++i) {
    if (allocation->locked[i]) lockedBytes -= page, any = true;
    allocation->locked[i] = false;
  }
  return any ? true : fail(error::kNotLocked);
}

bool FakeWinApi::virtualQuery(const void* address, MemoryRegion& out) noexcept {
  const std::size_t page = system.pageSize;
  const auto at = reinterpret_cast<std::uintptr_t>(address) / page * page;
  Allocation* allocation = find(address);
  if (allocation == nullptr) {
    auto next = allocations_.upper_bound(at);
    out = {reinterpret_cast<void*>(at), nullptr, next != allocations_.end() ? next->first - at : page, kMemFree, 0};
    return true;
  }
  std::size_t index = (at - reinterpret_cast<std::uintptr_t>(allocation->base)) / page;
  const bool committed = allocation->committed[index];
  std::size_t end = index;
  while (end < allocation->committed.size() && allocation->committed[end] == committed) ++end;
  out = {reinterpret_cast<void*>(at), allocation->base, (end - index) * page, committed ? kMemCommit : kMemReserve,
         committed ? allocation->protect : 0};
  return true;
}

bool FakeWinApi::queryWorkingSetEx(WorkingSetPage* pages, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    pages[i].attributes = 0;
    Allocation* allocation = find(pages[i].address);
    if (allocation == nullptr) continue;
    const std::size_t index = static_cast<std::size_t>(static_cast<const std::uint8_t*>(pages[i].address) - allocation->base) / system.pageSize;
    if (!allocation->committed[index]) continue;
    // Large pages are in memory from the start; base pages once touched.
    if (!allocation->large && !residentNow(allocation->base + index * system.pageSize, system.pageSize)) continue;
    const std::uint64_t node = allocation->node == kNoNode ? 0 : allocation->node;
    pages[i].attributes = 1U | (node << 16) | (std::uint64_t{allocation->locked[index]} << 22) |
                          (std::uint64_t{allocation->large} << 23);
  }
  return true;
}

bool FakeWinApi::workingSetSize(std::size_t& minimum, std::size_t& maximum, std::uint32_t& flags) noexcept {
  minimum = workingSetMin;
  maximum = workingSetMax;
  flags = kQuotaLimitsHardWsMinDisable | kQuotaLimitsHardWsMaxDisable;
  return true;
}

bool FakeWinApi::setWorkingSetSize(std::size_t minimum, std::size_t maximum, std::uint32_t) noexcept {
  if (workingSetGrowFails) return fail(1816);  // ERROR_NOT_ENOUGH_QUOTA
  workingSetMin = minimum;
  workingSetMax = maximum;
  return true;
}

std::uint32_t FakeWinApi::lockMemoryPrivilege(bool linked, TokenPrivilege& out) noexcept {
  if (tokenError != 0) return tokenError;
  out = linked ? linkedToken : token;
  return 0;
}

std::uint32_t FakeWinApi::elevation(Elevation& out) noexcept {
  out = elevationType;
  return 0;
}

std::uint32_t FakeWinApi::lockMemoryRightAssigned(bool& out) noexcept {
  if (policyError != 0) return policyError;
  out = rightAssigned;
  return 0;
}

std::uint32_t FakeWinApi::enableLockMemoryPrivilege() noexcept {
  ++enableCalls;
  if (token == TokenPrivilege::Absent) return error::kNotAllAssigned;  // AdjustTokenPrivileges "succeeded"
  token = TokenPrivilege::Enabled;
  return 0;
}

std::uint32_t FakeWinApi::logicalProcessorInformation(std::uint32_t relationship, std::vector<std::uint8_t>& out) {
  out = relationship == kRelationNumaNode ? numaRecords : cacheRecords;
  return out.empty() ? error::kCallNotImplemented : 0;
}

bool FakeWinApi::numaAvailableMemory(std::uint16_t node, std::uint64_t& bytes) noexcept {
  auto it = nodeFreeMemory.find(node);
  if (it == nodeFreeMemory.end()) return fail(error::kCallNotImplemented);
  bytes = it->second;
  return true;
}

void FakeWinApi::currentProcessor(std::uint16_t& group, std::uint8_t& number) noexcept {
  group = currentGroup;
  number = currentNumber;
}

bool FakeWinApi::processorNode(std::uint16_t, std::uint8_t, std::uint16_t& node) noexcept {
  if (!processorNodeWorks) return fail(error::kCallNotImplemented);
  node = processorNodeAnswer;
  return true;
}

bool FakeWinApi::setThreadGroupAffinity(std::uint16_t group, std::uint64_t mask) noexcept {
  affinityCalls.emplace_back(group, mask);
  return true;
}

bool FakeWinApi::setThreadIdealProcessor(std::uint16_t group, std::uint8_t number) noexcept {
  idealProcessorCalls.emplace_back(group, number);
  return true;
}

bool FakeWinApi::lockFile(const char*, std::intptr_t& handle) noexcept {
  handle = 0x1a4;
  return true;
}

bool FakeWinApi::replaceFile(const char* path, const char* data, std::size_t length) noexcept {
  files[path] = std::string(data, length);
  return true;
}

}  // namespace xmem::testing

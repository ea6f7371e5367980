// The Win32 calls the Windows platform makes, as an interface in portable types. The platform's
// logic (windows_platform.cpp) is plain C++ built on every OS, so unit tests drive it with a fake
// of this interface: every privilege state, every error code, several nodes and processor groups,
// which no test machine (and not Wine) can show. win32_api.cpp is the real one, built on Windows.
//
// Each call is one Win32 call or a fixed sequence of them (a token query, a buffer that is asked
// its size first); it decides nothing. Calls that fail return false / nullptr / a Win32 error
// code, and leave the code where lastError() finds it, as GetLastError() does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xmem::os::windows {

// Win32's own values (win32_api.cpp checks each against <windows.h>).
inline constexpr std::uint32_t kMemCommit = 0x1000;
inline constexpr std::uint32_t kMemReserve = 0x2000;
inline constexpr std::uint32_t kMemDecommit = 0x4000;
inline constexpr std::uint32_t kMemRelease = 0x8000;
inline constexpr std::uint32_t kMemFree = 0x10000;
inline constexpr std::uint32_t kMemLargePages = 0x20000000;
inline constexpr std::uint32_t kPageNoAccess = 0x01;
inline constexpr std::uint32_t kPageReadOnly = 0x02;
inline constexpr std::uint32_t kPageReadWrite = 0x04;
inline constexpr std::uint32_t kPageExecuteRead = 0x20;
inline constexpr std::uint32_t kPageExecuteReadWrite = 0x40;
/// VirtualAlloc2's MemExtendedParameterAttributeFlags: which large page size to use.
inline constexpr std::uint64_t kNonPagedLarge = 0x08;  ///< MEM_EXTENDED_PARAMETER_NONPAGED_LARGE: 2 MiB
inline constexpr std::uint64_t kNonPagedHuge = 0x10;   ///< MEM_EXTENDED_PARAMETER_NONPAGED_HUGE: 1 GiB
inline constexpr std::uint32_t kNoNode = 0xffffffffU;  ///< NUMA_NO_PREFERRED_NODE
/// GetLogicalProcessorInformationEx's relationships.
inline constexpr std::uint32_t kRelationCache = 2;
inline constexpr std::uint32_t kRelationNumaNode = 1;
/// Every group of a node (Windows 11 / Server 2022); RelationNumaNode gives only its primary one there.
inline constexpr std::uint32_t kRelationNumaNodeEx = 6;
/// SetProcessWorkingSetSizeEx: the minimum is not a hard floor, the maximum not a hard ceiling.
inline constexpr std::uint32_t kQuotaLimitsHardWsMinDisable = 0x2;
inline constexpr std::uint32_t kQuotaLimitsHardWsMaxDisable = 0x8;

// The Win32 error codes xmem names (GetLastError()).
namespace error {
inline constexpr std::uint32_t kSuccess = 0;
inline constexpr std::uint32_t kFileNotFound = 2;
inline constexpr std::uint32_t kPathNotFound = 3;
inline constexpr std::uint32_t kAccessDenied = 5;
inline constexpr std::uint32_t kInvalidHandle = 6;
inline constexpr std::uint32_t kNotEnoughMemory = 8;
inline constexpr std::uint32_t kOutOfMemory = 14;
inline constexpr std::uint32_t kSharingViolation = 32;
inline constexpr std::uint32_t kLockViolation = 33;
inline constexpr std::uint32_t kNotSupported = 50;
inline constexpr std::uint32_t kInvalidParameter = 87;
inline constexpr std::uint32_t kCallNotImplemented = 120;
inline constexpr std::uint32_t kNotLocked = 158;
inline constexpr std::uint32_t kInvalidAddress = 487;
inline constexpr std::uint32_t kNoAccess = 998;
inline constexpr std::uint32_t kNotAllAssigned = 1300;
inline constexpr std::uint32_t kPrivilegeNotHeld = 1314;
inline constexpr std::uint32_t kNoSystemResources = 1450;
inline constexpr std::uint32_t kWorkingSetQuota = 1453;
inline constexpr std::uint32_t kCommitmentLimit = 1455;
}  // namespace error

/// VirtualQuery's MEMORY_BASIC_INFORMATION.
struct MemoryRegion {
  void* base = nullptr;
  void* allocationBase = nullptr;
  std::size_t size = 0;
  std::uint32_t state = 0;    ///< kMemCommit, kMemReserve or kMemFree
  std::uint32_t protect = 0;
};

/// One page of QueryWorkingSetEx: its address in, PSAPI_WORKING_SET_EX_BLOCK's bits out.
struct WorkingSetPage {
  const void* address = nullptr;
  std::uint64_t attributes = 0;

  bool valid() const noexcept { return (attributes & 1U) != 0; }  ///< in the working set (resident)
  std::uint32_t node() const noexcept { return static_cast<std::uint32_t>((attributes >> 16) & 0x3fU); }
  bool locked() const noexcept { return ((attributes >> 22) & 1U) != 0; }
  bool largePage() const noexcept { return ((attributes >> 23) & 1U) != 0; }
};

/// Whether a token holds SeLockMemoryPrivilege ("Lock pages in memory"), and if it is enabled.
enum class TokenPrivilege : std::uint8_t { Absent, Disabled, Enabled };
/// TOKEN_ELEVATION_TYPE: Default (no UAC split), Full (elevated), Limited (filtered admin token).
enum class Elevation : std::uint8_t { Default = 1, Full = 2, Limited = 3 };

struct SystemFacts {
  std::size_t pageSize = 4096;
  std::size_t allocationGranularity = 65536;
  std::uint64_t memoryTotal = 0;
  std::uint64_t memoryAvailable = 0;
  std::string version;  ///< "Windows 10.0.19045"
};

class WinApi {
 public:
  virtual ~WinApi() = default;

  virtual std::uint32_t lastError() noexcept = 0;
  /// FormatMessage's text for a system error code, "" when it has none.
  virtual std::string formatMessage(std::uint32_t code) = 0;

  // The system
  virtual SystemFacts systemFacts() noexcept = 0;
  virtual std::size_t largePageMinimum() noexcept = 0;  ///< GetLargePageMinimum: 0 when unsupported
  virtual bool hasVirtualAlloc2() noexcept = 0;          ///< kernelbase exports it (Windows 10 1803+)
  virtual bool cpuHasOneGbPages() noexcept = 0;          ///< CPUID's pdpe1gb (not a Win32 call: x86's)
  virtual std::string computerName() = 0;
  virtual std::uint32_t currentProcessId() noexcept = 0;  ///< GetCurrentProcessId
  /// OpenProcess(SYNCHRONIZE) and a zero wait: true while it runs (and when access is denied).
  virtual bool processAlive(std::uint32_t pid) noexcept = 0;
  /// %LOCALAPPDATA% (or "" when unset).
  virtual std::string localAppData() = 0;

  // Memory
  /// VirtualAlloc, or VirtualAllocExNuma on the current process when `node` is not kNoNode.
  virtual void* virtualAlloc(void* address, std::size_t size, std::uint32_t type, std::uint32_t protect,
                             std::uint32_t node) noexcept = 0;
  /// VirtualAlloc2 with an alignment (0: none), a preferred node (kNoNode: none) and attribute
  /// flags (kNonPagedLarge / kNonPagedHuge; 0: none). Only when hasVirtualAlloc2().
  virtual void* virtualAlloc2(std::size_t size, std::uint32_t type, std::uint32_t protect, std::size_t alignment,
                              std::uint32_t node, std::uint64_t attributeFlags) noexcept = 0;
  virtual bool virtualFree(void* address, std::size_t size, std::uint32_t type) noexcept = 0;
  virtual bool virtualProtect(void* address, std::size_t size, std::uint32_t protect, std::uint32_t& old) noexcept = 0;
  virtual bool flushInstructionCache(const void* address, std::size_t size) noexcept = 0;
  virtual bool virtualLock(void* address, std::size_t size) noexcept = 0;
  virtual bool virtualUnlock(void* address, std::size_t size) noexcept = 0;
  /// VirtualQuery: false when `address` is beyond the user address space.
  virtual bool virtualQuery(const void* address, MemoryRegion& out) noexcept = 0;
  virtual bool queryWorkingSetEx(WorkingSetPage* pages, std::size_t count) noexcept = 0;
  virtual bool workingSetSize(std::size_t& minimum, std::size_t& maximum, std::uint32_t& flags) noexcept = 0;
  virtual bool setWorkingSetSize(std::size_t minimum, std::size_t maximum, std::uint32_t flags) noexcept = 0;

  // "Lock pages in memory" (SeLockMemoryPrivilege). Each returns a Win32 error code, 0 on success.
  /// In the process's token, or (linked) in the elevated token a filtered admin token is linked to.
  virtual std::uint32_t lockMemoryPrivilege(bool linkedToken, TokenPrivilege& out) noexcept = 0;
  virtual std::uint32_t elevation(Elevation& out) noexcept = 0;
  /// Whether local policy assigns the right to this account or to one of its groups (LSA).
  virtual std::uint32_t lockMemoryRightAssigned(bool& out) noexcept = 0;
  /// AdjustTokenPrivileges to enable it: GetLastError() after the call, which is
  /// ERROR_NOT_ALL_ASSIGNED (1300) though the call "succeeded" when the token lacks it.
  virtual std::uint32_t enableLockMemoryPrivilege() noexcept = 0;
  /// "DOMAIN\user" of the process's token ("" when unknown).
  virtual std::string accountName() = 0;

  // Processors and nodes
  /// GetLogicalProcessorInformationEx's records for `relationship`, as the bytes it returns
  /// (kRelationNumaNode: RelationNumaNodeEx where this Windows has it).
  virtual std::uint32_t logicalProcessorInformation(std::uint32_t relationship, std::vector<std::uint8_t>& out) = 0;
  /// GetActiveProcessorCount of each processor group.
  virtual std::vector<std::uint32_t> groupProcessorCounts() = 0;
  virtual bool numaAvailableMemory(std::uint16_t node, std::uint64_t& bytes) noexcept = 0;
  /// GetCurrentProcessorNumberEx.
  virtual void currentProcessor(std::uint16_t& group, std::uint8_t& number) noexcept = 0;
  /// GetNumaProcessorNodeEx.
  virtual bool processorNode(std::uint16_t group, std::uint8_t number, std::uint16_t& node) noexcept = 0;
  virtual bool setThreadGroupAffinity(std::uint16_t group, std::uint64_t mask) noexcept = 0;
  virtual bool setThreadIdealProcessor(std::uint16_t group, std::uint8_t number) noexcept = 0;

  // Files
  /// CreateFile (opened always) and LockFileEx (exclusive, waiting): the handle as an integer.
  virtual bool lockFile(const char* path, std::intptr_t& handle) noexcept = 0;
  virtual bool unlockFile(std::intptr_t handle) noexcept = 0;
  /// Writes `path`.tmp, flushes it, and moves it over `path` (MoveFileEx, replacing, write-through).
  virtual bool replaceFile(const char* path, const char* data, std::size_t length) noexcept = 0;
};

#if defined(_WIN32)
/// The real calls (win32_api.cpp).
WinApi& win32Api() noexcept;
#endif

}  // namespace xmem::os::windows

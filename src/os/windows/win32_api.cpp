// The real WinApi: each function is the Win32 call (or fixed sequence) win_api.h names, and
// windowsPlatform(), the platform of a Windows process. Built on Windows only (mingw-w64 here).
#include "os/windows/win_api.h"
#include "os/windows/windows_platform.h"

#include <windows.h>
#include <ntsecapi.h>
#include <psapi.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace xmem::os {
namespace windows {
namespace {

// win_api.h's copies of Win32's values are Win32's.
static_assert(kMemCommit == MEM_COMMIT && kMemReserve == MEM_RESERVE && kMemDecommit == MEM_DECOMMIT &&
              kMemRelease == MEM_RELEASE && kMemFree == MEM_FREE && kMemLargePages == MEM_LARGE_PAGES);
static_assert(kPageNoAccess == PAGE_NOACCESS && kPageReadOnly == PAGE_READONLY && kPageReadWrite == PAGE_READWRITE &&
              kPageExecuteRead == PAGE_EXECUTE_READ && kPageExecuteReadWrite == PAGE_EXECUTE_READWRITE);
static_assert(kRelationNumaNode == RelationNumaNode && kRelationCache == RelationCache);
static_assert(kQuotaLimitsHardWsMinDisable == QUOTA_LIMITS_HARDWS_MIN_DISABLE &&
              kQuotaLimitsHardWsMaxDisable == QUOTA_LIMITS_HARDWS_MAX_DISABLE);
static_assert(error::kPrivilegeNotHeld == ERROR_PRIVILEGE_NOT_HELD && error::kNotAllAssigned == ERROR_NOT_ALL_ASSIGNED &&
              error::kNoSystemResources == ERROR_NO_SYSTEM_RESOURCES && error::kCommitmentLimit == ERROR_COMMITMENT_LIMIT &&
              error::kWorkingSetQuota == ERROR_WORKING_SET_QUOTA && error::kInvalidParameter == ERROR_INVALID_PARAMETER &&
              error::kNotLocked == ERROR_NOT_LOCKED && error::kInvalidAddress == ERROR_INVALID_ADDRESS);
static_assert(sizeof(PSAPI_WORKING_SET_EX_BLOCK) == sizeof(std::uint64_t), "one 64-bit word of flags per page");
// The offsets windows_platform.cpp reads GetLogicalProcessorInformationEx's records at.
static_assert(offsetof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX, NumaNode) == 8 && sizeof(GROUP_AFFINITY) == 16);
static_assert(offsetof(NUMA_NODE_RELATIONSHIP, NodeNumber) == 0 && offsetof(NUMA_NODE_RELATIONSHIP, GroupMask) == 24);
static_assert(offsetof(CACHE_RELATIONSHIP, CacheSize) == 4 && offsetof(CACHE_RELATIONSHIP, Type) == 8);

// VirtualAlloc2 (kernelbase, Windows 10 1803+): declared by mingw-w64, exported by no import
// library it ships, so looked up at run time.
using VirtualAlloc2Function = PVOID(WINAPI*)(HANDLE, PVOID, SIZE_T, ULONG, ULONG, MEM_EXTENDED_PARAMETER*, ULONG);
constexpr DWORD64 kAttributeFlagsType = 5;  // MemExtendedParameterAttributeFlags (newer SDKs than mingw's)

VirtualAlloc2Function virtualAlloc2Function() noexcept {
  static const auto function = [] {
    HMODULE kernelbase = ::GetModuleHandleW(L"kernelbase.dll");
    return kernelbase != nullptr
               ? reinterpret_cast<VirtualAlloc2Function>(reinterpret_cast<void*>(::GetProcAddress(kernelbase, "VirtualAlloc2")))
               : nullptr;
  }();
  return function;
}

struct HandleCloser {
  void operator()(HANDLE handle) const noexcept { ::CloseHandle(handle); }
};
using UniqueHandle = std::unique_ptr<void, HandleCloser>;

// A token's information of one class, asked for its size first.
std::unique_ptr<std::uint8_t[]> tokenInformation(HANDLE token, TOKEN_INFORMATION_CLASS what, DWORD& error) noexcept {
  DWORD size = 0;
  ::GetTokenInformation(token, what, nullptr, 0, &size);
  if (size == 0) {
    error = ::GetLastError();
    return nullptr;
  }
  std::unique_ptr<std::uint8_t[]> buffer(new (std::nothrow) std::uint8_t[size]);
  if (!buffer) {
    error = ERROR_NOT_ENOUGH_MEMORY;
    return nullptr;
  }
  if (!::GetTokenInformation(token, what, buffer.get(), size, &size)) {
    error = ::GetLastError();
    return nullptr;
  }
  error = 0;
  return buffer;
}

UniqueHandle processToken(DWORD access, DWORD& error) noexcept {
  HANDLE token = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), access, &token)) {
    error = ::GetLastError();
    return nullptr;
  }
  error = 0;
  return UniqueHandle(token);
}

bool lockMemoryLuid(LUID& luid) noexcept { return ::LookupPrivilegeValueW(nullptr, L"SeLockMemoryPrivilege", &luid) != 0; }

// Whether local policy lists the right for this SID: 0 and `found`, or the error that kept it from saying.
constexpr NTSTATUS kStatusObjectNameNotFound = static_cast<NTSTATUS>(0xC0000034L);  // no rights listed
DWORD sidHoldsRight(LSA_HANDLE policy, PSID sid, bool& found) noexcept {
  PLSA_UNICODE_STRING rights = nullptr;
  ULONG count = 0;
  found = false;
  if (const NTSTATUS status = ::LsaEnumerateAccountRights(policy, sid, &rights, &count); status != 0)
    return status == kStatusObjectNameNotFound ? 0 : ::LsaNtStatusToWinError(status);
  for (ULONG i = 0; i < count && !found; ++i)
    found = rights[i].Length == 21 * sizeof(WCHAR) && std::wstring_view(rights[i].Buffer, 21) == L"SeLockMemoryPrivilege";
  ::LsaFreeMemory(rights);
  return 0;
}

class Win32Api final : public WinApi {
 public:
  std::uint32_t lastError() noexcept override { return ::GetLastError(); }

  std::string formatMessage(std::uint32_t code) override {
    char* text = nullptr;
    const DWORD length = ::FormatMessageA(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code,
        0, reinterpret_cast<char*>(&text), 0, nullptr);
    std::string message = length != 0 && text != nullptr ? std::string(text, length) : "";
    if (text != nullptr) ::LocalFree(text);
    return message;
  }

  SystemFacts systemFacts() noexcept override {
    SystemFacts facts;
    SYSTEM_INFO system{};
    ::GetSystemInfo(&system);
    facts.pageSize = system.dwPageSize;
    facts.allocationGranularity = system.dwAllocationGranularity;
    MEMORYSTATUSEX memory{};
    memory.dwLength = sizeof(memory);
    if (::GlobalMemoryStatusEx(&memory)) {
      facts.memoryTotal = memory.ullTotalPhys;
      facts.memoryAvailable = memory.ullAvailPhys;
    }
    // GetVersionEx lies to programs without a manifest; ntdll's RtlGetVersion does not.
    using RtlGetVersionFunction = LONG(WINAPI*)(OSVERSIONINFOW*);
    OSVERSIONINFOW version{};
    version.dwOSVersionInfoSize = sizeof(version);
    HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
    auto getVersion = ntdll != nullptr ? reinterpret_cast<RtlGetVersionFunction>(
                                             reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlGetVersion")))
                                       : nullptr;
    try {
      if (getVersion != nullptr && getVersion(&version) == 0)
        facts.version = "Windows " + std::to_string(version.dwMajorVersion) + "." +
                        std::to_string(version.dwMinorVersion) + "." + std::to_string(version.dwBuildNumber);
      if (ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr) facts.version += " (Wine)";
    } catch (...) {
      facts.version.clear();
    }
    return facts;
  }

  std::size_t largePageMinimum() noexcept override { return ::GetLargePageMinimum(); }
  bool hasVirtualAlloc2() noexcept override { return virtualAlloc2Function() != nullptr; }

  bool cpuHasOneGbPages() noexcept override {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(0x80000001U, &eax, &ebx, &ecx, &edx) != 0 && (edx & (1U << 26)) != 0;  // pdpe1gb
#else
    return false;
#endif
  }

  std::string computerName() override {
    char name[MAX_COMPUTERNAME_LENGTH + 1] = {};
    DWORD size = sizeof(name);
    return ::GetComputerNameA(name, &size) ? std::string(name, size) : "";
  }

  std::uint32_t currentProcessId() noexcept override { return ::GetCurrentProcessId(); }

  bool processAlive(std::uint32_t pid) noexcept override {
    HANDLE process = ::OpenProcess(SYNCHRONIZE, FALSE, pid);
    if (process == nullptr) return ::GetLastError() == ERROR_ACCESS_DENIED;
    const bool running = ::WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
    ::CloseHandle(process);
    return running;
  }

  std::string localAppData() override {
    const char* value = std::getenv("LOCALAPPDATA");
    return value != nullptr ? value : "";
  }

  void* virtualAlloc(void* address, std::size_t size, std::uint32_t type, std::uint32_t protect,
                     std::uint32_t node) noexcept override {
    if (node == kNoNode) return ::VirtualAlloc(address, size, type, protect);
    return ::VirtualAllocExNuma(::GetCurrentProcess(), address, size, type, protect, node);
  }

  void* virtualAlloc2(std::size_t size, std::uint32_t type, std::uint32_t protect, std::size_t alignment,
                      std::uint32_t node, std::uint64_t attributeFlags) noexcept override {
    auto function = virtualAlloc2Function();
    if (function == nullptr) {
      ::SetLastError(ERROR_CALL_NOT_IMPLEMENTED);
      return nullptr;
    }
    MEM_ADDRESS_REQUIREMENTS requirements{};
    requirements.Alignment = alignment;
    MEM_EXTENDED_PARAMETER parameters[3] = {};
    ULONG count = 0;
    if (alignment != 0) {
      parameters[count].Type = MemExtendedParameterAddressRequirements;
      parameters[count].Pointer = &requirements;
      ++count;
    }
    if (node != kNoNode) {
      parameters[count].Type = MemExtendedParameterNumaNode;
      parameters[count].ULong = node;
      ++count;
    }
    if (attributeFlags != 0) {
      parameters[count].Type = kAttributeFlagsType;
      parameters[count].ULong64 = attributeFlags;
      ++count;
    }
    return function(::GetCurrentProcess(), nullptr, size, type, protect, count != 0 ? parameters : nullptr, count);
  }

  bool virtualFree(void* address, std::size_t size, std::uint32_t type) noexcept override {
    return ::VirtualFree(address, size, type) != 0;
  }

  bool virtualProtect(void* address, std::size_t size, std::uint32_t protect, std::uint32_t& old) noexcept override {
    DWORD previous = 0;
    const bool ok = ::VirtualProtect(address, size, protect, &previous) != 0;
    old = previous;
    return ok;
  }

  bool flushInstructionCache(const void* address, std::size_t size) noexcept override {
    return ::FlushInstructionCache(::GetCurrentProcess(), address, size) != 0;
  }

  bool virtualLock(void* address, std::size_t size) noexcept override { return ::VirtualLock(address, size) != 0; }
  bool virtualUnlock(void* address, std::size_t size) noexcept override { return ::VirtualUnlock(address, size) != 0; }

  bool virtualQuery(const void* address, MemoryRegion& out) noexcept override {
    MEMORY_BASIC_INFORMATION info{};
    if (::VirtualQuery(address, &info, sizeof(info)) == 0) return false;
    out = {info.BaseAddress, info.AllocationBase, info.RegionSize, info.State, info.Protect};
    return true;
  }

  bool queryWorkingSetEx(WorkingSetPage* pages, std::size_t count) noexcept override {
    // PSAPI_WORKING_SET_EX_INFORMATION is {VirtualAddress, VirtualAttributes}: WorkingSetPage's shape.
    static_assert(sizeof(PSAPI_WORKING_SET_EX_INFORMATION) == sizeof(WorkingSetPage));
    return ::QueryWorkingSetEx(::GetCurrentProcess(), pages, static_cast<DWORD>(count * sizeof(WorkingSetPage))) != 0;
  }

  bool workingSetSize(std::size_t& minimum, std::size_t& maximum, std::uint32_t& flags) noexcept override {
    SIZE_T low = 0;
    SIZE_T high = 0;
    DWORD bits = 0;
    if (!::GetProcessWorkingSetSizeEx(::GetCurrentProcess(), &low, &high, &bits)) return false;
    minimum = low;
    maximum = high;
    flags = bits;
    return true;
  }

  bool setWorkingSetSize(std::size_t minimum, std::size_t maximum, std::uint32_t flags) noexcept override {
    return ::SetProcessWorkingSetSizeEx(::GetCurrentProcess(), minimum, maximum, flags) != 0;
  }

  std::uint32_t lockMemoryPrivilege(bool linkedToken, TokenPrivilege& out) noexcept override {
    DWORD error = 0;
    auto token = processToken(TOKEN_QUERY, error);
    if (!token) return error;
    UniqueHandle linked;
    if (linkedToken) {
      auto buffer = tokenInformation(token.get(), TokenLinkedToken, error);
      if (!buffer) return error;
      linked.reset(reinterpret_cast<TOKEN_LINKED_TOKEN*>(buffer.get())->LinkedToken);
    }
    LUID luid{};
    if (!lockMemoryLuid(luid)) return ::GetLastError();
    auto buffer = tokenInformation(linkedToken ? linked.get() : token.get(), TokenPrivileges, error);
    if (!buffer) return error;
    const auto* privileges = reinterpret_cast<const TOKEN_PRIVILEGES*>(buffer.get());
    out = TokenPrivilege::Absent;
    for (DWORD i = 0; i < privileges->PrivilegeCount; ++i) {
      const auto& entry = privileges->Privileges[i];
      if (entry.Luid.LowPart != luid.LowPart || entry.Luid.HighPart != luid.HighPart) continue;
      out = (entry.Attributes & SE_PRIVILEGE_ENABLED) != 0 ? TokenPrivilege::Enabled : TokenPrivilege::Disabled;
    }
    return 0;
  }

  std::uint32_t elevation(Elevation& out) noexcept override {
    DWORD error = 0;
    auto token = processToken(TOKEN_QUERY, error);
    if (!token) return error;
    TOKEN_ELEVATION_TYPE type = TokenElevationTypeDefault;
    DWORD size = 0;
    if (!::GetTokenInformation(token.get(), TokenElevationType, &type, sizeof(type), &size)) return ::GetLastError();
    out = static_cast<Elevation>(type);
    return 0;
  }

  std::uint32_t lockMemoryRightAssigned(bool& out) noexcept override {
    DWORD error = 0;
    auto token = processToken(TOKEN_QUERY, error);
    if (!token) return error;
    auto user = tokenInformation(token.get(), TokenUser, error);
    if (!user) return error;
    auto groups = tokenInformation(token.get(), TokenGroups, error);
    LSA_OBJECT_ATTRIBUTES attributes{};
    LSA_HANDLE policy = nullptr;
    if (const NTSTATUS status = ::LsaOpenPolicy(nullptr, &attributes, POLICY_LOOKUP_NAMES, &policy); status != 0)
      return ::LsaNtStatusToWinError(status);
    // The right may be the account's own or one of its groups' (not a deny-only group's).
    DWORD failure = sidHoldsRight(policy, reinterpret_cast<TOKEN_USER*>(user.get())->User.Sid, out);
    if (groups) {
      const auto* list = reinterpret_cast<const TOKEN_GROUPS*>(groups.get());
      for (DWORD i = 0; i < list->GroupCount && !out && failure == 0; ++i)
        if ((list->Groups[i].Attributes & SE_GROUP_USE_FOR_DENY_ONLY) == 0)
          failure = sidHoldsRight(policy, list->Groups[i].Sid, out);
    }
    ::LsaClose(policy);
    return failure;
  }

  std::uint32_t enableLockMemoryPrivilege() noexcept override {
    DWORD error = 0;
    auto token = processToken(TOKEN_QUERY | TOKEN_ADJUST_PRIVILEGES, error);
    if (!token) return error;
    TOKEN_PRIVILEGES privileges{};
    privileges.PrivilegeCount = 1;
    privileges.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    if (!lockMemoryLuid(privileges.Privileges[0].Luid)) return ::GetLastError();
    if (!::AdjustTokenPrivileges(token.get(), FALSE, &privileges, 0, nullptr, nullptr)) return ::GetLastError();
    return ::GetLastError();  // ERROR_NOT_ALL_ASSIGNED when the token lacks it, though the call succeeded
  }

  std::string accountName() override {
    DWORD error = 0;
    auto token = processToken(TOKEN_QUERY, error);
    if (!token) return "";
    auto user = tokenInformation(token.get(), TokenUser, error);
    if (!user) return "";
    char name[256] = {};
    char domain[256] = {};
    DWORD nameSize = sizeof(name);
    DWORD domainSize = sizeof(domain);
    SID_NAME_USE use{};
    if (!::LookupAccountSidA(nullptr, reinterpret_cast<TOKEN_USER*>(user.get())->User.Sid, name, &nameSize, domain,
                             &domainSize, &use))
      return "";
    return domainSize != 0 ? std::string(domain) + "\\" + name : std::string(name);
  }

  std::uint32_t logicalProcessorInformation(std::uint32_t relationship, std::vector<std::uint8_t>& out) override {
    // Nodes with all their groups where Windows knows RelationNumaNodeEx (older ones: 87).
    if (relationship == kRelationNumaNode && records(kRelationNumaNodeEx, out) == 0) return 0;
    return records(relationship, out);
  }

  std::uint32_t records(std::uint32_t relationship, std::vector<std::uint8_t>& out) {
    DWORD size = 0;
    const auto kind = static_cast<LOGICAL_PROCESSOR_RELATIONSHIP>(relationship);
    ::GetLogicalProcessorInformationEx(kind, nullptr, &size);
    if (size == 0) return ::GetLastError();
    out.assign(size, 0);
    if (!::GetLogicalProcessorInformationEx(kind, reinterpret_cast<SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(out.data()),
                                            &size))
      return ::GetLastError();
    out.resize(size);
    return 0;
  }

  std::vector<std::uint32_t> groupProcessorCounts() override {
    std::vector<std::uint32_t> counts;
    const WORD groups = ::GetActiveProcessorGroupCount();
    for (WORD group = 0; group < groups; ++group) counts.push_back(::GetActiveProcessorCount(group));
    return counts;
  }

  bool numaAvailableMemory(std::uint16_t node, std::uint64_t& bytes) noexcept override {
    ULONGLONG available = 0;
    if (!::GetNumaAvailableMemoryNodeEx(node, &available)) return false;
    bytes = available;
    return true;
  }

  void currentProcessor(std::uint16_t& group, std::uint8_t& number) noexcept override {
    PROCESSOR_NUMBER processor{};
    ::GetCurrentProcessorNumberEx(&processor);
    group = processor.Group;
    number = processor.Number;
  }

  bool processorNode(std::uint16_t group, std::uint8_t number, std::uint16_t& node) noexcept override {
    PROCESSOR_NUMBER processor{};
    processor.Group = group;
    processor.Number = number;
    USHORT answer = 0;
    if (!::GetNumaProcessorNodeEx(&processor, &answer) || answer == 0xffff) return false;
    node = answer;
    return true;
  }

  bool setThreadGroupAffinity(std::uint16_t group, std::uint64_t mask) noexcept override {
    GROUP_AFFINITY affinity{};
    affinity.Group = group;
    affinity.Mask = static_cast<KAFFINITY>(mask);
    return ::SetThreadGroupAffinity(::GetCurrentThread(), &affinity, nullptr) != 0;
  }

  bool setThreadIdealProcessor(std::uint16_t group, std::uint8_t number) noexcept override {
    PROCESSOR_NUMBER processor{};
    processor.Group = group;
    processor.Number = number;
    return ::SetThreadIdealProcessorEx(::GetCurrentThread(), &processor, nullptr) != 0;
  }

  bool lockFile(const char* path, std::intptr_t& handle) noexcept override {
    HANDLE file = ::CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) return false;
    OVERLAPPED at{};
    if (!::LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK, 0, MAXDWORD, MAXDWORD, &at)) {
      const DWORD error = ::GetLastError();
      ::CloseHandle(file);
      ::SetLastError(error);
      return false;
    }
    handle = reinterpret_cast<std::intptr_t>(file);
    return true;
  }

  bool unlockFile(std::intptr_t handle) noexcept override {
    HANDLE file = reinterpret_cast<HANDLE>(handle);
    OVERLAPPED at{};
    ::UnlockFileEx(file, 0, MAXDWORD, MAXDWORD, &at);
    return ::CloseHandle(file) != 0;
  }

  bool replaceFile(const char* path, const char* data, std::size_t length) noexcept override {
    std::string temporary;
    try {
      temporary = std::string(path) + ".tmp";
    } catch (...) {
      ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
      return false;
    }
    HANDLE file = ::CreateFileA(temporary.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) return false;
    DWORD written = 0;
    const bool wrote = ::WriteFile(file, data, static_cast<DWORD>(length), &written, nullptr) != 0;
    const bool ok = wrote && written == length && ::FlushFileBuffers(file);
    const DWORD error = ok ? 0 : wrote && written != length ? static_cast<DWORD>(ERROR_WRITE_FAULT) : ::GetLastError();
    ::CloseHandle(file);
    if (!ok) {
      ::DeleteFileA(temporary.c_str());
      ::SetLastError(error);
      return false;
    }
    if (::MoveFileExA(temporary.c_str(), path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) return true;
    const DWORD moveError = ::GetLastError();
    ::DeleteFileA(temporary.c_str());
    ::SetLastError(moveError);
    return false;
  }
};

}  // namespace

WinApi& win32Api() noexcept {
  static auto* api = new Win32Api;
  return *api;
}

}  // namespace windows

// Never destroyed (as the Linux platform): destructors that run at exit may still unmap.
Platform& windowsPlatform() noexcept {
  static auto* platform = new WindowsPlatform(windows::win32Api());
  return *platform;
}

// Windows has no fork(): no child can inherit a held lock.
bool atFork(void (*)(), void (*)(), void (*)()) noexcept { return false; }

}  // namespace xmem::os

// The Windows platform (see windows_platform.h). Portable C++ over WinApi: no Windows header here.
#include "os/windows/windows_platform.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <new>
#include <string>

namespace xmem::os {
namespace {

using windows::MemoryRegion;
using windows::WorkingSetPage;
namespace error = windows::error;

constexpr std::size_t kGiB = std::size_t{1} << 30;
constexpr Status kUnsupported{Status::Kind::Unsupported, static_cast<int>(error::kNotSupported)};
constexpr Status kInvalid{Status::Kind::Invalid, static_cast<int>(error::kInvalidParameter)};

std::uint32_t protectionOf(Protection protection) noexcept {
  switch (protection) {
    case Protection::None: return windows::kPageNoAccess;
    case Protection::Read: return windows::kPageReadOnly;
    case Protection::ReadWrite: return windows::kPageReadWrite;
    case Protection::ReadExecute: return windows::kPageExecuteRead;
    case Protection::ReadWriteExecute: return windows::kPageExecuteReadWrite;
  }
  return windows::kPageNoAccess;
}

bool writable(std::uint32_t protect) noexcept {
  return (protect & (windows::kPageReadWrite | windows::kPageExecuteReadWrite)) != 0;
}

template <typename T>
T readAt(const std::vector<std::uint8_t>& bytes, std::size_t offset) noexcept {
  T value{};
  if (offset + sizeof(T) <= bytes.size()) std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX: Relationship and Size, then the relationship's record.
constexpr std::size_t kRecordBody = 8;
constexpr std::size_t kGroupAffinitySize = 16;  // GROUP_AFFINITY: KAFFINITY Mask, WORD Group, WORD Reserved[3]

// Calls `visit(offset of the record's body)` for each record of `relationship`.
template <typename Visit>
void forEachRecord(const std::vector<std::uint8_t>& records, std::uint32_t relationship, Visit&& visit) {
  for (std::size_t offset = 0; offset + kRecordBody <= records.size();) {
    const auto size = readAt<std::uint32_t>(records, offset + 4);
    if (size < kRecordBody || offset + size > records.size()) return;  // a broken buffer: stop, do not guess
    if (readAt<std::uint32_t>(records, offset) == relationship) visit(offset + kRecordBody, offset + size);
    offset += size;
  }
}

// The CPUs of `count` GROUP_AFFINITY entries at `offset` (within `end`), numbered flat.
void appendCpus(const std::vector<std::uint8_t>& records, std::size_t offset, std::size_t end, std::uint16_t count,
                const std::vector<std::uint32_t>& groupFirstCpu, std::vector<std::uint32_t>& cpus) {
  for (std::uint16_t i = 0; i < count && offset + (i + 1U) * kGroupAffinitySize <= end; ++i) {
    const std::size_t entry = offset + i * kGroupAffinitySize;
    const auto mask = readAt<std::uint64_t>(records, entry);
    const auto group = readAt<std::uint16_t>(records, entry + 8);
    if (group >= groupFirstCpu.size()) continue;
    for (std::uint32_t bit = 0; bit < 64; ++bit)
      if (((mask >> bit) & 1U) != 0) cpus.push_back(groupFirstCpu[group] + bit);
  }
}

std::string guidanceFor(LargePageRight::State state, const std::string& account) {
  using State = LargePageRight::State;
  const std::string who = account.empty() ? "this account" : account;
  const std::string check = " Check with `whoami /priv`: \"Lock pages in memory\" (SeLockMemoryPrivilege) must be listed.";
  switch (state) {
    case State::NotNeeded:
    case State::Enabled:
      return "";
    case State::Disabled:
      return "held and disabled, as Windows starts it: xmem enables it for this process before its first large-page "
             "allocation.";
    case State::NeedsElevation:
      return "only the elevated token of " + who + " holds \"Lock pages in memory\": run xmem (or the miner) with "
             "\"Run as administrator\", or assign the right to a non-administrator account and sign in with it." + check;
    case State::NeedsSignOut:
      return "local policy assigns \"Lock pages in memory\" to " + who + ", but this logon session began before it "
             "was assigned: sign out and back in, or reboot (restart the service if the program runs as one)." + check;
    case State::NotAssigned:
      return who + " lacks \"Lock pages in memory\" (SeLockMemoryPrivilege), which large pages need. Assign it: "
             "secpol.msc > Security Settings > Local Policies > User Rights Assignment > Lock pages in memory > "
             "Add User or Group... > " + who + ". Without secpol.msc (Home editions): `ntrights +r SeLockMemoryPrivilege -u "
             "\"" + who + "\"` (Windows Server 2003 Resource Kit), PowerShell's Carbon module `Grant-CPrivilege -Identity "
             "\"" + who + "\" -Privilege SeLockMemoryPrivilege`, or `secedit /export /areas USER_RIGHTS`, the account added "
             "to its SeLockMemoryPrivilege line, then `secedit /configure`. Then sign out and back in, or reboot." + check +
             " Until then xmem uses base pages.";
    case State::Unknown:
      return "cannot tell whether " + who + " holds \"Lock pages in memory\"; large pages will be tried and their "
             "error reported." + check;
  }
  return "";
}

}  // namespace

Status windowsStatus(std::uint32_t code) noexcept {
  using Kind = Status::Kind;
  const int value = static_cast<int>(code);
  switch (code) {
    case error::kSuccess: return {};
    case error::kNotSupported: case error::kCallNotImplemented: return {Kind::Unsupported, value};
    case error::kNotEnoughMemory: case error::kOutOfMemory: case error::kNoSystemResources:
    case error::kCommitmentLimit: return {Kind::NoMemory, value};
    case error::kAccessDenied: case error::kPrivilegeNotHeld: case error::kNotAllAssigned:
    case error::kWorkingSetQuota: return {Kind::NoPermission, value};
    case error::kSharingViolation: case error::kLockViolation: return {Kind::Busy, value};
    case error::kInvalidParameter: return {Kind::Invalid, value};
    case error::kFileNotFound: case error::kPathNotFound: return {Kind::NotFound, value};
    case error::kInvalidAddress: case error::kNoAccess: return {Kind::BadAddress, value};
    default: return {Kind::Other, value};
  }
}

std::string describeWindowsError(int code, windows::WinApi* api) {
  struct Known {
    std::uint32_t code;
    const char* name;
    const char* text;
  };
  static constexpr Known kKnown[] = {
      {error::kFileNotFound, "ERROR_FILE_NOT_FOUND", "file not found"},
      {error::kPathNotFound, "ERROR_PATH_NOT_FOUND", "path not found"},
      {error::kAccessDenied, "ERROR_ACCESS_DENIED", "access denied"},
      {error::kInvalidHandle, "ERROR_INVALID_HANDLE", "invalid handle"},
      {error::kNotEnoughMemory, "ERROR_NOT_ENOUGH_MEMORY", "not enough memory"},
      {error::kOutOfMemory, "ERROR_OUTOFMEMORY", "not enough memory"},
      {error::kSharingViolation, "ERROR_SHARING_VIOLATION", "the file is in use by another process"},
      {error::kLockViolation, "ERROR_LOCK_VIOLATION", "the file is locked by another process"},
      {error::kNotSupported, "ERROR_NOT_SUPPORTED", "not supported here"},
      {error::kInvalidParameter, "ERROR_INVALID_PARAMETER",
       "invalid parameter (for large pages: a size or address that is not a multiple of the large page size, or a "
       "Windows that maps none, such as Wine)"},
      {error::kCallNotImplemented, "ERROR_CALL_NOT_IMPLEMENTED", "not implemented by this Windows"},
      {error::kNotLocked, "ERROR_NOT_LOCKED", "the pages are not locked"},
      {error::kInvalidAddress, "ERROR_INVALID_ADDRESS", "invalid address"},
      {error::kNoAccess, "ERROR_NOACCESS", "invalid access to memory"},
      {error::kNotAllAssigned, "ERROR_NOT_ALL_ASSIGNED",
       "the token lacks \"Lock pages in memory\" (SeLockMemoryPrivilege), so it could not be enabled"},
      {error::kPrivilegeNotHeld, "ERROR_PRIVILEGE_NOT_HELD",
       "\"Lock pages in memory\" (SeLockMemoryPrivilege) is not enabled for this process; `xmem info` says why and "
       "what to do"},
      {error::kNoSystemResources, "ERROR_NO_SYSTEM_RESOURCES",
       "not enough contiguous physical memory for large pages (memory fragments as the system runs): allocate large "
       "pages early, close programs, or reboot"},
      {error::kWorkingSetQuota, "ERROR_WORKING_SET_QUOTA", "the working set is too small to lock that much"},
      {error::kCommitmentLimit, "ERROR_COMMITMENT_LIMIT",
       "the commit limit is reached (RAM and page file are all promised): close programs or enlarge the page file"},
  };
  const auto value = static_cast<std::uint32_t>(code);
  for (const auto& known : kKnown)
    if (known.code == value) return std::string(known.text) + " (" + known.name + ", " + std::to_string(code) + ")";
  std::string text = api != nullptr ? api->formatMessage(value) : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.'))
    text.pop_back();
  return (text.empty() ? std::string("Windows error") : text) + " (" + std::to_string(code) + ")";
}

LargePageRight judgeLockMemoryRight(windows::WinApi& api) {
  using State = LargePageRight::State;
  LargePageRight right;
  right.account = api.accountName();
  windows::TokenPrivilege inToken = windows::TokenPrivilege::Absent;
  if (const auto code = api.lockMemoryPrivilege(false, inToken); code != error::kSuccess) {
    right.state = State::Unknown;
    right.guidance = "cannot read this process's token (" + describeWindowsError(static_cast<int>(code), &api) +
                     "): " + guidanceFor(State::Unknown, right.account);
    return right;
  }
  if (inToken == windows::TokenPrivilege::Enabled) {
    right.state = State::Enabled;
  } else if (inToken == windows::TokenPrivilege::Disabled) {
    right.state = State::Disabled;
  } else {
    // Not in this token. An administrator's filtered token lacks what its elevated twin holds;
    // a right assigned after sign-in reaches tokens of the next logon session only.
    right.state = State::NotAssigned;
    windows::Elevation elevation = windows::Elevation::Default;
    windows::TokenPrivilege linked = windows::TokenPrivilege::Absent;
    bool assigned = false;
    std::uint32_t policyError = error::kSuccess;
    if (api.elevation(elevation) == error::kSuccess && elevation == windows::Elevation::Limited &&
        api.lockMemoryPrivilege(true, linked) == error::kSuccess && linked != windows::TokenPrivilege::Absent)
      right.state = State::NeedsElevation;
    else if (policyError = api.lockMemoryRightAssigned(assigned); policyError == error::kSuccess && assigned)
      right.state = State::NeedsSignOut;
    right.guidance = guidanceFor(right.state, right.account);
    if (policyError != error::kSuccess)
      right.guidance += " (Local policy could not be read: " + describeWindowsError(static_cast<int>(policyError), &api) +
                        ". If the right was assigned already, sign out and back in.)";
    return right;
  }
  right.guidance = guidanceFor(right.state, right.account);
  return right;
}

namespace windows {

std::vector<NodeCpus> parseNumaNodes(const std::vector<std::uint8_t>& records, const std::vector<std::uint32_t>& groupFirstCpu) {
  std::vector<NodeCpus> nodes;
  const auto visit = [&](std::size_t body, std::size_t end) {
    // NUMA_NODE_RELATIONSHIP: DWORD NodeNumber, BYTE Reserved[18], WORD GroupCount (0 before
    // Windows 10 20H2: one GroupMask), then GROUP_AFFINITY GroupMasks[GroupCount].
    NodeCpus node;
    node.node = readAt<std::uint32_t>(records, body);
    const auto groupCount = std::max<std::uint16_t>(1, readAt<std::uint16_t>(records, body + 22));
    appendCpus(records, body + 24, end, groupCount, groupFirstCpu, node.cpus);
    if (node.cpus.empty()) return;  // a node of memory only (or of CPUs not active): nothing runs there
    std::sort(node.cpus.begin(), node.cpus.end());
    nodes.push_back(std::move(node));
  };
  forEachRecord(records, kRelationNumaNode, visit);
  forEachRecord(records, kRelationNumaNodeEx, visit);
  std::sort(nodes.begin(), nodes.end(), [](const NodeCpus& a, const NodeCpus& b) { return a.node < b.node; });
  return nodes;
}

std::size_t parseLargestCache(const std::vector<std::uint8_t>& records) {
  std::size_t largest = 0;
  forEachRecord(records, kRelationCache, [&](std::size_t body, std::size_t) {
    // CACHE_RELATIONSHIP: BYTE Level, BYTE Associativity, WORD LineSize, DWORD CacheSize,
    // PROCESSOR_CACHE_TYPE Type (0 unified, 1 instruction, 2 data, 3 trace), ...
    const auto type = readAt<std::uint32_t>(records, body + 8);
    if (type == 0 || type == 2) largest = std::max<std::size_t>(largest, readAt<std::uint32_t>(records, body + 4));
  });
  return largest;
}

}  // namespace windows

WindowsPlatform::WindowsPlatform(windows::WinApi& api) : api_(api) {
  system_ = api_.systemFacts();
  largePageMinimum_ = api_.largePageMinimum();
  virtualAlloc2_ = api_.hasVirtualAlloc2();
  std::uint32_t first = 0;
  for (auto count : api_.groupProcessorCounts()) {
    groupFirstCpu_.push_back(first);
    first += count;
  }
  cpuCount_ = std::max<std::uint32_t>(first, 1);
  if (groupFirstCpu_.empty()) groupFirstCpu_.push_back(0);
  std::vector<std::uint8_t> records;
  if (api_.logicalProcessorInformation(windows::kRelationNumaNode, records) == error::kSuccess)
    for (auto& node : windows::parseNumaNodes(records, groupFirstCpu_)) nodes_.push_back({node.node, std::move(node.cpus)});
  if (nodes_.empty()) {  // no NUMA answer (Wine's Ex calls may fail): one node holds every CPU
    Node node;
    for (std::uint32_t cpu = 0; cpu < cpuCount_; ++cpu) node.cpus.push_back(cpu);
    nodes_.push_back(std::move(node));
  }
}

Status WindowsPlatform::lastError() const noexcept {
  const auto code = api_.lastError();
  return windowsStatus(code != 0 ? code : error::kInvalidParameter);
}

std::string WindowsPlatform::describeError(int code) const { return describeWindowsError(code, &api_); }

Capabilities WindowsPlatform::capabilities() const noexcept {
  // Locks are not compared with QueryWorkingSetEx's Locked bit: Wine leaves it 0 on locked pages.
  return {.giveBackMapsAnew = true, .hugePagesWithoutPool = true, .preferredPlacementOnly = true};
}

MachineFacts WindowsPlatform::probe() {
  MachineFacts info;
  const auto now = api_.systemFacts();
  info.platform = "windows";
  info.kernel = now.version;
  info.basePageSize = now.pageSize;
  info.memoryTotal = now.memoryTotal;
  info.memoryAvailable = now.memoryAvailable;
  info.cpuHasOneGbPages = api_.cpuHasOneGbPages();
  // Large pages come from free memory at map time, one size per allocation.
  info.hugePagePool = false;
  info.mixedPageSizes = false;
  if (largePageMinimum_ != 0) {
    info.defaultHugePageSize = largePageMinimum_;
    info.hugePageSizes.push_back({largePageMinimum_, {}, {}});
    // 1 GiB pages: VirtualAlloc2's NONPAGED_HUGE, on CPUs that have them.
    if (virtualAlloc2_ && info.cpuHasOneGbPages && largePageMinimum_ < kGiB) info.hugePageSizes.push_back({kGiB, {}, {}});
  }
  memlockLimit(info.memlock);
  for (const auto& node : nodes_) {
    NumaNodeInfo entry;
    entry.id = node.id;
    entry.cpus = node.cpus;
    std::uint64_t free = 0;
    if (api_.numaAvailableMemory(static_cast<std::uint16_t>(node.id), free)) entry.memoryFree = free;
    info.nodes.push_back(std::move(entry));
  }
  if (info.nodes.size() == 1) {  // Windows says no node's total; one node has all of it
    info.nodes[0].memoryTotal = info.memoryTotal;
    if (info.nodes[0].memoryFree == 0) info.nodes[0].memoryFree = info.memoryAvailable;
  }
  info.populateReportsErrors = true;  // commit is charged at VirtualAlloc: a touch cannot fail for want of memory
  std::vector<std::uint8_t> caches;
  if (api_.logicalProcessorInformation(windows::kRelationCache, caches) == error::kSuccess)
    info.lastLevelCacheBytes = windows::parseLargestCache(caches);
  info.largePageRight = judgeLockMemoryRight(api_);
  return info;
}

// Windows keeps no pool of large pages: nothing to count, reserve or compact.
Status WindowsPlatform::hugePageCounts(std::size_t, std::optional<std::uint32_t>, HugePageCounts&) noexcept {
  return kUnsupported;
}
Status WindowsPlatform::setHugePageCount(std::size_t, std::optional<std::uint32_t>, std::uint64_t) noexcept {
  return kUnsupported;
}
Status WindowsPlatform::checkHugePageCountWritable(std::size_t, std::optional<std::uint32_t>) noexcept {
  return kUnsupported;
}
Status WindowsPlatform::compactMemory() noexcept { return kUnsupported; }
std::string WindowsPlatform::hugePageCountPath(std::size_t, std::optional<std::uint32_t>) const { return ""; }

std::string WindowsPlatform::stateDirectory() const {
  const auto base = api_.localAppData();
  return base.empty() ? "" : base + "\\xmem";
}

BootConfiguration WindowsPlatform::bootConfiguration(const std::vector<BootPages>&, const std::string&) const {
  return {};
}

Status WindowsPlatform::lockFile(const char* path, int& handle) noexcept {
  std::intptr_t raw = 0;
  if (!api_.lockFile(path, raw)) return lastError();
  handle = static_cast<int>(raw);  // handles fit in 32 bits (so 32-bit processes can share them)
  return {};
}

Status WindowsPlatform::unlockFile(int handle) noexcept {
  return api_.unlockFile(static_cast<std::intptr_t>(handle)) ? Status{} : lastError();
}

Status WindowsPlatform::replaceFile(const char* path, const char* data, std::size_t length) noexcept {
  return api_.replaceFile(path, data, length) ? Status{} : lastError();
}

Status WindowsPlatform::memlockLimit(MemlockLimit& out) noexcept {
  std::size_t minimum = 0;
  std::size_t maximum = 0;
  std::uint32_t flags = 0;
  if (!api_.workingSetSize(minimum, maximum, flags)) return lastError();
  // VirtualLock holds up to the working set's minimum; lock() raises it as it goes.
  out.soft = minimum;
  out.hard = maximum;
  out.privileged = false;
  return {};
}

std::string WindowsPlatform::memlockLimitAdvice() const {
  return "Windows locks up to the process's minimum working set, and xmem raises that as it locks "
         "(SetProcessWorkingSetSizeEx): a lock fails only when memory itself is short";
}

std::string WindowsPlatform::describeMemlockLimit(const MemlockLimit& limit) const {
  return "the working set is " + formatBytes(limit.soft) + " to " + formatBytes(limit.hard) +
         " (VirtualLock holds up to its minimum)";
}

Status WindowsPlatform::reserve(std::size_t length, std::size_t alignment, void*& out) noexcept {
  // A reservation is a base-page allocation that commits nothing.
  if (alignment <= system_.allocationGranularity) {
    void* address = api_.virtualAlloc(nullptr, length, windows::kMemReserve, windows::kPageNoAccess, windows::kNoNode);
    if (address == nullptr) return lastError();
    out = address;
    return {};
  }
  if (virtualAlloc2_) {
    void* address = api_.virtualAlloc2(length, windows::kMemReserve, windows::kPageNoAccess, alignment, windows::kNoNode, 0);
    if (address == nullptr) return lastError();
    out = address;
    return {};
  }
  // No VirtualAlloc2 (before Windows 10 1803): reserve more, give it back, take the aligned part
  // at once; another thread may take it in between, so try again a few times.
  for (int attempt = 0; attempt < 8; ++attempt) {
    void* wide = api_.virtualAlloc(nullptr, length + alignment, windows::kMemReserve, windows::kPageNoAccess, windows::kNoNode);
    if (wide == nullptr) return lastError();
    const auto aligned = alignUp(reinterpret_cast<std::uintptr_t>(wide), alignment);
    api_.virtualFree(wide, 0, windows::kMemRelease);
    if (void* address = api_.virtualAlloc(reinterpret_cast<void*>(aligned), length, windows::kMemReserve,
                                          windows::kPageNoAccess, windows::kNoNode)) {
      out = address;
      return {};
    }
  }
  return {Status::Kind::TryAgain, static_cast<int>(error::kInvalidAddress)};
}

Status WindowsPlatform::preferredNode(const Placement& placement, std::uint32_t& node) const noexcept {
  node = windows::kNoNode;
  if (placement.policy == NumaPolicy::None) return {};
  const Node* first = nullptr;
  std::size_t named = 0;
  for (const auto& candidate : nodes_) {
    if (!placement.nodes.contains(candidate.id)) continue;
    if (first == nullptr) first = &candidate;
    ++named;
  }
  if (first == nullptr) return {Status::Kind::NotFound, static_cast<int>(error::kInvalidParameter)};
  // One node: every policy on it is what happens anyway. Bound to every node: so is every page.
  if (nodes_.size() == 1 || (placement.policy == NumaPolicy::Bind && named == nodes_.size())) return {};
  // Interleave prefers no node: first touch spreads pages better than one node would.
  if (placement.policy != NumaPolicy::Interleave) node = first->id;
  if (placement.policy == NumaPolicy::Preferred && named == 1) return {};
  // Windows prefers a node and takes pages elsewhere when it runs out: no strict bind, no
  // interleave. The mapping prefers the first node; the caller learns it is not what it asked.
  return kUnsupported;
}

Status WindowsPlatform::mapBasePages(const MapRequest& request, MapResult& out) noexcept {
  std::uint32_t node = windows::kNoNode;
  const Status placement = preferredNode(request.placement, node);
  const std::uint32_t protect = protectionOf(request.protection);
  void* address = nullptr;
  if (request.fixedAddress != nullptr) {
    // Committing inside a reservation: the node is the reservation's affair (none), not the commit's.
    address = api_.virtualAlloc(request.fixedAddress, request.length, windows::kMemCommit, protect, windows::kNoNode);
    if (address == nullptr) return lastError();
    out.address = address;
    out.placementStatus = node != windows::kNoNode ? kUnsupported : placement;
    return {};
  }
  const std::uint32_t type = windows::kMemReserve | windows::kMemCommit;
  if (request.alignment <= system_.allocationGranularity) {
    address = api_.virtualAlloc(nullptr, request.length, type, protect, node);
    if (address == nullptr) return lastError();
  } else if (virtualAlloc2_) {
    address = api_.virtualAlloc2(request.length, type, protect, request.alignment, node, 0);
    if (address == nullptr) return lastError();
  } else {
    void* reserved = nullptr;
    if (auto status = reserve(request.length, request.alignment, reserved); !status) return status;
    api_.virtualFree(reserved, 0, windows::kMemRelease);
    address = api_.virtualAlloc(reserved, request.length, type, protect, node);
    if (address == nullptr) return {Status::Kind::TryAgain, static_cast<int>(api_.lastError())};
  }
  out.address = address;
  out.placementStatus = placement;
  return {};
}

void WindowsPlatform::enableLockMemoryRight() noexcept {
  // Once: a token's privileges stay as set. A failure shows as 1314 on the map that follows.
  std::call_once(rightEnabled_, [this] { api_.enableLockMemoryPrivilege(); });
}

Status WindowsPlatform::mapLargePages(const MapRequest& request, MapResult& out) noexcept {
  const std::size_t pageSize = request.hugePageSize;
  if (request.fixedAddress != nullptr) return kInvalid;  // large pages commit only with their own reservation
  if (largePageMinimum_ == 0 || pageSize % largePageMinimum_ != 0) return kUnsupported;
  if (request.length % pageSize != 0) return kInvalid;
  enableLockMemoryRight();
  std::uint32_t node = windows::kNoNode;
  const Status placement = preferredNode(request.placement, node);
  const std::uint32_t type = windows::kMemReserve | windows::kMemCommit | windows::kMemLargePages;
  const std::uint32_t protect = protectionOf(request.protection);
  // Large pages are aligned to their size by nature: an alignment is asked only beyond it.
  const std::size_t alignment = request.alignment > pageSize ? request.alignment : 0;
  void* address = nullptr;
  if (pageSize >= kGiB) {
    if (!virtualAlloc2_) return kUnsupported;
    address = api_.virtualAlloc2(request.length, type, protect, alignment, node, windows::kNonPagedHuge);
    if (address == nullptr) return lastError();
  } else {
    // VirtualAlloc2 names the page size (Windows could otherwise pick 1 GiB pages itself); a
    // Windows 10 older than 1903 rejects the attribute, and plain VirtualAlloc is what it has.
    if (virtualAlloc2_) address = api_.virtualAlloc2(request.length, type, protect, alignment, node, windows::kNonPagedLarge);
    if (address == nullptr && (!virtualAlloc2_ || api_.lastError() == error::kInvalidParameter) && alignment == 0)
      address = api_.virtualAlloc(nullptr, request.length, type, protect, node);
    if (address == nullptr) return lastError();
  }
  out.address = address;
  out.placementStatus = placement;
  return {};
}

Status WindowsPlatform::map(const MapRequest& request, MapResult& out) noexcept {
  return request.hugePageSize != 0 ? mapLargePages(request, out) : mapBasePages(request, out);
}

bool WindowsPlatform::allocationOf(void* address, std::uint8_t*& base, std::size_t& length) const noexcept {
  MemoryRegion region;
  if (!api_.virtualQuery(address, region) || region.state == windows::kMemFree) return false;
  base = static_cast<std::uint8_t*>(region.allocationBase);
  length = 0;
  for (std::uint8_t* at = base; api_.virtualQuery(at, region) && region.allocationBase == base && region.size != 0;
       at += region.size)
    length += region.size;
  return length != 0;
}

Status WindowsPlatform::unmap(void* address, std::size_t length) noexcept {
  // Allocation by allocation: a whole one is released; of a part, the pages go and the address
  // space stays reserved until the whole goes (Windows releases whole allocations only).
  auto* at = static_cast<std::uint8_t*>(address);
  auto* const end = at + length;
  while (at < end) {
    std::uint8_t* base = nullptr;
    std::size_t whole = 0;
    if (!allocationOf(at, base, whole)) return {Status::Kind::BadAddress, static_cast<int>(error::kInvalidAddress)};
    auto* const allocationEnd = base + whole;
    if (base == at && end >= allocationEnd) {
      if (!api_.virtualFree(at, 0, windows::kMemRelease)) return lastError();
    } else if (!api_.virtualFree(at, static_cast<std::size_t>(std::min(end, allocationEnd) - at), windows::kMemDecommit)) {
      return lastError();
    }
    at = allocationEnd;
  }
  return {};
}

Status WindowsPlatform::advise(void* address, std::size_t length, Advice advice) noexcept {
  if (advice != Advice::DontNeed) return kUnsupported;  // no THP on Windows
  // Decommit and commit again, committed regions only (a reserved gap stays a gap): the pages
  // read as zero (MEM_RESET would keep them until reused), read-write (giveBackMapsAnew). If the
  // commit fails (commit limit), the range is left reserved and the error says so.
  Status result;
  visitCommitted(address, length, [&](std::uintptr_t start, std::uintptr_t end) {
    if (!result) return;
    auto* part = reinterpret_cast<void*>(start);
    if (!api_.virtualFree(part, end - start, windows::kMemDecommit) ||
        api_.virtualAlloc(part, end - start, windows::kMemCommit, windows::kPageReadWrite, windows::kNoNode) == nullptr)
      result = lastError();
  });
  return result;
}

Status WindowsPlatform::protect(void* address, std::size_t length, Protection protection) noexcept {
  std::uint32_t old = 0;
  if (!api_.virtualProtect(address, length, protectionOf(protection), old)) return lastError();
  // Code written before this call runs after it: the CPU must not run stale instructions.
  if (protection == Protection::ReadExecute || protection == Protection::ReadWriteExecute)
    api_.flushInstructionCache(address, length);
  return {};
}

template <typename Visit>
bool WindowsPlatform::visitWorkingSet(const void* address, std::size_t length, Visit&& visit) const noexcept {
  constexpr std::size_t kChunk = 512;
  WorkingSetPage pages[kChunk];
  const std::size_t page = system_.pageSize;
  const auto begin = reinterpret_cast<std::uintptr_t>(address) & ~(page - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(address) + length;
  for (std::uintptr_t chunk = begin; chunk < end;) {
    std::size_t count = 0;
    for (; count < kChunk && chunk + count * page < end; ++count)
      pages[count] = {reinterpret_cast<const void*>(chunk + count * page), 0};
    if (!api_.queryWorkingSetEx(pages, count)) return false;
    for (std::size_t i = 0; i < count; ++i) visit(pages[i]);
    chunk += count * page;
  }
  return true;
}

Status WindowsPlatform::lock(void* address, std::size_t length) noexcept {
  if (api_.virtualLock(address, length)) return {};
  std::uint32_t code = api_.lastError();
  if (code == error::kWorkingSetQuota) {
    // VirtualLock holds up to the minimum working set: raise it by what is to be locked (whole
    // pages), and try again; one thread at a time, so no raise is lost to another's.
    const std::lock_guard<std::mutex> guard(workingSetMutex_);
    const std::size_t page = system_.pageSize;
    const auto start = reinterpret_cast<std::uintptr_t>(address) & ~(page - 1);
    length = alignUp(reinterpret_cast<std::uintptr_t>(address) + length, page) - start;
    std::size_t minimum = 0;
    std::size_t maximum = 0;
    std::uint32_t flags = 0;
    if (api_.workingSetSize(minimum, maximum, flags) &&
        api_.setWorkingSetSize(minimum + length, maximum + length,
                               windows::kQuotaLimitsHardWsMinDisable | windows::kQuotaLimitsHardWsMaxDisable)) {
      if (api_.virtualLock(address, length)) return {};
    }
    code = api_.lastError();
  }
  // Large pages are never paged out: they are locked by nature.
  WorkingSetPage first{address, 0};
  if (api_.queryWorkingSetEx(&first, 1) && first.valid() && first.largePage()) return {};
  return windowsStatus(code != 0 ? code : error::kInvalidParameter);
}

Status WindowsPlatform::unlock(void* address, std::size_t length) noexcept {
  if (api_.virtualUnlock(address, length)) return {};
  const auto code = api_.lastError();
  return code == error::kNotLocked ? Status{} : windowsStatus(code);
}

Status WindowsPlatform::name(void*, std::size_t, const char*) noexcept { return kUnsupported; }

Status WindowsPlatform::populate(void* address, std::size_t length) noexcept {
  const std::size_t page = system_.pageSize;
  auto* at = static_cast<std::uint8_t*>(address);
  auto* const end = at + length;
  while (at < end) {
    MemoryRegion region;
    if (!api_.virtualQuery(at, region) || region.state != windows::kMemCommit || region.size == 0)
      return {Status::Kind::BadAddress, static_cast<int>(error::kInvalidAddress)};
    auto* regionEnd = std::min(end, static_cast<std::uint8_t*>(region.base) + region.size);
    const bool write = writable(region.protect);
    if (region.protect == windows::kPageNoAccess) return {Status::Kind::BadAddress, static_cast<int>(error::kNoAccess)};
    for (; at < regionEnd; at += page) {
      // An atomic add of zero writes the page without losing another thread's store to it.
      if (write)
        std::atomic_ref<std::uint8_t>(*at).fetch_add(0, std::memory_order_relaxed);
      else
        static_cast<void>(*static_cast<volatile std::uint8_t*>(at));
    }
    at = regionEnd;
  }
  return {};
}

template <typename Visit>
void WindowsPlatform::visitCommitted(const void* address, std::size_t length, Visit&& visit) const {
  const auto begin = reinterpret_cast<std::uintptr_t>(address);
  const auto end = begin + length;
  for (std::uintptr_t at = begin; at < end;) {
    MemoryRegion region;
    if (!api_.virtualQuery(reinterpret_cast<const void*>(at), region) || region.size == 0) break;
    const auto regionEnd = std::min<std::uintptr_t>(end, reinterpret_cast<std::uintptr_t>(region.base) + region.size);
    if (region.state == windows::kMemCommit) visit(at, regionEnd);
    at = regionEnd;
  }
}

Status WindowsPlatform::query(const void* address, std::size_t length, RangeUsage& out) noexcept {
  try {
    RangeUsage usage;
    usage.length = length;
    const std::size_t page = system_.pageSize;
    bool ok = true;
    // Committed regions only, page by page: reserved address space has no pages to ask about.
    visitCommitted(address, length, [&](std::uintptr_t start, std::uintptr_t end) {
      ok = ok && visitWorkingSet(reinterpret_cast<const void*>(start), end - start, [&](const WorkingSetPage& entry) {
        const std::size_t pageSize = entry.valid() && entry.largePage() ? largePageMinimum_ : page;
        usage.bytesByPageSize[pageSize] += page;
        if (!entry.valid()) return;
        usage.residentBytes += page;
        usage.bytesByNode[entry.node()] += page;
        if (entry.locked()) usage.lockedBytes += page;
        if (entry.largePage()) usage.hugeTlbBytes += page;
      });
    });
    if (!ok) return lastError();
    out = std::move(usage);
    return {};
  } catch (const std::bad_alloc&) {
    return windowsStatus(error::kNotEnoughMemory);
  }
}

Status WindowsPlatform::survey(const void* address, std::size_t length, PageSurvey& out) noexcept try {
  PageSurvey survey;
  survey.hugeKnown = true;  // no transparent huge pages: nothing to locate
  visitCommitted(address, length, [&](std::uintptr_t start, std::uintptr_t end) {
    WorkingSetPage first{reinterpret_cast<const void*>(start), 0};
    const bool large = api_.queryWorkingSetEx(&first, 1) && first.valid() && first.largePage();
    survey.areas.push_back({start, end, large ? largePageMinimum_ : 0, 0});
  });
  out = std::move(survey);
  return {};
} catch (const std::bad_alloc&) {
  return windowsStatus(error::kNotEnoughMemory);
}

Status WindowsPlatform::pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept {
  constexpr std::size_t kChunk = 512;
  WorkingSetPage entries[kChunk];
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(kChunk, count - done);
    for (std::size_t i = 0; i < n; ++i) entries[i] = {pages[done + i], 0};
    if (!api_.queryWorkingSetEx(entries, n)) return lastError();
    for (std::size_t i = 0; i < n; ++i) {
      MemoryRegion region;
      if (entries[i].valid())
        nodes[done + i] = static_cast<int>(entries[i].node());
      else  // not in memory: committed and not touched yet, or no page there at all
        nodes[done + i] = api_.virtualQuery(entries[i].address, region) && region.state == windows::kMemCommit
                              ? page_answer::kNotPresent
                              : page_answer::kNotMapped;
    }
    done += n;
  }
  return {};
}

Status WindowsPlatform::movePages(void* const*, std::size_t, std::uint32_t, int*) noexcept { return kUnsupported; }

Status WindowsPlatform::bindThreadMemory(const Placement& placement) noexcept {
  std::uint32_t node = windows::kNoNode;
  const Status status = preferredNode(placement, node);
  if (node == windows::kNoNode) return status;
  // No thread memory policy on Windows: a thread's first touch takes pages from its ideal
  // processor's node. The CPU it runs on if that is the node's, else the node's first. A Bind
  // gets the preference too, and hears that it is only that.
  for (const auto& candidate : nodes_) {
    if (candidate.id != node || candidate.cpus.empty()) continue;
    const std::uint32_t here = currentCpu();
    const bool onNode = std::binary_search(candidate.cpus.begin(), candidate.cpus.end(), here);
    std::uint16_t group = 0;
    std::uint8_t number = 0;
    if (!groupOf(onNode ? here : candidate.cpus.front(), group, number)) break;
    if (!api_.setThreadIdealProcessor(group, number)) return lastError();
    return status;
  }
  return {Status::Kind::NotFound, static_cast<int>(error::kInvalidParameter)};
}

bool WindowsPlatform::groupOf(std::uint32_t cpu, std::uint16_t& group, std::uint8_t& number) const noexcept {
  if (cpu >= cpuCount_) return false;
  const auto after = std::upper_bound(groupFirstCpu_.begin(), groupFirstCpu_.end(), cpu);
  group = static_cast<std::uint16_t>(after - groupFirstCpu_.begin() - 1);
  number = static_cast<std::uint8_t>(cpu - groupFirstCpu_[group]);
  return number < 64;
}

Status WindowsPlatform::pinThread(std::uint32_t cpu) noexcept {
  std::uint16_t group = 0;
  std::uint8_t number = 0;
  if (!groupOf(cpu, group, number)) return kInvalid;
  return api_.setThreadGroupAffinity(group, std::uint64_t{1} << number) ? Status{} : lastError();
}

std::uint32_t WindowsPlatform::currentCpu() noexcept {
  std::uint16_t group = 0;
  std::uint8_t number = 0;
  api_.currentProcessor(group, number);
  return group < groupFirstCpu_.size() ? groupFirstCpu_[group] + number : 0;
}

std::uint32_t WindowsPlatform::currentNode() noexcept {
  std::uint16_t group = 0;
  std::uint8_t number = 0;
  api_.currentProcessor(group, number);
  std::uint16_t node = 0;
  if (api_.processorNode(group, number, node)) return node;
  const std::uint32_t cpu = group < groupFirstCpu_.size() ? groupFirstCpu_[group] + number : 0;
  for (const auto& candidate : nodes_)
    if (std::binary_search(candidate.cpus.begin(), candidate.cpus.end(), cpu)) return candidate.id;
  return 0;
}

std::uint32_t WindowsPlatform::cpuCount() noexcept { return cpuCount_; }

// Monitoring other processes reads Linux's /proc; Windows has its own tools for that so far.
Status WindowsPlatform::processUsage(std::int64_t, std::size_t, ProcessUsage&) { return kUnsupported; }
Status WindowsPlatform::kernelCounters(KernelCounters&) { return kUnsupported; }
Status WindowsPlatform::readPublishedRecords(std::int64_t, const char*, std::size_t, std::string&) { return kUnsupported; }

std::string WindowsPlatform::hostName() const { return api_.computerName(); }
std::int64_t WindowsPlatform::processId() const noexcept { return api_.currentProcessId(); }
bool WindowsPlatform::processAlive(std::int64_t pid) const noexcept {
  return pid > 0 && pid <= std::numeric_limits<std::uint32_t>::max() && api_.processAlive(static_cast<std::uint32_t>(pid));
}

}  // namespace xmem::os

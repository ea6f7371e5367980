#include "fake_platform.h"

#include "os/posix/posix_platform.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

namespace xmem::testing {
namespace {
constexpr std::size_t kBasePage = 4096;
}

FakePlatform::FakePlatform() {
  machine.platform = "fake";
  machine.kernel = "fake-1.0";
  machine.basePageSize = kBasePage;
  machine.defaultHugePageSize = kHugePageSize;
  machine.cpuHasOneGbPages = true;
  machine.thp = {ThpMode::Madvise, "madvise", kHugePageSize};
  machine.memlock = {8 * MiB, 8 * MiB, false};
  machine.populateReportsErrors = true;
  machine.namedMappings = true;
  setNodes(1);
  setHugePages(kHugePageSize, 0, 0);
  setHugePages(kOneGbPageSize, 0, 0);
}

FakePlatform::~FakePlatform() {
  for (auto& region : regions_) ::munmap(region.raw, region.rawLength);
}

void FakePlatform::setNodes(std::uint32_t count) {
  machine.nodes.clear();
  for (std::uint32_t id = 0; id < count; ++id) {
    NumaNodeInfo node;
    node.id = id;
    node.cpus = {2 * id, 2 * id + 1};
    node.memoryTotal = 16 * GiB;
    node.memoryFree = 15 * GiB;
    machine.nodes.push_back(node);
  }
  machine.memoryTotal = std::uint64_t{16} * GiB * count;
}

void FakePlatform::setHugePages(std::size_t pageSize, std::uint32_t node, std::uint64_t freePages) {
  std::lock_guard lock(mutex_);
  freePages_[{pageSize, node}] = freePages;
  auto found = std::find_if(machine.hugePageSizes.begin(), machine.hugePageSizes.end(),
                            [&](const auto& size) { return size.pageSize == pageSize; });
  if (found == machine.hugePageSizes.end()) {
    HugePageSizeInfo size;
    size.pageSize = pageSize;
    machine.hugePageSizes.push_back(size);
    std::sort(machine.hugePageSizes.begin(), machine.hugePageSizes.end(),
              [](const auto& a, const auto& b) { return a.pageSize < b.pageSize; });
  }
}

void FakePlatform::setOvercommit(std::size_t pageSize, std::uint64_t pages) {
  std::lock_guard lock(mutex_);
  overcommit_[pageSize] = pages;
}

std::size_t FakePlatform::liveRegions() const {
  std::lock_guard lock(mutex_);
  return regions_.size();
}

std::size_t FakePlatform::mapCalls(std::size_t hugePageSize) const {
  std::lock_guard lock(mutex_);
  auto found = mapCalls_.find(hugePageSize);
  return found == mapCalls_.end() ? 0 : found->second;
}

std::size_t FakePlatform::populatedBytes() const {
  std::lock_guard lock(mutex_);
  std::size_t bytes = 0;
  for (const auto& mapping : mappings_) bytes += mapping.populatedBytes;
  return bytes;
}

std::vector<FakePlatform::Mapping> FakePlatform::mappings() const {
  std::lock_guard lock(mutex_);
  return mappings_;
}

std::vector<std::string> FakePlatform::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

bool FakePlatform::injectFault(const char* call) noexcept {
  if (faultPoints_.fetch_add(1) + 1 != faults.failAt) return false;
  std::lock_guard lock(mutex_);
  failedCall_ = call;
  return true;
}

std::string FakePlatform::failedCall() const {
  std::lock_guard lock(mutex_);
  return failedCall_ != nullptr ? failedCall_ : "";
}

// Each fault point starts so: the call fails before it changes anything, as a failing system call.
#define XMEM_FAULT_POINT(call) \
  if (injectFault(call)) return os::errnoStatus(faults.error)

os::Capabilities FakePlatform::capabilities() const noexcept {
  return {.hugePagesInReservation = true, .transparentHugePages = true, .collapseOnRequest = switches.collapseOnRequest,
          .queryShowsLocks = true};
}

MachineFacts FakePlatform::probe() {
  SystemInfo info = machine;
  for (auto& size : info.hugePageSizes) {
    countsOf(size.pageSize, std::nullopt, size.counts);
    for (const auto& node : info.nodes) countsOf(size.pageSize, node.id, size.nodes[node.id]);
  }
  return info;
}

os::Status FakePlatform::hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t> node,
                                        HugePageCounts& out) noexcept {
  XMEM_FAULT_POINT("hugePageCounts");
  return countsOf(pageSize, node, out);
}

os::Status FakePlatform::countsOf(std::size_t pageSize, std::optional<std::uint32_t> node, HugePageCounts& out) noexcept {
  std::lock_guard lock(mutex_);
  HugePageCounts counts;
  bool known = false;
  // Like sysfs: every node has counts for every page size the machine has.
  for (const auto& [key, free] : freePages_) {
    if (key.first != pageSize) continue;
    known = true;
    if (!node || key.second == *node) counts.free += free;
  }
  if (!known) return os::errnoStatus(ENOENT);
  if (!node) {
    counts.overcommit = overcommit_[pageSize];
    counts.surplus = surplus_[pageSize];
  }
  counts.total = counts.free;
  for (const auto& mapping : mappings_)
    if (mapping.hugePageSize == pageSize && (!node || mapping.pagesTakenFrom == *node))
      counts.total += mapping.length / pageSize;
  out = counts;
  return {};
}

os::Status FakePlatform::setHugePageCount(std::size_t pageSize, std::optional<std::uint32_t> node,
                                                std::uint64_t count) noexcept {
  XMEM_FAULT_POINT("setHugePageCount");
  if (!switches.countsWritable) return os::errnoStatus(EACCES);
  std::lock_guard lock(mutex_);
  auto& free = freePages_[{pageSize, node.value_or(0)}];
  std::uint64_t inUse = 0;
  for (const auto& mapping : mappings_)
    if (mapping.hugePageSize == pageSize && mapping.pagesTakenFrom == node.value_or(0)) inUse += mapping.length / pageSize;
  const std::uint64_t total = free + inUse;
  if (count > total) {
    auto limit = reservable.find(pageSize);
    std::uint64_t more = count - total;
    if (limit != reservable.end()) more = std::min(more, limit->second);
    free += more;
  } else {
    free -= std::min(free, total - count);
  }
  return {};
}

os::Status FakePlatform::checkHugePageCountWritable(std::size_t, std::optional<std::uint32_t>) noexcept {
  XMEM_FAULT_POINT("checkHugePageCountWritable");
  return os::errnoStatus(switches.countsWritable ? 0 : EACCES);
}

os::Status FakePlatform::compactMemory() noexcept {
  XMEM_FAULT_POINT("compactMemory");
  ++compactions;
  return {};
}

os::Status FakePlatform::bindThreadMemory(const os::Placement&) noexcept {
  XMEM_FAULT_POINT("bindThreadMemory");
  return {};
}

os::Status FakePlatform::pinThread(std::uint32_t) noexcept {
  XMEM_FAULT_POINT("pinThread");
  return {};
}

os::Status FakePlatform::lockFile(const char* path, int& handle) noexcept {
  XMEM_FAULT_POINT("lockFile");
  return os::posixPlatform().lockFile(path, handle);
}

os::Status FakePlatform::unlockFile(int handle) noexcept { return os::posixPlatform().unlockFile(handle); }

os::Status FakePlatform::replaceFile(const char* path, const char* data, std::size_t length) noexcept {
  XMEM_FAULT_POINT("replaceFile");
  return os::posixPlatform().replaceFile(path, data, length);
}

os::Status FakePlatform::memlockLimit(MemlockLimit& out) noexcept {
  XMEM_FAULT_POINT("memlockLimit");
  out = machine.memlock;
  return {};
}

os::Status FakePlatform::reserve(std::size_t length, std::size_t alignment, void*& out) noexcept {
  XMEM_FAULT_POINT("reserve");
  return reserveRegion(length, alignment, out);
}

os::Status FakePlatform::reserveRegion(std::size_t length, std::size_t alignment, void*& out) noexcept {
  alignment = std::max(alignment, kBasePage);
  std::size_t rawLength = length + alignment;
  void* raw = ::mmap(nullptr, rawLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return os::errnoStatus(errno);
  auto* base = reinterpret_cast<std::uint8_t*>(alignUp(reinterpret_cast<std::uintptr_t>(raw), alignment));
  std::lock_guard lock(mutex_);
  regions_.push_back({base, length, raw, rawLength});
  out = base;
  return {};
}

os::Status FakePlatform::map(const os::MapRequest& request, os::MapResult& out) noexcept {
  XMEM_FAULT_POINT("map");
  {
    std::lock_guard lock(mutex_);
    ++mapCalls_[request.hugePageSize];
  }
  const bool huge = request.hugePageSize != 0;
  if ((huge && switches.failMapOfPageSize.count(request.hugePageSize) != 0) || (!huge && switches.failBaseMap))
    return os::errnoStatus(switches.mapErrno);
  if (request.length == 0 || (huge && request.length % request.hugePageSize != 0)) {
    std::lock_guard lock(mutex_);
    violations_.push_back("map length " + std::to_string(request.length) + " is not a multiple of its page size");
    return os::errnoStatus(EINVAL);
  }
  std::uint32_t node = request.placement.policy == NumaPolicy::Bind ? request.placement.nodes.nodes().front() : 0;
  if (huge) {
    // Like the kernel: a hugetlb mapping reserves its pages at map time (from the machine's pool).
    std::lock_guard lock(mutex_);
    auto& free = freePages_[{request.hugePageSize, node}];
    std::uint64_t wanted = request.length / request.hugePageSize;
    if (free < wanted) {
      // Like the kernel: surplus pages are added on demand up to nr_overcommit_hugepages.
      std::uint64_t extra = wanted - free;
      if (surplus_[request.hugePageSize] + extra > overcommit_[request.hugePageSize]) return os::errnoStatus(ENOMEM);
      surplus_[request.hugePageSize] += extra;
      free += extra;
    }
    free -= wanted;
  }
  auto* address = static_cast<std::uint8_t*>(request.fixedAddress);
  if (address == nullptr) {
    void* reserved = nullptr;
    std::size_t alignment = std::max({request.alignment, request.hugePageSize, kBasePage});
    if (auto status = reserveRegion(request.length, alignment, reserved); !status) return status;
    address = static_cast<std::uint8_t*>(reserved);
  }
  Mapping mapping;
  mapping.address = address;
  mapping.length = request.length;
  mapping.hugePageSize = request.hugePageSize;
  mapping.protection = request.protection;
  mapping.placement = request.placement;
  mapping.pagesTakenFrom = node;
  os::MapResult result{address, {}};
  if (request.placement.policy != NumaPolicy::None && switches.failBind) result.placementStatus = os::errnoStatus(switches.bindErrno);
  std::lock_guard lock(mutex_);
  mappings_.push_back(mapping);
  out = result;
  return {};
}

void FakePlatform::returnPages(const Mapping& mapping) {
  if (mapping.hugePageSize != 0)
    freePages_[{mapping.hugePageSize, mapping.pagesTakenFrom}] += mapping.length / mapping.hugePageSize;
}

os::Status FakePlatform::unmap(void* address, std::size_t length) noexcept {
  std::lock_guard lock(mutex_);
  auto region = std::find_if(regions_.begin(), regions_.end(), [&](const Region& r) { return r.base == address; });
  if (region == regions_.end() || region->length != length) {
    violations_.push_back("unmap of " + std::to_string(length) + " bytes that is not a whole region");
    return os::errnoStatus(EINVAL);
  }
  auto* begin = static_cast<std::uint8_t*>(address);
  for (auto it = mappings_.begin(); it != mappings_.end();) {
    if (it->address >= begin && it->address < begin + length) {
      returnPages(*it);
      it = mappings_.erase(it);
    } else {
      ++it;
    }
  }
  ::munmap(region->raw, region->rawLength);
  regions_.erase(region);
  return {};
}

FakePlatform::Mapping* FakePlatform::findMapping(const void* address) {
  auto* byte = static_cast<const std::uint8_t*>(address);
  for (auto& mapping : mappings_)
    if (byte >= mapping.address && byte < mapping.address + mapping.length) return &mapping;
  return nullptr;
}

os::Status FakePlatform::advise(void* address, std::size_t, os::Advice advice) noexcept {
  XMEM_FAULT_POINT("advise");
  if (switches.failAdvise) return os::errnoStatus(EINVAL);
  std::lock_guard lock(mutex_);
  auto* mapping = findMapping(address);
  if (advice == os::Advice::Collapse) {
    ++collapseCalls;
    if (switches.collapseErrno != 0 && switches.collapseFailures-- > 0) return os::errnoStatus(switches.collapseErrno);
    if (mapping != nullptr) {
      mapping->collapsed = true;
      mapping->populatedBytes = mapping->length;  // collapsing faults the whole range in
    }
    return {};
  }
  if (mapping != nullptr) {
    mapping->advisedHuge = advice == os::Advice::HugePages;
    mapping->advisedNoHuge = advice == os::Advice::NoHugePages;
  }
  return {};
}

os::Status FakePlatform::protect(void* address, std::size_t length, Protection protection) noexcept {
  XMEM_FAULT_POINT("protect");
  std::lock_guard lock(mutex_);
  auto* begin = static_cast<std::uint8_t*>(address);
  bool any = false;
  for (auto& mapping : mappings_)
    if (mapping.address >= begin && mapping.address < begin + length) {
      mapping.protection = protection;
      any = true;
    }
  return any ? os::Status{} : os::errnoStatus(ENOMEM);
}

os::Status FakePlatform::lock(void* address, std::size_t length) noexcept {
  XMEM_FAULT_POINT("lock");
  if (switches.failLock) return os::errnoStatus(switches.lockErrno);
  std::lock_guard lock(mutex_);
  auto* begin = static_cast<std::uint8_t*>(address);
  for (auto& mapping : mappings_)
    if (mapping.address >= begin && mapping.address < begin + length) mapping.locked = true;
  return {};
}

os::Status FakePlatform::unlock(void*, std::size_t) noexcept { return {}; }

os::Status FakePlatform::name(void*, std::size_t, const char*) noexcept {
  XMEM_FAULT_POINT("name");
  return machine.namedMappings ? os::Status{} : os::errnoStatus(EINVAL);
}

os::Status FakePlatform::populate(void* address, std::size_t length) noexcept {
  XMEM_FAULT_POINT("populate");
  ++populateCalls_;
  std::lock_guard lock(mutex_);
  auto* mapping = findMapping(address);
  if (mapping == nullptr) return os::errnoStatus(EFAULT);
  if (switches.failPopulateOfPageSize.count(mapping->hugePageSize) != 0) return os::errnoStatus(EFAULT);
  mapping->populatedBytes += length;
  return {};
}

std::uint32_t FakePlatform::currentCpu() noexcept {
  // Threads spread over the fake's CPUs by their identity, as a scheduler would.
  return static_cast<std::uint32_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 4);
}

os::Status FakePlatform::query(const void* address, std::size_t length, RangeUsage& out) noexcept {
  XMEM_FAULT_POINT("query");
  std::lock_guard lock(mutex_);
  RangeUsage usage;
  usage.length = length;
  auto* begin = static_cast<const std::uint8_t*>(address);
  for (const auto& mapping : mappings_) {
    if (mapping.address < begin || mapping.address >= begin + length) continue;
    std::size_t pageSize = mapping.hugePageSize != 0 ? mapping.hugePageSize : kBasePage;
    usage.bytesByPageSize[pageSize] += mapping.length;
    if (mapping.hugePageSize != 0) usage.hugeTlbBytes += mapping.length;
    // The fake kernel backs every populated, advised 2 MiB range with a transparent huge page.
    if (mapping.advisedHuge && machine.thp.usable()) usage.thpBytes += alignDown(mapping.populatedBytes, kHugePageSize);
    usage.residentBytes += mapping.populatedBytes;
    if (mapping.locked && mapping.hugePageSize == 0) usage.lockedBytes += mapping.length;
    usage.bytesByNode[mapping.pagesTakenFrom] += mapping.populatedBytes;
  }
  out = usage;
  return {};
}

os::Status FakePlatform::survey(const void* address, std::size_t length, os::PageSurvey& out) noexcept {
  XMEM_FAULT_POINT("survey");
  std::lock_guard lock(mutex_);
  out = {};
  out.hugeKnown = true;
  const auto begin = reinterpret_cast<std::uintptr_t>(address);
  const auto end = begin + length;
  auto ordered = mappings_;
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
  for (const auto& mapping : ordered) {
    const auto start = reinterpret_cast<std::uintptr_t>(mapping.address);
    const auto stop = start + mapping.length;
    if (stop <= begin || start >= end) continue;
    out.areas.push_back({std::max(start, begin), std::min(stop, end), mapping.hugePageSize, 0});
    std::size_t huge = 0;
    if (mapping.hugePageSize == 0 && mapping.collapsed) huge = alignDown(mapping.length, kHugePageSize);
    else if (mapping.hugePageSize == 0 && mapping.advisedHuge && machine.thp.usable())
      huge = alignDown(mapping.populatedBytes, kHugePageSize);
    if (huge != 0 && std::max(start, begin) < std::min(start + huge, end))
      out.hugeRegions.emplace_back(std::max(start, begin), std::min(start + huge, end));
  }
  return {};
}

os::Status FakePlatform::pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept {
  XMEM_FAULT_POINT("pageNodes");
  return nodesOf(pages, count, nodes);
}

os::Status FakePlatform::nodesOf(const void* const* pages, std::size_t count, int* nodes) noexcept {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < count; ++i) {
    const auto* page = static_cast<const std::uint8_t*>(pages[i]);
    nodes[i] = os::page_answer::kNotMapped;
    for (const auto& mapping : mappings_) {
      if (page < mapping.address || page >= mapping.address + mapping.length) continue;
      if (static_cast<std::size_t>(page - mapping.address) >= mapping.populatedBytes) {
        nodes[i] = os::page_answer::kNotPresent;
      } else {
        auto moved = movedPages_.find(reinterpret_cast<std::uintptr_t>(page) / kBasePage);
        nodes[i] = static_cast<int>(moved != movedPages_.end() ? moved->second : mapping.pagesTakenFrom);
      }
    }
  }
  return {};
}

os::Status FakePlatform::movePages(void* const* pages, std::size_t count, std::uint32_t node, int* status) noexcept {
  XMEM_FAULT_POINT("movePages");
  std::vector<int> now(count);
  nodesOf(const_cast<const void* const*>(pages), count, now.data());
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < count; ++i) {
    if (now[i] < 0) {
      status[i] = now[i];
    } else if (node >= machine.nodes.size()) {
      status[i] = os::page_answer::kFailed;
    } else if (switches.moveErrno != 0 && i % 2 == 1) {
      status[i] = os::pageAnswerOf(-switches.moveErrno);
    } else {
      movedPages_[reinterpret_cast<std::uintptr_t>(pages[i]) / kBasePage] = node;
      status[i] = static_cast<int>(node);
    }
  }
  return {};
}

os::Status FakePlatform::processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out) {
  if (auto failure = processErrno.find(pid); failure != processErrno.end())
    return os::errnoStatus(failure->second);
  auto found = processes.find(pid);
  if (found == processes.end()) return os::errnoStatus(ENOENT);
  ProcessUsage usage = found->second;
  std::erase_if(usage.mappings, [&](const MappingUsage& mapping) { return mapping.size() < minMappingBytes; });
  out = std::move(usage);
  return {};
}

os::Status FakePlatform::kernelCounters(KernelCounters& out) {
  if (kernelCountersErrno != 0) return os::errnoStatus(kernelCountersErrno);
  out = counters;
  return {};
}

os::Status FakePlatform::readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes,
                                              std::string& out) {
  if (name == nullptr || *name == '\0') return os::errnoStatus(EINVAL);
  auto found = publishedRecords.find({pid, name});
  if (found == publishedRecords.end()) return os::errnoStatus(ENOENT);
  out = found->second.substr(0, maxBytes);
  return {};
}

std::int64_t FakePlatform::processId() const noexcept { return os::posixPlatform().processId(); }
bool FakePlatform::processAlive(std::int64_t pid) const noexcept { return os::posixPlatform().processAlive(pid); }

}  // namespace xmem::testing

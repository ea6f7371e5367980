#include <xmem/system_info.h>
#include <xmem/topology.h>
#include <xmem/virtual_memory.h>

#include "mapping/allocation_registry.h"
#include "mapping/backoff_table.h"
#include "mapping/fork_safety.h"
#include "mapping/mapping_plan.h"
#include "machine/os_error.h"
#include "os/os.h"
#include "mapping/prefault.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <cstdio>
#include <map>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

namespace xmem {
namespace {

using os::Status;

// Beyond any real machine; catches negative sizes converted to size_t.
constexpr std::size_t kMaxSize = std::size_t{1} << 48;

std::string nodeList(const SystemInfo& info) {
  std::string list;
  for (const auto& node : info.nodes) list += (list.empty() ? "" : ", ") + std::to_string(node.id);
  return list;
}

// mlock fails for want of a limit as often as of memory: a failure it cannot name is a permission one.
ErrorCode lockErrorCode(const Status& status) {
  const ErrorCode code = errorCodeOf(status);
  return code == ErrorCode::SystemError ? ErrorCode::PermissionDenied : code;
}

std::string lockFailureReason(os::Platform& os, std::size_t bytes, const Status& status) {
  std::string reason = "mlock of " + formatBytes(bytes) + " failed: " + os::describe(status);
  MemlockLimit limit;
  if (!os.memlockLimit(limit) || limit.privileged || limit.soft == MemlockLimit::kUnlimited) return reason;
  reason += "; " + os.describeMemlockLimit(limit) + "; ";
  reason += bytes > limit.soft ? os.memlockLimitAdvice()
                               : "memory this process has locked already counts against it";
  return reason;
}

// The explicit huge page sizes to try, as the kernel lists them: hugePages asks for the sizes
// below 1 GiB, oneGbPages for 1 GiB and up. On x86-64 that is 2 MiB and 1 GiB; arm64 lists others
// with its base page (4 KiB: 64 KiB, 2 MiB, 32 MiB, 1 GiB; 16 KiB: 2 MiB, 32 MiB, 1 GiB; 64 KiB:
// 2 MiB, 512 MiB, 16 GiB). The plan takes the largest first. `note` hears why a size is left out.
template <typename Note>
std::vector<std::size_t> wantedPageSizes(const VirtualMemoryOptions& options, const MachineFacts& facts, Note&& note) {
  std::vector<std::size_t> wanted;
  bool gigantic = false;
  bool huge = false;
  for (const auto& size : facts.hugePageSizes) {
    if (size.pageSize <= facts.basePageSize) continue;
    const bool isGigantic = size.pageSize >= kOneGbPageSize;
    (isGigantic ? gigantic : huge) = true;
    if (!(isGigantic ? options.oneGbPages : options.hugePages)) continue;
    if (size.pageSize == kOneGbPageSize && !facts.cpuHasOneGbPages) {
      note(formatBytes(size.pageSize) + " pages: the CPU has no 1 GiB page support");
      continue;
    }
    wanted.push_back(size.pageSize);
  }
  if (options.oneGbPages && !gigantic) note(formatBytes(kOneGbPageSize) + " pages: not offered by the kernel");
  if (options.hugePages && !huge) note(formatBytes(kHugePageSize) + " pages: not offered by the kernel");
  return wanted;
}

}  // namespace

// Builds one VirtualMemory: validation, the pool, the plan/map loop, then naming, pre-faulting,
// locking and the kernel's confirmation of what was obtained.
class Allocation {
 public:
  explicit Allocation(const VirtualMemoryOptions& options)
      : options_(options), os_(os::current()), info_(SystemInfo::get()) {}

  void run(VirtualMemory& out) {
    validate();
    out.platform_ = &os_;
    out.allowWriteExecute_ = options_.allowWriteExecute;
    report_.requestedSize = options_.size;
    report_.node = options_.node;
    report_.numaPolicy = placement().policy;
    if (tryPool(out)) return finish(out);
    mapWithCascade(out);
    name(out);
    prefaultAll(out);
    lock(out);
    verify(out);
    finish(out);
  }

 private:
  [[noreturn]] void fail(ErrorCode code, std::string message, int osError = 0,
                         std::optional<std::size_t> pageSize = std::nullopt) const {
    throw Error(code, std::move(message),
                {.size = options_.size, .node = options_.node, .pageSize = pageSize, .osError = osError});
  }

  void validate() const {
    if (options_.size == 0) fail(ErrorCode::InvalidArgument, "size 0: expected at least 1 byte");
    if (options_.size > kMaxSize)
      fail(ErrorCode::InvalidArgument, "size " + std::to_string(options_.size) + " is beyond any machine (at most " +
                                           formatBytes(kMaxSize) + ")");
    if (!isPowerOfTwo(options_.alignment))
      fail(ErrorCode::InvalidArgument,
           "alignment " + std::to_string(options_.alignment) + " is not a power of two");
    if (options_.alignment > kOneGbPageSize)
      fail(ErrorCode::InvalidArgument, "alignment " + formatBytes(options_.alignment) + " is above the 1 GiB maximum");
    if (options_.node && !info_->hasNode(*options_.node))
      fail(ErrorCode::InvalidArgument, "node " + std::to_string(*options_.node) +
                                           " does not exist: this machine has node(s) " + nodeList(*info_));
    for (auto node : options_.interleaveNodes.nodes())
      if (!info_->hasNode(node))
        fail(ErrorCode::InvalidArgument, "interleave node " + std::to_string(node) +
                                             " does not exist: this machine has node(s) " + nodeList(*info_));
    if (options_.executable && options_.usePool)
      fail(ErrorCode::InvalidArgument, "executable memory cannot come from a pool: its protection is per mapping");
  }

  os::Placement placement() const {
    os::Placement placement;
    if (options_.numaPolicy == NumaPolicy::Interleave) {
      placement.policy = NumaPolicy::Interleave;
      placement.nodes = options_.interleaveNodes;
      if (placement.nodes.empty())
        for (const auto& node : info_->nodes) placement.nodes.add(node.id);
    } else if (options_.node && options_.numaPolicy != NumaPolicy::None) {
      placement.policy = options_.numaPolicy;
      placement.nodes = NodeSet::single(*options_.node);
    }
    return placement;
  }

  // Free-page checks look at the node only when the kernel must take pages from it.
  std::optional<std::uint32_t> strictNode() const {
    return placement().policy == NumaPolicy::Bind ? options_.node : std::nullopt;
  }

  bool tryPool(VirtualMemory& out) {
    if (!options_.usePool) return false;
    std::shared_ptr<ChunkSource> pool = usePoolSource();
    if (!pool) {
      report_.decisions.push_back("pool: none installed");
      return false;
    }
    const std::uint32_t node = options_.node.value_or(os_.currentNode());
    const auto taken = pool->takeChunk(options_.size, node);
    if (!taken) {
      report_.decisions.push_back("pool: cannot serve " + formatBytes(options_.size) + " on node " +
                                  std::to_string(node));
      return false;
    }
    std::uint8_t* chunk = taken->address;
    const std::uint32_t servedBy = taken->node;
    if (reinterpret_cast<std::uintptr_t>(chunk) % options_.alignment != 0) {
      pool->giveBackChunk(chunk, options_.size, node);
      report_.decisions.push_back("pool: its chunk is not aligned to " + formatBytes(options_.alignment));
      return false;
    }
    if (options_.lock != LockPolicy::None) {
      // The caller's part of the chunk, whole pages. It stays locked when it goes back: an
      // munlock could undo the pool's own lock of those pages, and locking them again is free.
      const std::size_t lockBytes = alignUp(options_.size, info_->basePageSize);
      if (auto status = os_.lock(chunk, lockBytes); status) {
        report_.locked = true;
        out.flags_.set(VirtualMemory::FLAG_LOCK);
      } else {
        report_.lockError = lockFailureReason(os_, lockBytes, status);
        if (options_.lock == LockPolicy::Required) {
          pool->giveBackChunk(chunk, options_.size, node);
          fail(lockErrorCode(status),
               "pool: " + report_.lockError, status.code);
        }
      }
    }
    const bool huge = taken->hugePages;
    const std::size_t chunkSize = taken->size;
    out.data_ = chunk;
    out.report_.requestedSize = options_.size;  // what release() gives back if a later step throws
    out.pool_ = std::move(pool);
    out.poolNode_ = node;
    report_.mappedSize = chunkSize != 0 ? chunkSize : options_.size;
    report_.segments.push_back({0, report_.mappedSize, PageKind::Pool, huge ? kHugePageSize : info_->basePageSize});
    report_.node = servedBy;
    report_.decisions.push_back(std::string("pool: ") + formatBytes(options_.size) + " on node " +
                                std::to_string(servedBy) + (servedBy != node ? " (node " + std::to_string(node) + " was full)" : "") +
                                (huge ? " (huge pages)" : " (base pages)"));
    if (options_.prefaultThreads != 0) report_.decisions.push_back("pool: pre-faulting is the pool's own setting");
    out.flags_.set(VirtualMemory::FLAG_EXTERNAL);
    return true;
  }

  // One candidate per enabled huge page size, with what is free now; reasons for the others
  // (given once: a retry after a failed mapping would only repeat them).
  PlanInput planInput(const std::set<std::size_t>& failedNow) {
    const bool explain = failedNow.empty();
    auto note = [&](std::string line) {
      if (explain) report_.decisions.push_back(std::move(line));
    };
    PlanInput input;
    input.size = options_.size;
    input.basePageSize = info_->basePageSize;
    input.partial = options_.partialHugePages;
    input.mixSizes = os_.capabilities().hugePagesInReservation;
    input.countedNode = strictNode();
    const auto wanted = wantedPageSizes(options_, *info_, note);
    if (!wanted.empty() && !info_->largePageRight.usable())
      note("huge pages: \"Lock pages in memory\" is " + std::string(toString(info_->largePageRight.state)) +
           " for this account; trying them (xmem info says what to do)");
    for (auto pageSize : wanted) {
      const std::string label = formatBytes(pageSize) + " pages: ";
      if (failedNow.count(pageSize) != 0) continue;
      if (auto wait = BackoffTable::instance().backoff(pageSize, strictNode())) {
        note(label + "skipped for another " + std::to_string(wait->count()) + " ms after a recent failure");
        continue;
      }
      // Where the pool cannot be counted, only trying tells: the kernel takes a mapping's pages at
      // map time, so a failed mmap says so. Not on a strict node: there a mapping without pages
      // maps fine and dies of SIGBUS at first touch.
      const std::uint64_t allPages = alignUp(options_.size, pageSize) / pageSize;
      HugePageCounts global;
      if (auto status = os_.hugePageCounts(pageSize, std::nullopt, global); !status) {
        // No pool to count (Windows): they come from free memory at map time.
        if (os_.capabilities().hugePagesWithoutPool) {
          input.hugePages.push_back({pageSize, allPages});
        } else if (status.kind != os::Status::Kind::NotFound) {  // the kernel has no such size
          note(label + "free count unreadable (" + os::describe(status) + ")" +
               (strictNode() ? "; skipped on a strict node" : "; trying them"));
          if (!strictNode()) input.hugePages.push_back({pageSize, allPages});
        }
        continue;
      }
      std::uint64_t available = global.obtainable();
      if (auto node = strictNode()) {
        // A hugetlb mapping bound to a node without free pages maps fine and dies of SIGBUS at
        // first touch: count that node's pages, not the machine's.
        HugePageCounts onNode;
        if (auto status = os_.hugePageCounts(pageSize, node, onNode); !status) {
          note(label + "free count on node " + std::to_string(*node) + " unreadable (" + os::describe(status) +
               "); skipped on a strict node");
          continue;
        }
        available = std::min(available, onNode.free);
      }
      input.hugePages.push_back({pageSize, available});
    }
    input.transparent = options_.transparentHugePages && info_->thp.usable() && os_.capabilities().transparentHugePages;
    if (options_.transparentHugePages && !input.transparent)
      note("transparent huge pages: unavailable (THP mode " + std::string(toString(info_->thp.mode)) + ")");
    if (info_->thp.pmdSize != 0) input.transparentPageSize = info_->thp.pmdSize;
    return input;
  }

  struct MapFailure {
    std::size_t pageSize;  // 0: base pages failed, nothing left to fall back to
    Status status;
    std::string what;
  };

  // Maps every segment of the plan, or unmaps what it did and says which page size failed.
  std::optional<MapFailure> mapPlan(const Plan& plan, std::uint8_t*& base) {
    const std::size_t length = plan.length();
    std::size_t alignment = std::max(options_.alignment, plan.largestPageSize());
    const bool single = plan.segments.size() == 1;
    void* reserved = nullptr;
    if (!single) {
      if (auto status = os_.reserve(length, alignment, reserved); !status)
        return MapFailure{0, status, "reserving " + formatBytes(length) + " of address space"};
    }
    auto undo = [&](void* start) {
      if (start != nullptr) os_.unmap(start, length);
    };
    void* start = reserved;
    for (const auto& segment : plan.segments) {
      os::MapRequest request;
      request.length = segment.length;
      request.hugePageSize = segment.kind == PageKind::HugeTlb ? segment.pageSize : 0;
      request.protection = Protection::ReadWrite;
      request.placement = placement();
      request.fixedAddress = single ? nullptr : static_cast<std::uint8_t*>(reserved) + segment.offset;
      request.alignment = single ? alignment : 0;
      os::MapResult mapped;
      if (auto status = os_.map(request, mapped); !status) {
        undo(start);
        return MapFailure{request.hugePageSize, status, "mapping " + formatBytes(segment.length)};
      }
      if (single) start = mapped.address;
      if (!mapped.placementStatus) {
        std::string why = "binding to node(s) failed: " + os::describe(mapped.placementStatus);
        if (request.placement.policy == NumaPolicy::Bind) {
          undo(start);
          fail(errorCodeOf(mapped.placementStatus), "cannot bind " + formatBytes(length) + " to node " +
                                                         std::to_string(options_.node.value_or(0)) + ": " + why,
               mapped.placementStatus.code);
        }
        report_.bindError = why;
      }
      if (segment.kind == PageKind::Transparent) {
        if (auto status = os_.advise(mapped.address, segment.length, os::Advice::HugePages); !status)
          report_.decisions.push_back("transparent huge pages: madvise failed (" +
                                      os::describe(status) + "); base pages");
      } else if (segment.kind == PageKind::Base && !options_.transparentHugePages && info_->thp.mode == ThpMode::Always) {
        // THP turned off for this mapping means off, even where the kernel gives THP to everything.
        if (auto status = os_.advise(mapped.address, segment.length, os::Advice::NoHugePages); !status)
          report_.decisions.push_back("base pages: MADV_NOHUGEPAGE failed (" + os::describe(status) +
                                      "); the kernel may still use transparent huge pages");
      }
      if (segment.kind == PageKind::HugeTlb && request.placement.policy == NumaPolicy::Bind) {
        // Fault the pages in now: where the kernel reports errors, a node short of pages is an
        // EFAULT here, not a SIGBUS in the caller's first write.
        auto result = prefault(os_, {{static_cast<std::uint8_t*>(mapped.address), segment.length, segment.pageSize}},
                               threadCount(std::max(options_.prefaultThreads, 1U)));
        if (!result.status) {
          undo(start);
          return MapFailure{segment.pageSize, result.status,
                            "faulting in " + formatBytes(segment.length) + " on node " +
                                std::to_string(options_.node.value_or(0))};
        }
      }
    }
    base = static_cast<std::uint8_t*>(start);
    return std::nullopt;
  }

  void mapWithCascade(VirtualMemory& out) {
    std::set<std::size_t> failedNow;
    for (;;) {
      Plan plan = planMapping(planInput(failedNow));
      report_.decisions.insert(report_.decisions.end(), plan.decisions.begin(), plan.decisions.end());
      std::uint8_t* base = nullptr;
      auto failure = mapPlan(plan, base);
      if (!failure) {
        for (const auto& segment : plan.segments) {
          report_.segments.push_back({segment.offset, segment.length, segment.kind, segment.pageSize});
          if (segment.kind == PageKind::HugeTlb) BackoffTable::instance().recordSuccess(segment.pageSize, strictNode());
        }
        out.data_ = base;
        report_.mappedSize = plan.length();
        out.report_.mappedSize = report_.mappedSize;  // what release() unmaps if a later step throws
        report_.bound = placement().policy != NumaPolicy::None && report_.bindError.empty();
        return;
      }
      const std::string why = failure->what + " failed: " + os::describe(failure->status);
      if (failure->pageSize == 0) fail(errorCodeOf(failure->status), why, failure->status.code);
      BackoffTable::instance().recordFailure(failure->pageSize, strictNode());
      failedNow.insert(failure->pageSize);
      report_.decisions.push_back(formatBytes(failure->pageSize) + " pages: " + why +
                                  "; falling back (and not retrying them for a while)");
    }
  }

  static unsigned threadCount(unsigned requested) {
    unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    return requested == VirtualMemory::kAllCores ? cores : requested;
  }

  void name(VirtualMemory& out) {
    if (options_.name.empty()) return;
    if (!info_->namedMappings) {
      report_.decisions.push_back("name: this kernel cannot name mappings (needs CONFIG_ANON_VMA_NAME, Linux 5.17+)");
      return;
    }
    bool all = true;
    for (const auto& segment : report_.segments) {
      // hugetlb mappings are file-backed: the kernel names only anonymous memory.
      if (segment.kind == PageKind::HugeTlb) continue;
      if (auto status = os_.name(out.data_ + segment.offset, segment.length, options_.name.c_str()); !status && all) {
        report_.decisions.push_back("name: not shown in the process's maps (" + os::describe(status) + ")");
        all = false;
      }
    }
    report_.named = all;
  }

  void prefaultAll(VirtualMemory& out) {
    if (options_.prefaultThreads == 0) return;
    std::vector<PrefaultRange> ranges;
    for (const auto& segment : report_.segments)
      ranges.push_back({out.data_ + segment.offset, segment.length, segment.pageSize});
    auto result = prefault(os_, ranges, threadCount(options_.prefaultThreads), options_.prefaultProgress);
    report_.prefaultThreads = result.threads;
    report_.prefaultTime = result.time;
    if (!result.status) {
      fail(errorCodeOf(result.status),
           "faulting in " + formatBytes(report_.mappedSize) + " failed: " + os::describe(result.status),
           result.status.code);
    }
  }

  void lock(VirtualMemory& out) {
    if (options_.lock == LockPolicy::None) return;
    auto status = os_.lock(out.data_, report_.mappedSize);
    if (status) {
      report_.locked = true;
      out.flags_.set(VirtualMemory::FLAG_LOCK);
      return;
    }
    report_.lockError = lockFailureReason(os_, report_.mappedSize, status);
    if (options_.lock == LockPolicy::Required) {
      fail(lockErrorCode(status),
           report_.lockError, status.code);
    }
  }

  void verify(VirtualMemory& out) {
    // Reading smaps costs ~0.4 ms and grows with the process's mappings: only worth it once pages
    // are in (pre-faulted, locked, or hugetlb faulted in on a bound node). Untouched, the kernel has
    // nothing to say beyond the mapping's page size, which MAP_HUGETLB fixes.
    const bool resident = options_.prefaultThreads != 0 || report_.locked ||
                          (report_.bound && placement().policy == NumaPolicy::Bind && report_.bytesOf(PageKind::HugeTlb) != 0);
    const bool worthIt = report_.bytesOf(PageKind::HugeTlb) != 0 || report_.bytesOf(PageKind::Transparent) != 0 ||
                         report_.locked || options_.node;
    if (!resident || !worthIt) return;
    RangeUsage usage;
    if (auto status = os_.query(out.data_, report_.mappedSize, usage); !status) {
      report_.decisions.push_back("not verified: the kernel's view of the mapping could not be read (" +
                                  os::describe(status) + ")");
      return;
    }
    report_.verified = true;
    report_.thpVerifiedBytes = usage.thpBytes;
    report_.residentBytesByNode = usage.bytesByNode;
    // hugetlb pages are never swapped and the kernel counts them as not locked.
    const std::size_t lockable = report_.mappedSize - report_.hugeTlbBytes();
    if (report_.locked && usage.lockedBytes < lockable && os_.capabilities().queryShowsLocks)
      report_.decisions.push_back("kernel disagrees: only " + formatBytes(usage.lockedBytes) + " of " +
                                  formatBytes(lockable) + " are locked");
    // The one read above already has the bytes per kernel page size: compare each hugetlb size.
    std::map<std::size_t, std::size_t> planned;
    for (const auto& segment : report_.segments)
      if (segment.kind == PageKind::HugeTlb) planned[segment.pageSize] += segment.length;
    for (const auto& [pageSize, bytes] : planned)
      if (usage.bytesByPageSize[pageSize] != bytes)
        report_.decisions.push_back("kernel disagrees: " + formatBytes(usage.bytesByPageSize[pageSize]) + " of the " +
                                    formatBytes(bytes) + " meant for " + formatBytes(pageSize) + " pages are on them");
  }

  void finish(VirtualMemory& out) {
    if (report_.bytesOf(PageKind::HugeTlb, kOneGbPageSize) != 0) out.flags_.set(VirtualMemory::FLAG_1GB_PAGES);
    for (const auto& segment : report_.segments)
      if ((segment.kind == PageKind::HugeTlb || segment.kind == PageKind::Pool) && segment.pageSize > info_->basePageSize)
        out.flags_.set(VirtualMemory::FLAG_HUGEPAGES);
    out.report_ = std::move(report_);
    if (options_.listed)
      out.listed_ = AllocationRegistry::instance().add(
          AllocationRecord::of(reinterpret_cast<std::uintptr_t>(out.data_), out.report_, options_.name));
  }

  const VirtualMemoryOptions& options_;
  os::Platform& os_;
  std::shared_ptr<const SystemInfo> info_;
  AllocationReport report_;
};

// ---- AllocationReport

std::size_t AllocationReport::bytesOf(PageKind kind, std::size_t pageSize) const noexcept {
  std::size_t bytes = 0;
  for (const auto& segment : segments)
    if (segment.kind == kind && (pageSize == 0 || segment.pageSize == pageSize)) bytes += segment.length;
  return bytes;
}

double AllocationReport::hugeFraction() const noexcept {
  if (mappedSize == 0) return 0.0;
  std::size_t huge = hugeTlbBytes() + std::min(thpVerifiedBytes, thpEligibleBytes());
  for (const auto& segment : segments)
    if (segment.kind == PageKind::Pool && segment.pageSize > 4 * KiB) huge += segment.length;
  return static_cast<double>(huge) / static_cast<double>(mappedSize);
}

std::string AllocationReport::summary() const {
  std::string parts;
  for (const auto& segment : segments) {
    std::string part = formatBytes(segment.length);
    switch (segment.kind) {
      case PageKind::HugeTlb: part += " on " + formatBytes(segment.pageSize) + " pages"; break;
      case PageKind::Transparent:
        part += " transparent (" + (verified ? formatBytes(thpVerifiedBytes) + " huge now" : "not measured") + ")";
        break;
      case PageKind::Base: part += " on " + formatBytes(segment.pageSize) + " pages"; break;
      case PageKind::Pool: part += " from the pool (" + formatBytes(segment.pageSize) + " pages)"; break;
    }
    parts += (parts.empty() ? "" : " + ") + part;
  }
  char huge[32];
  std::snprintf(huge, sizeof huge, "huge %.1f%%", hugeFraction() * 100.0);
  std::string line = formatBytes(requestedSize) + ": " + parts + ", " + huge;
  if (numaPolicy != NumaPolicy::None)
    line += ", " + std::string(toString(numaPolicy)) + (node ? " node " + std::to_string(*node) : std::string()) +
            (bound ? "" : " (not applied)");
  if (locked) line += ", locked";
  if (!lockError.empty()) line += ", not locked";
  if (prefaultThreads != 0)
    line += ", pre-faulted by " + std::to_string(prefaultThreads) + " thread(s) in " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(prefaultTime).count()) + " ms";
  return line;
}

std::string describePages(const std::vector<PageCount>& pages) {
  std::string text;
  for (const auto& count : pages)
    text += (text.empty() ? "" : " + ") + std::to_string(count.pages) + " x " + formatBytes(count.pageSize);
  return text;
}

// ---- VirtualMemory

std::vector<PageCount> VirtualMemory::hugePagesFor(const Options& options, const MachineFacts& facts) {
  PlanInput input;
  input.size = options.size;
  input.basePageSize = facts.basePageSize;
  input.mixSizes = facts.mixedPageSizes;
  for (auto pageSize : wantedPageSizes(options, facts, [](const std::string&) {}))
    input.hugePages.push_back({pageSize, std::numeric_limits<std::uint64_t>::max()});
  std::vector<PageCount> pages;
  for (const auto& segment : planMapping(input).segments)
    if (segment.kind == PageKind::HugeTlb) pages.push_back({segment.pageSize, segment.length / segment.pageSize});
  return pages;
}

VirtualMemory::VirtualMemory(std::size_t size, bool hugePages, bool oneGbPages, bool usePool, std::uint32_t node,
                             std::size_t alignSize)
    : VirtualMemory([&] {
        Options options;
        options.size = size;
        options.hugePages = hugePages;
        options.oneGbPages = oneGbPages;
        options.transparentHugePages = hugePages;
        options.usePool = usePool;
        options.node = node;
        options.numaPolicy = NumaPolicy::Preferred;
        options.alignment = alignSize;
        return options;
      }()) {}

VirtualMemory::VirtualMemory(const Options& options) {
  // A throwing constructor runs no destructor: give back whatever was mapped before rethrowing.
  try {
    Allocation(options).run(*this);
  } catch (...) {
    release();
    throw;
  }
}

Result<VirtualMemory> VirtualMemory::tryAllocate(const Options& options) noexcept {
  try {
    return VirtualMemory(options);
  } catch (const Error& error) {
    return error;
  } catch (const std::bad_alloc&) {
    // Not a new message: making one needs the memory that just ran out.
    return Error::outOfMemory({.size = options.size, .node = options.node});
  } catch (const std::exception& error) {  // e.g. std::system_error from a pre-fault thread
    try {
      return Error(ErrorCode::SystemError, error.what(), {.size = options.size, .node = options.node});
    } catch (const std::bad_alloc&) {
      return Error::outOfMemory({.size = options.size, .node = options.node});
    }
  }
}

VirtualMemory VirtualMemory::allocateExecutableMemory(std::size_t size, bool hugePages) {
  Options options;
  options.size = size;
  options.hugePages = hugePages;
  options.transparentHugePages = hugePages;
  options.executable = true;
  return VirtualMemory(options);
}

VirtualMemory::VirtualMemory(VirtualMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      platform_(other.platform_),
      pool_(std::move(other.pool_)),
      poolNode_(other.poolNode_),
      listed_(std::exchange(other.listed_, nullptr)),
      report_(std::move(other.report_)),
      flags_(std::exchange(other.flags_, {})),
      allowWriteExecute_(other.allowWriteExecute_),
      protection_(other.protection_) {}

VirtualMemory& VirtualMemory::operator=(VirtualMemory&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    platform_ = other.platform_;
    pool_ = std::move(other.pool_);
    poolNode_ = other.poolNode_;
    listed_ = std::exchange(other.listed_, nullptr);
    report_ = std::move(other.report_);
    flags_ = std::exchange(other.flags_, {});
    allowWriteExecute_ = other.allowWriteExecute_;
    protection_ = other.protection_;
  }
  return *this;
}

VirtualMemory::~VirtualMemory() { release(); }

void VirtualMemory::release() noexcept {
  if (data_ == nullptr) return;
  AllocationRegistry::instance().remove(std::exchange(listed_, nullptr));
  if (pool_)
    pool_->giveBackChunk(data_, report_.requestedSize, poolNode_);
  else
    platform_->unmap(data_, report_.mappedSize);  // one call: every part's boundary is aligned to its page size
  data_ = nullptr;
  pool_.reset();
}

std::uint8_t* VirtualMemory::detach() noexcept {
  if (pool_) return nullptr;
  AllocationRegistry::instance().remove(std::exchange(listed_, nullptr));  // the caller keeps its own books
  return std::exchange(data_, nullptr);
}

void VirtualMemory::unmapDetached(void* data, std::size_t mappedSize) noexcept {
  if (data != nullptr) os::current().unmap(data, mappedSize);
}

std::pair<std::size_t, std::size_t> VirtualMemory::hugePages() const noexcept {
  const std::size_t total = (report_.mappedSize + kHugePageSize - 1) / kHugePageSize;
  const auto huge = static_cast<std::size_t>(report_.hugeFraction() * static_cast<double>(report_.mappedSize)) / kHugePageSize;
  return {std::min(huge, total), total};
}

RangeUsage VirtualMemory::usage() const {
  if (data_ == nullptr) return {};
  RangeUsage usage;
  if (auto status = platform_->query(data_, report_.mappedSize, usage); !status)
    throw osFailure(status, "reading the kernel's view of the mapping failed", {.size = report_.mappedSize});
  return usage;
}

std::size_t VirtualMemory::discard() {
  if (data_ == nullptr || pool_) return 0;
  std::size_t given = 0;
  for (const auto& segment : report_.segments) {
    if (segment.kind == PageKind::HugeTlb) continue;
    auto* start = data_ + segment.offset;
    if (auto status = platform_->advise(start, segment.length, os::Advice::DontNeed); !status)
      throw osFailure(status, "giving back " + formatBytes(segment.length) + " failed", {.size = segment.length});
    // Where the OS drops pages by mapping them anew (generic POSIX), they come back read-write and
    // unlocked: the mapping's protection (as protect() last set it for the whole; a range changed
    // alone goes back to that) and its lock are put back.
    if (platform_->capabilities().giveBackMapsAnew) {
      if (protection_ != Protection::ReadWrite)
        if (auto status = platform_->protect(start, segment.length, protection_); !status)
          throw osFailure(status, "restoring " + std::string(toString(protection_)) + " after giving pages back failed",
                          {.size = segment.length});
      if (report_.locked)
        if (auto status = platform_->lock(start, segment.length); !status)
          throw osFailure(status, "locking again after giving pages back failed", {.size = segment.length});
    }
    given += segment.length;
  }
  report_.thpVerifiedBytes = 0;
  return given;
}


RangeUsage queryUsage(const void* address, std::size_t length) {
  if (address == nullptr || length == 0)
    throw Error(ErrorCode::InvalidArgument, "queryUsage needs a range: got address " +
                                                std::string(address == nullptr ? "null" : "set") + ", length " +
                                                std::to_string(length));
  RangeUsage usage;
  if (auto status = os::current().query(address, length, usage); !status)
    throw osFailure(status, "reading the kernel's view of " + formatBytes(length) + " failed", {.size = length});
  return usage;
}

void VirtualMemory::protect(Protection protection) {
  if (data_ == nullptr) throw Error(ErrorCode::InvalidArgument, "protect on an empty VirtualMemory");
  if (pool_)
    throw Error(ErrorCode::Unsupported, "memory from a pool shares its pages with other chunks: its protection cannot change");
  if (protection == Protection::ReadWriteExecute && !allowWriteExecute_)
    throw Error(ErrorCode::PermissionDenied,
                "protectRWX refused: memory is W^X unless allocated with VirtualMemoryOptions::allowWriteExecute; "
                "write it read-write, then protectRX()",
                {.size = report_.mappedSize});
  if (auto status = platform_->protect(data_, report_.mappedSize, protection); !status)
    throw osFailure(status, "changing " + formatBytes(report_.mappedSize) + " to " + std::string(toString(protection)) + " failed",
                    {.size = report_.mappedSize});
  protection_ = protection;
}

void VirtualMemory::protectRW() { protect(Protection::ReadWrite); }
void VirtualMemory::protectRX() { protect(Protection::ReadExecute); }
void VirtualMemory::protectRWX() { protect(Protection::ReadWriteExecute); }

namespace {
void protectRange(void* address, std::size_t size, Protection protection) {
  if (address == nullptr || size == 0)
    throw Error(ErrorCode::InvalidArgument, "protect needs a range: got " +
                                                std::string(address == nullptr ? "a null address" : "size 0"));
  // mprotect works on whole pages: cover every page the range touches.
  const std::size_t page = SystemInfo::get()->basePageSize;
  auto start = alignDown(reinterpret_cast<std::uintptr_t>(address), page);
  auto end = alignUp(reinterpret_cast<std::uintptr_t>(address) + size, page);
  if (auto status = os::current().protect(reinterpret_cast<void*>(start), end - start, protection); !status)
    throw osFailure(status, "changing " + formatBytes(size) + " to " + std::string(toString(protection)) + " failed",
                    {.size = size});
}
}  // namespace

void VirtualMemory::protectRW(void* address, std::size_t size) { protectRange(address, size, Protection::ReadWrite); }
void VirtualMemory::protectRX(void* address, std::size_t size) { protectRange(address, size, Protection::ReadExecute); }
void VirtualMemory::protectRWX(void* address, std::size_t size) {
  protectRange(address, size, Protection::ReadWriteExecute);
}

bool VirtualMemory::bindToNUMANode(std::int64_t affinity, bool pin) {
  if (affinity < 0) return false;
  try {
    return bindThreadToCpu(static_cast<std::uint32_t>(affinity), pin, *Topology::get()).error.empty();
  } catch (const Error&) {
    return false;
  }
}

bool VirtualMemory::isHugepagesAvailable() { return xmem::isHugePagesAvailable(); }
bool VirtualMemory::isOneGbPagesAvailable() { return xmem::isOneGbPagesAvailable(); }
std::size_t VirtualMemory::alignToHugePageSize(std::size_t pos) { return xmem::alignToHugePageSize(pos); }

void VirtualMemory::setHugePageRetryDelay(std::chrono::milliseconds delay) noexcept {
  try {
    BackoffTable::instance().setDelay(delay);
  } catch (...) {
  }
}

namespace {
std::mutex usePoolMutex;
std::shared_ptr<ChunkSource> usePoolInstalled;
}  // namespace

void lockUsePoolSource() noexcept { usePoolMutex.lock(); }
void unlockUsePoolSource() noexcept { usePoolMutex.unlock(); }

std::shared_ptr<ChunkSource> usePoolSource() {
  std::lock_guard lock(usePoolMutex);
  return usePoolInstalled;
}

std::shared_ptr<ChunkSource> setUsePoolSource(std::shared_ptr<ChunkSource> source) {
  std::lock_guard lock(usePoolMutex);
  std::swap(usePoolInstalled, source);
  return source;
}

}  // namespace xmem

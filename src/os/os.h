// The os layer: everything xmem asks of the operating system, behind one interface, in words of
// its own (Status, page answers, MachineFacts). Only files under src/os/<os>/ include OS headers;
// a new OS implements Platform, describeOsError() and the mapping of its codes to Status::Kind.
//
// Contract, for every function below unless it says otherwise:
// - noexcept; the return value is a Status: a kind the layers above decide on, and the OS's own
//   code for messages. Out-parameters are written only on success.
// - Addresses passed in are aligned to the base page size, lengths are > 0 and multiples of the
//   page size of the range they touch (the hugetlb page size for explicit huge pages: the kernel
//   rejects munmap/mprotect of a hugetlb range otherwise).
// - A range passed in lies within one region obtained from reserve() or map(); the caller owns it.
// - New memory reads as zero. Nothing here touches a page unless the function says it does.
// - Functions that a platform cannot do return Kind::Unsupported; Capabilities says which in
//   advance, so callers decide without trying.
//
// The platforms: Linux (src/os/linux), generic POSIX (src/os/posix: macOS, the BSDs) and Windows
// (src/os/windows), which reserves with VirtualAlloc(MEM_RESERVE), maps large pages only as whole
// regions from free memory (Capabilities::hugePagesInReservation false, hugePagesWithoutPool true)
// and places memory on a node at map time, which is why a MapRequest carries its placement.
#pragma once

#include <xmem/memory_facts.h>
#include <xmem/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xmem::os {

/// The outcome of an OS call.
struct Status {
  enum class Kind : std::uint8_t {
    Ok,
    Unsupported,   ///< the OS or this kernel cannot do it
    NoMemory,      ///< no memory, no free huge pages, or no address space
    NoPermission,  ///< a privilege or a limit (such as RLIMIT_MEMLOCK) stands in the way
    Busy,          ///< in use by someone else
    TryAgain,      ///< a transient failure: the same call may work later
    Invalid,       ///< the OS rejects the arguments for this range (e.g. pages it cannot collapse)
    NotFound,      ///< no such file, node or page size
    BadAddress,    ///< the range is not (wholly) mapped, or a page cannot be had there
    Other,
  };
  Kind kind = Kind::Ok;
  int code = 0;  ///< the OS's own code (errno on POSIX, GetLastError() on Windows); 0 when ok

  constexpr bool ok() const noexcept { return kind == Kind::Ok; }
  constexpr explicit operator bool() const noexcept { return ok(); }
};

/// What pageNodes() and movePages() say of each page: its node (>= 0) or why there is none.
namespace page_answer {
inline constexpr int kNotPresent = -1;  ///< not in memory now (never touched, or swapped out)
inline constexpr int kNotMapped = -2;   ///< no mapping there (or the shared zero page)
inline constexpr int kBusy = -3;        ///< in use (under I/O, pinned, or moving): may work later
inline constexpr int kNodeFull = -4;    ///< the target node has no memory for it
inline constexpr int kRefused = -5;     ///< shared with other processes, or not movable at all
inline constexpr int kFailed = -6;      ///< any other reason
}  // namespace page_answer
/// "busy", "node full", ...: a page_answer (below 0) for people.
std::string_view pageAnswerName(int answer) noexcept;

struct Placement {
  NumaPolicy policy = NumaPolicy::None;
  NodeSet nodes;  ///< one node for Preferred/Bind, the set for Interleave
};

struct MapRequest {
  std::size_t length = 0;
  /// 0: base pages. Otherwise an explicit huge page size the kernel offers (hugetlb); the mapping
  /// is backed by pages reserved for it at map time, so faults cannot fail for lack of pages
  /// unless a Bind placement names a node without free pages (see populate()).
  std::size_t hugePageSize = 0;
  Protection protection = Protection::ReadWrite;
  Placement placement;
  /// nullptr: anywhere, aligned to `alignment`. Otherwise the address inside a reserve()d region
  /// to map over (the reservation's pages there are replaced).
  void* fixedAddress = nullptr;
  std::size_t alignment = 0;  ///< only for fixedAddress == nullptr; 0: natural page alignment
};

struct MapResult {
  void* address = nullptr;
  /// The placement could not be applied; the mapping exists and is the caller's to keep or unmap.
  Status placementStatus;
};

enum class Advice : std::uint8_t {
  HugePages,    ///< back with transparent huge pages where possible (MADV_HUGEPAGE)
  NoHugePages,  ///< never (MADV_NOHUGEPAGE)
  DontNeed,     ///< drop the pages; they read as zero again (MADV_DONTNEED). Where
                ///< Capabilities::giveBackMapsAnew, they come back read-write and unlocked
  Collapse,     ///< make transparent huge pages of the range now (MADV_COLLAPSE, Linux 6.1+);
                ///< TryAgain: try again; Invalid: this range cannot be collapsed. Whether the kernel
                ///< has it at all is Capabilities::collapseOnRequest, not an error to interpret
};

/// What the page tables say about a range right now: the truth behind where().
struct PageSurvey {
  struct Area {
    std::uintptr_t start = 0;         ///< clipped to the range
    std::uintptr_t end = 0;
    std::size_t hugeTlbPageSize = 0;  ///< explicit huge pages of this size; 0: base pages (THP possible)
    std::size_t anonHugeBytes = 0;    ///< THP of the kernel's area, scaled to the part inside the range
  };
  std::vector<Area> areas;  ///< mapped areas in address order; what lies between is not mapped
  /// [start, end) runs of the range on PMD-size transparent huge pages, when `hugeKnown`.
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> hugeRegions;
  bool hugeKnown = false;   ///< located page by page; otherwise only the per-area figure is known

  /// Bytes on transparent huge pages: the located runs outside hugetlb areas (the kernel may
  /// count hugetlb pages as huge too), or the per-area figures where nothing was located.
  std::size_t transparentBytes() const noexcept {
    std::size_t bytes = 0;
    for (const auto& area : areas) {
      if (area.hugeTlbPageSize != 0) continue;
      if (!hugeKnown) {
        bytes += area.anonHugeBytes;
        continue;
      }
      for (const auto& [start, end] : hugeRegions) {
        const auto overlapStart = start > area.start ? start : area.start;
        const auto overlapEnd = end < area.end ? end : area.end;
        if (overlapStart < overlapEnd) bytes += overlapEnd - overlapStart;
      }
    }
    return bytes;
  }
};

/// Reserved huge pages of one size, as a boot configuration should bring them back.
struct BootPages {
  std::size_t pageSize = 0;
  std::uint64_t total = 0;                          ///< system-wide
  std::vector<std::pair<std::uint32_t, std::uint64_t>> nodes;  ///< per node, when the machine has several
};

/// How this OS reserves huge pages at boot: a file it reads at start-up, and what the kernel's
/// command line needs for what that file cannot do (1 GiB pages, per-node counts).
struct BootConfiguration {
  std::string path;
  std::string content;
  std::string kernelCommandLine;  ///< empty when the file does it all
};

struct Capabilities {
  bool hugePagesInReservation = false;  ///< explicit huge pages can be mapped inside a reserve()d region
  bool transparentHugePages = false;
  bool collapseOnRequest = false;  ///< Advice::Collapse exists (probed once, not guessed from errors)
  /// query() counts locked bytes (Linux: smaps). Where false, lockedBytes is 0 for want of a way to tell.
  bool queryShowsLocks = false;
  /// Advice::DontNeed maps the range anew (generic POSIX: no zeroing madvise): it comes back
  /// read-write and unlocked, so the caller restores its protection and its lock.
  bool giveBackMapsAnew = false;
  /// Huge pages come from free memory at map time, not from a pool with counts (Windows): whether
  /// there are enough, contiguous, is known only by trying. hugePageCounts() is Unsupported.
  bool hugePagesWithoutPool = false;
  /// Memory can only be preferred on a node, never bound or interleaved (Windows): xmem's own
  /// node-local memory (pools, bandwidth arrays) prefers its node there; a caller's Bind fails.
  bool preferredPlacementOnly = false;
};

/// The strongest placement on one node the platform in use offers: Bind, or Preferred where it
/// can only prefer (Capabilities::preferredPlacementOnly).
NumaPolicy nodeLocalPolicy() noexcept;

class Platform {
 public:
  virtual ~Platform() = default;

  virtual Capabilities capabilities() const noexcept = 0;

  /// A full snapshot of what the machine offers. Not noexcept-cheap: reads many files.
  virtual MachineFacts probe() = 0;
  /// Live counts of one huge page size, system-wide (node empty) or on one node.
  virtual Status hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t> node,
                                HugePageCounts& out) noexcept = 0;

  /// Set the pool of `pageSize` pages (on `node`, or system-wide) to `count` pages. Needs root;
  /// the kernel may keep fewer (fragmentation): read the count back.
  virtual Status setHugePageCount(std::size_t pageSize, std::optional<std::uint32_t> node, std::uint64_t count) noexcept = 0;
  /// Whether this process may change that count (EACCES/EPERM otherwise), without changing it.
  virtual Status checkHugePageCountWritable(std::size_t pageSize, std::optional<std::uint32_t> node) noexcept = 0;
  /// Ask the kernel to defragment memory (/proc/sys/vm/compact_memory); takes seconds.
  virtual Status compactMemory() noexcept = 0;
  /// The file that holds the count (for messages and dry runs).
  virtual std::string hugePageCountPath(std::size_t pageSize, std::optional<std::uint32_t> node) const = 0;
  /// Where xmem keeps what it changed, gone at reboot as the reservations are.
  virtual std::string stateDirectory() const = 0;
  /// The boot configuration that reserves `pages` again, its file in `directory` (empty: the
  /// OS's own place for it). Says; writes nothing.
  virtual BootConfiguration bootConfiguration(const std::vector<BootPages>& pages, const std::string& directory) const = 0;

  /// Take an exclusive lock on the file `path` (created, mode 0600, if missing), waiting for
  /// another process that holds it. `handle` identifies it for unlockFile(). The lock is the
  /// kernel's (flock): it goes when the process dies, so a crash never leaves it held.
  virtual Status lockFile(const char* path, int& handle) noexcept = 0;
  virtual Status unlockFile(int handle) noexcept = 0;
  /// Replace the file `path` with `length` bytes of `data` so that a reader (or a crash) sees the
  /// old contents or the new ones, never a mix: written to a temporary file beside it, flushed to
  /// the disk, then renamed over it.
  virtual Status replaceFile(const char* path, const char* data, std::size_t length) noexcept = 0;

  /// The memlock limit as it is now (a process may change its own limit).
  virtual Status memlockLimit(MemlockLimit& out) noexcept = 0;
  /// How a person raises that limit on this OS, in a phrase ("raise it with ...").
  virtual std::string memlockLimitAdvice() const = 0;
  /// The limit in this OS's words ("RLIMIT_MEMLOCK is 8 MiB (hard limit 8 MiB) and this process
  /// lacks CAP_IPC_LOCK"), for a lock that failed.
  virtual std::string describeMemlockLimit(const MemlockLimit& limit) const;

  /// Reserve `length` bytes of address space aligned to `alignment` (a power of two), inaccessible,
  /// committing no memory. Release it with unmap().
  virtual Status reserve(std::size_t length, std::size_t alignment, void*& out) noexcept = 0;
  /// Map memory as the request says, apply its placement before any page is touched.
  virtual Status map(const MapRequest& request, MapResult& out) noexcept = 0;
  /// Unmap a mapped or reserved range (the whole of it, or whole huge-page-aligned parts).
  virtual Status unmap(void* address, std::size_t length) noexcept = 0;
  virtual Status advise(void* address, std::size_t length, Advice advice) noexcept = 0;
  virtual Status protect(void* address, std::size_t length, Protection protection) noexcept = 0;
  virtual Status lock(void* address, std::size_t length) noexcept = 0;
  virtual Status unlock(void* address, std::size_t length) noexcept = 0;
  /// Name a range for the OS's listing of mappings. Kind::Unsupported where the kernel cannot.
  virtual Status name(void* address, std::size_t length, const char* name) noexcept = 0;
  /// Fault every page of the range in for writing, without changing its contents. Where
  /// MachineFacts::populateReportsErrors, a page that cannot be had (a hugetlb page on a bound node
  /// without free pages) is EFAULT here instead of SIGBUS at first touch.
  virtual Status populate(void* address, std::size_t length) noexcept = 0;
  /// The kernel's view of the range. Partially covered kernel areas are clamped to the range.
  virtual Status query(const void* address, std::size_t length, RangeUsage& out) noexcept = 0;
  /// Areas and huge pages of the range, page by page where the kernel can tell.
  virtual Status survey(const void* address, std::size_t length, PageSurvey& out) noexcept = 0;
  /// The node of each page: nodes[i] >= 0, or a page_answer (kNotPresent: not in memory now).
  virtual Status pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept = 0;
  /// Move pages (mapped by this process only) to `node`. status[i]: the page's node afterwards,
  /// or a page_answer saying why it is not there.
  virtual Status movePages(void* const* pages, std::size_t count, std::uint32_t node, int* status) noexcept = 0;
  /// Set the calling thread's memory policy (set_mempolicy): where its new pages come from.
  virtual Status bindThreadMemory(const Placement& placement) noexcept = 0;
  /// Run the calling thread on `cpu` only.
  virtual Status pinThread(std::uint32_t cpu) noexcept = 0;
  /// The node of the CPU the calling thread runs on; 0 where the platform cannot tell.
  virtual std::uint32_t currentNode() noexcept = 0;
  /// The CPU the calling thread runs on now (it may move at any time); 0 where unknown. Cheap:
  /// pools call it on every get and release to pick a shard.
  virtual std::uint32_t currentCpu() noexcept = 0;
  /// CPUs the system has configured (an upper bound for currentCpu() + 1).
  virtual std::uint32_t cpuCount() noexcept = 0;

  // Monitoring: what any process's memory is, read from outside it, and the kernel's counters.
  /// Process `pid` (0: this process): its status figures and its mappings of at least
  /// `minMappingBytes`. NotFound when there is no such process, NoPermission when it is not ours.
  virtual Status processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out) = 0;
  /// THP and compaction event counters and free memory by buddy order, per node and zone.
  virtual Status kernelCounters(KernelCounters& out) = 0;
  /// The bytes of the shared record area `name` that process `pid` published (Linux: a memfd it
  /// holds open), up to `maxBytes`. NotFound when it has none.
  virtual Status readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes, std::string& out) = 0;
  /// The machine's host name ("" when unknown).
  virtual std::string hostName() const = 0;
  /// This process's id.
  virtual std::int64_t processId() const noexcept = 0;
  /// Whether process `pid` runs now (another user's too). A dead process's id reused later reads
  /// as alive: callers that must not act on a live process's behalf lose nothing by it.
  virtual bool processAlive(std::int64_t pid) const noexcept = 0;
  /// A message for this OS's own code of a failure (errno, or a Win32 error code).
  virtual std::string describeError(int code) const;
};

/// The platform in use: the real one for this OS unless a test installed another.
Platform& current() noexcept;

/// Counts installs and uninstalls of a ScopedPlatform: caches of what the platform said (the
/// machine layer's SystemInfo) compare it to know when to ask again.
std::uint64_t platformGeneration() noexcept;

/// For tests: install `platform` for the lifetime of this object (not thread-safe: do it while
/// no allocation is running). Caches of the platform's answers notice (platformGeneration()).
class ScopedPlatform {
 public:
  explicit ScopedPlatform(Platform& platform) noexcept;
  ~ScopedPlatform();
  ScopedPlatform(const ScopedPlatform&) = delete;
  ScopedPlatform& operator=(const ScopedPlatform&) = delete;

 private:
  Platform* previous_;
};

/// Have `prepare` run in the forking thread before fork(), and `parent` / `child` after it, in the
/// process itself (POSIX pthread_atfork), whatever platform a test installed: for locks a forked
/// child must find free. False where the OS has no fork.
bool atFork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept;

/// A message for the OS's own code of a failure, e.g. "Cannot allocate memory (ENOMEM)": the
/// platform in use says it (a test that installs the Windows platform reads Windows' words).
std::string describeOsError(int code);
/// The same for a Status; its kind's name when it has no code of the OS.
std::string describe(const Status& status);
std::string_view toString(Status::Kind kind) noexcept;

}  // namespace xmem::os

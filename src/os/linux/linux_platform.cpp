// The Linux platform: mmap/madvise/mbind/mlock and the kernel's text files.
#include "os/linux/linux_platform.h"

#include "os/linux/proc_parsers.h"
#include "os/linux/process_readers.h"

#include <dirent.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <string>

// Constants newer than some C libraries' headers; the values are the kernel ABI.
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41  // Linux 5.17, with CONFIG_ANON_VMA_NAME
#define PR_SET_VMA_ANON_NAME 0
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1
#endif

// The PAGEMAP_SCAN ioctl of /proc/PID/pagemap (Linux 6.7); Debian 12's headers predate it.
namespace xmem::os::pagemap_scan {
struct PageRegion {
  std::uint64_t start;
  std::uint64_t end;
  std::uint64_t categories;
};
struct ScanArgument {
  std::uint64_t size;
  std::uint64_t flags;
  std::uint64_t start;
  std::uint64_t end;
  std::uint64_t walkEnd;
  std::uint64_t vec;
  std::uint64_t vecLength;
  std::uint64_t maxPages;
  std::uint64_t categoryInverted;
  std::uint64_t categoryMask;
  std::uint64_t categoryAnyOfMask;
  std::uint64_t returnMask;
};
constexpr unsigned long kRequest = _IOWR('f', 16, ScanArgument);
constexpr std::uint64_t kPageIsHuge = 1U << 6;
constexpr std::uint64_t kPageIsPresent = 1U << 3;
}  // namespace xmem::os::pagemap_scan

namespace xmem::os {
namespace {

namespace text = linux_text;

constexpr unsigned kCapIpcLock = 14;
constexpr const char* kHugePagesDir = "/sys/kernel/mm/hugepages";
constexpr const char* kNodesDir = "/sys/devices/system/node";

Status lastError() noexcept { return errnoStatus(errno != 0 ? errno : EIO); }

// Reads a small file into a fixed buffer: no allocation, usable from noexcept paths.
bool readSmallFile(const char* path, char* buffer, std::size_t capacity, std::size_t& length) noexcept {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t got = ::read(fd, buffer, capacity - 1);
  ::close(fd);
  if (got < 0) return false;
  length = static_cast<std::size_t>(got);
  buffer[length] = '\0';
  return true;
}

std::optional<std::uint64_t> readCounter(const std::string& path) noexcept {
  char buffer[64];
  std::size_t length = 0;
  if (!readSmallFile(path.c_str(), buffer, sizeof buffer, length)) return std::nullopt;
  return text::parseUnsigned(std::string_view(buffer, length));
}

std::optional<std::string> readFile(const std::string& path);

// The largest data or unified cache of CPU 0, from sysfs ("32768K").
std::size_t probeLastLevelCache() {
  std::size_t largest = 0;
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    auto type = readFile(dir + "type");
    if (!type) break;
    if (type->starts_with("Instruction")) continue;
    if (auto size = readFile(dir + "size")) {
      auto kib = text::parseUnsigned(*size);
      if (kib) largest = std::max<std::size_t>(largest, *kib * 1024);
    }
  }
  return largest;
}

std::optional<std::string> readFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string content;
  char buffer[16384];
  for (;;) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return content;
}

// Runs of [begin, end) on PMD-mapped huge pages, from the PAGEMAP_SCAN ioctl (Linux 6.7+).
bool scanHugeRegions(std::uintptr_t begin, std::uintptr_t end, std::vector<std::pair<std::uintptr_t, std::uintptr_t>>& out) {
  namespace scan = pagemap_scan;
  int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::vector<scan::PageRegion> regions(256);
  bool known = true;
  for (std::uintptr_t cursor = begin; cursor < end;) {
    scan::ScanArgument argument{};
    argument.size = sizeof argument;
    argument.start = cursor;
    argument.end = end;
    argument.vec = reinterpret_cast<std::uintptr_t>(regions.data());
    argument.vecLength = regions.size();
    argument.categoryMask = scan::kPageIsHuge | scan::kPageIsPresent;
    argument.returnMask = scan::kPageIsHuge;
    const int found = ::ioctl(fd, scan::kRequest, &argument);
    if (found < 0) {
      known = false;  // ENOTTY / EINVAL: a kernel without the ioctl
      break;
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(found); ++i) {
      if (!out.empty() && out.back().second == regions[i].start) out.back().second = regions[i].end;
      else out.emplace_back(regions[i].start, regions[i].end);
    }
    if (argument.walkEnd <= cursor) break;
    cursor = argument.walkEnd;
  }
  ::close(fd);
  if (!known) out.clear();
  return known;
}

// Older kernels: each 2 MiB block's pagemap entries (frame numbers need root) and the
// kpageflags of those frames, judged by text::isPmdMappedThp, for the blocks of the range only.
// The page words cannot tell a whole 2 MiB folio whose PMD a partial mprotect or munmap split into
// PTE mappings from a PMD mapping (PAGEMAP_SCAN, Linux 6.7+, can); smaps' AnonHugePages counts
// PMD mappings only, so where an area lies wholly in the range the two are compared: fewer blocks
// than smaps counts, or more, means the survey does not know which. Except that with NUMA
// balancing on, more is believed: Debian's 6.1 kernel leaves out of AnonHugePages the THPs whose
// PMD NUMA balancing has made PROT_NONE for a hinting fault (seen in the 2-node guest:
// thp_fault_alloc 64, AnonHugePages 34 of 128 MiB; all 128 with numa_balancing=0).
bool hugeRegionsFromPageFlags(const std::vector<text::SmapsArea>& areas, std::uintptr_t begin, std::uintptr_t end,
                              std::size_t basePage, PageSurvey& survey) {
  constexpr std::size_t kPmd = 2 * 1024 * 1024;
  const std::size_t pages = kPmd / basePage;
  std::vector<std::uint64_t> entries(pages);
  std::vector<std::uint64_t> frameFlags(pages + 1);
  std::vector<std::uintptr_t> hugeBlocks;
  int pagemap = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  int flags = ::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
  bool known = pagemap >= 0 && flags >= 0;
  const bool numaBalancing = readCounter("/proc/sys/kernel/numa_balancing").value_or(0) != 0;
  for (const auto& area : areas) {
    if (!known) break;
    if (area.end <= begin || area.start >= end || area.kernelPageSize > basePage) continue;
    hugeBlocks.clear();
    const auto blocksBegin = begin & ~(kPmd - 1);
    const auto blocksEnd = (end + kPmd - 1) & ~(kPmd - 1);
    const auto areaFrom = std::max(area.start, blocksBegin);
    const auto areaTo = std::min(area.end, blocksEnd);
    for (std::uintptr_t block = (areaFrom + kPmd - 1) & ~(kPmd - 1); block + kPmd <= areaTo; block += kPmd) {
      const auto entryBytes = static_cast<ssize_t>(pages * sizeof(std::uint64_t));
      if (::pread(pagemap, entries.data(), static_cast<std::size_t>(entryBytes),
                  static_cast<off_t>(block / basePage * sizeof(std::uint64_t))) != entryBytes) {
        known = false;
        break;
      }
      if ((entries[0] & text::page_bits::kPresent) == 0) continue;
      const std::uint64_t frame = entries[0] & text::page_bits::kFrameMask;
      if (frame == 0) {  // frame numbers hidden: not root
        known = false;
        break;
      }
      // The frame after the block may be past the end of memory: a short read is fine.
      const ssize_t got = ::pread(flags, frameFlags.data(), frameFlags.size() * sizeof(std::uint64_t),
                                  static_cast<off_t>(frame * sizeof(std::uint64_t)));
      if (got < static_cast<ssize_t>(sizeof(std::uint64_t))) {
        known = false;
        break;
      }
      const auto words = std::min(frameFlags.size(), static_cast<std::size_t>(got) / sizeof(std::uint64_t));
      if (text::isPmdMappedThp(entries, std::span<const std::uint64_t>(frameFlags.data(), words)))
        hugeBlocks.push_back(block);
    }
    const bool wholeArea = area.start >= blocksBegin && area.end <= blocksEnd;
    const std::size_t located = hugeBlocks.size() * kPmd;
    if (known && wholeArea && (located < area.anonHugePages || (located > area.anonHugePages && !numaBalancing)))
      known = false;  // see above
    for (auto block : hugeBlocks) {
      if (!known || block + kPmd <= begin || block >= end) continue;
      const auto from = std::max(block, begin);
      const auto to = std::min(block + kPmd, end);
      auto& runs = survey.hugeRegions;
      if (!runs.empty() && runs.back().second == from) runs.back().second = to;
      else runs.emplace_back(from, to);
    }
  }
  if (pagemap >= 0) ::close(pagemap);
  if (flags >= 0) ::close(flags);
  if (!known) survey.hugeRegions.clear();
  return known;
}

// The areas of [begin, begin + length) from parsed smaps, and its THP located page by page.
PageSurvey surveyOf(const std::vector<text::SmapsArea>& smaps, std::uintptr_t begin, std::size_t length) {
  const auto end = begin + length;
  const auto basePage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  PageSurvey out;
  for (const auto& area : smaps) {
    if (area.end <= begin || area.start >= end) continue;
    const auto start = std::max(area.start, begin);
    const auto stop = std::min(area.end, end);
    // The kernel counts THP per area: scale it to the part inside the range.
    const auto inside = static_cast<double>(stop - start) / static_cast<double>(area.end - area.start);
    out.areas.push_back({start, stop, area.kernelPageSize > basePage ? area.kernelPageSize : 0,
                         static_cast<std::size_t>(static_cast<double>(area.anonHugePages) * inside)});
  }
  out.hugeKnown = scanHugeRegions(begin, end, out.hugeRegions) || hugeRegionsFromPageFlags(smaps, begin, end, basePage, out);
  return out;
}

// The kernel acts on the write itself and reports a refusal as the write's error.
Status writeText(const std::string& path, const std::string& text) noexcept {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return lastError();
  ssize_t written = ::write(fd, text.data(), text.size());
  Status status = written < 0 ? lastError() : Status{};
  ::close(fd);
  return status;
}

std::vector<std::string> listDirectory(const char* path, const char* prefix) {
  std::vector<std::string> names;
  if (DIR* dir = ::opendir(path)) {
    while (dirent* entry = ::readdir(dir)) {
      if (std::strncmp(entry->d_name, prefix, std::strlen(prefix)) == 0) names.emplace_back(entry->d_name);
    }
    ::closedir(dir);
  }
  return names;
}

int hugePageFlags(std::size_t pageSize) noexcept {
  if (pageSize == 0) return 0;
  // MAP_HUGE_* encodes log2(page size) above MAP_HUGE_SHIFT.
  return MAP_HUGETLB | (std::countr_zero(pageSize) << MAP_HUGE_SHIFT);
}

// A kernel built without NUMA (CONFIG_NUMA=n, as on many arm64 boards) has no mbind or
// set_mempolicy: ENOSYS. All its memory is node 0's, so a placement on node 0 alone holds anyway.
bool withoutNumaOnNodeZero(const Placement& placement) noexcept {
  return errno == ENOSYS && placement.nodes == NodeSet::single(0);
}

Status applyPlacement(void* address, std::size_t length, const Placement& placement) noexcept {
  if (placement.policy == NumaPolicy::None) return {};
  int mode = MPOL_DEFAULT;
  switch (placement.policy) {
    case NumaPolicy::None: return {};
    case NumaPolicy::Preferred: mode = MPOL_PREFERRED; break;
    case NumaPolicy::Bind: mode = MPOL_BIND; break;
    case NumaPolicy::Interleave: mode = MPOL_INTERLEAVE; break;
  }
  // The kernel reads maxnode - 1 bits of the mask.
  unsigned long maxNode = NodeSet::kMaxNodes + 1;
  if (::syscall(SYS_mbind, address, length, mode, placement.nodes.words(), maxNode, 0U) != 0)
    return withoutNumaOnNodeZero(placement) ? Status{} : lastError();
  return {};
}

bool probePopulateReportsErrors() noexcept {
  std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* probe = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (probe == MAP_FAILED) return false;
  bool supported = ::madvise(probe, page, MADV_POPULATE_WRITE) == 0;
  ::munmap(probe, page);
  return supported;
}

bool probeNamedMappings() noexcept {
  std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* probe = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (probe == MAP_FAILED) return false;
  bool supported = ::prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, probe, page, "xmem:probe") == 0;
  ::munmap(probe, page);
  return supported;
}

// madvise checks that it knows the advice before anything else and returns 0 for an empty range
// right after, without looking at any mapping: so EINVAL for an empty range means "no such
// advice", and nothing else can. (Kernels before 6.1, or built without THP, lack MADV_COLLAPSE.)
bool probeCollapseOnRequest() noexcept {
  auto* anyPageAligned = reinterpret_cast<void*>(static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)));
  return ::madvise(anyPageAligned, 0, MADV_COLLAPSE) == 0;
}

std::vector<NumaNodeInfo> probeNodes() {
  std::vector<NumaNodeInfo> nodes;
  auto online = readFile(std::string(kNodesDir) + "/online");
  for (auto id : online ? text::parseCpuList(*online) : std::vector<std::uint32_t>{}) {
    std::string dir = std::string(kNodesDir) + "/node" + std::to_string(id);
    NumaNodeInfo node;
    node.id = id;
    if (auto cpus = readFile(dir + "/cpulist")) node.cpus = text::parseCpuList(*cpus);
    if (auto distances = readFile(dir + "/distance")) node.distances = text::parseNumbers(*distances);
    if (auto meminfo = readFile(dir + "/meminfo")) {
      node.memoryTotal = text::findKibField(*meminfo, "MemTotal").value_or(0);
      node.memoryFree = text::findKibField(*meminfo, "MemFree").value_or(0);
    }
    nodes.push_back(std::move(node));
  }
  if (nodes.empty()) {
    // A kernel without NUMA support: the whole machine is node 0.
    NumaNodeInfo node;
    if (auto cpus = readFile("/sys/devices/system/cpu/online")) node.cpus = text::parseCpuList(*cpus);
    if (auto meminfo = readFile("/proc/meminfo")) {
      node.memoryTotal = text::findKibField(*meminfo, "MemTotal").value_or(0);
      node.memoryFree = text::findKibField(*meminfo, "MemFree").value_or(0);
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

class LinuxPlatform final : public PosixPlatform {
 public:
  // Probed once, here: a function-local static would hold its guard during the probe, and a
  // fork() at that moment would leave the child waiting on it.
  LinuxPlatform() noexcept : collapseOnRequest_(probeCollapseOnRequest()) {
    for (auto& node : nodeOfCpu_) node.store(-1, std::memory_order_relaxed);
  }

  Capabilities capabilities() const noexcept override {
    return {.hugePagesInReservation = true, .transparentHugePages = true, .collapseOnRequest = collapseOnRequest_,
            .queryShowsLocks = true};
  }

  MachineFacts probe() override {
    MachineFacts info;
    info.platform = "linux";
    utsname names{};
    if (::uname(&names) == 0) info.kernel = names.release;
    info.basePageSize = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    info.nodes = probeNodes();

    if (auto meminfo = readFile("/proc/meminfo")) {
      info.defaultHugePageSize = static_cast<std::size_t>(text::findKibField(*meminfo, "Hugepagesize").value_or(0));
      info.memoryTotal = text::findKibField(*meminfo, "MemTotal").value_or(0);
      info.memoryAvailable = text::findKibField(*meminfo, "MemAvailable").value_or(0);
    }
    for (const auto& dirName : listDirectory(kHugePagesDir, "hugepages-")) {
      auto kib = text::parseUnsigned(std::string_view(dirName).substr(10));
      if (!kib) continue;
      HugePageSizeInfo size;
      size.pageSize = static_cast<std::size_t>(*kib * 1024);
      hugePageCounts(size.pageSize, std::nullopt, size.counts);
      for (const auto& node : info.nodes) {
        HugePageCounts counts;
        if (hugePageCounts(size.pageSize, node.id, counts)) size.nodes[node.id] = counts;
      }
      info.hugePageSizes.push_back(std::move(size));
    }
    std::sort(info.hugePageSizes.begin(), info.hugePageSizes.end(),
              [](const auto& a, const auto& b) { return a.pageSize < b.pageSize; });

    auto cpuinfo = readFile("/proc/cpuinfo");
#if defined(__x86_64__) || defined(__i386__)
    info.cpuHasOneGbPages = cpuinfo && text::cpuHasFlag(*cpuinfo, "pdpe1gb");
#else
    info.cpuHasOneGbPages = info.hugePages(kOneGbPageSize) != nullptr;
#endif

    const std::string thpDir = "/sys/kernel/mm/transparent_hugepage";
    if (auto enabled = readFile(thpDir + "/enabled")) {
      info.thp.mode = text::parseThpMode(*enabled);
      if (auto defrag = readFile(thpDir + "/defrag")) info.thp.defrag = std::string(text::selectedWord(*defrag));
      info.thp.pmdSize = static_cast<std::size_t>(readCounter(thpDir + "/hpage_pmd_size").value_or(0));
    }

    memlockLimit(info.memlock);

    info.populateReportsErrors = probePopulateReportsErrors();
    info.namedMappings = probeNamedMappings();
    info.lastLevelCacheBytes = probeLastLevelCache();
    return info;
  }

  Status hugePageCounts(std::size_t pageSize, std::optional<std::uint32_t> node,
                        HugePageCounts& out) noexcept override {
    char dir[160];
    if (node)
      std::snprintf(dir, sizeof dir, "%s/node%u/hugepages/hugepages-%zukB", kNodesDir, *node, pageSize / 1024);
    else
      std::snprintf(dir, sizeof dir, "%s/hugepages-%zukB", kHugePagesDir, pageSize / 1024);
    auto counter = [&](const char* name) -> std::optional<std::uint64_t> {
      char path[224];
      std::snprintf(path, sizeof path, "%s/%s", dir, name);
      char buffer[64];
      std::size_t length = 0;
      if (!readSmallFile(path, buffer, sizeof buffer, length)) return std::nullopt;
      return text::parseUnsigned(std::string_view(buffer, length));
    };
    auto total = counter("nr_hugepages");
    auto free = counter("free_hugepages");
    if (!total || !free) return errnoStatus(ENOENT);
    HugePageCounts counts;
    counts.total = *total;
    counts.free = *free;
    counts.reserved = node ? 0 : counter("resv_hugepages").value_or(0);
    counts.overcommit = node ? 0 : counter("nr_overcommit_hugepages").value_or(0);
    counts.surplus = counter("surplus_hugepages").value_or(0);
    out = counts;
    return {};
  }

  Status memlockLimit(MemlockLimit& out) noexcept override {
    MemlockLimit result;
    if (Status status = PosixPlatform::memlockLimit(result); !status) return status;
    char status[4096];
    std::size_t length = 0;
    if (readSmallFile("/proc/self/status", status, sizeof status, length))
      result.privileged = text::hasEffectiveCapability(std::string_view(status, length), kCapIpcLock);
    out = result;
    return {};
  }

  std::string stateDirectory() const override { return "/run/xmem"; }

  std::string memlockLimitAdvice() const override {
    return "raise it with `ulimit -l unlimited`, LimitMEMLOCK=infinity in a systemd unit, or a memlock line in "
           "/etc/security/limits.conf";
  }

  BootConfiguration bootConfiguration(const std::vector<BootPages>& pages, const std::string& directory) const override {
    BootConfiguration configuration;
    configuration.path = (directory.empty() ? std::string("/etc/sysctl.d") : directory) + "/60-xmem-hugepages.conf";
    std::uint64_t twoMb = 0;
    for (const auto& size : pages) {
      if (size.total == 0) continue;
      if (size.pageSize == kHugePageSize) twoMb = size.total;
      // The kernel's per-node syntax: hugepages=0:N,1:M applies to the hugepagesz= before it.
      std::string perNode;
      for (const auto& [node, total] : size.nodes)
        if (total != 0) perNode += (perNode.empty() ? "" : ",") + std::to_string(node) + ":" + std::to_string(total);
      const std::string sizeText = size.pageSize >= GiB ? std::to_string(size.pageSize / GiB) + "G"
                                                        : std::to_string(size.pageSize / MiB) + "M";
      configuration.kernelCommandLine += (configuration.kernelCommandLine.empty() ? "" : " ") + std::string("hugepagesz=") +
                                         sizeText + " hugepages=" + (size.nodes.size() > 1 ? perNode : std::to_string(size.total));
    }
    configuration.content = "# Written by xmem: huge pages reserved at boot.\nvm.nr_hugepages = " + std::to_string(twoMb) + "\n";
    return configuration;
  }

  std::string hugePageCountPath(std::size_t pageSize, std::optional<std::uint32_t> node) const override {
    return (node ? std::string(kNodesDir) + "/node" + std::to_string(*node) + "/hugepages"
                 : std::string(kHugePagesDir)) +
           "/hugepages-" + std::to_string(pageSize / 1024) + "kB/nr_hugepages";
  }

  Status setHugePageCount(std::size_t pageSize, std::optional<std::uint32_t> node, std::uint64_t count) noexcept override {
    try {
      return writeText(hugePageCountPath(pageSize, node), std::to_string(count) + "\n");
    } catch (...) {
      return errnoStatus(ENOMEM);
    }
  }

  Status checkHugePageCountWritable(std::size_t pageSize, std::optional<std::uint32_t> node) noexcept override {
    try {
      return ::access(hugePageCountPath(pageSize, node).c_str(), W_OK) == 0 ? Status{} : lastError();
    } catch (...) {
      return errnoStatus(ENOMEM);
    }
  }

  Status compactMemory() noexcept override { return writeText("/proc/sys/vm/compact_memory", "1\n"); }

  Status map(const MapRequest& request, MapResult& out) noexcept override {
    const int prot = protectionBits(request.protection);
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | hugePageFlags(request.hugePageSize);
    void* target = request.fixedAddress;
    const std::size_t natural = request.hugePageSize != 0 ? request.hugePageSize
                                                          : static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    bool ownReservation = false;
    if (target == nullptr && request.alignment > natural) {
      // mmap only aligns to the page size: make room at the alignment first, then map over it.
      if (Status status = reserveAligned(request.length, request.alignment, target); !status) return status;
      ownReservation = true;
    }
    if (target != nullptr) flags |= MAP_FIXED;
    void* address = ::mmap(target, request.length, prot, flags, -1, 0);
    if (address == MAP_FAILED) {
      Status status = lastError();
      if (ownReservation) ::munmap(target, request.length);
      return status;
    }
    MapResult result{address, {}};
    result.placementStatus = applyPlacement(address, request.length, request.placement);
    out = result;
    return {};
  }

  Status advise(void* address, std::size_t length, Advice advice) noexcept override {
    int value = MADV_NORMAL;
    switch (advice) {
      case Advice::HugePages: value = MADV_HUGEPAGE; break;
      case Advice::NoHugePages: value = MADV_NOHUGEPAGE; break;
      case Advice::DontNeed: value = MADV_DONTNEED; break;
      case Advice::Collapse: value = MADV_COLLAPSE; break;
    }
    return ::madvise(address, length, value) == 0 ? Status{} : lastError();
  }

  // The system calls, not the libc wrappers: sanitizer runtimes replace mlock() with a no-op that
  // reports success, which would make xmem claim memory is locked when it is not.
  Status lock(void* address, std::size_t length) noexcept override {
    return ::syscall(SYS_mlock, address, length) == 0 ? Status{} : lastError();
  }

  Status unlock(void* address, std::size_t length) noexcept override {
    return ::syscall(SYS_munlock, address, length) == 0 ? Status{} : lastError();
  }

  Status name(void* address, std::size_t length, const char* label) noexcept override {
    return ::prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, address, length, label) == 0 ? Status{} : lastError();
  }

  Status populate(void* address, std::size_t length) noexcept override {
    for (;;) {
      if (::madvise(address, length, MADV_POPULATE_WRITE) == 0) return {};
      // EINTR: a signal arrived; the pages done so far stay done, so simply go on.
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno != EINVAL) return lastError();
      break;
    }
    // Kernels before 5.14: touch one byte per base page. A missing hugetlb page then raises
    // SIGBUS instead of an error, which is why callers check free counts first.
    return PosixPlatform::populate(address, length);
  }

  Status query(const void* address, std::size_t length, RangeUsage& out) noexcept override {
    try {
      auto smaps = readFile("/proc/self/smaps");
      if (!smaps) return lastError();
      auto numaMaps = readFile("/proc/self/numa_maps");
      auto begin = reinterpret_cast<std::uintptr_t>(address);
      const auto areas = text::parseSmaps(*smaps);
      out = text::summarizeRange(areas, numaMaps ? text::parseNumaMaps(*numaMaps) : std::vector<text::NumaMapsArea>{},
                                 begin, begin + length, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
      // THP located page by page where the kernel lets us: smaps can miss some (see above).
      if (const auto located = surveyOf(areas, begin, length); located.hugeKnown) out.thpBytes = located.transparentBytes();
      return {};
    } catch (...) {
      return errnoStatus(ENOMEM);
    }
  }

  Status survey(const void* address, std::size_t length, PageSurvey& out) noexcept override {
    try {
      auto smaps = readFile("/proc/self/smaps");
      if (!smaps) return lastError();
      out = surveyOf(text::parseSmaps(*smaps), reinterpret_cast<std::uintptr_t>(address), length);
      return {};
    } catch (...) {
      return errnoStatus(ENOMEM);
    }
  }

  Status pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept override {
    // move_pages without target nodes moves nothing and reports where each page is.
    if (::syscall(SYS_move_pages, 0, count, const_cast<void**>(pages), nullptr, nodes, 0) != 0) return lastError();
    for (std::size_t i = 0; i < count; ++i) nodes[i] = pageAnswerOf(nodes[i]);
    return {};
  }

  Status movePages(void* const* pages, std::size_t count, std::uint32_t node, int* status) noexcept override {
    constexpr std::size_t kBatch = 1024;
    int targets[kBatch];
    std::fill(std::begin(targets), std::end(targets), static_cast<int>(node));
    for (std::size_t done = 0; done < count; done += kBatch) {
      const std::size_t batch = std::min(kBatch, count - done);
      // A positive return counts pages the kernel could not move; their status says why.
      if (::syscall(SYS_move_pages, 0, batch, const_cast<void**>(pages + done), targets, status + done, MPOL_MF_MOVE) < 0)
        return lastError();
    }
    for (std::size_t i = 0; i < count; ++i) status[i] = pageAnswerOf(status[i]);
    return {};
  }

  Status bindThreadMemory(const Placement& placement) noexcept override {
    int mode = MPOL_DEFAULT;
    switch (placement.policy) {
      case NumaPolicy::None: mode = MPOL_DEFAULT; break;
      case NumaPolicy::Preferred: mode = MPOL_PREFERRED; break;
      case NumaPolicy::Bind: mode = MPOL_BIND; break;
      case NumaPolicy::Interleave: mode = MPOL_INTERLEAVE; break;
    }
    const unsigned long maxNode = NodeSet::kMaxNodes + 1;
    const std::uint64_t* mask = placement.policy == NumaPolicy::None ? nullptr : placement.nodes.words();
    if (::syscall(SYS_set_mempolicy, mode, mask, mask == nullptr ? 0UL : maxNode) == 0) return {};
    const bool noPolicy = errno == ENOSYS && placement.policy == NumaPolicy::None;  // a kernel without NUMA
    return noPolicy || withoutNumaOnNodeZero(placement) ? Status{} : lastError();
  }

  Status pinThread(std::uint32_t cpu) noexcept override {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return ::sched_setaffinity(0, sizeof set, &set) == 0 ? Status{} : lastError();
  }

  // glibc reads the CPU from the thread's rseq area (or the vDSO): no system call.
  std::uint32_t currentCpu() noexcept override {
    int cpu = ::sched_getcpu();
    return cpu < 0 ? 0 : static_cast<std::uint32_t>(cpu);
  }

  Status processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out) override {
    return linux_readers::processUsage(pid, minMappingBytes, out);
  }
  Status kernelCounters(KernelCounters& out) override { return linux_readers::kernelCounters(out); }
  Status readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes, std::string& out) override {
    return linux_readers::readPublishedRecords(pid, name, maxBytes, out);
  }

  // A killed process stays a zombie until its parent reaps it (or for ever, under an init that
  // does not): signal 0 still reaches it, but it holds nothing and will put nothing back.
  bool processAlive(std::int64_t pid) const noexcept override {
    if (!PosixPlatform::processAlive(pid)) return false;
    char path[48];
    std::snprintf(path, sizeof path, "/proc/%lld/stat", static_cast<long long>(pid));
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;  // no /proc: what signal 0 said
    char text[512];
    const ssize_t length = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (length <= 0) return true;
    text[length] = '\0';
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, the last ')' ends it.
    const char* end = std::strrchr(text, ')');
    if (end == nullptr || end[1] != ' ') return true;
    return end[2] != 'Z' && end[2] != 'X';
  }

  // The CPU from rseq (a load), its node from a table filled from getcpu() (the vDSO) the first
  // time each CPU is seen: the raw system call cost the preload's pool path a kernel entry per
  // request. CPUs do not change node while they are online.
  std::uint32_t currentNode() noexcept override {
    const int cpu = ::sched_getcpu();
    if (cpu >= 0 && static_cast<std::size_t>(cpu) < kCpusCached) {
      const int node = nodeOfCpu_[cpu].load(std::memory_order_relaxed);
      if (node >= 0) return static_cast<std::uint32_t>(node);
    }
    unsigned seenCpu = 0;
    unsigned node = 0;
    if (::getcpu(&seenCpu, &node) != 0) return 0;
    if (seenCpu < kCpusCached) nodeOfCpu_[seenCpu].store(static_cast<int>(node), std::memory_order_relaxed);
    return node;
  }

 private:
  static constexpr std::size_t kCpusCached = 4096;
  std::atomic<int> nodeOfCpu_[kCpusCached];  // -1: not seen yet
  bool collapseOnRequest_;
};

}  // namespace

Platform& linuxPlatform() noexcept {
  // Never destroyed: memory handed out (or detached) may be unmapped by late static destructors
  // and by the preload library's free() after main returns.
  static auto* platform = new LinuxPlatform;
  return *platform;
}

int pageAnswerOf(int kernelAnswer) noexcept {
  if (kernelAnswer >= 0) return kernelAnswer;
  switch (-kernelAnswer) {
    case ENOENT: return page_answer::kNotPresent;
    case EFAULT: return page_answer::kNotMapped;
    case EBUSY: case EAGAIN: return page_answer::kBusy;
    case ENOMEM: return page_answer::kNodeFull;
    case EACCES: case EPERM: case EINVAL: return page_answer::kRefused;
    default: return page_answer::kFailed;
  }
}

std::string describeLinuxError(int code) {
  if (code == ENOSYS) return "not supported by this kernel (ENOSYS)";
  std::string message = describeErrno(code);
  // The portable table names the usual codes; glibc names all of them.
  if (message.back() != ')')
    if (const char* name = strerrorname_np(code)) message += std::string(" (") + name + ")";
  return message;
}

}  // namespace xmem::os

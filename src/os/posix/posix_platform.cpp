// The generic POSIX platform (see posix_platform.h): calls every Unix has, nothing else.
#include "os/posix/posix_platform.h"

#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

// What only Linux has may not be used here: this file is what macOS and the BSDs compile, and it is
// tested on Linux, where all of these would compile and work and prove nothing.
// (The macros are undefined first: poisoning a defined macro is only a warning.)
#pragma GCC poison mbind set_mempolicy get_mempolicy move_pages prctl syscall sched_getcpu getcpu
#pragma GCC poison sched_setaffinity sched_getaffinity pthread_setaffinity_np mremap memfd_create
#pragma GCC poison strerrorname_np madvise
#undef MAP_HUGETLB
#undef MAP_POPULATE
#undef MAP_NORESERVE
#undef MADV_HUGEPAGE
#undef MADV_POPULATE_WRITE
#undef O_TMPFILE
#pragma GCC poison MAP_HUGETLB MAP_POPULATE MAP_NORESERVE MADV_HUGEPAGE MADV_POPULATE_WRITE O_TMPFILE

namespace xmem::os {
namespace {

constexpr Status kUnsupported{Status::Kind::Unsupported, ENOSYS};

// mincore's vector is unsigned char* on Linux and char* on the BSDs and macOS, its address const
// on some: deduce both rather than guess.
template <typename Address, typename Vector>
int callMincore(int (*mincoreOf)(Address, std::size_t, Vector*), const void* address, std::size_t length,
                unsigned char* vector) noexcept {
  return mincoreOf(static_cast<Address>(const_cast<void*>(address)), length, reinterpret_cast<Vector*>(vector));
}

// One node, 0, holds all memory: a placement on it alone is what happens anyway; any other node
// does not exist here.
Status placementOnTheOneNode(const Placement& placement) noexcept {
  if (placement.policy == NumaPolicy::None || placement.nodes == NodeSet::single(0)) return {};
  return kUnsupported;
}

enum class PageState : std::uint8_t { Resident, NotResident, NotMapped };

// Calls `visit(pageAddress, state)` for each base page of [begin, begin + length), in order.
// mincore fails for a whole call with ENOMEM when any page of it is not mapped: then that chunk is
// asked again page by page, so a hole costs a system call per page of its chunk only.
template <typename Visit>
bool visitPages(std::uintptr_t begin, std::size_t length, std::size_t page, Visit&& visit) noexcept {
  constexpr std::size_t kChunkPages = 512;
  unsigned char states[kChunkPages];
  const std::uintptr_t end = alignUp(begin + length, page);  // whole pages: mincore asks no less
  for (std::uintptr_t chunk = begin & ~(page - 1); chunk < end;) {
    const std::size_t pages = std::min(kChunkPages, (end - chunk) / page);
    const auto* start = reinterpret_cast<const void*>(chunk);
    if (callMincore(::mincore, start, pages * page, states) == 0) {
      for (std::size_t i = 0; i < pages; ++i)
        visit(chunk + i * page, (states[i] & 1) != 0 ? PageState::Resident : PageState::NotResident);
    } else if (errno == ENOMEM) {
      for (std::size_t i = 0; i < pages; ++i) {
        const auto at = chunk + i * page;
        unsigned char state = 0;
        if (callMincore(::mincore, reinterpret_cast<const void*>(at), page, &state) == 0)
          visit(at, (state & 1) != 0 ? PageState::Resident : PageState::NotResident);
        else if (errno == ENOMEM)
          visit(at, PageState::NotMapped);
        else
          return false;
      }
    } else {
      return false;
    }
    chunk += pages * page;
  }
  return true;
}

// Symbolic names of the codes xmem meets; the C library's text says the rest.
const char* errnoName(int code) noexcept {
  switch (code) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return nullptr;
  }
}

}  // namespace

Status errnoStatus(int error) noexcept {
  using Kind = Status::Kind;
  switch (error) {
    case 0: return {};
    case ENOSYS: case EOPNOTSUPP: return {Kind::Unsupported, error};
#if ENOTSUP != EOPNOTSUPP
    case ENOTSUP: return {Kind::Unsupported, error};
#endif
    case ENOMEM: return {Kind::NoMemory, error};
    case EPERM: case EACCES: case EROFS: return {Kind::NoPermission, error};
    case EBUSY: return {Kind::Busy, error};
    case EAGAIN: case EINTR: return {Kind::TryAgain, error};
    case EINVAL: case ENAMETOOLONG: return {Kind::Invalid, error};
    case ENOENT: case ENODEV: return {Kind::NotFound, error};
    case EFAULT: return {Kind::BadAddress, error};
    default: return {Kind::Other, error};
  }
}

std::string describeErrno(int code) {
  // ENOSYS is also xmem's own "this platform cannot": its libc text ("Function not implemented")
  // reads like a bug. std::generic_category is strerror without its shared buffer.
  std::string message = code == ENOSYS ? "not supported here" : std::generic_category().message(code);
  if (const char* name = errnoName(code)) message += std::string(" (") + name + ")";
  return message;
}

Status PosixPlatform::lastError() noexcept { return errnoStatus(errno != 0 ? errno : EIO); }

std::size_t PosixPlatform::basePage() noexcept {
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

int PosixPlatform::protectionBits(Protection protection) noexcept {
  switch (protection) {
    case Protection::None: return PROT_NONE;
    case Protection::Read: return PROT_READ;
    case Protection::ReadWrite: return PROT_READ | PROT_WRITE;
    case Protection::ReadExecute: return PROT_READ | PROT_EXEC;
    case Protection::ReadWriteExecute: return PROT_READ | PROT_WRITE | PROT_EXEC;
  }
  return PROT_NONE;
}

Status PosixPlatform::reserveAligned(std::size_t length, std::size_t alignment, void*& out) noexcept {
  const std::size_t page = basePage();
  alignment = std::max(alignment, page);
  const std::size_t padded = length + (alignment > page ? alignment : 0);
  if (padded < length) return errnoStatus(ENOMEM);
  // PROT_NONE private memory is address space only: no commit charge, nothing to back.
  void* raw = ::mmap(nullptr, padded, PROT_NONE, MAP_PRIVATE | MAP_ANON, -1, 0);
  if (raw == MAP_FAILED) return lastError();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const auto aligned = alignUp(start, alignment);
  if (aligned > start) ::munmap(raw, aligned - start);
  const auto tail = start + padded - (aligned + length);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + length), tail);
  out = reinterpret_cast<void*>(aligned);
  return {};
}

MachineFacts PosixPlatform::portableFacts() {
  MachineFacts info;
  utsname names{};
  if (::uname(&names) == 0) info.kernel = std::string(names.sysname) + " " + names.release;
  info.basePageSize = basePage();
  const long physical = ::sysconf(_SC_PHYS_PAGES);
  if (physical > 0) info.memoryTotal = static_cast<std::uint64_t>(physical) * info.basePageSize;
#ifdef _SC_AVPHYS_PAGES  // glibc and Solaris; macOS and FreeBSD say it through sysctl only
  const long available = ::sysconf(_SC_AVPHYS_PAGES);
  if (available > 0) info.memoryAvailable = static_cast<std::uint64_t>(available) * info.basePageSize;
#endif
  NumaNodeInfo node;
  for (std::uint32_t cpu = 0; cpu < cpuCount(); ++cpu) node.cpus.push_back(cpu);
  node.memoryTotal = info.memoryTotal;
  node.memoryFree = info.memoryAvailable;
  info.nodes.push_back(std::move(node));
  memlockLimit(info.memlock);
#ifdef _SC_LEVEL3_CACHE_SIZE  // glibc
  const long cache = ::sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (cache > 0) info.lastLevelCacheBytes = static_cast<std::size_t>(cache);
#endif
  return info;
}

Capabilities PosixPlatform::capabilities() const noexcept { return {.giveBackMapsAnew = true}; }

MachineFacts PosixPlatform::probe() {
  MachineFacts info = portableFacts();
  info.platform = "posix";
  return info;
}

Status PosixPlatform::hugePageCounts(std::size_t, std::optional<std::uint32_t>, HugePageCounts&) noexcept {
  return kUnsupported;
}
Status PosixPlatform::setHugePageCount(std::size_t, std::optional<std::uint32_t>, std::uint64_t) noexcept {
  return kUnsupported;
}
Status PosixPlatform::checkHugePageCountWritable(std::size_t, std::optional<std::uint32_t>) noexcept {
  return kUnsupported;
}
Status PosixPlatform::compactMemory() noexcept { return kUnsupported; }
std::string PosixPlatform::hugePageCountPath(std::size_t, std::optional<std::uint32_t>) const { return {}; }
std::string PosixPlatform::stateDirectory() const { return "/var/run/xmem"; }
BootConfiguration PosixPlatform::bootConfiguration(const std::vector<BootPages>&, const std::string&) const {
  return {};  // no huge page pools, so nothing to bring back at boot
}

// flock is not in POSIX but every Unix xmem targets has it, and unlike fcntl's record locks it
// belongs to the descriptor: closing another descriptor of the same file does not drop it.
Status PosixPlatform::lockFile(const char* path, int& handle) noexcept {
  int fd = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return lastError();
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    Status failed = lastError();
    ::close(fd);
    return failed;
  }
  handle = fd;
  return {};
}

Status PosixPlatform::unlockFile(int handle) noexcept {
  return ::close(handle) == 0 ? Status{} : lastError();  // closing the last descriptor drops the flock
}

Status PosixPlatform::replaceFile(const char* path, const char* data, std::size_t length) noexcept {
  char temporary[4096];
  if (std::snprintf(temporary, sizeof temporary, "%s.%d.tmp", path, static_cast<int>(::getpid())) >=
      static_cast<int>(sizeof temporary))
    return errnoStatus(ENAMETOOLONG);
  // Readable by all, as the state it replaces was: `xmem release --dry-run` reads it as any user.
  int fd = ::open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return lastError();
  Status status;
  for (std::size_t done = 0; done < length && status.ok();) {
    ssize_t written = ::write(fd, data + done, length - done);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) status = lastError();
    else done += static_cast<std::size_t>(written);
  }
  // Without the fsync a crash after the rename can leave the new name on empty contents.
  if (status.ok() && ::fsync(fd) != 0) status = lastError();
  if (::close(fd) != 0 && status.ok()) status = lastError();
  if (status.ok() && ::rename(temporary, path) != 0) status = lastError();
  if (!status.ok()) {
    ::unlink(temporary);
    return status;
  }
  // The rename itself is durable once the directory is flushed.
  char directory[4096];
  std::snprintf(directory, sizeof directory, "%s", path);
  char* slash = std::strrchr(directory, '/');
  if (slash == nullptr) std::snprintf(directory, sizeof directory, ".");
  else if (slash == directory) slash[1] = '\0';
  else *slash = '\0';
  if (int dir = ::open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

Status PosixPlatform::memlockLimit(MemlockLimit& out) noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return lastError();
  MemlockLimit result;
  result.soft = limit.rlim_cur == RLIM_INFINITY ? MemlockLimit::kUnlimited : limit.rlim_cur;
  result.hard = limit.rlim_max == RLIM_INFINITY ? MemlockLimit::kUnlimited : limit.rlim_max;
  out = result;  // who may lock past the limit differs by system: not claimed here
  return {};
}

std::string PosixPlatform::memlockLimitAdvice() const {
  return "raise it with `ulimit -l` (or in the service manager's limits for a service)";
}

Status PosixPlatform::reserve(std::size_t length, std::size_t alignment, void*& out) noexcept {
  return reserveAligned(length, alignment, out);
}

Status PosixPlatform::map(const MapRequest& request, MapResult& out) noexcept {
  if (request.hugePageSize != 0) return kUnsupported;
  void* target = request.fixedAddress;
  bool ownReservation = false;
  if (target == nullptr && request.alignment > basePage()) {
    // mmap only aligns to the page size: make room at the alignment first, then map over it.
    if (Status status = reserveAligned(request.length, request.alignment, target); !status) return status;
    ownReservation = true;
  }
  const int flags = MAP_PRIVATE | MAP_ANON | (target != nullptr ? MAP_FIXED : 0);
  void* address = ::mmap(target, request.length, protectionBits(request.protection), flags, -1, 0);
  if (address == MAP_FAILED) {
    Status status = lastError();
    if (ownReservation) ::munmap(target, request.length);
    return status;
  }
  MapResult result{address, {}};
  result.placementStatus = placementOnTheOneNode(request.placement);
  out = result;
  return {};
}

Status PosixPlatform::unmap(void* address, std::size_t length) noexcept {
  return ::munmap(address, length) == 0 ? Status{} : lastError();
}

// posix_madvise(POSIX_MADV_DONTNEED) is only a hint (glibc ignores it; the BSDs do not zero), so
// dropping pages means mapping the range anew: it reads as zero, and comes back read-write (the
// contract lets it; callers re-apply another protection).
Status PosixPlatform::advise(void* address, std::size_t length, Advice advice) noexcept {
  if (advice != Advice::DontNeed) return kUnsupported;
  void* fresh = ::mmap(address, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0);
  return fresh == MAP_FAILED ? lastError() : Status{};
}

Status PosixPlatform::protect(void* address, std::size_t length, Protection protection) noexcept {
  return ::mprotect(address, length, protectionBits(protection)) == 0 ? Status{} : lastError();
}

Status PosixPlatform::lock(void* address, std::size_t length) noexcept {
  return ::mlock(address, length) == 0 ? Status{} : lastError();
}

Status PosixPlatform::unlock(void* address, std::size_t length) noexcept {
  return ::munlock(address, length) == 0 ? Status{} : lastError();
}

Status PosixPlatform::name(void*, std::size_t, const char*) noexcept { return kUnsupported; }

// One byte per page, or'ed with zero atomically: the page is faulted in for writing and a thread
// writing the same byte meanwhile loses nothing.
Status PosixPlatform::populate(void* address, std::size_t length) noexcept {
  auto* bytes = static_cast<std::uint8_t*>(address);
  for (std::size_t offset = 0; offset < length; offset += basePage())
    std::atomic_ref<std::uint8_t>(bytes[offset]).fetch_or(0, std::memory_order_relaxed);
  return {};
}

Status PosixPlatform::query(const void* address, std::size_t length, RangeUsage& out) noexcept {
  try {
    RangeUsage usage;
    usage.length = length;
    std::size_t mapped = 0;
    const auto page = basePage();
    const bool read = visitPages(reinterpret_cast<std::uintptr_t>(address), length, page, [&](std::uintptr_t, PageState state) {
      if (state != PageState::NotMapped) mapped += page;
      if (state == PageState::Resident) usage.residentBytes += page;
    });
    if (!read) return lastError();
    if (mapped != 0) usage.bytesByPageSize[page] = mapped;
    if (usage.residentBytes != 0) usage.bytesByNode[0] = usage.residentBytes;
    out = std::move(usage);
    return {};
  } catch (...) {
    return errnoStatus(ENOMEM);
  }
}

Status PosixPlatform::survey(const void* address, std::size_t length, PageSurvey& out) noexcept {
  try {
    PageSurvey survey;
    const auto page = basePage();
    const bool read = visitPages(reinterpret_cast<std::uintptr_t>(address), length, page, [&](std::uintptr_t at, PageState state) {
      if (state == PageState::NotMapped) return;
      if (!survey.areas.empty() && survey.areas.back().end == at) survey.areas.back().end = at + page;
      else survey.areas.push_back({at, at + page, 0, 0});
    });
    if (!read) return lastError();
    out = std::move(survey);  // no huge pages to locate: hugeKnown stays false
    return {};
  } catch (...) {
    return errnoStatus(ENOMEM);
  }
}

Status PosixPlatform::pageNodes(const void* const* pages, std::size_t count, int* nodes) noexcept {
  const auto page = basePage();
  for (std::size_t i = 0; i < count; ++i) {
    const auto at = reinterpret_cast<std::uintptr_t>(pages[i]) & ~(page - 1);
    if (!visitPages(at, page, page, [&](std::uintptr_t, PageState state) {
          nodes[i] = state == PageState::Resident      ? 0
                     : state == PageState::NotResident ? page_answer::kNotPresent
                                                       : page_answer::kNotMapped;
        }))
      return lastError();
  }
  return {};
}

Status PosixPlatform::movePages(void* const*, std::size_t, std::uint32_t, int*) noexcept { return kUnsupported; }

Status PosixPlatform::bindThreadMemory(const Placement& placement) noexcept {
  return placementOnTheOneNode(placement);
}

Status PosixPlatform::pinThread(std::uint32_t) noexcept { return kUnsupported; }
std::uint32_t PosixPlatform::currentNode() noexcept { return 0; }
std::uint32_t PosixPlatform::currentCpu() noexcept { return 0; }

std::uint32_t PosixPlatform::cpuCount() noexcept {
  const long count = ::sysconf(_SC_NPROCESSORS_CONF);
  return count < 1 ? 1 : static_cast<std::uint32_t>(count);
}

Status PosixPlatform::processUsage(std::int64_t, std::size_t, ProcessUsage&) { return kUnsupported; }
Status PosixPlatform::kernelCounters(KernelCounters&) { return kUnsupported; }
Status PosixPlatform::readPublishedRecords(std::int64_t, const char*, std::size_t, std::string&) { return kUnsupported; }

std::string PosixPlatform::hostName() const {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

std::int64_t PosixPlatform::processId() const noexcept { return ::getpid(); }

bool PosixPlatform::processAlive(std::int64_t pid) const noexcept {
  // Signal 0 checks without sending: EPERM is a live process of another user.
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Platform& posixPlatform() noexcept {
  // Never destroyed, as the Linux one: late destructors may still unmap through it.
  static auto* platform = new PosixPlatform;
  return *platform;
}

bool atFork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept {
  return ::pthread_atfork(prepare, parent, child) == 0;
}

}  // namespace xmem::os

#include "os/linux/process_readers.h"

#include "os/linux/linux_platform.h"
#include "os/linux/proc_parsers.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <string_view>
#include <utility>

namespace xmem::os::linux_readers {
namespace {

namespace text = linux_text;

struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

struct Folder {
  DIR* dir;
  ~Folder() {
    if (dir != nullptr) ::closedir(dir);
  }
};

// A process that exits while we read it answers ESRCH; opening its files once it is gone, ENOENT.
// Both mean "no such process". EACCES/EPERM (another user's process) map to NoPermission.
Status processError(int error) noexcept {
  return error == ESRCH ? Status{Status::Kind::NotFound, error} : errnoStatus(error);
}

std::string processFolder(std::int64_t pid) { return pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid); }

// The whole of a /proc file (its size is unknown until read: stat says 0).
Status readProcFile(const std::string& path, std::string& out) {
  Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return processError(errno);
  std::string content;
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(file.fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return processError(errno);
    if (got == 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
  }
  out = std::move(content);
  return {};
}

// Up to maxBytes from offset 0, with pread: the descriptor is ours, but the file is shared.
Status readUpTo(int fd, std::size_t maxBytes, std::string& out) {
  std::string bytes;
  char buffer[16384];
  while (bytes.size() < maxBytes) {
    const std::size_t want = std::min(sizeof buffer, maxBytes - bytes.size());
    const ssize_t got = ::pread(fd, buffer, want, static_cast<off_t>(bytes.size()));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errnoStatus(errno);
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
  out = std::move(bytes);
  return {};
}

// memfd_create("NAME") makes a file the kernel calls "memfd:NAME"; as it was never linked into
// a folder, /proc/PID/fd/N reads "/memfd:NAME (deleted)" (some kernels leave off the suffix).
bool isMemfdNamed(std::string_view link, std::string_view name) noexcept {
  constexpr std::string_view kPrefix = "/memfd:";
  constexpr std::string_view kDeleted = " (deleted)";
  if (!link.starts_with(kPrefix)) return false;
  link.remove_prefix(kPrefix.size());
  if (link == name) return true;
  return link.ends_with(kDeleted) && link.substr(0, link.size() - kDeleted.size()) == name;
}

}  // namespace

Status processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out) {
  if (pid < 0) return errnoStatus(EINVAL);
  try {
    const auto folder = processFolder(pid);
    std::string status, smaps, numaMaps;
    if (auto read = readProcFile(folder + "/status", status); !read) return read;
    if (auto read = readProcFile(folder + "/smaps", smaps); !read) return read;
    // Kernels built without NUMA have no numa_maps: the mappings then name no nodes.
    if (auto read = readProcFile(folder + "/numa_maps", numaMaps); !read && read.kind != Status::Kind::NotFound)
      return read;

    auto usage = text::parseProcessStatus(status);
    usage.pid = pid == 0 ? ::getpid() : pid;
    usage.mappings = text::parseSmapsMappings(smaps);
    std::erase_if(usage.mappings, [&](const MappingUsage& mapping) { return mapping.size() < minMappingBytes; });
    text::attachNodes(usage.mappings, text::parseNumaMaps(numaMaps), static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
    out = std::move(usage);
    return {};
  } catch (const std::bad_alloc&) {
    return errnoStatus(ENOMEM);
  }
}

Status kernelCounters(KernelCounters& out) {
  try {
    std::string vmstat, buddyinfo;
    if (auto read = readProcFile("/proc/vmstat", vmstat); !read) return read;
    if (auto read = readProcFile("/proc/buddyinfo", buddyinfo); !read) return read;
    KernelCounters counters;
    counters.events = text::parseVmstatCounters(vmstat);
    counters.buddy = text::parseBuddyInfo(buddyinfo);
    out = std::move(counters);
    return {};
  } catch (const std::bad_alloc&) {
    return errnoStatus(ENOMEM);
  }
}

Status readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes, std::string& out) {
  if (pid < 0 || name == nullptr || *name == '\0') return errnoStatus(EINVAL);
  try {
    const auto descriptors = processFolder(pid) + "/fd";
    Folder folder{::opendir(descriptors.c_str())};
    if (folder.dir == nullptr) return processError(errno);
    const int folderFd = ::dirfd(folder.dir);
    char link[PATH_MAX];
    while (const dirent* entry = ::readdir(folder.dir)) {
      if (entry->d_name[0] == '.') continue;
      const ssize_t length = ::readlinkat(folderFd, entry->d_name, link, sizeof link);
      if (length <= 0 || static_cast<std::size_t>(length) == sizeof link) continue;  // closed meanwhile
      if (!isMemfdNamed(std::string_view(link, static_cast<std::size_t>(length)), name)) continue;
      // Opening the link opens the memfd itself (not a copy of the descriptor): read-only, own offset.
      Descriptor records{::openat(folderFd, entry->d_name, O_RDONLY | O_CLOEXEC)};
      if (records.fd < 0) return processError(errno);
      return readUpTo(records.fd, maxBytes, out);
    }
    return errnoStatus(ENOENT);
  } catch (const std::bad_alloc&) {
    return errnoStatus(ENOMEM);
  }
}

}  // namespace xmem::os::linux_readers

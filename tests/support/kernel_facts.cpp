#include "kernel_facts.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace xmem::testing {

bool isRoot() { return ::geteuid() == 0; }

SmapsFields smapsAt(const void* address, long pid) {
  auto target = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps(pid == 0 ? std::string("/proc/self/smaps") : "/proc/" + std::to_string(pid) + "/smaps");
  SmapsFields fields;
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    auto dash = first.find('-');
    if (dash != std::string::npos && first.back() != ':') {
      if (inside) break;  // the area we wanted is done
      auto start = std::stoull(first.substr(0, dash), nullptr, 16);
      auto end = std::stoull(first.substr(dash + 1), nullptr, 16);
      inside = target >= start && target < end;
      if (inside) {
        fields.found = true;
        fields.start = start;
        fields.end = end;
        std::string perms, offset, device, inode;
        words >> perms >> offset >> device >> inode;
        std::getline(words >> std::ws, fields.name);
      }
      continue;
    }
    if (!inside) continue;
    std::size_t kib = 0;
    words >> kib;
    if (first == "KernelPageSize:") fields.kernelPageSize = kib * 1024;
    if (first == "Rss:") fields.rss = kib * 1024;
    if (first == "AnonHugePages:") fields.anonHugePages = kib * 1024;
    if (first == "Locked:") fields.locked = kib * 1024;
    if (first == "Private_Hugetlb:") fields.privateHugetlb = kib * 1024;
  }
  return fields;
}

std::optional<std::size_t> thpBytesFromPageFlags(const void* address, std::size_t length) {
  constexpr std::uint64_t kPresent = 1ULL << 63;
  constexpr std::uint64_t kFrameMask = (1ULL << 55) - 1;
  constexpr std::uint64_t kThp = 1ULL << 22;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<std::uintptr_t>(address) / page;
  const std::size_t pages = (length + page - 1) / page;
  std::vector<std::uint64_t> entries(pages);
  const int pagemap = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  const int flags = ::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
  std::optional<std::size_t> bytes;
  const auto wanted = static_cast<ssize_t>(pages * sizeof(std::uint64_t));
  if (pagemap >= 0 && flags >= 0 &&
      ::pread(pagemap, entries.data(), pages * sizeof(std::uint64_t), static_cast<off_t>(first * sizeof(std::uint64_t))) == wanted) {
    bytes = 0;
    for (const auto entry : entries) {
      if ((entry & kPresent) == 0) continue;
      const std::uint64_t frame = entry & kFrameMask;
      std::uint64_t pageFlags = 0;
      if (frame == 0 || ::pread(flags, &pageFlags, sizeof pageFlags, static_cast<off_t>(frame * sizeof pageFlags)) !=
                            static_cast<ssize_t>(sizeof pageFlags)) {
        bytes.reset();  // frame numbers hidden (not root) or flags unreadable
        break;
      }
      if ((pageFlags & kThp) != 0) *bytes += page;
    }
  }
  if (pagemap >= 0) ::close(pagemap);
  if (flags >= 0) ::close(flags);
  return bytes;
}

std::uint64_t freeTwoMegabyteBlocks() {
  // "Node 0, zone   Normal   a0 a1 ... a10": free blocks of order 0..10; order 9 is 2 MiB.
  std::ifstream buddy("/proc/buddyinfo");
  std::uint64_t blocks = 0;
  for (std::string line; std::getline(buddy, line);) {
    std::istringstream words(line.substr(line.find("zone") + 4));
    std::string zone;
    words >> zone;
    std::uint64_t count = 0;
    for (int order = 0; words >> count; ++order)
      if (order >= 9) blocks += count << (order - 9);
  }
  return blocks;
}

std::size_t kernelThpBytes(const void* address, std::size_t length) {
  if (auto located = thpBytesFromPageFlags(address, length)) return *located;
  return smapsAt(address).anonHugePages;
}

std::size_t residentBytes(const void* address, std::size_t length) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> pages((length + page - 1) / page);
  if (::mincore(const_cast<void*>(address), length, pages.data()) != 0) return 0;
  std::size_t resident = 0;
  for (auto flags : pages) resident += (flags & 1U) != 0 ? page : 0;
  return resident;
}

std::optional<int> nodeOfPage(const void* address) {
  int node = -1;
  if (::syscall(SYS_get_mempolicy, &node, nullptr, 0UL, address, MPOL_F_NODE | MPOL_F_ADDR) != 0) return std::nullopt;
  return node;
}

std::map<int, std::size_t> pagesByNode(const void* address, std::size_t length, std::size_t step) {
  std::map<int, std::size_t> pages;
  constexpr std::size_t kBatch = 4096;
  std::vector<void*> addresses;
  std::vector<int> status;
  auto* cursor = static_cast<char*>(const_cast<void*>(address));
  for (std::size_t offset = 0; offset < length;) {
    addresses.clear();
    for (; offset < length && addresses.size() < kBatch; offset += step) addresses.push_back(cursor + offset);
    status.assign(addresses.size(), 0);
    if (::syscall(SYS_move_pages, 0, addresses.size(), addresses.data(), nullptr, status.data(), 0) != 0) {
      pages[-errno] += addresses.size();
      continue;
    }
    for (int node : status) ++pages[node];
  }
  return pages;
}

std::vector<std::vector<int>> kernelDistances() {
  std::vector<std::vector<int>> rows;
  for (int node = 0;; ++node) {
    std::ifstream file("/sys/devices/system/node/node" + std::to_string(node) + "/distance");
    if (!file) break;
    rows.emplace_back(std::istream_iterator<int>(file), std::istream_iterator<int>());
  }
  return rows;
}

std::uint64_t freeHugePagesOn(std::uint32_t node, std::size_t pageSize) {
  std::ifstream file("/sys/devices/system/node/node" + std::to_string(node) + "/hugepages/hugepages-" +
                     std::to_string(pageSize / 1024) + "kB/free_hugepages");
  std::uint64_t count = 0;
  file >> count;
  return count;
}

std::uint64_t readCount(const std::string& path) {
  std::ifstream file(path);
  std::uint64_t value = 0;
  if (!(file >> value)) throw std::runtime_error("cannot read " + path);
  return value;
}

void writeCount(const std::string& path, std::uint64_t value) {
  std::ofstream file(path);
  file << value << '\n';
  file.flush();
  if (!file) throw std::runtime_error("cannot write " + std::to_string(value) + " to " + path);
}

std::vector<std::string> hugePageCountFiles() {
  std::vector<std::string> files;
  if (DIR* dir = ::opendir("/sys/kernel/mm/hugepages")) {
    while (dirent* entry = ::readdir(dir))
      if (std::string(entry->d_name).rfind("hugepages-", 0) == 0)
        for (const char* count : {"/nr_hugepages", "/nr_overcommit_hugepages"})
          files.push_back(std::string("/sys/kernel/mm/hugepages/") + entry->d_name + count);
    ::closedir(dir);
  }
  return files;
}

ScopedCount::ScopedCount(std::string path, std::uint64_t value) : path_(std::move(path)), before_(readCount(path_)) {
  writeCount(path_, value);
}

ScopedCount::~ScopedCount() {
  try {
    writeCount(path_, before_);
  } catch (...) {
    // The CTest cleanup fixture (xmem_hugepage_counts restore) puts it back.
  }
}

HugePageReservation::HugePageReservation(std::size_t pageSize, std::uint64_t count, std::optional<std::uint32_t> node) {
  std::string dir = node ? "/sys/devices/system/node/node" + std::to_string(*node) + "/hugepages"
                         : std::string("/sys/kernel/mm/hugepages");
  dir += "/hugepages-" + std::to_string(pageSize / 1024) + "kB/";
  path_ = dir + "nr_hugepages";
  before_ = readCount(path_);
  // Pages in use stay in use: change the count by what makes exactly `count` free.
  const std::uint64_t inUse = before_ - std::min(before_, readCount(dir + "free_hugepages"));
  try {
    writeCount(path_, inUse + count);
  } catch (const std::exception&) {
    // The kernel refuses a write it cannot satisfy at all on some versions; what it kept is below.
  }
  obtained_ = readCount(dir + "free_hugepages");
}

HugePageReservation::~HugePageReservation() {
  try {
    writeCount(path_, before_);
  } catch (...) {
    // The CTest cleanup fixture (xmem_hugepage_counts restore) puts it back.
  }
}

}  // namespace xmem::testing

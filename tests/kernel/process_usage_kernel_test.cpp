// The monitoring readers on the real kernel: another process's mappings as processUsage() reports
// them, its published memfd records, the kernel's counters and the host name. A child maps exactly
// one area of each kind, says where through a pipe and waits, so the parent reads a process whose
// layout it knows; the expected figures come from what the child did, not from a parser.
#include "kernel/kernel_test.h"

#include "os/linux/linux_platform.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

namespace xmem::testing {
namespace {

constexpr const char* kChildName = "xmem-usage-kid";  // comm: at most 15 characters
constexpr const char* kRecordsName = "xmem-test-records";
constexpr std::size_t kThpBytes = 8 * MiB;
constexpr std::size_t kBasePageBytes = 1 * MiB;
constexpr const char* kOneGbPool = "/sys/kernel/mm/hugepages/hugepages-1048576kB";

os::Platform& platform() { return os::linuxPlatform(); }

// ---- the child -----------------------------------------------------------------------------

bool writeAll(int fd, const void* data, std::size_t length) {
  const auto* bytes = static_cast<const char*>(data);
  while (length > 0) {
    const ssize_t done = ::write(fd, bytes, length);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) return false;
    bytes += done;
    length -= static_cast<std::size_t>(done);
  }
  return true;
}

bool readAll(int fd, void* data, std::size_t length) {
  auto* bytes = static_cast<char*>(data);
  while (length > 0) {
    const ssize_t done = ::read(fd, bytes, length);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) return false;
    bytes += done;
    length -= static_cast<std::size_t>(done);
  }
  return true;
}

// A child that sets itself up (no allocation: it is a fork), sends its Report and waits until
// the parent closes its end of the pipe (or kills it), so its memory can be read from outside.
template <typename Report>
class WaitingChild {
 public:
  template <typename SetUp>
  explicit WaitingChild(SetUp setUp) {
    int toParent[2];
    int toChild[2];
    if (::pipe2(toParent, O_CLOEXEC) != 0) return;
    if (::pipe2(toChild, O_CLOEXEC) != 0) {
      ::close(toParent[0]);
      ::close(toParent[1]);
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(toParent[0]);
      ::close(toChild[1]);
      Report report{};
      setUp(report);
      writeAll(toParent[1], &report, sizeof report);
      char byte;
      while (::read(toChild[0], &byte, 1) < 0 && errno == EINTR) {
      }
      ::_exit(0);
    }
    ::close(toParent[1]);
    ::close(toChild[0]);
    release_ = toChild[1];
    started_ = pid_ > 0 && readAll(toParent[0], &report_, sizeof report_);
    ::close(toParent[0]);
  }
  ~WaitingChild() {
    if (release_ >= 0) ::close(release_);
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);  // it exits on the closed pipe anyway; this makes sure
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  WaitingChild(const WaitingChild&) = delete;
  WaitingChild& operator=(const WaitingChild&) = delete;

  bool started() const { return started_; }
  pid_t pid() const { return pid_; }
  const Report& report() const { return report_; }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
  bool started_ = false;
  Report report_{};
};

struct Area {
  std::uintptr_t start = 0;  ///< 0: not mapped
  int node = -1;             ///< the node of every page (move_pages), -1 when mixed or unknown
};

struct MappingsReport {
  Area oneGb, twoMb, thp, basePages;
  int failedErrno = 0;
  char failed[48] = {};
};

struct Layout {
  bool oneGb = false;
  bool twoMb = false;
  bool thpAndBasePages = false;
};

// The node all pages of [start, start + length), one every `step` bytes, are on; -1 if mixed.
int nodeOfPages(std::uintptr_t start, std::size_t length, std::size_t step) {
  constexpr std::size_t kBatch = 256;
  void* pages[kBatch];
  int nodes[kBatch];
  int node = -1;
  for (std::size_t offset = 0; offset < length;) {
    std::size_t count = 0;
    for (; count < kBatch && offset < length; ++count, offset += step)
      pages[count] = reinterpret_cast<void*>(start + offset);
    if (::syscall(SYS_move_pages, 0, count, pages, nullptr, nodes, 0) != 0) return -1;
    for (std::size_t i = 0; i < count; ++i) {
      if (nodes[i] < 0 || (node >= 0 && nodes[i] != node)) return -1;
      node = nodes[i];
    }
  }
  return node;
}

void noteFailure(MappingsReport& report, const char* what) {
  report.failedErrno = errno;
  std::strncpy(report.failed, what, sizeof report.failed - 1);
}

// Private hugetlb memory is reserved at mmap time: touching it cannot fail once mapped.
void mapHugetlb(MappingsReport& report, Area& area, std::size_t pageSize, int log2PageSize, const char* what) {
  void* memory = ::mmap(nullptr, pageSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (log2PageSize << MAP_HUGE_SHIFT), -1, 0);
  if (memory == MAP_FAILED) return noteFailure(report, what);
  std::memset(memory, 1, pageSize);
  const auto start = reinterpret_cast<std::uintptr_t>(memory);
  area = {start, nodeOfPages(start, pageSize, pageSize)};
}

// 8 MiB on a 2 MiB boundary with MADV_HUGEPAGE (the slack unmapped so that the area is exactly
// the advised range), and 1 MiB with MADV_NOHUGEPAGE; the flags keep them from merging with
// neighbours.
void mapThpAndBasePages(MappingsReport& report) {
  const std::size_t slack = 2 * MiB;
  auto* raw = static_cast<char*>(
      ::mmap(nullptr, kThpBytes + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (raw == MAP_FAILED) return noteFailure(report, "mmap 10 MiB");
  const auto rawStart = reinterpret_cast<std::uintptr_t>(raw);
  const auto start = (rawStart + slack - 1) & ~(slack - 1);
  if (start > rawStart) ::munmap(raw, start - rawStart);
  if (rawStart + slack > start) ::munmap(reinterpret_cast<void*>(start + kThpBytes), rawStart + slack - start);
  if (::madvise(reinterpret_cast<void*>(start), kThpBytes, MADV_HUGEPAGE) != 0)
    return noteFailure(report, "MADV_HUGEPAGE");
  std::memset(reinterpret_cast<void*>(start), 1, kThpBytes);
  report.thp = {start, nodeOfPages(start, kThpBytes, 4 * KiB)};

  void* small = ::mmap(nullptr, kBasePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (small == MAP_FAILED) return noteFailure(report, "mmap 1 MiB");
  if (::madvise(small, kBasePageBytes, MADV_NOHUGEPAGE) != 0) return noteFailure(report, "MADV_NOHUGEPAGE");
  std::memset(small, 1, kBasePageBytes);
  const auto smallStart = reinterpret_cast<std::uintptr_t>(small);
  report.basePages = {smallStart, nodeOfPages(smallStart, kBasePageBytes, 4 * KiB)};
}

void setUpMappings(const Layout& layout, MappingsReport& report) {
  ::prctl(PR_SET_NAME, kChildName);
  if (layout.oneGb) mapHugetlb(report, report.oneGb, 1 * GiB, 30, "mmap 1 GiB hugetlb");
  if (layout.twoMb) mapHugetlb(report, report.twoMb, 2 * MiB, 21, "mmap 2 MiB hugetlb");
  if (layout.thpAndBasePages) mapThpAndBasePages(report);
}

// ---- what the parent expects ---------------------------------------------------------------

const MappingUsage* mappingAt(const ProcessUsage& usage, std::uintptr_t start) {
  for (const auto& mapping : usage.mappings)
    if (mapping.start == start) return &mapping;
  return nullptr;
}

void expectOnNode(const MappingUsage& mapping, int node, std::size_t bytes) {
  if (node >= 0) {
    EXPECT_EQ(mapping.bytesByNode, (std::map<std::uint32_t, std::size_t>{{static_cast<std::uint32_t>(node), bytes}}));
    return;
  }
  std::size_t total = 0;
  for (auto [_, onNode] : mapping.bytesByNode) total += onNode;
  EXPECT_EQ(total, bytes) << "pages on several nodes: their sum";
}

void expectHugetlb(const ProcessUsage& usage, const Area& area, std::size_t pageSize) {
  SCOPED_TRACE("hugetlb area of " + std::to_string(pageSize / KiB) + " KiB pages");
  const auto* mapping = mappingAt(usage, area.start);
  ASSERT_NE(mapping, nullptr) << "no mapping starts at the child's address";
  EXPECT_EQ(mapping->size(), pageSize);
  EXPECT_EQ(mapping->kernelPageSize, pageSize);
  EXPECT_EQ(mapping->hugeTlbBytes, pageSize);
  EXPECT_EQ(mapping->residentBytes, pageSize);
  EXPECT_EQ(mapping->anonHugePages, 0U);
  EXPECT_EQ(mapping->permissions, "rw-p");
  EXPECT_EQ(mapping->name, "/anon_hugepage (deleted)");
  EXPECT_FALSE(mapping->thpAdvised);
  expectOnNode(*mapping, area.node, pageSize);
}

void expectThp(const ProcessUsage& usage, const Area& area) {
  SCOPED_TRACE("MADV_HUGEPAGE area");
  const auto* mapping = mappingAt(usage, area.start);
  ASSERT_NE(mapping, nullptr) << "no mapping starts at the child's address";
  EXPECT_EQ(mapping->size(), kThpBytes);
  EXPECT_EQ(mapping->kernelPageSize, 4 * KiB);
  EXPECT_EQ(mapping->hugeTlbBytes, 0U);
  EXPECT_EQ(mapping->residentBytes, kThpBytes);
  EXPECT_TRUE(mapping->thpAdvised);
  EXPECT_FALSE(mapping->thpRefused);
  EXPECT_TRUE(mapping->thpEligible);
  expectOnNode(*mapping, area.node, kThpBytes);
  if (mapping->anonHugePages != kThpBytes) {
    // Read the kernel again, without xmem's parser: did it give fewer THPs, or did we misread?
    const auto kernelSays = smapsAt(reinterpret_cast<const void*>(area.start), usage.pid).anonHugePages;
    if (kernelSays == mapping->anonHugePages) {
      std::cout << "[ NOTE     ] the kernel backed only " << kernelSays / KiB << " KiB of the " << kThpBytes / KiB
                << " KiB MADV_HUGEPAGE area with THP now (no free 2 MiB blocks?): AnonHugePages not checked\n";
      return;
    }
    ADD_FAILURE() << "AnonHugePages: processUsage says " << mapping->anonHugePages << ", the kernel " << kernelSays;
  }
}

void expectBasePages(const ProcessUsage& usage, const Area& area) {
  SCOPED_TRACE("MADV_NOHUGEPAGE area");
  const auto* mapping = mappingAt(usage, area.start);
  ASSERT_NE(mapping, nullptr) << "no mapping starts at the child's address";
  EXPECT_EQ(mapping->size(), kBasePageBytes);
  EXPECT_EQ(mapping->kernelPageSize, 4 * KiB);
  EXPECT_EQ(mapping->residentBytes, kBasePageBytes);
  EXPECT_EQ(mapping->anonHugePages, 0U);
  EXPECT_EQ(mapping->hugeTlbBytes, 0U);
  EXPECT_TRUE(mapping->thpRefused);
  EXPECT_FALSE(mapping->thpAdvised);
  EXPECT_FALSE(mapping->thpEligible);
  expectOnNode(*mapping, area.node, kBasePageBytes);
}

// HugetlbPages of this process, read without xmem: a forked child shares our hugetlb mappings.
std::uint64_t ownHugetlbBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("HugetlbPages:", 0) == 0) return std::stoull(line.substr(13)) * KiB;
  return 0;
}

void checkChild(const Layout& layout) {
  const auto inherited = ownHugetlbBytes();
  WaitingChild<MappingsReport> child([&](MappingsReport& report) { setUpMappings(layout, report); });
  ASSERT_TRUE(child.started()) << "the child did not report";
  const auto& report = child.report();
  ASSERT_EQ(report.failedErrno, 0) << report.failed << ": " << std::strerror(report.failedErrno);

  ProcessUsage usage;
  const auto status = platform().processUsage(child.pid(), kBasePageBytes, usage);
  ASSERT_TRUE(status) << os::describe(status);
  EXPECT_EQ(usage.pid, child.pid());
  EXPECT_EQ(usage.command, kChildName);
  for (const auto& mapping : usage.mappings)
    EXPECT_GE(mapping.size(), kBasePageBytes) << "smaller mappings are left out";
  if (layout.oneGb) expectHugetlb(usage, report.oneGb, 1 * GiB);
  if (layout.twoMb) expectHugetlb(usage, report.twoMb, 2 * MiB);
  if (layout.thpAndBasePages) {
    expectThp(usage, report.thp);
    expectBasePages(usage, report.basePages);
    EXPECT_GE(usage.residentBytes, kThpBytes + kBasePageBytes);
  }
  const std::uint64_t hugetlb = (layout.oneGb ? 1 * GiB : 0) + (layout.twoMb ? 2 * MiB : 0);
  EXPECT_EQ(usage.hugeTlbBytes, inherited + hugetlb) << "HugetlbPages";
  EXPECT_GE(usage.peakResidentBytes, usage.residentBytes);

  // The threshold keeps mappings of exactly its size; the status totals never change with it.
  ProcessUsage larger;
  ASSERT_TRUE(platform().processUsage(child.pid(), kBasePageBytes + 1, larger));
  if (layout.thpAndBasePages) {
    EXPECT_EQ(mappingAt(larger, report.basePages.start), nullptr);
  }
  ASSERT_TRUE(platform().processUsage(child.pid(), 2 * GiB, larger));
  // Only mappings of 2 GiB or more are left (none of the child's own; ASan's shadow is one).
  for (const auto& mapping : larger.mappings) EXPECT_GE(mapping.size(), 2 * GiB) << mapping.name;
  EXPECT_EQ(larger.hugeTlbBytes, usage.hugeTlbBytes);
}

using ProcessUsageKernelTest = KernelTest;

TEST_F(ProcessUsageKernelTest, EveryKindOfMappingOfAChildExactly) {
  XMEM_REQUIRE_ROOT("reserves a 1 GiB and a 2 MiB page");
  if (!std::filesystem::exists(kOneGbPool))
    GTEST_SKIP() << "this kernel offers no 1 GiB pages (" << kOneGbPool << " missing)";
  // 1 GiB first: it needs contiguous memory that a 2 MiB reservation could break up.
  HugePageReservation oneGb(1 * GiB, 1);
  if (oneGb.obtained() < 1)
    GTEST_SKIP() << "the kernel could not reserve a 1 GiB page now (memory fragmented); "
                    "HugetlbThpAndBasePagesOfAChild still covers the rest";
  HugePageReservation twoMb(2 * MiB, 1);
  ASSERT_GE(twoMb.obtained(), 1U) << "no 2 MiB page could be reserved";
  checkChild({.oneGb = true, .twoMb = true, .thpAndBasePages = true});
}

TEST_F(ProcessUsageKernelTest, HugetlbThpAndBasePagesOfAChild) {
  XMEM_REQUIRE_ROOT("reserves a 2 MiB page");
  HugePageReservation twoMb(2 * MiB, 1);
  ASSERT_GE(twoMb.obtained(), 1U) << "no 2 MiB page could be reserved";
  checkChild({.twoMb = true, .thpAndBasePages = true});
}

std::string ownCommand() {
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST_F(ProcessUsageKernelTest, PidZeroIsThisProcess) {
  const std::size_t length = 4 * MiB;
  void* memory = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  ASSERT_EQ(::madvise(memory, length, MADV_NOHUGEPAGE), 0);
  std::memset(memory, 1, length);
  ProcessUsage usage;
  const auto status = platform().processUsage(0, length, usage);
  ::munmap(memory, length);
  ASSERT_TRUE(status) << os::describe(status);
  EXPECT_EQ(usage.pid, ::getpid());
  EXPECT_EQ(usage.command, ownCommand());
  const auto* mapping = mappingAt(usage, reinterpret_cast<std::uintptr_t>(memory));
  ASSERT_NE(mapping, nullptr);
  EXPECT_EQ(mapping->residentBytes, length);
  EXPECT_TRUE(mapping->thpRefused);
  EXPECT_GE(usage.residentBytes, length);
}

// pid_max bounds every pid the kernel hands out: one above it never exists.
std::int64_t pidThatCannotExist() {
  std::ifstream pidMax("/proc/sys/kernel/pid_max");
  std::int64_t max = 0;
  pidMax >> max;
  return max + 1;
}

TEST_F(ProcessUsageKernelTest, NoSuchProcessIsNotFound) {
  ProcessUsage usage;
  usage.command = "untouched";
  EXPECT_EQ(platform().processUsage(pidThatCannotExist(), 0, usage).kind, os::Status::Kind::NotFound);
  EXPECT_EQ(usage.command, "untouched") << "out is written only on success";
  EXPECT_EQ(platform().processUsage(-3, 0, usage).kind, os::Status::Kind::Invalid);
  std::string records;
  EXPECT_EQ(platform().readPublishedRecords(pidThatCannotExist(), kRecordsName, 64, records).kind,
            os::Status::Kind::NotFound);
}

// Exit codes of the unprivileged child below.
enum PermissionCheck : int { kBothRefused = 0, kUsageNotRefused = 1, kRecordsNotRefused = 2, kCannotDrop = 3 };

TEST_F(ProcessUsageKernelTest, AnotherUsersProcessIsNoPermission) {
  XMEM_REQUIRE_ROOT("drops to user nobody to read a root process");
  const pid_t reader = ::fork();
  ASSERT_GE(reader, 0);
  if (reader == 0) {
    const gid_t nobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(nobody, nobody, nobody) != 0 ||
        ::setresuid(nobody, nobody, nobody) != 0)
      ::_exit(kCannotDrop);
    ProcessUsage usage;
    if (platform().processUsage(::getppid(), 0, usage).kind != os::Status::Kind::NoPermission)
      ::_exit(kUsageNotRefused);
    std::string records;
    if (platform().readPublishedRecords(::getppid(), kRecordsName, 64, records).kind != os::Status::Kind::NoPermission)
      ::_exit(kRecordsNotRefused);
    ::_exit(kBothRefused);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(reader, &status, 0), reader);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kBothRefused) << "1: processUsage, 2: readPublishedRecords was not NoPermission; "
                                                  "3: could not become nobody";
}

struct RecordsReport {
  int failedErrno = 0;
};

// 40000 bytes: more than one 16 KiB read of the reader.
std::string recordBytes() {
  std::string bytes;
  for (int i = 0; i < 40000; ++i) bytes.push_back(static_cast<char>('a' + i % 26));
  return bytes;
}

TEST_F(ProcessUsageKernelTest, PublishedRecordsOfAChild) {
  const auto expected = recordBytes();
  WaitingChild<RecordsReport> child([&](RecordsReport& report) {
    const int fd = ::memfd_create(kRecordsName, MFD_CLOEXEC);
    if (fd < 0 || !writeAll(fd, expected.data(), expected.size())) report.failedErrno = errno;
  });
  ASSERT_TRUE(child.started());
  ASSERT_EQ(child.report().failedErrno, 0) << std::strerror(child.report().failedErrno);

  std::string records;
  auto status = platform().readPublishedRecords(child.pid(), kRecordsName, 1 * MiB, records);
  ASSERT_TRUE(status) << os::describe(status);
  EXPECT_EQ(records, expected);
  ASSERT_TRUE(platform().readPublishedRecords(child.pid(), kRecordsName, 5, records));
  EXPECT_EQ(records, "abcde") << "at most maxBytes";
  EXPECT_EQ(platform().readPublishedRecords(child.pid(), "xmem-test-record", 64, records).kind,
            os::Status::Kind::NotFound)
      << "a prefix of the name is another name";
  EXPECT_EQ(platform().readPublishedRecords(child.pid(), "xmem-other", 64, records).kind, os::Status::Kind::NotFound);
  EXPECT_EQ(platform().readPublishedRecords(child.pid(), "", 64, records).kind, os::Status::Kind::Invalid);
}

TEST_F(ProcessUsageKernelTest, PublishedRecordsOfThisProcess) {
  const int fd = ::memfd_create("xmem-own-records", MFD_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(writeAll(fd, "own", 3));
  std::string records;
  const auto status = platform().readPublishedRecords(0, "xmem-own-records", 64, records);
  ::close(fd);
  ASSERT_TRUE(status) << os::describe(status);
  EXPECT_EQ(records, "own");
}

std::map<std::string, std::uint64_t> vmstatNow() {
  std::ifstream vmstat("/proc/vmstat");
  std::map<std::string, std::uint64_t> counters;
  std::string name;
  std::uint64_t value = 0;
  while (vmstat >> name >> value) counters[name] = value;
  return counters;
}

TEST_F(ProcessUsageKernelTest, KernelCountersAreTheKernelsOwn) {
  const auto before = vmstatNow();
  KernelCounters counters;
  const auto status = platform().kernelCounters(counters);
  const auto after = vmstatNow();
  ASSERT_TRUE(status) << os::describe(status);
  for (const char* name : {"compact_stall", "compact_fail", "htlb_buddy_alloc_success"})
    EXPECT_TRUE(counters.events.contains(name)) << name;
  if (std::filesystem::exists("/sys/kernel/mm/transparent_hugepage")) {
    for (const char* name : {"thp_fault_alloc", "thp_fault_fallback"})
      EXPECT_TRUE(counters.events.contains(name)) << name;
  }
  for (const auto& [name, value] : counters.events) {
    ASSERT_TRUE(before.contains(name) && after.contains(name)) << name;
    EXPECT_LE(before.at(name), value) << name << ": event counters only grow";
    EXPECT_LE(value, after.at(name)) << name;
    EXPECT_TRUE(name.starts_with("thp_") || name.starts_with("compact_") || name.starts_with("htlb_")) << name;
  }

  std::ifstream buddyinfo("/proc/buddyinfo");
  struct Zone {
    std::uint32_t node;
    std::string name;
    std::size_t orders;
  };
  std::vector<Zone> zones;
  for (std::string line; std::getline(buddyinfo, line);) {
    std::istringstream words(line);
    std::string node, zoneWord, zone;
    words >> node >> node >> zoneWord >> zone;  // "Node" "0," "zone" "Normal"
    std::size_t orders = 0;
    for (std::uint64_t blocks = 0; words >> blocks;) ++orders;
    zones.push_back({static_cast<std::uint32_t>(std::stoul(node)), zone, orders});
  }
  ASSERT_EQ(counters.buddy.size(), zones.size());
  for (std::size_t i = 0; i < zones.size(); ++i) {
    EXPECT_EQ(counters.buddy[i].node, zones[i].node);
    EXPECT_EQ(counters.buddy[i].zone, zones[i].name);
    EXPECT_EQ(counters.buddy[i].freeBlocksByOrder.size(), zones[i].orders) << zones[i].name;
  }
}

TEST_F(ProcessUsageKernelTest, HostNameIsTheNodeName) {
  std::ifstream file("/proc/sys/kernel/hostname");
  std::string expected;
  std::getline(file, expected);
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(platform().hostName(), expected);
}

// A process killed but not yet reaped is a zombie: signal 0 still reaches it, yet it holds nothing
// and will put nothing back. Records of the reservations it meant to undo must read it as dead.
TEST_F(ProcessUsageKernelTest, AZombieIsNotAlive) {
  EXPECT_TRUE(platform().processAlive(platform().processId()));
  EXPECT_TRUE(platform().processAlive(1)) << "init: alive, and not ours (EPERM as a user)";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  EXPECT_TRUE(platform().processAlive(child));
  ::kill(child, SIGKILL);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0) << "dead, left unreaped";
  EXPECT_EQ(::kill(child, 0), 0) << "signal 0 still reaches a zombie";
  EXPECT_FALSE(platform().processAlive(child));
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(platform().processAlive(child));
  EXPECT_FALSE(platform().processAlive(0));
  EXPECT_FALSE(platform().processAlive(-5));
}

}  // namespace
}  // namespace xmem::testing

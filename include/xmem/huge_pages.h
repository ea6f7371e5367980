// Reserving explicit huge pages per size and per node, reversibly: xmem records every count it
// changes (first value only) and releaseHugePages() puts them back. XMRig's reservation is
// permanent, which its users meet as "RAM not freed".
#pragma once

#include <xmem/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmem {

struct ReservationRequest {
  std::size_t pageSize = kHugePageSize;
  std::optional<std::uint32_t> node = std::nullopt;  ///< none: the system-wide pool (the kernel spreads it)
  std::uint64_t count = 0;             ///< pages to add ...
  std::optional<std::uint64_t> total = std::nullopt;  ///< ... or the count to reach
  bool compact = true;                 ///< when the kernel gives fewer, compact memory and try again
  bool dryRun = false;                 ///< say what would run, change nothing
};

/// One thing a reservation did (or, in a dry run, would do), as data: front ends spell it.
struct ReservationStep {
  enum class Kind : std::uint8_t {
    WriteCount,     ///< write `count` to the reservation's count file
    CompactMemory,  ///< ask the kernel to defragment free memory
  };
  Kind kind = Kind::WriteCount;
  std::uint64_t count = 0;
  bool operator==(const ReservationStep&) const = default;
};

/// What could get the pages a reservation did not, as data (front ends say how, in their words).
enum class ReservationHelp : std::uint8_t {
  DropCaches,     ///< free the page cache, then reserve again
  ReserveAtBoot,  ///< reserve before memory fragments: the kernel command line, or sysctl at boot
};

struct Reservation {
  std::string path;                    ///< the count file
  std::uint64_t before = 0;
  std::uint64_t target = 0;
  std::uint64_t after = 0;             ///< read back from the kernel
  bool compacted = false;
  bool dryRun = false;
  std::vector<ReservationStep> steps;  ///< what ran (or would run)
  std::string advice;                  ///< why the kernel gave fewer than asked, when it did
  std::vector<ReservationHelp> help;   ///< what would help then

  bool complete() const noexcept { return after >= target; }
};

/// Pages of one size that something lacks, as data: the front end turns it into a command line.
struct MissingPages {
  std::size_t pageSize = 0;
  std::optional<std::uint32_t> node = std::nullopt;  ///< none: the system-wide pool
  std::uint64_t pages = 0;             ///< more pages needed
  std::uint64_t total = 0;             ///< the count that holds them: reserved now + pages
  std::string countFile = {};          ///< where the OS keeps that count
};

/// Where the OS keeps the count of `pageSize` pages (on `node`, or system-wide).
std::string hugePageCountFile(std::size_t pageSize, std::optional<std::uint32_t> node = std::nullopt);

/// Progress messages for people (long steps such as compaction); may be empty.
using Progress = std::function<void(std::string_view)>;

/// Throws Error: an unknown page size or node, nothing asked, or no permission (PermissionDenied,
/// with the page size, node and the total it was to reach in its context).
Reservation reserveHugePages(const ReservationRequest& request, const Progress& progress = {});

struct RestoredCount {
  std::string path;
  std::uint64_t original = 0;  ///< what xmem found before its first change
  std::uint64_t changedTo = 0; ///< the count before this release
  std::uint64_t now = 0;       ///< read back (may stay above original while pages are in use)
  std::string error;           ///< why the count could not be written back ("" when it was); still recorded
};

/// A count xmem changed and has not put back yet, as its records have it.
struct RecordedReservation {
  std::size_t pageSize = 0;
  std::optional<std::uint32_t> node = std::nullopt;  ///< none: the system-wide pool
  std::uint64_t original = 0;  ///< what xmem found before its first change (release puts it back)
  std::uint64_t now = 0;       ///< the count now
  /// The process that is to put it back itself (a benchmark's ScopedFreeHugePages, or a
  /// reservation being made); 0 for a reservation meant to last until releaseHugePages.
  std::int64_t owner = 0;
  bool ownerGone = false;      ///< that process died without putting it back
};
/// Every change on record (any xmem process's), with the counts now. Reads; changes nothing.
std::vector<RecordedReservation> recordedReservations();
/// The changes whose process died before it put them back, and that are not back yet (SIGKILL,
/// a crash, a power cut of the process): what releaseHugePages would give back. Cheap when there
/// are none, for every start of a program to ask.
std::vector<RecordedReservation> abandonedReservations();

/// Puts back every count xmem changed. With dryRun, only says what it would do.
std::vector<RestoredCount> releaseHugePages(bool dryRun = false);

/// A number of pages of one size free, for as long as it lives: pages in use stay in use, and
/// every count it changed goes back to what it found. Its changes are recorded for
/// releaseHugePages, should the process be killed first, and forgotten once put back. For
/// benchmarks and tools that need pages free and must leave the machine as they found it.
class ScopedFreeHugePages {
 public:
  ScopedFreeHugePages() = default;
  ~ScopedFreeHugePages() { restore(); }
  ScopedFreeHugePages(const ScopedFreeHugePages&) = delete;
  ScopedFreeHugePages& operator=(const ScopedFreeHugePages&) = delete;

  /// Exactly `count` pages of `pageSize` free (on `node`, or in the system-wide pool). When the
  /// kernel gives fewer, the result is not complete(), `target - after` pages short of `count`,
  /// and its advice says why. Throws Error as reserveHugePages does (no such size or node, not root).
  Reservation makeFree(std::size_t pageSize, std::uint64_t count, std::optional<std::uint32_t> node = std::nullopt);
  /// Every count changed back to what was found before the first change; never throws.
  void restore() noexcept;

 private:
  struct Found {
    std::uint64_t total = 0;      ///< the count before the first change
    bool recordedBefore = false;  ///< an earlier reservation (someone else's) was already recorded
  };
  std::map<std::pair<std::size_t, std::optional<std::uint32_t>>, Found> original_;
};

/// Why a set of free counts could not be had: the first page size that fell short.
struct FreePagesShortfall {
  std::size_t pageSize = 0;
  std::uint64_t wanted = 0;  ///< pages of that size asked free
  std::uint64_t got = 0;     ///< what the kernel left free of them
  std::string why;           ///< the error's message (the request failed), else the kernel's advice (may be empty)
  bool failed = false;       ///< the request itself failed: no such size or node, not root
};

/// Several free counts at once in `counts` (put back when it goes), for one run that needs
/// `pages` (page size, count): the largest pages first, as they need long runs of free memory.
/// A count of 0 frees none of that size where it can, and where it cannot (not root, no such
/// size) leaves the machine as it is. Stops at the first size it cannot make free and says why.
/// Where huge pages come from free memory at map time (Windows), there is nothing to do: nullopt.
std::optional<FreePagesShortfall> makeHugePagesFree(ScopedFreeHugePages& counts,
                                                    std::vector<std::pair<std::size_t, std::uint64_t>> pages,
                                                    std::optional<std::uint32_t> node = std::nullopt);

/// The variables that move xmem's files elsewhere (tests point them at a scratch folder). The
/// names live here, with the layer that reads them; the options table lists them with their help.
inline constexpr const char* kStateDirVariable = "XMEM_STATE_DIR";
inline constexpr const char* kSysctlDirVariable = "XMEM_SYSCTL_DIR";

/// Where xmem records what it changed: $XMEM_STATE_DIR/reservations, else /run/xmem/reservations
/// (gone at reboot, as the reservations themselves are).
std::string reservationStatePath();

/// The configuration that makes the current reservations last across reboots.
struct PersistentConfiguration {
  std::string sysctlPath;          ///< the file the OS reads at boot ($XMEM_SYSCTL_DIR, else the OS's place)
  std::string sysctlContent;       ///< what it holds (Linux: vm.nr_hugepages for the 2 MiB pool)
  std::string kernelCommandLine;   ///< what 1 GiB pages and per-node counts need at boot (printed, not applied)
};
PersistentConfiguration persistentConfiguration();
/// Writes the sysctl file (not the kernel command line). Throws Error.
void writePersistentConfiguration(const PersistentConfiguration& configuration);

}  // namespace xmem

#include <xmem/error.h>
#include <xmem/huge_pages.h>
#include <xmem/system_info.h>

#include "machine/os_error.h"
#include "os/os.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

namespace xmem {
namespace {

std::string sizeFlag(std::size_t pageSize) { return pageSize >= GiB ? std::to_string(pageSize / GiB) + "G" : std::to_string(pageSize / MiB) + "M"; }

// One line per count file xmem changed: "PATH ORIGINAL [OWNER]". OWNER is the process that is to
// put the count back itself (a ScopedFreeHugePages, or a reservation still being made); none when
// the change is meant to last until `xmem release`.
struct Record {
  std::uint64_t original = 0;
  std::int64_t owner = 0;
};
using State = std::map<std::string, Record>;

// The state file is replaced whole (written beside it, then renamed), so a reader never sees a
// half-written one and needs no lock.
State readState() {
  State state;
  std::ifstream file(reservationStatePath());
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string path;
    Record record;
    if (!(fields >> path >> record.original)) continue;
    if (!(fields >> record.owner) || record.owner < 0) record.owner = 0;
    state.emplace(path, record);
  }
  return state;
}

// Changes to the state file (read, change, write) are one at a time across processes: two
// `xmem reserve` at once would otherwise each write what they read, and one record would be lost.
class StateLock {
 public:
  /// `create`: make the state directory first (a reservation); otherwise a missing directory
  /// means nothing is recorded, and the lock is not needed (a release as a user, a dry run).
  StateLock(os::Platform& os, bool create) : os_(os) {
    const std::filesystem::path path = reservationStatePath();
    std::error_code ignored;
    if (create) std::filesystem::create_directories(path.parent_path(), ignored);
    if (!std::filesystem::exists(path.parent_path(), ignored)) return;
    const std::string lockPath = path.string() + ".lock";
    if (auto status = os_.lockFile(lockPath.c_str(), handle_); !status)
      throw osFailure(status, "cannot lock " + lockPath);
    held_ = true;
  }
  ~StateLock() {
    if (held_) os_.unlockFile(handle_);
  }
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  os::Platform& os_;
  int handle_ = -1;
  bool held_ = false;
};

// Call with a StateLock held.
void writeState(os::Platform& os, const State& state) {
  const std::filesystem::path path = reservationStatePath();
  std::error_code ignored;
  if (state.empty()) {
    std::filesystem::remove(path, ignored);
    return;
  }
  std::string contents;
  for (const auto& [count, record] : state)
    contents += count + ' ' + std::to_string(record.original) +
                (record.owner != 0 ? ' ' + std::to_string(record.owner) : std::string()) + '\n';
  if (auto status = os.replaceFile(path.string().c_str(), contents.data(), contents.size()); !status)
    throw osFailure(status, "cannot record the reservation in " + path.string());
}

std::uint64_t currentTotal(os::Platform& os, std::size_t pageSize, std::optional<std::uint32_t> node) {
  HugePageCounts counts;
  if (auto status = os.hugePageCounts(pageSize, node, counts); !status)
    throw osFailure(status, "cannot read " + os.hugePageCountPath(pageSize, node), {.node = node, .pageSize = pageSize});
  return counts.total;
}

void validate(const ReservationRequest& request, const SystemInfo& info) {
  if (info.hugePages(request.pageSize) == nullptr) {
    std::string offered;
    for (const auto& size : info.hugePageSizes) offered += (offered.empty() ? "" : ", ") + sizeFlag(size.pageSize);
    throw Error(ErrorCode::InvalidArgument, "page size " + formatBytes(request.pageSize) +
                                                " is not one this kernel offers: expected " +
                                                (offered.empty() ? std::string("none (no hugetlb support)") : offered),
                {.pageSize = request.pageSize});
  }
  if (request.node && !info.hasNode(*request.node))
    throw Error(ErrorCode::InvalidArgument, "node " + std::to_string(*request.node) + " does not exist on this machine",
                {.node = request.node});
  if (request.count == 0 && !request.total)
    throw Error(ErrorCode::InvalidArgument, "nothing to reserve: give a count of pages to add or a total to reach");
  // No count the machine could never hold: a wrapped sum would shrink the pool instead.
  const std::uint64_t most = info.memoryTotal / request.pageSize;
  const std::uint64_t asked = request.total.value_or(request.count);
  if (info.memoryTotal != 0 && asked > most)
    throw Error(ErrorCode::InvalidArgument,
                std::to_string(asked) + " x " + formatBytes(request.pageSize) + " pages is more than the machine's " +
                    formatBytes(info.memoryTotal) + " of memory: expected at most " + std::to_string(most),
                {.pageSize = request.pageSize, .pages = asked});
}

/// `before + count`, refused when it passes what the machine could hold (or wraps).
std::uint64_t targetOf(const ReservationRequest& request, std::uint64_t before, const SystemInfo& info) {
  if (request.total) return *request.total;
  const std::uint64_t most = info.memoryTotal != 0 ? info.memoryTotal / request.pageSize : ~std::uint64_t{0};
  if (request.count > most - std::min(before, most))
    throw Error(ErrorCode::InvalidArgument,
                std::to_string(before) + " reserved + " + std::to_string(request.count) + " x " + formatBytes(request.pageSize) +
                    " pages is more than the machine's memory holds: expected at most " + std::to_string(most) + " in all",
                {.pageSize = request.pageSize, .pages = request.count});
  return before + request.count;
}

}  // namespace

std::string hugePageCountFile(std::size_t pageSize, std::optional<std::uint32_t> node) {
  return os::current().hugePageCountPath(pageSize, node);
}

std::string reservationStatePath() {
  // Read here, not passed down from options: the machine layer sits below options, and every caller
  // (xmem, the tests, a program using the library) gets the same place without saying so.
  const char* dir = std::getenv(kStateDirVariable);
  return (dir != nullptr && *dir != '\0' ? std::string(dir) : os::current().stateDirectory()) + "/reservations";
}

namespace {

// `owner`: the process that puts the count back itself (ScopedFreeHugePages), 0 for a reservation
// meant to last. Either way the record names this process while the count is being changed, so
// that one killed in the middle is known to have died. `puttingBack`: a ScopedFreeHugePages
// restoring its count; when no record is left (a release, or an earlier holder, put the count back
// and forgot it), there is nothing of its own to put back, and it changes nothing.
Reservation reserveFor(const ReservationRequest& request, const Progress& progress, std::int64_t owner,
                       bool puttingBack = false) {
  auto& os = os::current();
  auto info = SystemInfo::refresh();
  validate(request, *info);
  Reservation result;
  result.dryRun = request.dryRun;
  result.path = os.hugePageCountPath(request.pageSize, request.node);
  result.before = currentTotal(os, request.pageSize, request.node);
  result.target = targetOf(request, result.before, *info);
  result.steps.push_back({ReservationStep::Kind::WriteCount, result.target});
  if (request.dryRun) {
    result.after = result.before;
    return result;
  }
  if (auto status = os.checkHugePageCountWritable(request.pageSize, request.node); !status)
    throw Error(ErrorCode::PermissionDenied,
                "cannot change " + result.path + " (" + os::describe(status) + "): reserving huge pages needs root.",
                {.node = request.node, .pageSize = request.pageSize, .osError = status.code, .pages = result.target});

  // One reservation at a time across processes, from reading the count to writing it: another
  // one in between would record a count this one already changed, or lose this one's record.
  StateLock locked(os, /*create=*/true);
  result.before = currentTotal(os, request.pageSize, request.node);
  result.target = targetOf(request, result.before, *info);
  result.steps.back().count = result.target;

  // Record the original first, so a release can always put it back.
  auto state = readState();
  if (puttingBack && !state.contains(result.path)) {
    result.target = result.after = result.before;
    result.steps.clear();
    return result;
  }
  auto [record, added] = state.emplace(result.path, Record{result.before, os.processId()});
  const std::int64_t ownerBefore = record->second.owner;
  if (!added) record->second.owner = os.processId();
  writeState(os, state);

  auto apply = [&] {
    // The kernel keeps what it can; NoMemory only says it could not reach the target.
    if (auto status = os.setHugePageCount(request.pageSize, request.node, result.target);
        !status && status.kind != os::Status::Kind::NoMemory)
      throw osFailure(status, "writing " + result.path + " failed");
    result.after = currentTotal(os, request.pageSize, request.node);
  };
  if (progress) progress("reserving " + std::to_string(result.target) + " x " + formatBytes(request.pageSize) + " pages");
  apply();
  if (!result.complete() && request.compact) {
    if (progress) progress("only " + std::to_string(result.after) + " reserved; compacting memory and trying again");
    result.steps.push_back({ReservationStep::Kind::CompactMemory, 0});
    result.compacted = os.compactMemory().ok();
    result.steps.push_back({ReservationStep::Kind::WriteCount, result.target});
    apply();
  }
  // Done: a lasting reservation is no one's to put back but `xmem release`'s; a scoped one is its
  // owner's (an earlier record keeps the owner it had, unless this one is meant to last).
  record->second.owner = owner == 0 ? 0 : (added ? owner : ownerBefore);
  try {
    writeState(os, state);
  } catch (const Error& error) {
    // The pages are had, and the record (written before) still puts them back; it names this
    // process a little longer than it should, which a release clears.
    result.advice = std::string("the reservation is made, but its record was not updated: ") + error.what();
  }
  if (!result.complete()) {
    result.advice = "the kernel found room for " + std::to_string(result.after) + " of " + std::to_string(result.target) +
                    " pages: free memory is fragmented";
    if (request.pageSize >= GiB) {
      result.advice += ". 1 GiB pages need 1 GiB of contiguous free memory: reserve them before 2 MiB pages";
      result.help = {ReservationHelp::ReserveAtBoot};
    } else {
      result.help = {ReservationHelp::DropCaches, ReservationHelp::ReserveAtBoot};
    }
  }
  return result;
}

/// The page size and node a recorded count file names; page size 0 when it names none now.
std::pair<std::size_t, std::optional<std::uint32_t>> countFileOwner(os::Platform& os, const std::string& path) {
  const auto info = SystemInfo::get();
  for (const auto& size : info->hugePageSizes) {
    if (os.hugePageCountPath(size.pageSize, std::nullopt) == path) return {size.pageSize, std::nullopt};
    for (const auto& n : info->nodes)
      if (os.hugePageCountPath(size.pageSize, n.id) == path) return {size.pageSize, n.id};
  }
  return {0, std::nullopt};
}

}  // namespace

Reservation reserveHugePages(const ReservationRequest& request, const Progress& progress) {
  return reserveFor(request, progress, 0);
}

std::vector<RecordedReservation> recordedReservations() {
  auto& os = os::current();
  std::vector<RecordedReservation> out;
  for (const auto& [path, record] : readState()) {
    const auto [pageSize, node] = countFileOwner(os, path);
    if (pageSize == 0) continue;
    const bool gone = record.owner != 0 && !os.processAlive(record.owner);
    out.push_back({pageSize, node, record.original, currentTotal(os, pageSize, node), record.owner, gone});
  }
  return out;
}

std::vector<RecordedReservation> abandonedReservations() {
  // Cheap when there is nothing to say (every xmem start asks): one small file, or none.
  auto& os = os::current();
  const auto state = readState();
  if (std::none_of(state.begin(), state.end(),
                   [&](const auto& entry) { return entry.second.owner != 0 && !os.processAlive(entry.second.owner); }))
    return {};
  auto recorded = recordedReservations();
  std::erase_if(recorded, [](const RecordedReservation& count) { return !count.ownerGone || count.now == count.original; });
  return recorded;
}

std::vector<RestoredCount> releaseHugePages(bool dryRun) {
  auto& os = os::current();
  std::optional<StateLock> locked;
  if (!dryRun) locked.emplace(os, /*create=*/false);
  auto state = readState();
  std::vector<RestoredCount> restored;
  for (auto it = state.begin(); it != state.end();) {
    const auto& path = it->first;
    const std::uint64_t original = it->second.original;
    RestoredCount count;
    count.path = path;
    count.original = original;
    // Find which size and node the path names, to use the platform's own writer.
    const auto [pageSize, node] = countFileOwner(os, path);
    if (pageSize == 0) {  // a page size or node that is gone: nothing to put back
      it = state.erase(it);
      continue;
    }
    count.changedTo = currentTotal(os, pageSize, node);
    if (!dryRun)
      if (auto status = os.setHugePageCount(pageSize, node, original); !status)
        count.error = "cannot write " + std::to_string(original) + " to " + path + ": " + os::describe(status);
    count.now = dryRun ? count.changedTo : currentTotal(os, pageSize, node);
    restored.push_back(count);
    it = dryRun || count.now == original ? state.erase(it) : std::next(it);
  }
  if (!dryRun) writeState(os, state);  // counts still above their original (pages in use) stay recorded
  return restored;
}

Reservation ScopedFreeHugePages::makeFree(std::size_t pageSize, std::uint64_t count, std::optional<std::uint32_t> node) {
  auto& os = os::current();
  HugePageCounts counts;
  if (auto status = os.hugePageCounts(pageSize, node, counts); !status) {
    ReservationRequest request{.pageSize = pageSize, .node = node, .total = count};
    validate(request, *SystemInfo::refresh());  // names an unknown size or node
    throw osFailure(status, "cannot read " + os.hugePageCountPath(pageSize, node), {.node = node, .pageSize = pageSize});
  }
  const std::uint64_t inUse = counts.total - std::min(counts.total, counts.free);
  if (counts.free == count) {
    Reservation unchanged;
    unchanged.path = os.hugePageCountPath(pageSize, node);
    unchanged.before = unchanged.target = unchanged.after = counts.total;
    return unchanged;
  }
  ReservationRequest request;
  request.pageSize = pageSize;
  request.node = node;
  request.total = inUse + count;
  const Found found{counts.total, readState().contains(os.hugePageCountPath(pageSize, node))};
  auto reservation = reserveFor(request, {}, os.processId());
  original_.emplace(std::pair{pageSize, node}, found);
  return reservation;
}

void ScopedFreeHugePages::restore() noexcept {
  for (const auto& [where, found] : original_) {
    try {
      ReservationRequest request;
      request.pageSize = where.first;
      request.node = where.second;
      request.total = found.total;
      request.compact = false;
      const auto back = reserveFor(request, {}, os::current().processId(), /*puttingBack=*/true);
      // Back where it was: nothing left for `xmem release`, unless an earlier reservation is, or
      // another process reserved since the count went back (then its record is this one).
      if (back.after == found.total && !found.recordedBefore) {
        auto& os = os::current();
        StateLock locked(os, /*create=*/false);
        auto state = readState();
        if (currentTotal(os, where.first, where.second) == found.total && state.erase(back.path) != 0) writeState(os, state);
      }
    } catch (...) {
      // Still recorded for releaseHugePages (`xmem release`), which can put it back.
    }
  }
  original_.clear();
}

PersistentConfiguration persistentConfiguration() {
  auto& os = os::current();
  auto info = SystemInfo::refresh();
  std::vector<os::BootPages> pages;
  for (const auto& size : info->hugePageSizes) {
    HugePageCounts counts;
    if (!os.hugePageCounts(size.pageSize, std::nullopt, counts) || counts.total == 0) continue;
    auto& boot = pages.emplace_back(os::BootPages{size.pageSize, counts.total, {}});
    for (const auto& [node, nodeCounts] : size.nodes) boot.nodes.emplace_back(node, nodeCounts.total);
  }
  const char* dir = std::getenv(kSysctlDirVariable);  // read here as kStateDirVariable is
  auto boot = os.bootConfiguration(pages, dir != nullptr ? dir : "");
  return {std::move(boot.path), std::move(boot.content), std::move(boot.kernelCommandLine)};
}

void writePersistentConfiguration(const PersistentConfiguration& configuration) {
  const auto& path = configuration.sysctlPath;
  if (auto status = os::current().replaceFile(path.c_str(), configuration.sysctlContent.data(), configuration.sysctlContent.size());
      !status)
    throw osFailure(status, "cannot write " + path + (status.kind == os::Status::Kind::NoPermission ? " (it needs root)" : ""));
}

std::optional<FreePagesShortfall> makeHugePagesFree(ScopedFreeHugePages& counts,
                                                    std::vector<std::pair<std::size_t, std::uint64_t>> pages,
                                                    std::optional<std::uint32_t> node) {
  // Windows keeps no pool: there is nothing to make free; the mapping asks and the report says.
  if (os::current().capabilities().hugePagesWithoutPool) return std::nullopt;
  std::stable_sort(pages.begin(), pages.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [pageSize, count] : pages) {
    try {
      const auto reservation = counts.makeFree(pageSize, count, node);
      if (!reservation.complete() && count != 0) {
        const std::uint64_t missing = std::min(count, reservation.target - reservation.after);
        return FreePagesShortfall{pageSize, count, count - missing, reservation.advice, false};
      }
    } catch (const Error& error) {
      if (count != 0) return FreePagesShortfall{pageSize, count, 0, error.what(), true};
    }
  }
  return std::nullopt;
}

}  // namespace xmem

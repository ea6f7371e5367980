#include "os/linux/proc_parsers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <unordered_map>

namespace xmem::os::linux_text {
namespace {

std::string_view trimLeft(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

template <typename Visitor>
void forEachLine(std::string_view text, Visitor&& visit) {
  while (!text.empty()) {
    auto newline = text.find('\n');
    visit(text.substr(0, newline));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
}

std::optional<std::uint64_t> parseHex(std::string_view text) noexcept {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc{} || ptr == text.data()) return std::nullopt;
  return value;
}

// The part of [areaStart, areaEnd) inside [begin, end).
std::size_t overlap(std::uintptr_t areaStart, std::uintptr_t areaEnd, std::uintptr_t begin,
                    std::uintptr_t end) noexcept {
  auto lo = std::max(areaStart, begin);
  auto hi = std::min(areaEnd, end);
  return hi > lo ? hi - lo : 0;
}

std::size_t scale(std::size_t value, std::size_t part, std::size_t whole) noexcept {
  if (part >= whole || whole == 0) return value;
  return static_cast<std::size_t>(static_cast<long double>(value) * static_cast<long double>(part) /
                                  static_cast<long double>(whole));
}

// A whole word as a number: "12x" is no number (from_chars alone would read 12).
std::optional<std::uint64_t> parseWholeNumber(std::string_view word, int base) noexcept {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), value, base);
  if (ec != std::errc{} || word.empty() || ptr != word.data() + word.size()) return std::nullopt;
  return value;
}

// The next blank-separated word of `text`, which moves past it.
std::string_view takeWord(std::string_view& text) noexcept {
  text = trimLeft(text);
  auto end = std::min(text.find_first_of(" \t"), text.size());
  auto word = text.substr(0, end);
  text.remove_prefix(end);
  return word;
}

// "Key: value" with a key of letters, digits and '_'. Area headers never look so: their first
// word holds a '-' ("7f00-7f10 rw-p ..."), even when a name such as [anon:x] holds a ':'.
bool splitField(std::string_view line, std::string_view& key, std::string_view& value) noexcept {
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  key = line.substr(0, colon);
  for (char c : key)
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  value = line.substr(colon + 1);
  return true;
}

struct AreaHeader {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::string_view permissions;
  std::string_view name;
};

// "start-end perms offset device inode   name". The name is all that follows the inode, spaces
// included ("/anon_hugepage (deleted)"); the kernel pads before it, never inside it.
std::optional<AreaHeader> parseAreaHeader(std::string_view line) noexcept {
  auto rest = line;
  auto range = takeWord(rest);
  auto dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto start = parseWholeNumber(range.substr(0, dash), 16);
  auto end = parseWholeNumber(range.substr(dash + 1), 16);
  if (!start || !end || *end < *start) return std::nullopt;
  AreaHeader header{static_cast<std::uintptr_t>(*start), static_cast<std::uintptr_t>(*end), takeWord(rest), {}};
  if (header.permissions.size() != 4) return std::nullopt;
  for (int field = 0; field < 3; ++field)  // offset, device, inode
    if (takeWord(rest).empty()) return std::nullopt;
  header.name = trimLeft(rest);
  return header;
}

void applySmapsField(MappingUsage& mapping, std::string_view key, std::string_view value) {
  if (key == "VmFlags") {
    for (auto word = takeWord(value); !word.empty(); word = takeWord(value)) {
      if (word == "hg") mapping.thpAdvised = true;
      if (word == "nh") mapping.thpRefused = true;
    }
    return;
  }
  auto number = parseUnsigned(value);
  if (!number) return;
  if (key == "THPeligible") {
    mapping.thpEligible = *number == 1;
    return;
  }
  auto bytes = static_cast<std::size_t>(*number * 1024);
  if (key == "KernelPageSize") mapping.kernelPageSize = bytes;
  else if (key == "Rss") mapping.residentBytes = bytes;
  else if (key == "AnonHugePages") mapping.anonHugePages = bytes;
  else if (key == "Locked") mapping.lockedBytes = bytes;
  else if (key == "Private_Hugetlb" || key == "Shared_Hugetlb") mapping.hugeTlbBytes += bytes;
}

}  // namespace

std::string_view selectedWord(std::string_view text) noexcept {
  auto open = text.find('[');
  auto close = text.find(']', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return {};
  return text.substr(open + 1, close - open - 1);
}

ThpMode parseThpMode(std::string_view text) noexcept {
  auto word = selectedWord(text);
  if (word == "always") return ThpMode::Always;
  if (word == "madvise") return ThpMode::Madvise;
  if (word == "never") return ThpMode::Never;
  return ThpMode::Unsupported;
}

std::optional<std::uint64_t> parseUnsigned(std::string_view text) noexcept {
  text = trimLeft(text);
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr == text.data()) return std::nullopt;
  return value;
}

namespace {
// Above any CPU or node id a kernel numbers (NR_CPUS is at most 8192): a list reaching past it is
// not the kernel's, and "0-18446744073709551615" would never end.
constexpr std::uint64_t kListIdLimit = std::uint64_t{1} << 16;

std::optional<std::uint64_t> listId(std::string_view text) noexcept {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr == text.data() || ptr != text.data() + text.size() || value >= kListIdLimit) return std::nullopt;
  return value;
}
}  // namespace

std::vector<std::uint32_t> parseCpuList(std::string_view text) {
  std::vector<std::uint32_t> cpus;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto dash = item.find('-');
    auto first = listId(item.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : listId(item.substr(dash + 1));
    // The kernel writes ascending ids, each once: anything else is malformed, not a set to guess.
    if (!first || !last || *last < *first || (!cpus.empty() && *first <= cpus.back())) return {};
    for (auto cpu = *first; cpu <= *last; ++cpu) cpus.push_back(static_cast<std::uint32_t>(cpu));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return cpus;
}

std::vector<std::uint32_t> parseNumbers(std::string_view text) {
  std::vector<std::uint32_t> numbers;
  while (!(text = trimLeft(text)).empty() && text.front() != '\n') {
    auto value = parseUnsigned(text);
    if (!value || *value > std::numeric_limits<std::uint32_t>::max()) break;  // not a distance (10 .. 254): not cut to 32 bits either
    numbers.push_back(static_cast<std::uint32_t>(*value));
    auto space = text.find_first_of(" \t\n");
    if (space == std::string_view::npos) break;
    text.remove_prefix(space);
  }
  return numbers;
}

std::optional<std::uint64_t> findKibField(std::string_view text, std::string_view key) noexcept {
  std::optional<std::uint64_t> result;
  forEachLine(text, [&](std::string_view line) {
    if (result) return;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto name = line.substr(0, colon);
    // Per-node meminfo prefixes keys with "Node N ".
    if (name.size() < key.size() || name.substr(name.size() - key.size()) != key) return;
    if (name.size() > key.size() && name[name.size() - key.size() - 1] != ' ') return;
    if (auto value = parseUnsigned(line.substr(colon + 1))) {
      bool kib = line.find("kB") != std::string_view::npos;
      if (kib && *value > std::numeric_limits<std::uint64_t>::max() / 1024) return;  // no machine has that
      result = kib ? *value * 1024 : *value;
    }
  });
  return result;
}

bool hasEffectiveCapability(std::string_view status, unsigned capability) noexcept {
  bool has = false;
  forEachLine(status, [&](std::string_view line) {
    if (line.substr(0, 7) != "CapEff:") return;
    if (auto mask = parseHex(trimLeft(line.substr(7)))) has = capability < 64 && ((*mask >> capability) & 1U) != 0;
  });
  return has;
}

bool cpuHasFlag(std::string_view cpuinfo, std::string_view flag) noexcept {
  bool has = false;
  forEachLine(cpuinfo, [&](std::string_view line) {
    if (has || line.substr(0, 5) != "flags") return;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto flags = line.substr(colon + 1);
    while (!flags.empty()) {
      flags = trimLeft(flags);
      auto space = flags.find(' ');
      if (flags.substr(0, space) == flag) has = true;
      if (space == std::string_view::npos) break;
      flags.remove_prefix(space);
    }
  });
  return has;
}

std::vector<SmapsArea> parseSmaps(std::string_view text) {
  std::vector<SmapsArea> areas;
  forEachLine(text, [&](std::string_view line) {
    auto colon = line.find(':');
    auto dash = line.find('-');
    // Area headers start "start-end perms ..." with hex addresses; field lines are "Key: value".
    if (dash != std::string_view::npos && (colon == std::string_view::npos || dash < colon) &&
        line.find(' ') > dash) {
      auto space = line.find(' ');
      auto start = parseHex(line.substr(0, dash));
      auto end = parseHex(line.substr(dash + 1, space - dash - 1));
      if (start && end) areas.push_back({static_cast<std::uintptr_t>(*start), static_cast<std::uintptr_t>(*end)});
      return;
    }
    if (areas.empty() || colon == std::string_view::npos) return;
    auto key = line.substr(0, colon);
    auto value = parseUnsigned(line.substr(colon + 1));
    if (!value) return;
    auto bytes = static_cast<std::size_t>(*value * 1024);
    auto& area = areas.back();
    if (key == "KernelPageSize") area.kernelPageSize = bytes;
    else if (key == "Rss") area.rss = bytes;
    else if (key == "AnonHugePages") area.anonHugePages = bytes;
    else if (key == "Locked") area.locked = bytes;
    else if (key == "Private_Hugetlb" || key == "Shared_Hugetlb") area.hugetlbResident += bytes;
  });
  return areas;
}

std::vector<NumaMapsArea> parseNumaMaps(std::string_view text) {
  std::vector<NumaMapsArea> areas;
  forEachLine(text, [&](std::string_view line) {
    auto space = line.find(' ');
    auto start = parseHex(line.substr(0, space));
    if (!start || space == std::string_view::npos) return;
    NumaMapsArea area;
    area.start = static_cast<std::uintptr_t>(*start);
    auto rest = line.substr(space + 1);
    while (!rest.empty()) {
      auto next = rest.find(' ');
      auto token = rest.substr(0, next);
      if (token.size() > 1 && token[0] == 'N' && token.find('=') != std::string_view::npos) {
        auto equals = token.find('=');
        auto node = parseUnsigned(token.substr(1, equals - 1));
        auto pages = parseUnsigned(token.substr(equals + 1));
        if (node && pages) area.pagesByNode.emplace_back(static_cast<std::uint32_t>(*node), *pages);
      } else if (token == "huge") {
        area.huge = true;
      } else if (token.starts_with("kernelpagesize_kB=")) {  // a cut line may end before the '='
        if (auto kib = parseUnsigned(token.substr(18))) area.kernelPageSize = static_cast<std::size_t>(*kib * 1024);
      }
      if (next == std::string_view::npos) break;
      rest.remove_prefix(next + 1);
    }
    areas.push_back(std::move(area));
  });
  return areas;
}

std::vector<MappingUsage> parseSmapsMappings(std::string_view text) {
  std::vector<MappingUsage> mappings;
  bool inReadableArea = false;  // false after a header that cannot be read: its fields are skipped
  forEachLine(text, [&](std::string_view line) {
    if (trimLeft(line).empty()) return;
    std::string_view key, value;
    if (splitField(line, key, value)) {
      if (inReadableArea) applySmapsField(mappings.back(), key, value);
      return;
    }
    auto header = parseAreaHeader(line);
    inReadableArea = header.has_value();
    if (!header) return;
    auto& mapping = mappings.emplace_back();
    mapping.start = header->start;
    mapping.end = header->end;
    mapping.permissions = header->permissions;
    mapping.name = header->name;
  });
  // smaps counts hugetlb pages apart from Rss (which is 0 for them): resident is both.
  for (auto& mapping : mappings) mapping.residentBytes += mapping.hugeTlbBytes;
  return mappings;
}

void attachNodes(std::vector<MappingUsage>& mappings, const std::vector<NumaMapsArea>& numaMaps,
                 std::size_t basePageSize) {
  std::unordered_map<std::uintptr_t, const NumaMapsArea*> areaAt;
  for (const auto& area : numaMaps) areaAt.emplace(area.start, &area);
  for (auto& mapping : mappings) {
    mapping.bytesByNode.clear();
    auto found = areaAt.find(mapping.start);
    if (found == areaAt.end()) continue;
    const auto& area = *found->second;
    auto pageSize = area.kernelPageSize != 0 ? area.kernelPageSize
                    : mapping.kernelPageSize != 0 ? mapping.kernelPageSize
                                                  : basePageSize;
    for (auto [node, pages] : area.pagesByNode) mapping.bytesByNode[node] += pages * pageSize;
  }
}

ProcessUsage parseProcessStatus(std::string_view text) {
  ProcessUsage usage;
  forEachLine(text, [&](std::string_view line) {
    std::string_view key, value;
    if (!splitField(line, key, value)) return;
    if (key == "Name") {
      usage.command = trimLeft(value);
      return;
    }
    auto kib = parseUnsigned(value);
    if (!kib) return;
    if (key == "VmRSS") usage.residentBytes = *kib * 1024;
    else if (key == "VmHWM") usage.peakResidentBytes = *kib * 1024;
    else if (key == "VmLck") usage.lockedBytes = *kib * 1024;
    else if (key == "HugetlbPages") usage.hugeTlbBytes = *kib * 1024;
  });
  return usage;
}

std::map<std::string, std::uint64_t> parseVmstatCounters(std::string_view text) {
  std::map<std::string, std::uint64_t> counters;
  forEachLine(text, [&](std::string_view line) {
    auto name = takeWord(line);
    if (!name.starts_with("thp_") && !name.starts_with("compact_") && !name.starts_with("htlb_")) return;
    if (auto value = parseWholeNumber(takeWord(line), 10)) counters[std::string(name)] = *value;
  });
  return counters;
}

std::vector<BuddyZone> parseBuddyInfo(std::string_view text) {
  std::vector<BuddyZone> zones;
  forEachLine(text, [&](std::string_view line) {
    if (takeWord(line) != "Node") return;
    auto nodeWord = takeWord(line);
    if (!nodeWord.ends_with(',')) return;
    auto node = parseWholeNumber(nodeWord.substr(0, nodeWord.size() - 1), 10);
    if (!node || takeWord(line) != "zone") return;
    BuddyZone zone{static_cast<std::uint32_t>(*node), std::string(takeWord(line)), {}};
    for (auto word = takeWord(line); !word.empty(); word = takeWord(line)) {
      auto blocks = parseWholeNumber(word, 10);
      if (!blocks) return;  // a count out of place would shift every order after it
      zone.freeBlocksByOrder.push_back(*blocks);
    }
    if (!zone.zone.empty() && !zone.freeBlocksByOrder.empty()) zones.push_back(std::move(zone));
  });
  return zones;
}

RangeUsage summarizeRange(const std::vector<SmapsArea>& smaps, const std::vector<NumaMapsArea>& numaMaps,
                          std::uintptr_t begin, std::uintptr_t end, std::size_t basePageSize) {
  RangeUsage usage;
  usage.length = end > begin ? end - begin : 0;
  for (const auto& area : smaps) {
    auto inside = overlap(area.start, area.end, begin, end);
    if (inside == 0) continue;
    auto whole = area.end - area.start;
    auto pageSize = area.kernelPageSize != 0 ? area.kernelPageSize : basePageSize;
    usage.bytesByPageSize[pageSize] += inside;
    if (pageSize > basePageSize) usage.hugeTlbBytes += inside;
    usage.residentBytes += scale(area.rss + area.hugetlbResident, inside, whole);
    usage.thpBytes += scale(area.anonHugePages, inside, whole);
    usage.lockedBytes += scale(area.locked, inside, whole);

    auto numa = std::find_if(numaMaps.begin(), numaMaps.end(),
                             [&](const NumaMapsArea& candidate) { return candidate.start == area.start; });
    if (numa == numaMaps.end()) continue;
    auto numaPageSize = numa->kernelPageSize != 0 ? numa->kernelPageSize : pageSize;
    for (auto [node, pages] : numa->pagesByNode)
      usage.bytesByNode[node] += scale(pages * numaPageSize, inside, whole);
  }
  return usage;
}

// KPF_THP is set on every page of any large anonymous folio: a PMD-mapped THP, but also a THP
// split into PTE mappings and multi-size THP (16 KiB .. 1 MiB folios). Neither pagemap nor
// kpageflags says how a page is mapped, so the block must look exactly like a PMD mapping does:
// its pages present and in frame order from a PMD-aligned frame, one folio with its head at the
// block's start and no page of it past the block's end. (A whole aligned folio can still be
// PTE-mapped for a moment after a split; khugepaged maps such a folio by a PMD again.)
bool isPmdMappedThp(std::span<const std::uint64_t> entries, std::span<const std::uint64_t> frameFlags) noexcept {
  using namespace page_bits;
  const std::size_t pages = entries.size();
  if (pages == 0 || frameFlags.size() < pages || (entries[0] & kPresent) == 0) return false;
  const std::uint64_t first = entries[0] & kFrameMask;
  if (first == 0 || first % pages != 0) return false;
  for (std::size_t page = 0; page < pages; ++page) {
    const std::uint64_t entry = entries[page];
    if ((entry & kPresent) == 0 || (entry & kSwapped) != 0 || (entry & kFrameMask) != first + page) return false;
    const std::uint64_t flags = frameFlags[page];
    const std::uint64_t part = page == 0 ? kCompoundHead : kCompoundTail;
    if ((flags & kThp) == 0 || (flags & part) == 0 || (flags & kZeroPage) != 0) return false;
  }
  // The folio ends with the block: the next frame is no tail of it (or memory ends there).
  return frameFlags.size() == pages || (frameFlags[pages] & kCompoundTail) == 0;
}

}  // namespace xmem::os::linux_text

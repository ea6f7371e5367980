#include <xmem/memory_facts.h>
#include <xmem/types.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <optional>
#include <string_view>

namespace xmem {

std::string formatBytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  // Exact figures in the largest unit that divides them ("2080 MiB", as RandomX states its
  // dataset); one decimal when no unit gives a short exact figure.
  for (std::size_t unit = std::size(kUnits); unit-- > 0;) {
    const std::uint64_t scale = std::uint64_t{1} << (10 * unit);
    if (bytes >= scale && bytes % scale == 0 && bytes / scale < 10240)
      return std::to_string(bytes / scale) + " " + kUnits[unit];
  }
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f %s", value, kUnits[unit]);
  return buffer;
}

std::string_view toString(Protection value) noexcept {
  switch (value) {
    case Protection::None: return "none";
    case Protection::Read: return "read";
    case Protection::ReadWrite: return "read-write";
    case Protection::ReadExecute: return "read-execute";
    case Protection::ReadWriteExecute: return "read-write-execute";
  }
  return "?";
}

std::string_view toString(NumaPolicy value) noexcept {
  switch (value) {
    case NumaPolicy::None: return "none";
    case NumaPolicy::Preferred: return "preferred";
    case NumaPolicy::Bind: return "bind";
    case NumaPolicy::Interleave: return "interleave";
  }
  return "?";
}

std::string_view toString(PageKind value) noexcept {
  switch (value) {
    case PageKind::HugeTlb: return "hugetlb";
    case PageKind::Transparent: return "transparent";
    case PageKind::Base: return "base";
    case PageKind::Pool: return "pool";
  }
  return "?";
}

std::vector<std::uint32_t> NodeSet::nodes() const {
  std::vector<std::uint32_t> result;
  for (std::uint32_t node = 0; node < kMaxNodes; ++node)
    if (contains(node)) result.push_back(node);
  return result;
}

std::optional<std::size_t> parseSize(std::string_view text) {
  std::size_t value = 0;
  auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || rest == text.data() || value == 0) return std::nullopt;
  std::string unit(rest, text.data() + text.size());
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") scale = KiB;
  else if (unit == "m" || unit == "mb" || unit == "mib") scale = MiB;
  else if (unit == "g" || unit == "gb" || unit == "gib") scale = GiB;
  else return std::nullopt;
  if (value > std::numeric_limits<std::size_t>::max() / scale) return std::nullopt;  // "17179869184G" wrapped to 0
  return value * scale;
}

std::string_view toString(ThpMode mode) noexcept {
  switch (mode) {
    case ThpMode::Unsupported: return "unsupported";
    case ThpMode::Always: return "always";
    case ThpMode::Madvise: return "madvise";
    case ThpMode::Never: return "never";
  }
  return "?";
}

std::string_view toString(LargePageRight::State state) noexcept {
  using State = LargePageRight::State;
  switch (state) {
    case State::NotNeeded: return "not needed";
    case State::Enabled: return "enabled";
    case State::Disabled: return "held, enabled when needed";
    case State::NeedsElevation: return "only when run as administrator";
    case State::NeedsSignOut: return "assigned, needs a sign-out";
    case State::NotAssigned: return "not assigned";
    case State::Unknown: return "unknown";
  }
  return "?";
}

const HugePageSizeInfo* MachineFacts::hugePages(std::size_t pageSize) const noexcept {
  for (const auto& size : hugePageSizes)
    if (size.pageSize == pageSize) return &size;
  return nullptr;
}

const NumaNodeInfo* MachineFacts::node(std::uint32_t id) const noexcept {
  for (const auto& candidate : nodes)
    if (candidate.id == id) return &candidate;
  return nullptr;
}

}  // namespace xmem

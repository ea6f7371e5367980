#include <xmem/error.h>
#include <xmem/types.h>

#include <cctype>
#include <charconv>
#include <cstdio>
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

std::string_view toString(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::OutOfMemory: return "out of memory";
    case ErrorCode::PermissionDenied: return "permission denied";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::SystemError: return "system error";
  }
  return "?";
}

std::vector<std::uint32_t> NodeSet::nodes() const {
  std::vector<std::uint32_t> result;
  for (std::uint32_t node = 0; node < kMaxNodes; ++node)
    if (contains(node)) result.push_back(node);
  return result;
}

Error::Error(ErrorCode code, std::string message, ErrorContext context)
    : std::runtime_error(std::move(message)), code_(code), context_(context) {}

Error::Error(const Error& prepared, ErrorContext context) noexcept
    : std::runtime_error(prepared), code_(prepared.code_), context_(context) {}

namespace {
const Error& preparedOutOfMemory() {
  static const Error error(ErrorCode::OutOfMemory, "out of memory (too little even for this error's own message)");
  return error;
}
// Made while the library loads, not when memory is already short.
[[maybe_unused]] const Error& outOfMemoryAtLoad = preparedOutOfMemory();
}  // namespace

Error Error::outOfMemory(ErrorContext context) noexcept { return Error(preparedOutOfMemory(), context); }

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
  return value * scale;
}

}  // namespace xmem

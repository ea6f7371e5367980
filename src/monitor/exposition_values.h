// How both expositions (JSON and Prometheus text) spell times and addresses.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace xmem::exposition {

inline double seconds(std::chrono::nanoseconds duration) { return std::chrono::duration<double>(duration).count(); }

/// Seconds since the Unix epoch. Whole seconds and the fraction are converted apart: a nanosecond
/// count near 2^61 does not fit a double's 53 bits, and 23.25 s would come out as 23.2499998.
inline double unixSeconds(std::chrono::system_clock::time_point at) {
  const auto whole = std::chrono::floor<std::chrono::seconds>(at);
  return static_cast<double>(whole.time_since_epoch().count()) + seconds(at - whole);
}

/// "0x7f0000000000"
inline std::string hex(std::uintptr_t address) {
  char buffer[2 + 2 * sizeof address + 1];
  std::snprintf(buffer, sizeof buffer, "0x%jx", static_cast<std::uintmax_t>(address));
  return buffer;
}

}  // namespace xmem::exposition

// Small text helpers for the command's tables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xmem::cli {

/// {0,1,2,3,8} -> "0-3,8"
std::string compactList(const std::vector<std::uint32_t>& values);

}  // namespace xmem::cli

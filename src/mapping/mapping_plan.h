// The cascade's decision, as a pure function: given what is free now, which parts of a mapping go
// on which pages. One contiguous mapping is laid out largest pages first, so every part starts at
// a multiple of its page size: [1 GiB pages][2 MiB pages][transparent or base pages].
#pragma once

#include <xmem/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace xmem {

struct HugePageCandidate {
  std::size_t pageSize = 0;
  std::uint64_t availablePages = 0;  ///< free now (on the node, when binding)
};

struct PlanInput {
  std::size_t size = 0;
  std::size_t basePageSize = 4096;
  std::vector<HugePageCandidate> hugePages;  ///< enabled sizes not in back-off, any order
  std::optional<std::uint32_t> countedNode;  ///< the node the free counts are of (binding), for the decisions
  bool partial = true;       ///< may cover only part of the mapping with a huge page size
  bool mixSizes = true;      ///< the platform can put several page kinds in one mapping
  bool transparent = false;  ///< THP usable for what is left
  std::size_t transparentPageSize = kHugePageSize;
};

struct PlannedSegment {
  PageKind kind = PageKind::Base;
  std::size_t pageSize = 0;
  std::size_t offset = 0;
  std::size_t length = 0;
};

struct Plan {
  std::vector<PlannedSegment> segments;
  std::vector<std::string> decisions;
  std::size_t length() const noexcept {
    return segments.empty() ? 0 : segments.back().offset + segments.back().length;
  }
  std::size_t largestPageSize() const noexcept;
};

Plan planMapping(const PlanInput& input);

}  // namespace xmem

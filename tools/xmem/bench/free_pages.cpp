#include "free_pages.h"

#include <xmem/types.h>

#include <fmt/format.h>

namespace xmem::bench {

std::string makeFree(ScopedFreeHugePages& counts, const PageNeeds& needs) {
  const auto shortfall =
      makeHugePagesFree(counts, {{kOneGbPageSize, needs.oneGbPages}, {kHugePageSize, needs.twoMbPages}});
  if (!shortfall) return {};
  const std::string why =
      shortfall->failed ? shortfall->why
                        : fmt::format("the kernel gave {} of {} {} pages{}", shortfall->got, shortfall->wanted,
                                      formatBytes(shortfall->pageSize), shortfall->why.empty() ? "" : " (" + shortfall->why + ")");
  return "needs " + (needs.oneGbPages != 0 ? std::to_string(needs.oneGbPages) + " x 1 GiB + " : std::string()) +
         std::to_string(needs.twoMbPages) + " x 2 MiB pages free: " + why;
}

}  // namespace xmem::bench

// The explicit huge pages a strategy or a memory source needs free for its run.
#pragma once

#include <xmem/huge_pages.h>

#include <cstdint>
#include <string>

namespace xmem::bench {

struct PageNeeds {
  std::uint64_t twoMbPages = 0;  ///< 0 and 0: the machine as it is, nothing reserved for it
  std::uint64_t oneGbPages = 0;
};

/// Exactly these counts free (none of a size not needed), as on a machine where that much was
/// reserved for the run; when not root, the machine as it is. Empty, or why not, for a table.
std::string makeFree(ScopedFreeHugePages& counts, const PageNeeds& needs);

}  // namespace xmem::bench

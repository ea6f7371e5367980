// `xmem bench`'s tables: the strategies per node, the librandomx sources, the targets.
#pragma once

#include "harness.h"

#include <iosfwd>

namespace xmem::bench {

void printTables(std::ostream& out, const Settings& settings, const Results& results);

}  // namespace xmem::bench

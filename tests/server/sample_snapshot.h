// A hand-made snapshot with every part the page draws: two nodes, 2 MiB and 1 GiB pools, this
// process and a watched one under the preload library, allocations, pools, fragmentation and a
// bandwidth matrix. `step` moves its figures (free pages, pool use, counters) the way time would,
// so a test can tell a page drawn from step 0 from one the script redrew from step 1.
#pragma once

#include <xmem/snapshot.h>

#include <string>

namespace xmem::testing {

/// A name that would run script if it reached the HTML unescaped.
inline const std::string kHostileName = "<script>alert(1)</script>";

Snapshot sampleSnapshot(int step = 0);

}  // namespace xmem::testing

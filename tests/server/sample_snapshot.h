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

/// The snapshot as /api/v1/snapshot's JSON, in the exposition's schema (branch mon-expo's golden
/// snapshot.json: counts as configured_pages, free_pages..., bytes by node as [{node, bytes}], a
/// null memlock limit for unlimited). It stands in for toJson until that lands on main.
std::string sampleSnapshotJson(const Snapshot& snapshot);

}  // namespace xmem::testing

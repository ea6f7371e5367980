// Snapshots as JSON (the /api/v1 schema, versioned by kSnapshotSchemaVersion) and as Prometheus
// text format 0.0.4, written by xmem itself: families sorted, labels in a fixed order, so the
// output is the same for the same snapshot and golden tests can hold it. And the checks of an
// exposition that Debian's promtool does not make (duplicate series, a family split in two,
// reserved label names, counters that go down between scrapes).
#pragma once

#include <xmem/snapshot.h>

#include <string>
#include <string_view>
#include <vector>

namespace xmem {

/// What part of a snapshot a JSON document holds (the /api/v1 endpoints).
enum class SnapshotPart : std::uint8_t { All, Machine, Allocations, Pools, Processes, Bandwidth };

/// The JSON document of `part`, with "schema_version" and "taken_at" at its top. indent < 0: one line.
std::string toJson(const Snapshot& snapshot, SnapshotPart part = SnapshotPart::All, int indent = -1);

/// The Prometheus text format 0.0.4, ending in a newline.
std::string toPrometheus(const Snapshot& snapshot);
/// The Content-Type to serve it with.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// What is wrong with an exposition in the text format, one message per problem (empty: clean).
std::vector<std::string> checkExposition(std::string_view text);
/// Counters (families typed counter) of `after` that are lower than in `before`, one message each.
std::vector<std::string> checkCountersMonotonic(std::string_view before, std::string_view after);

}  // namespace xmem

// JSON forms of xmem's reports, for `--json` and for anything that serves them.
#pragma once

#include <xmem/memory_pool.h>
#include <xmem/planner.h>
#include <xmem/system_info.h>
#include <xmem/topology.h>
#include <xmem/virtual_memory.h>

#include <nlohmann/json.hpp>

namespace xmem::cli {

nlohmann::json toJson(const SystemInfo& info);
nlohmann::json toJson(const AllocationReport& report);
nlohmann::json toJson(const std::vector<PageCount>& pages);  ///< [{"page_size", "pages"}]
nlohmann::json toJson(const MemoryPlan& plan);
nlohmann::json toJson(const Topology& topology);
nlohmann::json toJson(const PoolStats& stats);

/// The text `--json` prints: indented, and never a throw for bytes that are not UTF-8 (a process
/// name, a path, a value typed in): those are shown as U+FFFD.
std::string jsonText(const nlohmann::json& document);

}  // namespace xmem::cli

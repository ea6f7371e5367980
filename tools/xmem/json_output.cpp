#include "json_output.h"

#include "remedies.h"

#include <xmem/version.h>

namespace xmem::cli {
namespace {

nlohmann::json countsJson(const HugePageCounts& counts, bool withReserved) {
  nlohmann::json out = {{"total", counts.total}, {"free", counts.free}, {"surplus", counts.surplus}};
  if (withReserved) {
    out["reserved"] = counts.reserved;
    out["overcommit"] = counts.overcommit;
  }
  return out;
}

nlohmann::json limitJson(std::uint64_t bytes) {
  return bytes == MemlockLimit::kUnlimited ? nlohmann::json(nullptr) : nlohmann::json(bytes);
}

std::vector<std::string> reserveCommands(const MemoryPlan& plan) {
  std::vector<std::string> commands;
  for (const auto& missing : plan.missing) commands.push_back(reserveCommand(missing));
  return commands;
}

}  // namespace

nlohmann::json toJson(const SystemInfo& info) {
  nlohmann::json hugePages = nlohmann::json::array();
  for (const auto& size : info.hugePageSizes) {
    auto availability = hugePageAvailability(size.pageSize);
    nlohmann::json entry = countsJson(size.counts, true);
    entry["page_size"] = size.pageSize;
    entry["usable"] = availability.available;
    entry["reason"] = availability.reason;
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& [node, counts] : size.nodes) {
      auto perNode = countsJson(counts, false);
      perNode["node"] = node;
      nodes.push_back(perNode);
    }
    entry["nodes"] = nodes;
    hugePages.push_back(entry);
  }
  auto oneGb = hugePageAvailability(kOneGbPageSize);
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : info.nodes)
    nodes.push_back({{"id", node.id}, {"cpus", node.cpus}, {"memory_total", node.memoryTotal},
                     {"memory_free", node.memoryFree}});
  return {
      {"xmem_version", XMEM_VERSION},
      {"platform", info.platform},
      {"kernel", info.kernel},
      {"base_page_size", info.basePageSize},
      {"memory_total", info.memoryTotal},
      {"memory_available", info.memoryAvailable},
      {"default_huge_page_size", info.defaultHugePageSize},
      {"huge_pages", hugePages},
      {"one_gb_pages",
       {{"cpu", info.cpuHasOneGbPages},
        {"kernel", info.hugePages(kOneGbPageSize) != nullptr},
        {"usable", oneGb.available},
        {"reason", oneGb.reason}}},
      {"thp",
       {{"mode", toString(info.thp.mode)},
        {"defrag", info.thp.defrag},
        {"page_size", info.thp.pmdSize},
        {"usable", info.thp.usable()}}},
      {"memlock",
       {{"soft", limitJson(info.memlock.soft)},
        {"hard", limitJson(info.memlock.hard)},
        {"privileged", info.memlock.privileged}}},
      {"features",
       {{"populate_reports_errors", info.populateReportsErrors}, {"named_mappings", info.namedMappings}}},
      {"large_page_right",
       {{"state", std::string(toString(info.largePageRight.state))},
        {"usable", info.largePageRight.usable()},
        {"account", info.largePageRight.account},
        {"guidance", info.largePageRight.guidance}}},
      {"nodes", nodes},
      {"topology", toJson(*Topology::get())},
  };
}

nlohmann::json toJson(const PoolStats& stats) {
  return {{"capacity", stats.capacity},         {"huge_bytes", stats.hugeBytes},
          {"arenas", stats.arenas},             {"in_use", stats.inUse},
          {"requested", stats.requested},       {"high_water", stats.highWater},
          {"carved", stats.carved},             {"free_listed", stats.freeListed},
          {"live_chunks", stats.liveChunks},    {"allocations", stats.allocations},
          {"releases", stats.releases},         {"failed_allocations", stats.failedAllocations},
          {"invalid_releases", stats.invalidReleases}, {"resets", stats.resets},
          {"growths", stats.growths},           {"trims", stats.trims},
          {"reclaims", stats.reclaims},         {"huge", stats.huge},
          {"page_size", stats.pageSize},        {"fragmentation", stats.fragmentation()}};
}

nlohmann::json toJson(const Topology& topology) {
  nlohmann::json nodes = nlohmann::json::array();
  nlohmann::json distances = nlohmann::json::array();
  for (const auto& from : topology.nodes()) {
    nodes.push_back({{"id", from.id}, {"cpus", from.cpus}, {"memory", from.memory}, {"nearest", topology.nearestNodes(from.id)}});
    nlohmann::json row = nlohmann::json::array();
    for (const auto& to : topology.nodes()) row.push_back(topology.distance(from.id, to.id));
    distances.push_back(row);
  }
  return {{"nodes", nodes}, {"distances", distances}};
}

nlohmann::json toJson(const AllocationReport& report) {
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& segment : report.segments)
    segments.push_back({{"offset", segment.offset},
                        {"length", segment.length},
                        {"kind", toString(segment.kind)},
                        {"page_size", segment.pageSize}});
  nlohmann::json byNode = nlohmann::json::object();
  for (const auto& [node, bytes] : report.residentBytesByNode) byNode[std::to_string(node)] = bytes;
  return {
      {"requested_size", report.requestedSize},
      {"mapped_size", report.mappedSize},
      {"segments", segments},
      {"hugetlb_bytes", report.hugeTlbBytes()},
      {"thp_eligible_bytes", report.thpEligibleBytes()},
      {"thp_verified_bytes", report.thpVerifiedBytes},
      {"verified", report.verified},
      {"huge_fraction", report.hugeFraction()},
      {"node", report.node ? nlohmann::json(*report.node) : nlohmann::json(nullptr)},
      {"numa_policy", toString(report.numaPolicy)},
      {"bound", report.bound},
      {"bind_error", report.bindError},
      {"locked", report.locked},
      {"lock_error", report.lockError},
      {"named", report.named},
      {"prefault_threads", report.prefaultThreads},
      {"prefault_ms", std::chrono::duration<double, std::milli>(report.prefaultTime).count()},
      {"resident_bytes_by_node", byNode},
      {"decisions", report.decisions},
      {"summary", report.summary()},
  };
}

nlohmann::json toJson(const std::vector<PageCount>& pages) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& count : pages) list.push_back({{"page_size", count.pageSize}, {"pages", count.pages}});
  return list;
}

nlohmann::json toJson(const MemoryPlan& plan) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : plan.nodes) {
    nlohmann::json fallback = nlohmann::json::array();
    for (const auto& other : node.fallback) fallback.push_back({{"node", other.node}, {"distance", other.distance}});
    nlohmann::json pages = nlohmann::json::array();
    for (const auto& need : node.pages)
      // null where the OS keeps no pool (Windows): nothing is free or missing beforehand.
      pages.push_back({{"page_size", need.pageSize},
                       {"need", need.need},
                       {"free", plan.hugePagePool ? nlohmann::json(need.counts.free) : nlohmann::json()},
                       {"missing", plan.hugePagePool ? nlohmann::json(need.missing) : nlohmann::json()}});
    nodes.push_back({{"node", node.node},
                     {"threads", node.threads},
                     {"cpus", node.cpus},
                     {"fallback", fallback},
                     {"dataset", node.dataset},
                     {"cache", node.cache},
                     {"scratchpads", node.scratchpads},
                     {"jit", node.jit},
                     {"shared", node.shared()},
                     {"total", node.total()},
                     {"dataset_pages", toJson(node.datasetPages)},
                     {"cache_pages", toJson(node.cachePages)},
                     {"pool_pages", toJson(node.poolPages)},
                     {"jit_pages", toJson(node.jitPages)},
                     {"pages", pages}});
  }
  return {{"profile", plan.profile->name},
          {"threads", plan.options.threads},
          {"huge_pages", plan.options.hugePages},
          {"1g_pages", plan.options.oneGbPages},
          {"jit_huge_pages", jitOnHugePages(plan.options)},
          {"huge_page_pool", plan.hugePagePool},
          {"randomx_light", plan.options.randomxLight},
          {"nodes", nodes},
          {"total", plan.total()},
          {"shared", plan.shared()},
          {"satisfied", plan.satisfied()},
          {"commands", reserveCommands(plan)},
          {"notes", plan.notes}};
}

std::string jsonText(const nlohmann::json& document) {
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace xmem::cli

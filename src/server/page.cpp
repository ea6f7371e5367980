// The live page, rendered on the server: every number is in the first response (curl and text
// browsers see them), each one in an element with data-field and data-value so the script can
// replace it and a test can compare it with /api/v1/snapshot. No inline script or style: the
// Content-Security-Policy allows only 'self', so the look is in /page.css and the life in /page.js.
#include "server/page.h"

#include "server/history.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <set>

namespace xmem::server {

namespace assets {
std::string_view pageScriptText() noexcept;  // generated from page.js
std::string_view pageStyleText() noexcept;   // generated from page.css
}  // namespace assets

namespace {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Binary units as the rest of xmem prints them: "2 MiB", "1.5 GiB".
std::string bytesText(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  auto value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0 || value == std::floor(value)) return fmt::format("{} {}", value, units[unit]);
  return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string percentText(double ratio) { return fmt::format("{:.1f}%", ratio * 100); }

std::string utcText(std::chrono::system_clock::time_point at) {
  auto seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  return std::string(text, std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc));
}

std::string ageText(std::chrono::system_clock::duration age) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(age).count();
  if (seconds < 0) seconds = 0;
  if (seconds < 90) return fmt::format("{} s ago", seconds);
  if (seconds < 90 * 60) return fmt::format("{} min ago", (seconds + 30) / 60);
  return fmt::format("{} h ago", (seconds + 1800) / 3600);
}

std::string_view healthWord(Health health) {
  switch (health) {
    case Health::Green: return "good";
    case Health::Yellow: return "partly huge";
    case Health::Red: return "not huge";
  }
  return "not huge";
}

// Colour and a word, so the state reads without colour too.
std::string badge(Health health) {
  return fmt::format(R"(<span class="badge {}" data-field="health" data-value="{}">{}</span>)", toString(health),
                     toString(health), healthWord(health));
}

std::string numberCell(std::string_view field, std::uint64_t value) {
  return fmt::format(R"(<td class="num" data-field="{}" data-value="{}">{}</td>)", field, value, value);
}

std::string bytesCell(std::string_view field, std::uint64_t bytes) {
  return fmt::format(R"(<td class="num" data-field="{}" data-value="{}">{}</td>)", field, bytes, bytesText(bytes));
}

std::string textCell(std::string_view field, std::string_view text) {
  return fmt::format(R"(<td data-field="{}">{}</td>)", field, escape(text));
}

std::string backingText(const BackedBytes& part) {
  switch (part.backing) {
    case Backing::HugeTlb: return bytesText(part.pageSize) + " pages";
    case Backing::Transparent: return "THP";
    case Backing::Base: return bytesText(part.pageSize == 0 ? 4096 : part.pageSize) + " pages";
  }
  return "?";
}

std::string partsText(const std::vector<BackedBytes>& parts) {
  std::string text;
  for (const auto& part : parts) {
    if (part.bytes == 0) continue;
    text += (text.empty() ? "" : ", ") + bytesText(part.bytes) + " on " + backingText(part);
  }
  return text.empty() ? "nothing resident" : text;
}

std::string nodesText(const std::map<std::uint32_t, std::size_t>& bytesByNode) {
  std::string text;
  for (const auto& [node, bytes] : bytesByNode)
    text += fmt::format("{}node {}: {}", text.empty() ? "" : ", ", node, bytesText(bytes));
  return text.empty() ? "-" : text;
}

std::string nodeText(const std::optional<std::uint32_t>& node) {
  return node ? fmt::format("node {}", *node) : "any";
}

std::string limitText(std::uint64_t bytes) {
  return bytes == MemlockLimit::kUnlimited ? "unlimited" : bytesText(bytes);
}

// A polyline over the last values (oldest first), scaled to [0, top]; role=img with the last
// value in words so a screen reader gets the figure, not the drawing.
std::string sparkline(const std::vector<double>& values, double top, std::string_view field, std::string_view label) {
  constexpr double width = 120, height = 24;
  std::string points;
  double scale = top > 0 ? top : 1;
  for (std::size_t i = 0; i < values.size(); ++i) {
    double x = values.size() == 1 ? width : width * static_cast<double>(i) / static_cast<double>(values.size() - 1);
    double y = height - 1 - (height - 2) * std::clamp(values[i] / scale, 0.0, 1.0);
    points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x, y);
  }
  return fmt::format(
      R"(<svg class="spark" data-spark="{}" viewBox="0 0 120 24" preserveAspectRatio="none" role="img" aria-label="{}"><polyline points="{}"/></svg>)",
      escape(field), escape(label), points);
}

using Samples = std::vector<HistorySample>;

std::vector<double> series(const Samples& samples, const std::function<std::optional<double>(const HistorySample&)>& of) {
  std::vector<double> values;
  for (const auto& sample : samples)
    if (auto value = of(sample)) values.push_back(*value);
  return values;
}

struct Share {
  std::uint64_t huge = 0;
  std::uint64_t all = 0;
};

void addShare(Share& share, const std::vector<BackedBytes>& parts) {
  for (const auto& part : parts) {
    share.all += part.bytes;
    if (part.backing != Backing::Base) share.huge += part.bytes;
  }
}

Health worst(Health a, Health b) { return static_cast<int>(a) > static_cast<int>(b) ? a : b; }

std::string overview(const Snapshot& snapshot) {
  Share share;
  Health health = Health::Green;
  const bool withSelf = snapshot.self.pid != 0;  // 0: the snapshot leaves the server out
  if (withSelf) {
    addShare(share, snapshot.self.parts);
    health = worst(health, snapshot.self.health);
  }
  for (const auto& process : snapshot.processes) {
    if (withSelf && process.pid == snapshot.self.pid) continue;  // counted once
    addShare(share, process.parts);
    health = worst(health, process.health);
  }
  for (const auto& allocation : snapshot.allocations) health = worst(health, allocation.health);
  double ratio = share.all == 0 ? 0 : static_cast<double>(share.huge) / static_cast<double>(share.all);
  return fmt::format(
      R"(<p id="overview" class="overview">Huge pages: <strong data-field="huge_share" data-value="{:.4f}">{}</strong> )"
      R"(of {} watched memory &middot; health {} &middot; snapshot <time data-field="taken_at">{}</time> )"
      R"(&middot; <span id="status" class="status" role="status">server-rendered</span></p>)",
      ratio, percentText(ratio), bytesText(share.all), badge(health), utcText(snapshot.takenAt));
}

std::string putBackText(const PagePoolStats& pool) {
  if (pool.addedByXmem == 0) return "-";
  return pool.restoredOnRelease ? fmt::format("yes, to {}", pool.countBeforeXmem) : "no, stays";
}

std::string pagePoolsSection(const Snapshot& snapshot) {
  std::string rows;
  for (const auto& pool : snapshot.pagePools) {
    const auto& counts = pool.counts;
    auto inUse = counts.total > counts.free ? counts.total - counts.free : 0;
    rows += fmt::format(R"(<tr data-node="{}" data-page-size="{}"><th scope="row">{}</th><td>{}</td>)",
                        pool.node ? std::to_string(*pool.node) : "all", pool.pageSize,
                        pool.node ? fmt::format("node {}", *pool.node) : "all nodes", bytesText(pool.pageSize));
    rows += numberCell("configured", counts.total) + numberCell("free", counts.free) + numberCell("in_use", inUse) +
            numberCell("surplus", counts.surplus);
    rows += pool.node ? R"(<td class="num" data-field="reserved">-</td>)" : numberCell("reserved", counts.reserved);
    rows += numberCell("added_by_xmem", pool.addedByXmem) + textCell("put_back", putBackText(pool)) + "</tr>";
  }
  if (rows.empty()) rows = R"(<tr><td colspan="9">this kernel has no huge page pools</td></tr>)";
  return R"(<section id="page-pools"><h2>Huge pages per node</h2><table><thead><tr><th scope="col">node</th>)"
         R"(<th scope="col">page size</th><th scope="col">configured</th><th scope="col">free</th>)"
         R"(<th scope="col">in use</th><th scope="col">surplus</th><th scope="col">reserved</th>)"
         R"(<th scope="col">added by xmem</th><th scope="col">put back on release</th></tr></thead><tbody>)" +
         rows + "</tbody></table></section>";
}

std::string mappingsTable(const ProcessStats& process) {
  if (process.mappings.empty()) return "";
  std::string rows;
  for (const auto& mapping : process.mappings) {
    rows += fmt::format(R"(<tr data-start="{:#x}"><td class="mono">{:#x}</td>)", mapping.start, mapping.start);
    rows += textCell("name", mapping.name.empty() ? "(anonymous)" : mapping.name);
    rows += bytesCell("size_bytes", mapping.sizeBytes) + bytesCell("resident_bytes", mapping.residentBytes);
    rows += textCell("parts", partsText(mapping.parts)) + textCell("nodes", nodesText(mapping.bytesByNode));
    rows += "<td>" + badge(mapping.health) + "</td>" + textCell("reason", mapping.reason) + "</tr>";
  }
  return R"(<table class="mappings"><caption>Large mappings</caption><thead><tr><th scope="col">start</th>)"
         R"(<th scope="col">mapping</th><th scope="col">size</th><th scope="col">resident</th>)"
         R"(<th scope="col">backed by</th><th scope="col">nodes</th><th scope="col">state</th>)"
         R"(<th scope="col">why not huge</th></tr></thead><tbody>)" +
         rows + "</tbody></table>";
}

std::string preloadTable(const ProcessStats& process) {
  if (!process.underPreload) return "";
  std::string rows;
  for (const auto& record : process.preload) {
    rows += fmt::format(R"(<tr data-address="{:#x}"><td class="mono">{:#x}</td>)", record.address, record.address);
    rows += textCell("source", record.source) + bytesCell("requested_bytes", record.requestedBytes) +
            bytesCell("mapped_bytes", record.mappedBytes) + bytesCell("huge_tlb_bytes", record.hugeTlbBytes);
    rows += textCell("page_size", record.pageSize ? bytesText(record.pageSize) : "-") +
            textCell("node_asked", nodeText(record.nodeAsked)) + textCell("locked", record.locked ? "yes" : "no") +
            "</tr>";
  }
  if (rows.empty()) rows = R"(<tr><td colspan="8">no large allocation yet</td></tr>)";
  return R"(<table class="preload"><caption>Under xmem's preload: its large allocations</caption><thead><tr>)"
         R"(<th scope="col">address</th><th scope="col">call</th><th scope="col">asked</th><th scope="col">mapped</th>)"
         R"(<th scope="col">on huge pages</th><th scope="col">page size</th><th scope="col">node asked</th>)"
         R"(<th scope="col">locked</th></tr></thead><tbody>)" +
         rows + "</tbody></table>";
}

std::string processBlock(const ProcessStats& process, bool isSelf) {
  std::string out = fmt::format(R"(<article class="process" data-pid="{}"><h3>{} <span class="mono">pid {}</span>{} {}</h3>)",
                                process.pid, escape(process.command.empty() ? "?" : process.command), process.pid,
                                isSelf ? " (this server)" : "", badge(process.health));
  if (!process.error.empty())
    return out + R"(<p class="error" data-field="error">cannot read it: )" + escape(process.error) + "</p></article>";
  if (!process.reason.empty()) out += R"(<p class="reason" data-field="reason">)" + escape(process.reason) + "</p>";
  std::map<std::uint32_t, std::size_t> byNode;
  for (const auto& mapping : process.mappings)
    for (const auto& [node, bytes] : mapping.bytesByNode) byNode[node] += bytes;
  out += R"(<table class="kv"><tbody><tr><th scope="row">resident</th>)" + bytesCell("resident_bytes", process.residentBytes) +
         R"(<th scope="row">peak</th>)" + bytesCell("peak_resident_bytes", process.peakResidentBytes) +
         R"(<th scope="row">locked</th>)" + bytesCell("locked_bytes", process.lockedBytes) +
         R"(<th scope="row">hugetlb</th>)" + bytesCell("huge_tlb_bytes", process.hugeTlbBytes) + "</tr></tbody></table>";
  out += R"(<p class="parts">Large mappings: <span data-field="parts">)" + escape(partsText(process.parts)) +
         R"(</span>; by node: <span data-field="nodes">)" + escape(nodesText(byNode)) + "</span></p>";
  return out + mappingsTable(process) + preloadTable(process) + "</article>";
}

std::string processesSection(const Snapshot& snapshot) {
  std::string out = R"(<section id="processes"><h2>Processes</h2>)";
  if (snapshot.self.pid != 0) out += processBlock(snapshot.self, true);
  // A server watching its own pid lists it once, as itself.
  for (const auto& process : snapshot.processes)
    if (process.pid != snapshot.self.pid) out += processBlock(process, false);
  return out + "</section>";
}

std::string allocationsSection(const Snapshot& snapshot) {
  std::string rows;
  for (const auto& allocation : snapshot.allocations) {
    std::size_t largest = 0;
    for (const auto& part : allocation.parts)
      if (part.bytes > 0 && part.backing != Backing::Transparent) largest = std::max(largest, part.pageSize);
    rows += fmt::format(R"(<tr data-address="{:#x}">)", allocation.address);
    rows += textCell("name", allocation.name.empty() ? "(unnamed)" : allocation.name) +
            bytesCell("requested_bytes", allocation.requestedBytes) + bytesCell("mapped_bytes", allocation.mappedBytes);
    rows += textCell("parts", partsText(allocation.parts)) + textCell("node_asked", nodeText(allocation.nodeAsked)) +
            textCell("nodes", nodesText(allocation.residentBytesByNode));
    rows += textCell("policy", fmt::format("{}{}", toString(allocation.policy), allocation.bound ? "" : " (not applied)"));
    rows += textCell("locked", allocation.locked ? "yes" : "no") +
            textCell("prefaulted", allocation.prefaulted ? "yes" : "no");
    rows += "<td>" + badge(allocation.health) + "</td>" + textCell("reason", allocation.reason) + "</tr>";
  }
  if (rows.empty()) rows = R"(<tr><td colspan="10">xmem made no allocation in this process</td></tr>)";
  return R"(<section id="allocations"><h2>xmem's allocations in this process</h2><table><thead><tr>)"
         R"(<th scope="col">name</th><th scope="col">asked</th><th scope="col">mapped</th>)"
         R"(<th scope="col">obtained</th><th scope="col">node asked</th><th scope="col">node obtained</th>)"
         R"(<th scope="col">policy</th><th scope="col">locked</th><th scope="col">pre-faulted</th>)"
         R"(<th scope="col">state</th><th scope="col">why</th></tr></thead><tbody>)" +
         rows + "</tbody></table></section>";
}

std::string poolsSection(const Snapshot& snapshot, const Samples& samples) {
  std::string rows;
  for (const auto& pool : snapshot.pools) {
    auto find = [&](const HistorySample& sample) -> const HistorySample::Pool* {
      for (const auto& p : sample.pools)
        if (p.pool == pool.pool && p.node == pool.node) return &p;
      return nullptr;
    };
    auto used = series(samples, [&](const HistorySample& s) -> std::optional<double> {
      auto* p = find(s);
      if (!p || p->capacityBytes == 0) return p ? std::optional<double>(0) : std::nullopt;
      return static_cast<double>(p->inUseBytes) / static_cast<double>(p->capacityBytes);
    });
    auto fragmentation = series(samples, [&](const HistorySample& s) -> std::optional<double> {
      auto* p = find(s);
      return p ? std::optional<double>(p->fragmentation) : std::nullopt;
    });
    double utilisation = pool.capacityBytes == 0 ? 0
                                                 : static_cast<double>(pool.inUseBytes) / static_cast<double>(pool.capacityBytes);
    std::uint64_t failures = 0;
    for (auto count : pool.failures) failures += count;
    rows += fmt::format(R"(<tr data-pool="{}" data-node="{}"><th scope="row">{}</th><td class="num">{}</td>)",
                        escape(pool.pool), pool.node, escape(pool.pool), pool.node);
    rows += bytesCell("in_use_bytes", pool.inUseBytes) + bytesCell("capacity_bytes", pool.capacityBytes) +
            textCell("utilisation", percentText(utilisation)) + bytesCell("high_water_bytes", pool.highWaterBytes) +
            bytesCell("largest_free_block_bytes", pool.largestFreeBlockBytes);
    rows += fmt::format(R"(<td class="num" data-field="fragmentation" data-value="{:.4f}">{}</td>)", pool.fragmentation,
                        percentText(pool.fragmentation));
    rows += numberCell("allocations", pool.allocations) + numberCell("failures", failures) +
            numberCell("fallbacks_out", pool.fallbacksOut);
    rows += "<td>" + sparkline(used, 1, "utilisation", "utilisation over 15 min, now " + percentText(utilisation)) +
            sparkline(fragmentation, 1, "fragmentation", "fragmentation over 15 min, now " + percentText(pool.fragmentation)) +
            "</td></tr>";
  }
  if (rows.empty()) rows = R"(<tr><td colspan="12">no pool in this process</td></tr>)";
  return R"(<section id="pools"><h2>Pools</h2><table><thead><tr><th scope="col">pool</th><th scope="col">node</th>)"
         R"(<th scope="col">in use</th><th scope="col">capacity</th><th scope="col">used</th>)"
         R"(<th scope="col">high water</th><th scope="col">largest free</th><th scope="col">fragmentation</th>)"
         R"(<th scope="col">allocations</th><th scope="col">failures</th><th scope="col">fallbacks out</th>)"
         R"(<th scope="col">15 min: used, fragmentation</th></tr></thead><tbody>)" +
         rows + "</tbody></table></section>";
}

// Per minute between the oldest and newest sample; empty with fewer than two samples.
std::string rateText(const Samples& samples, std::uint64_t HistorySample::*counter) {
  if (samples.size() < 2) return "rate: needs two samples";
  const auto& first = samples.front();
  const auto& last = samples.back();
  auto minutes = std::chrono::duration<double, std::ratio<60>>(last.at - first.at).count();
  if (minutes <= 0) return "rate: needs two samples";
  auto delta = last.*counter >= first.*counter ? last.*counter - first.*counter : 0;
  return fmt::format("{:.1f}/min over {:.0f} min", static_cast<double>(delta) / minutes, std::ceil(minutes));
}

std::string fragmentationRows(const Snapshot& snapshot, const Samples& samples) {
  std::string rows;
  for (const auto& zone : snapshot.kernel.fragmentation) {
    auto index = series(samples, [&](const HistorySample& s) -> std::optional<double> {
      for (const auto& node : s.nodes)
        if (node.node == zone.node) return node.unusableFreeIndex;
      return std::nullopt;
    });
    rows += fmt::format(R"(<tr data-node="{}" data-zone="{}"><th scope="row">node {}</th>)", zone.node,
                        escape(zone.zone), zone.node);
    rows += textCell("zone", zone.zone) + numberCell("huge_page_blocks", zone.hugePageBlocks);
    rows += fmt::format(R"(<td class="num" data-field="unusable_free_index" data-value="{:.4f}">{:.3f}</td>)",
                        zone.unusableFreeIndex, zone.unusableFreeIndex);
    rows += "<td>" + sparkline(index, 1, "unusable_free_index", fmt::format("unusable index over 15 min, now {:.3f}", zone.unusableFreeIndex)) +
            "</td></tr>";
  }
  if (rows.empty()) rows = R"(<tr><td colspan="5">the kernel's free lists were not read</td></tr>)";
  return rows;
}

std::string counterRow(const Snapshot& snapshot, const Samples& samples, std::string_view name,
                       std::uint64_t HistorySample::*field) {
  auto found = snapshot.kernel.counters.find(std::string(name));
  std::uint64_t value = found == snapshot.kernel.counters.end() ? 0 : found->second;
  return fmt::format(R"(<tr data-counter="{}"><th scope="row">{}</th>)", name, name) + numberCell("value", value) +
         textCell("rate", rateText(samples, field)) + "</tr>";
}

std::string kernelSection(const Snapshot& snapshot, const Samples& samples) {
  const auto& kernel = snapshot.kernel;
  const auto& memlock = kernel.memlock;
  std::string oneGb = kernel.oneGbAvailability.empty()
                          ? "1 GiB availability cannot be read: the buddy allocator's orders stop at 4 MiB; only an attempt tells."
                          : kernel.oneGbAvailability;
  std::string out = R"(<section id="kernel"><h2>Kernel</h2><p>THP <strong data-field="thp_mode">)" +
                    std::string(toString(kernel.thp.mode)) + R"(</strong>, defrag <strong data-field="thp_defrag">)" +
                    escape(kernel.thp.defrag.empty() ? "-" : kernel.thp.defrag) +
                    R"(</strong> &middot; memlock limit <strong data-field="memlock">)" +
                    escape(memlock.privileged ? "none (privileged)"
                                              : limitText(memlock.soft) + " (hard " + limitText(memlock.hard) + ")") +
                    "</strong></p>";
  out += R"(<table id="fragmentation"><caption>2 MiB pages obtainable now, and the unusable free index at )"
         R"(2 MiB (0: all free memory usable, 1: none)</caption><thead><tr><th scope="col">node</th>)"
         R"(<th scope="col">zone</th><th scope="col">2 MiB blocks</th><th scope="col">unusable index</th>)"
         R"(<th scope="col">15 min</th></tr></thead><tbody>)" +
         fragmentationRows(snapshot, samples) + "</tbody></table>";
  out += R"(<table id="counters"><caption>Fallbacks and compaction</caption><thead><tr><th scope="col">counter</th>)"
         R"(<th scope="col">since boot</th><th scope="col">rate</th></tr></thead><tbody>)" +
         counterRow(snapshot, samples, "thp_fault_fallback", &HistorySample::thpFaultFallback) +
         counterRow(snapshot, samples, "compact_fail", &HistorySample::compactFail) + "</tbody></table>";
  return out + R"(<p class="note" data-field="one_gb_availability">)" + escape(oneGb) + "</p></section>";
}

std::string bandwidthTable(const BandwidthMatrix& matrix, const std::string& kernel) {
  std::set<std::uint32_t> cpuNodes, memoryNodes;
  for (const auto& figure : matrix.figures)
    if (figure.kernel == kernel) {
      cpuNodes.insert(figure.cpuNode);
      memoryNodes.insert(figure.memoryNode);
    }
  std::string out = R"(<table class="bandwidth" data-kernel=")" + escape(kernel) + R"("><caption>)" + escape(kernel) +
                    R"(: GB/s, best of the runs</caption><thead><tr><th scope="col">CPU node \ memory node</th>)";
  for (auto node : memoryNodes) out += fmt::format(R"(<th scope="col">node {}</th>)", node);
  out += "</tr></thead><tbody>";
  for (auto cpu : cpuNodes) {
    out += fmt::format(R"(<tr><th scope="row">node {}</th>)", cpu);
    for (auto memory : memoryNodes) {
      auto figure = std::find_if(matrix.figures.begin(), matrix.figures.end(), [&](const BandwidthFigure& f) {
        return f.kernel == kernel && f.cpuNode == cpu && f.memoryNode == memory;
      });
      if (figure == matrix.figures.end()) {
        out += "<td>-</td>";
        continue;
      }
      out += fmt::format(R"(<td class="num" data-cpu-node="{}" data-memory-node="{}" data-value="{}">{:.1f}</td>)", cpu,
                         memory, figure->bestBytesPerSecond, figure->bestBytesPerSecond / 1e9);
    }
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

std::string bandwidthSection(const Snapshot& snapshot) {
  std::string out = R"(<section id="bandwidth"><h2>Memory bandwidth</h2>)";
  if (!snapshot.bandwidth || snapshot.bandwidth->figures.empty())
    return out + R"(<p data-field="bandwidth_age">not measured: POST /api/v1/actions/bandwidth</p></section>)";
  const auto& matrix = *snapshot.bandwidth;
  out += fmt::format(R"(<p>measured <span data-field="bandwidth_age">{}</span> ({}, took {:.1f} s)</p>)",
                     ageText(snapshot.takenAt - matrix.measuredAt), utcText(matrix.measuredAt),
                     std::chrono::duration<double>(matrix.took).count());
  std::vector<std::string> kernels;
  for (const auto& figure : matrix.figures)
    if (std::find(kernels.begin(), kernels.end(), figure.kernel) == kernels.end()) kernels.push_back(figure.kernel);
  for (const auto& kernel : kernels) out += bandwidthTable(matrix, kernel);
  return out + "</section>";
}

}  // namespace

std::string renderPage(const Snapshot& snapshot, const History& history) {
  auto samples = history.samples();
  std::string host = escape(snapshot.hostname.empty() ? "this machine" : snapshot.hostname);
  std::string page = R"(<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">)"
                     R"(<meta name="viewport" content="width=device-width, initial-scale=1">)"
                     "<title>xmem on " + host + "</title>" +
                     R"(<link rel="stylesheet" href="/page.css"><script src="/page.js" defer></script></head>)"
                     R"(<body data-refreshed="0"><header><h1>xmem on )" + host + R"( <small>)" +
                     escape(snapshot.xmemVersion) + "</small></h1>" + overview(snapshot) + "</header><main>";
  page += pagePoolsSection(snapshot) + processesSection(snapshot) + allocationsSection(snapshot) +
          poolsSection(snapshot, samples) + kernelSection(snapshot, samples) + bandwidthSection(snapshot);
  return page + R"(</main><footer><p>JSON: <a href="/api/v1/snapshot">/api/v1/snapshot</a>, )"
                R"(<a href="/api/v1/history">/api/v1/history</a> &middot; metrics: <a href="/metrics">/metrics</a></p>)"
                "</footer></body></html>\n";
}

std::string_view pageScript() noexcept { return assets::pageScriptText(); }
std::string_view pageStyle() noexcept { return assets::pageStyleText(); }

}  // namespace xmem::server

// The live page as the server renders it (numbers, escaping, no inline script or style) and the
// history ring it draws from (wrapping, order, the sample's figures, the JSON).
#include "sample_snapshot.h"

#include "server/history.h"
#include "server/page.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <regex>
#include <thread>
#include <string>

namespace xmem::server {
namespace {

using testing::kHostileName;
using testing::sampleSnapshot;

// The markup of the first element that opens with `opening` (e.g. `<tr data-node="1"`), up to its
// closing tag.
std::string elementOf(const std::string& html, const std::string& opening, const std::string& closing) {
  auto start = html.find(opening);
  if (start == std::string::npos) return "";
  auto end = html.find(closing, start);
  return html.substr(start, end == std::string::npos ? std::string::npos : end + closing.size() - start);
}

std::string rowOf(const std::string& html, const std::string& attributes) {
  return elementOf(html, "<tr " + attributes, "</tr>");
}

// The data-value of the element with data-field="name" in `markup`, or "(absent)".
std::string valueOf(const std::string& markup, const std::string& name) {
  std::smatch match;
  std::regex pattern("data-field=\"" + name + "\" data-value=\"([^\"]*)\"");
  return std::regex_search(markup, match, pattern) ? match[1].str() : "(absent)";
}

std::string textOf(const std::string& markup, const std::string& name) {
  std::smatch match;
  std::regex pattern("data-field=\"" + name + "\"[^>]*>([^<]*)<");
  return std::regex_search(markup, match, pattern) ? match[1].str() : "(absent)";
}

std::string pageOf(const Snapshot& snapshot, int steps = 12) {
  History history;
  for (int step = 0; step < steps; ++step) history.record(sampleSnapshot(step));
  return renderPage(snapshot, history);
}

TEST(Page, HasEachHugePageCountPerNodeAndPageSize) {
  auto html = pageOf(sampleSnapshot());
  auto oneGbNode1 = rowOf(html, R"(data-node="1" data-page-size="1073741824")");
  ASSERT_FALSE(oneGbNode1.empty()) << html;
  EXPECT_EQ(valueOf(oneGbNode1, "configured"), "4");
  EXPECT_EQ(valueOf(oneGbNode1, "free"), "3");
  EXPECT_EQ(valueOf(oneGbNode1, "in_use"), "1");
  EXPECT_EQ(valueOf(oneGbNode1, "added_by_xmem"), "3");
  EXPECT_EQ(textOf(oneGbNode1, "put_back"), "yes, to 1");
  auto oneGbNode0 = rowOf(html, R"(data-node="0" data-page-size="1073741824")");
  EXPECT_EQ(valueOf(oneGbNode0, "surplus"), "1");
  EXPECT_EQ(textOf(oneGbNode0, "put_back"), "no, stays");
  auto twoMbAll = rowOf(html, R"(data-node="all" data-page-size="2097152")");
  EXPECT_EQ(valueOf(twoMbAll, "configured"), "1024");
  EXPECT_EQ(valueOf(twoMbAll, "reserved"), "12");
  EXPECT_EQ(valueOf(rowOf(html, R"(data-node="0" data-page-size="2097152")"), "free"), "100");
}

TEST(Page, HasProcessesWithTheirBackingHealthAndPreloadRecords) {
  auto html = pageOf(sampleSnapshot());
  auto miner = elementOf(html, R"(<article class="process" data-pid="31337")", "</article>");
  ASSERT_FALSE(miner.empty());
  EXPECT_EQ(valueOf(miner, "resident_bytes"), std::to_string(2560 * MiB));
  EXPECT_EQ(valueOf(miner, "health"), "yellow");
  EXPECT_NE(miner.find("32 MiB on 4 KiB pages"), std::string::npos);
  EXPECT_EQ(textOf(miner, "parts"), "2 GiB on 1 GiB pages, 256 MiB on THP, 32 MiB on 4 KiB pages");
  EXPECT_EQ(textOf(miner, "nodes"), "node 0: 1 GiB, node 1: 1.3 GiB");
  auto scratch = rowOf(miner, R"(data-start="0x7d0000000000")");
  EXPECT_EQ(textOf(scratch, "reason"), "32 MiB not yet collapsed by khugepaged");
  auto record = rowOf(miner, R"(data-address="0x7e0000000000")");
  EXPECT_EQ(valueOf(record, "requested_bytes"), std::to_string(2080 * MiB));
  EXPECT_EQ(valueOf(record, "huge_tlb_bytes"), std::to_string(2 * GiB));
  EXPECT_EQ(textOf(record, "node_asked"), "node 1");
  auto self = elementOf(html, R"(<article class="process" data-pid="4242")", "</article>");
  EXPECT_NE(self.find("(this server)"), std::string::npos);
  EXPECT_EQ(self.find("Under xmem's preload"), std::string::npos) << "the server itself is not under the preload";
}

TEST(Page, ListsTheServingProcessOnceWhenItWatchesItself) {
  auto snapshot = sampleSnapshot();
  snapshot.processes.push_back(snapshot.self);
  auto html = pageOf(snapshot);
  auto first = html.find(R"(data-pid="4242")");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(html.find(R"(data-pid="4242")", first + 1), std::string::npos);
}

TEST(Page, HasAllocationsPoolsKernelAndBandwidth) {
  auto html = pageOf(sampleSnapshot());
  auto dataset = rowOf(html, R"(data-address="0x7f1000000000")");
  EXPECT_EQ(valueOf(dataset, "requested_bytes"), std::to_string(2080 * MiB));
  EXPECT_EQ(textOf(dataset, "parts"), "2 GiB on 1 GiB pages, 1 GiB on 2 MiB pages");
  EXPECT_EQ(textOf(dataset, "node_asked"), "node 1");
  EXPECT_EQ(textOf(dataset, "locked"), "yes");
  auto scratchpads = rowOf(html, R"(data-pool="scratchpads" data-node="1")");
  EXPECT_EQ(valueOf(scratchpads, "in_use_bytes"), std::to_string(16 * MiB));
  EXPECT_EQ(valueOf(scratchpads, "high_water_bytes"), std::to_string(30 * MiB));
  EXPECT_EQ(textOf(scratchpads, "utilisation"), "50.0%");
  auto zone = rowOf(html, R"(data-node="0" data-zone="Normal")");
  EXPECT_EQ(valueOf(zone, "huge_page_blocks"), "51");
  EXPECT_EQ(valueOf(zone, "unusable_free_index"), "0.2500");
  EXPECT_EQ(textOf(html, "thp_mode"), "madvise");
  EXPECT_EQ(valueOf(rowOf(html, R"(data-counter="thp_fault_fallback")"), "value"), "40");
  // 12 samples 5 s apart: 33 fallbacks over 55 s.
  EXPECT_EQ(textOf(rowOf(html, R"(data-counter="thp_fault_fallback")"), "rate"), "36.0/min over 1 min");
  EXPECT_NE(html.find("1 GiB availability cannot be read"), std::string::npos);
  EXPECT_EQ(textOf(html, "bandwidth_age"), "3 min ago");
  EXPECT_NE(html.find(R"(data-cpu-node="0" data-memory-node="0" data-value="20000000000">20.0<)"), std::string::npos);
  EXPECT_NE(html.find(R"(data-kernel="copy")"), std::string::npos);
  EXPECT_EQ(textOf(html, "memlock"), "64 MiB (hard unlimited)");
}

TEST(Page, OverviewGivesHugeShareHealthAndTime) {
  auto html = pageOf(sampleSnapshot());
  auto overview = elementOf(html, R"(<p id="overview")", "</p>");
  // Self 64 of 80 MiB huge, the miner 2304 of 2336 MiB: 2368 of 2416 MiB.
  EXPECT_EQ(valueOf(overview, "huge_share"), "0.9801");
  EXPECT_NE(overview.find("98.0%"), std::string::npos);
  EXPECT_EQ(valueOf(overview, "health"), "red") << "the worst state: an allocation is red";
  EXPECT_EQ(textOf(overview, "taken_at"), "2026-12-02 06:00:00 UTC");
}

TEST(Page, EscapesHostileNames) {
  auto html = pageOf(sampleSnapshot());
  EXPECT_EQ(html.find(kHostileName), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  const std::string escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
  for (const auto* where : {"<title>xmem on rig-", R"(data-pool=")", "/dev/hugepages/", "[anon:"})
    EXPECT_NE(html.find(std::string(where) + escaped), std::string::npos) << where;
  EXPECT_NE(html.find("<h3>" + escaped + " "), std::string::npos) << "the watched process's command";
}

TEST(Page, HasNoInlineScriptOrStyle) {
  auto html = pageOf(sampleSnapshot());
  std::smatch match;
  EXPECT_FALSE(std::regex_search(html, match, std::regex("<script(?![^>]*\\bsrc=)"))) << match.str();
  EXPECT_FALSE(std::regex_search(html, match, std::regex("<script[^>]*>[^<]+</script>"))) << match.str();
  EXPECT_FALSE(std::regex_search(html, match, std::regex("<style|\\sstyle="))) << match.str();
  EXPECT_FALSE(std::regex_search(html, match, std::regex("\\son[a-z]+=", std::regex::icase))) << match.str();
  EXPECT_FALSE(std::regex_search(html, match, std::regex("javascript:", std::regex::icase))) << match.str();
  EXPECT_NE(html.find(R"(<script src="/page.js" defer></script>)"), std::string::npos);
  EXPECT_NE(html.find(R"(<link rel="stylesheet" href="/page.css">)"), std::string::npos);
}

TEST(Page, DrawsSparklinesFromHistory) {
  auto html = pageOf(sampleSnapshot(), 4);
  auto row = rowOf(html, R"(data-pool="scratchpads" data-node="1")");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(row, match, std::regex(R"re(data-spark="utilisation"[^>]*><polyline points="([^"]*)")re")));
  // 16 of 32 MiB in use at every sample: four points on the middle line.
  EXPECT_EQ(match[1].str(), "0.0,12.0 40.0,12.0 80.0,12.0 120.0,12.0");
}

TEST(Page, SaysWhatIsAbsent) {
  Snapshot empty;
  auto html = renderPage(empty, History());
  EXPECT_NE(html.find("not measured: POST /api/v1/actions/bandwidth"), std::string::npos);
  EXPECT_NE(html.find("no pool in this process"), std::string::npos);
  EXPECT_NE(html.find("xmem made no allocation in this process"), std::string::npos);
  EXPECT_NE(html.find("rate: needs two samples"), std::string::npos);
  EXPECT_NE(html.find("1 GiB availability cannot be read"), std::string::npos) << "said even when the snapshot does not";
}

TEST(Page, ServesItsScriptAndStyleFromTheBinary) {
  EXPECT_NE(pageScript().find("/api/v1/snapshot"), std::string_view::npos);
  EXPECT_NE(pageScript().find("/api/v1/history"), std::string_view::npos);
  EXPECT_EQ(pageScript().find("innerHTML"), std::string_view::npos) << "text goes in through textContent only";
  EXPECT_NE(pageStyle().find(".badge.red"), std::string_view::npos);
}

Snapshot snapshotAt(int second) {
  Snapshot snapshot;
  snapshot.takenAt = std::chrono::system_clock::time_point(std::chrono::seconds(second));
  return snapshot;
}

TEST(History, KeepsOrderAndWrapsAtCapacity) {
  History history(3);
  history.record(snapshotAt(10));
  history.record(snapshotAt(20));
  auto seconds = [&] {
    std::vector<long> out;
    for (const auto& sample : history.samples())
      out.push_back(static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(sample.at.time_since_epoch()).count()));
    return out;
  };
  EXPECT_EQ(seconds(), (std::vector<long>{10, 20}));
  for (int second : {30, 40, 50}) history.record(snapshotAt(second));
  EXPECT_EQ(seconds(), (std::vector<long>{30, 40, 50}));
  history.record(snapshotAt(60));
  EXPECT_EQ(seconds(), (std::vector<long>{40, 50, 60}));
  EXPECT_EQ(history.capacity(), 3u);
  EXPECT_EQ(History().capacity(), 180u) << "15 minutes at one sample per 5 s";
}

TEST(History, RecordsAndReadsFromSeveralThreads) {
  History history(16);
  constexpr int kRecords = 300;
  // Writer w records seconds w*100000 + i: in any readout, each writer's samples keep their order.
  auto writer = [&](int w) {
    for (int i = 0; i < kRecords; ++i) history.record(snapshotAt(w * 100000 + i));
  };
  std::atomic<bool> done{false};
  std::atomic<int> disorder{0};
  std::thread reader([&] {
    while (!done) {
      std::map<long, long> last;
      auto samples = history.samples();
      if (samples.size() > history.capacity()) ++disorder;
      for (const auto& sample : samples) {
        auto second = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(sample.at.time_since_epoch()).count());
        auto [it, fresh] = last.try_emplace(second / 100000, second);
        if (!fresh && it->second >= second) ++disorder;
        it->second = second;
      }
    }
  });
  std::thread first(writer, 1), second(writer, 2);
  first.join();
  second.join();
  done = true;
  reader.join();
  EXPECT_EQ(disorder.load(), 0);
  EXPECT_EQ(history.samples().size(), 16u);
}

TEST(History, RefusesCapacityZero) {
  try {
    History history(0);
    FAIL() << "a ring of no samples was made";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("History capacity 0"), std::string::npos) << error.what();
  }
}

TEST(History, TakesTheGraphedFiguresFromTheSnapshot) {
  History history;
  history.record(sampleSnapshot(2));
  auto sample = history.samples().at(0);
  ASSERT_EQ(sample.pools.size(), 2u);
  EXPECT_EQ(sample.pools[0].pool, kHostileName);
  EXPECT_EQ(sample.pools[0].inUseBytes, 42 * MiB);
  EXPECT_EQ(sample.pools[1].capacityBytes, 32 * MiB);
  ASSERT_EQ(sample.nodes.size(), 2u);
  EXPECT_EQ(sample.nodes[0].hugePageBlocks, 49u);
  EXPECT_DOUBLE_EQ(sample.nodes[0].unusableFreeIndex, 0.27);
  EXPECT_EQ(sample.nodes[1].hugePageBlocks, 403u);
  EXPECT_EQ(sample.thpFaultFallback, 46u);
  EXPECT_EQ(sample.compactFail, 9u);
  ASSERT_EQ(sample.processes.size(), 2u);
  EXPECT_EQ(sample.processes[0].pid, 4242) << "the serving process first";
  EXPECT_DOUBLE_EQ(sample.processes[0].hugeFraction, 0.8);
  EXPECT_EQ(sample.processes[1].pid, 31337);
}

TEST(History, SumsZonesPerNodeAndTakesTheLargestZonesIndex) {
  Snapshot snapshot;
  snapshot.kernel.fragmentation = {{0, "DMA32", {0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 2, 0.9},
                                   {0, "Normal", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, 10, 0.1}};
  History history;
  history.record(snapshot);
  auto node = history.samples().at(0).nodes.at(0);
  EXPECT_EQ(node.hugePageBlocks, 12u);
  EXPECT_DOUBLE_EQ(node.unusableFreeIndex, 0.1);
}

TEST(History, JsonHasItsShapeAndIsDeterministic) {
  History first(4);
  History second(4);
  for (int step = 0; step < 6; ++step) {
    first.record(sampleSnapshot(step));
    second.record(sampleSnapshot(step));
  }
  auto text = historyJson(first);
  EXPECT_EQ(text, historyJson(second));
  auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["schema_version"], kSnapshotSchemaVersion);
  EXPECT_EQ(json["capacity"], 4);
  ASSERT_EQ(json["samples"].size(), 4u);
  const auto& oldest = json["samples"][0];
  EXPECT_EQ(oldest["at"], "2026-12-02T06:00:10.000Z");
  EXPECT_EQ(oldest["at_unix_seconds"], 1'796'191'210.0);
  EXPECT_EQ(oldest["thp_fault_fallback"], 46);
  EXPECT_EQ(oldest["compact_fail"], 9);
  EXPECT_EQ(oldest["pools"][1], (nlohmann::json{{"pool", "scratchpads"}, {"node", 1}, {"capacity_bytes", 32 * MiB},
                                                 {"in_use_bytes", 16 * MiB}, {"fragmentation", 0.0}}));
  EXPECT_EQ(oldest["nodes"][1]["huge_page_blocks"], 403);
  EXPECT_EQ(oldest["processes"][1]["pid"], 31337);
  EXPECT_EQ(json["samples"][3]["at"], "2026-12-02T06:00:25.000Z");
  EXPECT_EQ(historyJson(History()), R"({"schema_version":1,"capacity":180,"samples":[]})");
}

}  // namespace
}  // namespace xmem::server

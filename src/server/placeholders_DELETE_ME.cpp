// PLACEHOLDERS, to be deleted when the real implementations are merged (Monitor, measureBandwidth:
// main; toJson, toPrometheus, checkExposition: branch mon-expo; History, historyJson, renderPage,
// pageScript, pageStyle: branch mon-page). They exist only so that xmem_server's tests and
// benchmark link before then; their output is deliberately minimal and the tests do not depend
// on it. src/server/CMakeLists.txt compiles each part only while the real one is missing
// (XMEM_PLACEHOLDER_<FILE>), so merging in any order works.
#include <xmem/exposition.h>
#include <xmem/monitor.h>

#include "server/history.h"
#include "server/page.h"

namespace xmem {

#ifdef XMEM_PLACEHOLDER_MONITOR
class Monitor::Impl {};
Monitor::Monitor(MonitorOptions) : impl_(std::make_unique<Impl>()) {}
Monitor::~Monitor() = default;
void Monitor::watch(std::int64_t) {}
void Monitor::unwatch(std::int64_t) {}
std::vector<std::int64_t> Monitor::watched() const { return {}; }
Snapshot Monitor::snapshot() {
  Snapshot snapshot;
  snapshot.takenAt = std::chrono::system_clock::now();
  return snapshot;
}
void Monitor::setBandwidth(BandwidthMatrix) {}
void Monitor::setRandomxHashrate(double) {}
std::size_t Monitor::trimPools() { return 0; }
#endif

#ifdef XMEM_PLACEHOLDER_BANDWIDTH
BandwidthMatrix measureBandwidth(const BandwidthOptions&) { return {}; }
#endif

#ifdef XMEM_PLACEHOLDER_JSON_EXPOSITION
std::string toJson(const Snapshot& snapshot, SnapshotPart, int) {
  return "{\"schema_version\":" + std::to_string(snapshot.schemaVersion) + ",\"placeholder\":true}";
}
#endif

#ifdef XMEM_PLACEHOLDER_PROMETHEUS_EXPOSITION
std::string toPrometheus(const Snapshot&) { return "# placeholder exposition\n"; }
#endif

#ifdef XMEM_PLACEHOLDER_EXPOSITION_CHECK
std::vector<std::string> checkExposition(std::string_view) { return {}; }
#endif

}  // namespace xmem

namespace xmem::server {

#ifdef XMEM_PLACEHOLDER_HISTORY
History::History(std::size_t capacity) : capacity_(capacity) {}
void History::record(const Snapshot& snapshot) {
  std::lock_guard lock(mutex_);
  HistorySample sample;
  sample.at = snapshot.takenAt;
  if (ring_.size() < capacity_) ring_.push_back(sample);
  else ring_[next_] = sample;
  next_ = (next_ + 1) % capacity_;
}
std::vector<HistorySample> History::samples() const {
  std::lock_guard lock(mutex_);
  return ring_;
}
// The shape history.h gives ({"schema_version":..,"samples":[...]}), one empty object a sample.
std::string historyJson(const History& history) {
  std::string samples;
  for (std::size_t i = 0; i < history.samples().size(); ++i) samples += i == 0 ? "{}" : ",{}";
  return "{\"schema_version\":1,\"samples\":[" + samples + "]}";
}
#endif

#ifdef XMEM_PLACEHOLDER_PAGE
std::string renderPage(const Snapshot&, const History&) {
  return "<!doctype html><title>xmem</title><link rel=stylesheet href=page.css><script src=page.js></script>";
}
std::string_view pageScript() noexcept { return "// placeholder\n"; }
std::string_view pageStyle() noexcept { return "/* placeholder */\n"; }
#endif

}  // namespace xmem::server

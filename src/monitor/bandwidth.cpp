// Memory bandwidth on demand: STREAM-style kernels (read, copy, triad) with threads pinned on one
// node and the arrays bound to another, each pass timed from one start to the last thread's end.
// Bytes are counted as STREAM does (8 per element read, 16 copied, 24 for triad), without the
// write-allocate read, so figures compare with STREAM's and likwid-bench's.
#include <xmem/error.h>
#include <xmem/monitor.h>
#include <xmem/topology.h>
#include <xmem/virtual_memory.h>

#include "os/os.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <thread>

namespace xmem {
namespace {

constexpr std::size_t kMinimumArrayBytes = 256 * MiB;

// Each array at least 4x the last-level cache (so the figure is the memory's, not the cache's)
// and 256 MiB, but no more than an eighth of the memory available (three arrays are made).
std::size_t defaultArrayBytes() {
  const auto facts = os::current().probe();
  std::size_t bytes = std::max(kMinimumArrayBytes, 4 * facts.lastLevelCacheBytes);
  if (facts.memoryAvailable != 0) bytes = std::min<std::size_t>(bytes, std::max<std::size_t>(facts.memoryAvailable / 8, 64 * MiB));
  return bytes;
}

enum class Kernel { Read, Copy, Triad };

Kernel kernelNamed(const std::string& name) {
  if (name == "read") return Kernel::Read;
  if (name == "copy") return Kernel::Copy;
  if (name == "triad") return Kernel::Triad;
  throw Error(ErrorCode::InvalidArgument, "bandwidth kernel \"" + name + "\": expected read, copy or triad");
}

double bytesPerElement(Kernel kernel) { return kernel == Kernel::Read ? 8.0 : kernel == Kernel::Copy ? 16.0 : 24.0; }

struct Arrays {
  double* a;
  double* b;
  double* c;
  std::size_t elements;
};

// One thread's slice [begin, end) of one pass.
double runSlice(Kernel kernel, const Arrays& arrays, std::size_t begin, std::size_t end) {
  double sum = 0;
  switch (kernel) {
    case Kernel::Read: {
      // Eight sums: one would wait on each add's latency and measure the adder, not the memory.
      double partial[8] = {};
      std::size_t i = begin;
      for (; i + 8 <= end; i += 8)
        for (std::size_t lane = 0; lane < 8; ++lane) partial[lane] += arrays.a[i + lane];
      for (; i < end; ++i) sum += arrays.a[i];
      for (double lane : partial) sum += lane;
      break;
    }
    case Kernel::Copy:
      for (std::size_t i = begin; i < end; ++i) arrays.b[i] = arrays.a[i];
      break;
    case Kernel::Triad:
      for (std::size_t i = begin; i < end; ++i) arrays.c[i] = arrays.a[i] + 3.0 * arrays.b[i];
      break;
  }
  return sum;
}

VirtualMemory arrayOn(std::uint32_t node, std::size_t bytes) {
  VirtualMemoryOptions options;
  options.size = bytes;
  options.node = node;
  options.numaPolicy = os::nodeLocalPolicy();
  options.hugePages = false;  // the machine's hugetlb pages are for its workload, not for a probe
  options.name = "xmem:bandwidth";
  return VirtualMemory(options);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// Runs every kernel on `arrays` with `cpus` (one thread each), `repetitions` passes each.
std::vector<BandwidthFigure> measurePair(const std::vector<std::uint32_t>& cpus, const Arrays& arrays,
                                         const std::vector<Kernel>& kernels, const BandwidthOptions& options) {
  const std::size_t threads = cpus.size();
  const unsigned passes = std::max(1U, options.repetitions);
  std::vector<std::vector<double>> seconds(kernels.size());
  std::barrier sync(static_cast<std::ptrdiff_t>(threads + 1));
  std::atomic<double> sink{0};
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      (void)os::current().pinThread(cpus[t]);
      const std::size_t begin = arrays.elements * t / threads;
      const std::size_t end = arrays.elements * (t + 1) / threads;
      // First touch, by writing: untouched memory reads as the one shared zero page, from cache.
      std::fill(arrays.a + begin, arrays.a + end, 1.0);
      std::fill(arrays.b + begin, arrays.b + end, 2.0);
      std::fill(arrays.c + begin, arrays.c + end, 0.0);
      for (std::size_t k = 0; k < kernels.size(); ++k)
        for (unsigned pass = 0; pass < passes; ++pass) {
          sync.arrive_and_wait();
          const double sum = runSlice(kernels[k], arrays, begin, end);
          sink.store(sum, std::memory_order_relaxed);
          sync.arrive_and_wait();
        }
    });
  for (std::size_t k = 0; k < kernels.size(); ++k)
    for (unsigned pass = 0; pass < passes; ++pass) {
      sync.arrive_and_wait();
      const auto start = std::chrono::steady_clock::now();
      sync.arrive_and_wait();
      seconds[k].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  for (auto& worker : workers) worker.join();
  std::vector<BandwidthFigure> out;
  for (std::size_t k = 0; k < kernels.size(); ++k) {
    std::vector<double> rates;
    for (double s : seconds[k]) rates.push_back(bytesPerElement(kernels[k]) * static_cast<double>(arrays.elements) / std::max(s, 1e-9));
    BandwidthFigure figure;
    figure.kernel = options.kernels[k];
    figure.bestBytesPerSecond = *std::max_element(rates.begin(), rates.end());
    figure.medianBytesPerSecond = median(rates);
    figure.bufferBytes = arrays.elements * sizeof(double);
    figure.threads = static_cast<unsigned>(threads);
    figure.repetitions = passes;
    out.push_back(figure);
  }
  return out;
}

std::vector<std::uint32_t> nodesOrAll(const std::vector<std::uint32_t>& asked, const Topology& topology, const char* what) {
  if (asked.empty()) {
    std::vector<std::uint32_t> all;
    for (const auto& node : topology.nodes()) all.push_back(node.id);
    return all;
  }
  for (auto id : asked)
    if (!topology.has(id))
      throw Error(ErrorCode::InvalidArgument, std::string(what) + " " + std::to_string(id) + ": the machine has no such node");
  return asked;
}

}  // namespace

BandwidthMatrix measureBandwidth(const BandwidthOptions& options) {
  std::vector<Kernel> kernels;
  for (const auto& name : options.kernels) kernels.push_back(kernelNamed(name));
  if (kernels.empty()) throw Error(ErrorCode::InvalidArgument, "no bandwidth kernel asked: expected read, copy or triad");
  const auto shared = Topology::get();
  const Topology& topology = *shared;
  const auto cpuNodes = nodesOrAll(options.cpuNodes, topology, "CPU node");
  const auto memoryNodes = nodesOrAll(options.memoryNodes, topology, "memory node");
  const std::size_t bytes = alignUp(options.bufferBytes != 0 ? options.bufferBytes : defaultArrayBytes(), 4 * KiB);
  BandwidthMatrix out;
  out.measuredAt = std::chrono::system_clock::now();
  const auto started = std::chrono::steady_clock::now();
  for (auto memoryNode : memoryNodes) {
    auto a = arrayOn(memoryNode, bytes);
    auto b = arrayOn(memoryNode, bytes);
    auto c = arrayOn(memoryNode, bytes);
    const Arrays arrays{reinterpret_cast<double*>(a.data()), reinterpret_cast<double*>(b.data()),
                        reinterpret_cast<double*>(c.data()), bytes / sizeof(double)};
    for (auto cpuNode : cpuNodes) {
      auto cpus = std::find_if(topology.nodes().begin(), topology.nodes().end(),
                               [&](const Topology::Node& node) { return node.id == cpuNode; })->cpus;
      if (cpus.empty()) continue;  // a memory-only node runs no threads
      if (options.threads != 0 && cpus.size() > options.threads) cpus.resize(options.threads);
      for (auto figure : measurePair(cpus, arrays, kernels, options)) {
        figure.cpuNode = cpuNode;
        figure.memoryNode = memoryNode;
        out.figures.push_back(figure);
      }
    }
  }
  out.took = std::chrono::steady_clock::now() - started;
  return out;
}

}  // namespace xmem

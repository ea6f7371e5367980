// xmem-randomx: Debian's librandomx, unmodified, as a miner runs it: one VM per thread, all of them
// hashing for a while. It checks the RandomX specification's test vectors, measures dataset
// initialisation and hashes per second, and says from its own /proc/self/smaps which pages its
// memory is on. `xmem bench` runs it once per memory source (plain, LD_PRELOAD of xmem or a peer
// allocator, GLIBC_TUNABLES, librandomx's own large pages); the tests run it under xmem run.
//
//   xmem-randomx [--threads N] [--light] [--seconds S] [--large-pages] [--expect-huge] [--json] [--serve]
//
// Exit 0 when every hash is right (and, with --expect-huge, when the dataset, the cache and the
// scratchpads are on huge pages); 1 otherwise; 2 for bad arguments; 3 when librandomx cannot
// allocate (e.g. --large-pages without reserved pages).
//
// --serve keeps the VMs for a coordinator: after initialisation it prints its JSON line (with
// "ready"), then reads commands from standard input, one per line: "hash S" hashes for S seconds
// on every thread and prints {"hashes", "hash_seconds", "hashes_per_second"}; "quit" or the end of
// input ends it. `xmem bench` holds every memory source's process this way and lets them hash in
// turns, so the machine's drift reaches them all alike.
#include <randomx.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kMiB = 1024 * 1024;

// From the RandomX repository's tests (key, input, expected hash).
struct Vector {
  const char* key;
  const char* input;
  const char* hash;
};
constexpr Vector kVectors[] = {
    {"test key 000", "This is a test", "639183aae1bf4c9a35884cb46b09cad9175f04efd7684e7262a0ac1c2f0b4e3f"},
    {"test key 000", "Lorem ipsum dolor sit amet", "300a0adb47603dedb42228ccb2b211104f4da45af709cd7547cd049e9489c969"},
    {"test key 000", "sed do eiusmod tempor incididunt ut labore et dolore magna aliqua",
     "c36d4ed4191e617309867ed66a443be4075014e2b061bcdaf9ce7b721d2b77a8"},
};

std::string hex(const unsigned char* bytes, std::size_t length) {
  std::string text;
  char pair[3];
  for (std::size_t i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", bytes[i]);
    text += pair;
  }
  return text;
}

struct Area {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::size_t kernelPageSize = 0;
  std::size_t huge = 0;  // Private_Hugetlb + Shared_Hugetlb + AnonHugePages
};

std::vector<Area> readSmaps() {
  std::ifstream smaps("/proc/self/smaps");
  std::vector<Area> areas;
  for (std::string line; std::getline(smaps, line);) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    const auto dash = first.find('-');
    if (dash != std::string::npos && first.back() != ':') {
      Area area;
      const char* text = first.data();
      if (std::from_chars(text, text + dash, area.start, 16).ec == std::errc() &&
          std::from_chars(text + dash + 1, text + first.size(), area.end, 16).ec == std::errc())
        areas.push_back(area);
      continue;
    }
    std::size_t kib = 0;
    words >> kib;
    if (areas.empty()) continue;
    if (first == "KernelPageSize:") areas.back().kernelPageSize = kib * 1024;
    if (first == "Private_Hugetlb:" || first == "Shared_Hugetlb:" || first == "AnonHugePages:")
      areas.back().huge += kib * 1024;
  }
  return areas;
}

struct Options {
  unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  bool light = false;
  double seconds = 0;
  bool largePages = false;
  bool expectHuge = false;
  bool json = false;
  bool serve = false;
};

// The whole word as a number, or false: a bad value is a usage error, not an exception.
template <typename Number>
bool parseNumber(std::string_view word, Number& out) {
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), out);
  return error == std::errc() && end == word.data() + word.size();
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    const bool hasValue = i + 1 < argc;
    if (word == "--threads" && hasValue) {
      if (!parseNumber(argv[++i], options.threads) || options.threads > 4096) return false;
    } else if (word == "--seconds" && hasValue) {
      if (!parseNumber(argv[++i], options.seconds) || !(options.seconds >= 0)) return false;
    } else if (word == "--light") options.light = true;
    else if (word == "--large-pages") options.largePages = true;
    else if (word == "--expect-huge") options.expectHuge = true;
    else if (word == "--json") options.json = true;
    else if (word == "--serve") options.serve = options.json = true;  // the coordinator reads JSON
    else return false;
  }
  return options.threads > 0;
}

/// Every VM hashing for `seconds`, one thread each, as a miner's workers do. Returns the hashes.
std::uint64_t hashFor(const std::vector<randomx_vm*>& vms, double seconds, std::uint64_t& nonceBase, double& elapsed) {
  std::atomic<std::uint64_t> hashes{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> miners;
  const auto from = std::chrono::steady_clock::now();
  for (std::size_t t = 0; t < vms.size(); ++t) {
    miners.emplace_back([&, t] {
      std::uint64_t nonce = (static_cast<std::uint64_t>(t) << 40) + nonceBase;
      unsigned char input[76] = {};
      unsigned char hash[RANDOMX_HASH_SIZE];
      std::memcpy(input + 39, &nonce, sizeof nonce);
      randomx_calculate_hash_first(vms[t], input, sizeof input);
      std::uint64_t done = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        ++nonce;
        std::memcpy(input + 39, &nonce, sizeof nonce);
        randomx_calculate_hash_next(vms[t], input, sizeof input, hash);
        ++done;
      }
      randomx_calculate_hash_last(vms[t], hash);
      hashes += done;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& miner : miners) miner.join();
  elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
  nonceBase += std::uint64_t{1} << 32;
  return hashes.load();
}

/// Where the memory is, from the kernel's own figures.
struct Placement {
  std::size_t datasetSize = 0;
  std::size_t datasetHuge = 0;
  std::size_t allHuge = 0;
  std::size_t gigabyteHuge = 0;
  std::size_t wanted = 0;  ///< dataset + cache + scratchpads
  std::vector<Area> areas;
  bool huge() const { return datasetHuge + 2 * kMiB >= datasetSize && allHuge >= wanted; }
};

Placement placementOf(randomx_dataset* dataset, unsigned threads) {
  Placement placement;
  // librandomx's own figure, rounded up to the 2 MiB pages it takes (the rx/0 profile's 2080 MiB): this
  // program links librandomx only, as it runs under libxmem-preload.so, which must be the one xmem in
  // the process.
  const std::size_t datasetBytes = randomx_dataset_item_count() * RANDOMX_DATASET_ITEM_SIZE;
  placement.datasetSize = dataset != nullptr ? (datasetBytes + 2 * kMiB - 1) / (2 * kMiB) * (2 * kMiB) : 0;
  const auto datasetStart = dataset != nullptr ? reinterpret_cast<std::uintptr_t>(randomx_get_dataset_memory(dataset)) : 0;
  placement.areas = readSmaps();
  for (const auto& area : placement.areas) {
    placement.allHuge += area.huge;
    if (area.kernelPageSize == 1024 * kMiB) placement.gigabyteHuge += area.huge;
    const auto from = std::max(area.start, datasetStart);
    const auto to = std::min(area.end, datasetStart + placement.datasetSize);
    if (placement.datasetSize != 0 && from < to) placement.datasetHuge += area.huge * (to - from) / (area.end - area.start);
  }
  // randomx.h does not say the cache's size (RANDOMX_ARGON_MEMORY, 256 MiB) or the scratchpad's (2 MiB).
  placement.wanted = placement.datasetSize + 256 * kMiB + threads * 2 * kMiB;
  return placement;
}

/// Serves "hash S" commands until "quit" or the end of input (see the file's comment).
void serve(const std::vector<randomx_vm*>& vms) {
  std::uint64_t nonceBase = 0;
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream words(line);
    std::string command;
    double seconds = 0;
    words >> command;
    if (command == "quit") break;
    if (command != "hash" || !(words >> seconds) || seconds <= 0) {
      std::printf("{\"error\": \"expected 'hash SECONDS' or 'quit'\"}\n");
      std::fflush(stdout);
      continue;
    }
    double elapsed = 0;
    const auto hashes = hashFor(vms, seconds, nonceBase, elapsed);
    std::printf("{\"hashes\": %llu, \"hash_seconds\": %.3f, \"hashes_per_second\": %.2f}\n",
                static_cast<unsigned long long>(hashes), elapsed, static_cast<double>(hashes) / elapsed);
    std::fflush(stdout);
  }
}

// librandomx's cache and (in fast mode) dataset, initialised with every thread.
struct RandomX {
  randomx_flags flags{};
  randomx_cache* cache = nullptr;
  randomx_dataset* dataset = nullptr;
  double initSeconds = 0;
};

bool initialise(const Options& options, RandomX& randomx) {
  randomx.flags = randomx_get_flags();
  if (!options.light) randomx.flags |= RANDOMX_FLAG_FULL_MEM;
  if (options.largePages) randomx.flags |= RANDOMX_FLAG_LARGE_PAGES;
  const auto started = std::chrono::steady_clock::now();
  randomx.cache = randomx_alloc_cache(randomx.flags);
  randomx.dataset = options.light ? nullptr : randomx_alloc_dataset(randomx.flags);
  if (randomx.cache == nullptr || (!options.light && randomx.dataset == nullptr)) {
    std::fprintf(stderr, "librandomx could not allocate its %s%s\n", randomx.cache == nullptr ? "cache" : "dataset",
                 options.largePages ? " on large pages (are enough 2 MiB pages reserved?)" : "");
    return false;
  }
  randomx_init_cache(randomx.cache, kVectors[0].key, std::strlen(kVectors[0].key));
  if (randomx.dataset != nullptr) {
    const unsigned long items = randomx_dataset_item_count();
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < options.threads; ++t) {
      const unsigned long first = items * t / options.threads;
      const unsigned long last = items * (t + 1) / options.threads;
      workers.emplace_back([=, &randomx] { randomx_init_dataset(randomx.dataset, randomx.cache, first, last - first); });
    }
    for (auto& worker : workers) worker.join();
  }
  randomx.initSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return true;
}

// Whether every VM gets every test vector right (each wrong one is printed).
bool hashesRight(const std::vector<randomx_vm*>& vms) {
  bool right = true;
  for (auto* vm : vms) {
    for (const auto& vector : kVectors) {
      unsigned char hash[RANDOMX_HASH_SIZE];
      randomx_calculate_hash(vm, vector.input, std::strlen(vector.input), hash);
      const auto got = hex(hash, sizeof hash);
      if (got != vector.hash) {
        std::printf("WRONG hash of '%s': %s, expected %s\n", vector.input, got.c_str(), vector.hash);
        right = false;
      }
    }
  }
  return right;
}

struct Outcome {
  bool right = false;
  std::uint64_t hashes = 0;
  double hashSeconds = 0;
};

void report(const Options& options, const RandomX& randomx, const Outcome& outcome, const Placement& placement) {
  const double rate = outcome.hashSeconds > 0 ? static_cast<double>(outcome.hashes) / outcome.hashSeconds : 0;
  if (options.json) {
    std::printf("{%s\"hashes_right\": %s, \"threads\": %u, \"mode\": \"%s\", \"init_seconds\": %.3f, \"hashes\": %llu, "
                "\"hash_seconds\": %.3f, \"hashes_per_second\": %.2f, \"dataset_huge_bytes\": %zu, \"huge_bytes\": %zu, "
                "\"gigabyte_page_bytes\": %zu, \"wanted_bytes\": %zu}\n",
                options.serve ? "\"ready\": true, " : "", outcome.right ? "true" : "false", options.threads,
                options.light ? "light" : "fast", randomx.initSeconds, static_cast<unsigned long long>(outcome.hashes),
                outcome.hashSeconds, rate, placement.datasetHuge, placement.allHuge, placement.gigabyteHuge, placement.wanted);
    std::fflush(stdout);
  } else {
    if (outcome.right) std::printf("hashes: all %zu test vectors right on %u VM(s)\n", std::size(kVectors), options.threads);
    std::printf("%s init: %.1f s with %u thread(s)\n", randomx.dataset != nullptr ? "dataset" : "cache", randomx.initSeconds,
                options.threads);
    if (randomx.dataset != nullptr)
      std::printf("dataset: %zu of %zu MiB on huge pages\n", placement.datasetHuge / kMiB, placement.datasetSize / kMiB);
    std::printf("huge pages in the process: %zu MiB (%zu MiB on 1 GiB pages); dataset + cache + scratchpads: %zu MiB\n",
                placement.allHuge / kMiB, placement.gigabyteHuge / kMiB, placement.wanted / kMiB);
    if (outcome.hashSeconds > 0)
      std::printf("hashrate: %.1f H/s (%llu hashes in %.1f s)\n", rate, static_cast<unsigned long long>(outcome.hashes),
                  outcome.hashSeconds);
  }
  if (options.expectHuge && !placement.huge()) {
    std::printf("NOT on huge pages; the areas of 2 MiB and more:\n");
    for (const auto& area : placement.areas)
      if (area.end - area.start >= 2 * kMiB)
        std::printf("  %lx-%lx page %zu KiB, huge %zu MiB\n", static_cast<unsigned long>(area.start),
                    static_cast<unsigned long>(area.end), area.kernelPageSize / 1024, area.huge / kMiB);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    if (!parse(argc, argv, options)) throw std::invalid_argument("bad");
  } catch (const std::exception&) {
    std::fprintf(stderr, "usage: xmem-randomx [--threads N] [--light] [--seconds S] [--large-pages] [--expect-huge] [--json] [--serve]\n");
    return 2;
  }
  RandomX randomx;
  if (!initialise(options, randomx)) return 3;
  // One VM per thread, as a miner runs them; each checks every vector, then hashes for a while.
  std::vector<randomx_vm*> vms;
  for (unsigned t = 0; t < options.threads; ++t) {
    // Fast mode reads the dataset only.
    vms.push_back(randomx_create_vm(randomx.flags, randomx.dataset != nullptr ? nullptr : randomx.cache, randomx.dataset));
    if (vms.back() == nullptr) {
      std::fprintf(stderr, "librandomx could not create a VM\n");
      return 3;
    }
  }
  Outcome outcome;
  outcome.right = hashesRight(vms);
  if (options.seconds > 0 && !options.serve) {
    std::uint64_t nonceBase = 0;
    outcome.hashes = hashFor(vms, options.seconds, nonceBase, outcome.hashSeconds);
  }
  const auto placement = placementOf(randomx.dataset, options.threads);
  report(options, randomx, outcome, placement);
  if (options.serve) {
    // Fast mode needs the cache no more: giving it back lets more sources live side by side.
    if (randomx.dataset != nullptr) {
      randomx_release_cache(randomx.cache);
      randomx.cache = nullptr;
    }
    serve(vms);
  }
  for (auto* vm : vms) randomx_destroy_vm(vm);
  if (randomx.dataset != nullptr) randomx_release_dataset(randomx.dataset);
  if (randomx.cache != nullptr) randomx_release_cache(randomx.cache);
  return outcome.right && (!options.expectHuge || placement.huge()) ? 0 : 1;
}

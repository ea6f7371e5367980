// Debian's librandomx, unmodified, in fast mode: computes the RandomX specification's test vectors
// and says from its own /proc/self/smaps which pages its memory is on. Run with and without
// libxmem-preload.so; librandomx takes no memory from its caller, so the preload library is the
// only way xmem can reach it.
//
//   randomx_probe [--threads N] [--expect-huge]
//
// Exit 0 when every hash is right (and, with --expect-huge, when the dataset, the cache and the
// scratchpads are on huge pages); 1 otherwise.
#include <randomx.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

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
      areas.push_back({std::stoull(first.substr(0, dash), nullptr, 16), std::stoull(first.substr(dash + 1), nullptr, 16), 0, 0});
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

}  // namespace

int main(int argc, char** argv) {
  unsigned threads = 2;
  bool expectHuge = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = static_cast<unsigned>(std::stoul(argv[++i]));
    else if (std::strcmp(argv[i], "--expect-huge") == 0) expectHuge = true;
    else {
      std::fprintf(stderr, "usage: randomx_probe [--threads N] [--expect-huge]\n");
      return 2;
    }
  }
  const auto flags = randomx_get_flags() | RANDOMX_FLAG_FULL_MEM;
  const auto started = std::chrono::steady_clock::now();
  randomx_cache* cache = randomx_alloc_cache(flags);
  randomx_dataset* dataset = randomx_alloc_dataset(flags);
  if (cache == nullptr || dataset == nullptr) {
    std::fprintf(stderr, "randomx could not allocate its cache or dataset\n");
    return 1;
  }
  randomx_init_cache(cache, kVectors[0].key, std::strlen(kVectors[0].key));
  const unsigned long items = randomx_dataset_item_count();
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    const unsigned long first = items * t / threads;
    const unsigned long last = items * (t + 1) / threads;
    workers.emplace_back([=] { randomx_init_dataset(dataset, cache, first, last - first); });
  }
  for (auto& worker : workers) worker.join();
  const double initSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // One VM per thread, as a miner runs them; each hashes every vector.
  std::vector<randomx_vm*> vms;
  for (unsigned t = 0; t < threads; ++t) vms.push_back(randomx_create_vm(flags, cache, dataset));
  bool right = true;
  for (auto* vm : vms) {
    if (vm == nullptr) {
      std::fprintf(stderr, "randomx could not create a VM\n");
      return 1;
    }
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
  if (right) std::printf("hashes: all %zu test vectors right on %u VM(s)\n", std::size(kVectors), threads);

  // Where the memory is, from the kernel's own figures.
  constexpr std::size_t kMiB = 1024 * 1024;
  const auto datasetStart = reinterpret_cast<std::uintptr_t>(randomx_get_dataset_memory(dataset));
  const std::size_t datasetSize = 2080 * kMiB;  // RANDOMX_DATASET_BASE_SIZE + EXTRA_SIZE, rounded
  std::size_t datasetHuge = 0, allHuge = 0, gigabyteHuge = 0;
  const auto areas = readSmaps();
  for (const auto& area : areas) {
    allHuge += area.huge;
    if (area.kernelPageSize == 1024 * kMiB) gigabyteHuge += area.huge;
    const auto from = std::max(area.start, datasetStart);
    const auto to = std::min(area.end, datasetStart + datasetSize);
    if (from < to && area.end - area.start > 0)
      datasetHuge += area.huge * (to - from) / (area.end - area.start);  // smaps counts per area
  }
  const std::size_t wanted = datasetSize + 256 * kMiB + threads * 2 * kMiB;  // dataset + cache + scratchpads
  std::printf("dataset init: %.1f s with %u thread(s)\n", initSeconds, threads);
  std::printf("dataset: %zu of %zu MiB on huge pages\n", datasetHuge / kMiB, datasetSize / kMiB);
  std::printf("huge pages in the process: %zu MiB (%zu MiB on 1 GiB pages); dataset + cache + scratchpads: %zu MiB\n",
              allHuge / kMiB, gigabyteHuge / kMiB, wanted / kMiB);
  bool huge = datasetHuge >= datasetSize - 2 * kMiB && allHuge >= wanted;
  if (expectHuge && !huge) {
    std::printf("NOT on huge pages; the areas of 2 MiB and more:\n");
    for (const auto& area : areas)
      if (area.end - area.start >= 2 * kMiB)
        std::printf("  %lx-%lx page %zu KiB, huge %zu MiB\n", static_cast<unsigned long>(area.start),
                    static_cast<unsigned long>(area.end), area.kernelPageSize / 1024, area.huge / kMiB);
  }

  for (auto* vm : vms) randomx_destroy_vm(vm);
  randomx_release_dataset(dataset);
  randomx_release_cache(cache);
  return right && (!expectHuge || huge) ? 0 : 1;
}

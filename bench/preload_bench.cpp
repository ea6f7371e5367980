// What libxmem-preload.so costs the programs it is preloaded into, next to glibc alone, in the
// same run. Each workload runs as a child process, once with LD_PRELOAD and once without, in
// pairs whose order alternates; the figure is the median of the per-pair ratios of the loop's CPU
// time, with the lowest and highest pair, because single pairs on a shared machine vary by 2x.
//
//   xmem_bench_preload [--pairs N] [--preload PATH] [--only NAME]
//
// Workloads: small malloc/free (20 M pairs, 16..1016 bytes, 1024 live blocks), 4 MiB
// malloc + touch + free (100 k: the pool's warm path), calloc and posix_memalign of small blocks,
// realloc across the 2 MiB threshold. For the 4 MiB loop it also counts system calls per pair
// under strace, where strace is installed.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr std::size_t kMiB = 1024 * 1024;

double cpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Keeps the compiler from dropping an allocation whose result is otherwise unused.
void use(void* pointer) { asm volatile("" : : "r"(pointer) : "memory"); }

// ---- the workloads (in the child) ----

// `pairs` frees and allocations of 16..1016 bytes over 1024 live blocks, picked at random.
template <typename Allocate>
std::uint64_t churn(std::uint64_t pairs, unsigned seed, Allocate allocate) {
  std::vector<void*> live(1024, nullptr);
  std::minstd_rand random(seed);
  for (std::uint64_t i = 0; i < pairs; ++i) {
    const auto value = random();
    auto& slot = live[value & 1023];
    std::free(slot);
    slot = allocate(16 + ((value >> 10) % 1001));
    use(slot);
  }
  for (void* block : live) std::free(block);
  return pairs;
}

std::uint64_t smallMallocFree(std::uint64_t pairs) {
  return churn(pairs, 42, [](std::size_t size) { return std::malloc(size); });
}

std::uint64_t smallCalloc(std::uint64_t pairs) {
  return churn(pairs, 7, [](std::size_t size) { return std::calloc(1, size); });
}

std::uint64_t smallPosixMemalign(std::uint64_t pairs) {
  return churn(pairs, 9, [](std::size_t size) {
    void* block = nullptr;
    return posix_memalign(&block, 64, size) == 0 ? block : nullptr;
  });
}

std::uint64_t largeTouchFree(std::uint64_t pairs) {
  for (std::uint64_t i = 0; i < pairs; ++i) {
    auto* block = static_cast<volatile char*>(std::malloc(4 * kMiB));
    block[0] = 1;
    block[4 * kMiB - 1] = 1;
    std::free(const_cast<char*>(block));
  }
  return pairs;
}

// 1 MiB (glibc's) grown to 3 MiB (served by xmem under the preload), then freed.
std::uint64_t reallocAcross(std::uint64_t pairs) {
  for (std::uint64_t i = 0; i < pairs; ++i) {
    auto* block = static_cast<char*>(std::malloc(1 * kMiB));
    block[0] = 1;
    block = static_cast<char*>(std::realloc(block, 3 * kMiB));
    block[3 * kMiB - 1] = 1;
    std::free(block);
  }
  return pairs;
}

struct Workload {
  const char* name;
  const char* what;
  std::uint64_t (*run)(std::uint64_t);
  std::uint64_t pairs;
  double target;  ///< the ratio the project aims at (0: none, reported only)
};

const Workload kWorkloads[] = {
    {"small", "malloc+free, 16..1016 B, 1024 live", smallMallocFree, 20'000'000, 1.03},
    {"large4m", "malloc+touch+free of 4 MiB", largeTouchFree, 100'000, 2.0},
    {"calloc", "calloc+free, 16..1016 B", smallCalloc, 5'000'000, 0},
    {"memalign", "posix_memalign(64)+free, 16..1016 B", smallPosixMemalign, 5'000'000, 0},
    {"realloc", "1 MiB realloc'd to 3 MiB, freed", reallocAcross, 20'000, 0},
};

const Workload* findWorkload(const std::string& name) {
  for (const auto& workload : kWorkloads)
    if (name == workload.name) return &workload;
  return nullptr;
}

int runChild(const Workload& workload, std::uint64_t pairs) {
  workload.run(pairs / 20 + 1);  // warm: glibc's heap and xmem's pool as a running program has them
  const double started = cpuSeconds();
  workload.run(pairs);
  std::printf("%.9f\n", cpuSeconds() - started);
  return 0;
}

// ---- the driver ----

struct ChildRun {
  double loopSeconds = 0;
};

std::optional<ChildRun> spawn(const std::string& self, const Workload& workload, const std::string& preload,
                              std::uint64_t pairs) {
  int pipeEnds[2];
  if (pipe(pipeEnds) != 0) return std::nullopt;
  const pid_t child = fork();
  if (child < 0) return std::nullopt;
  if (child == 0) {
    dup2(pipeEnds[1], STDOUT_FILENO);
    close(pipeEnds[0]);
    close(pipeEnds[1]);
    if (preload.empty()) unsetenv("LD_PRELOAD");
    else setenv("LD_PRELOAD", preload.c_str(), 1);
    const std::string count = std::to_string(pairs);
    execl(self.c_str(), self.c_str(), "--child", workload.name, count.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipeEnds[1]);
  std::string output;
  char buffer[256];
  for (ssize_t got; (got = read(pipeEnds[0], buffer, sizeof buffer)) > 0;) output.append(buffer, static_cast<std::size_t>(got));
  close(pipeEnds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || output.empty()) return std::nullopt;
  return ChildRun{std::strtod(output.c_str(), nullptr)};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 != 0 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// System calls of one child under strace -c (all threads), or nullopt without strace.
std::optional<std::uint64_t> systemCalls(const std::string& self, const Workload& workload, const std::string& preload,
                                         std::uint64_t pairs) {
  if (access("/usr/bin/strace", X_OK) != 0) return std::nullopt;
  char log[] = "/tmp/xmem-bench-strace-XXXXXX";
  const int fd = mkstemp(log);
  if (fd < 0) return std::nullopt;
  close(fd);
  std::string command = "/usr/bin/strace -f -c -o " + std::string(log) + " env " +
                        (preload.empty() ? std::string("-u LD_PRELOAD") : "LD_PRELOAD=" + preload) + " " + self +
                        " --child " + workload.name + " " + std::to_string(pairs) + " > /dev/null 2>&1";
  std::optional<std::uint64_t> calls;
  if (std::system(command.c_str()) == 0) {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      if (line.find(" total") == std::string::npos) continue;
      std::istringstream words(line);
      std::string word;
      std::vector<std::string> columns;
      while (words >> word) columns.push_back(word);
      // "100.00  0.001  12  345  6  total": calls is the column before errors (or before total).
      for (std::size_t i = 1; i < columns.size(); ++i)
        if (columns[i - 1].find('.') == std::string::npos && columns[i - 1] != "total") {
          calls = std::strtoull(columns[i - 1].c_str(), nullptr, 10);
          break;
        }
    }
  }
  unlink(log);
  return calls;
}

std::string defaultPreload(const std::string& self) {
  // Built beside this program: build/<preset>/bench/xmem_bench_preload and build/<preset>/src/.
  const auto slash = self.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : self.substr(0, slash);
  return directory + "/../src/libxmem-preload.so";
}

struct Options {
  int pairs = 7;
  std::string preload;
  std::string only;  ///< one workload; empty: all
};

// Nullopt (after saying why) for bad options.
std::optional<Options> parseOptions(int argc, char** argv, const std::string& self) {
  Options options;
  options.preload = defaultPreload(self);
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    if (option == "--pairs" && i + 1 < argc) {
      options.pairs = std::atoi(argv[++i]);
    } else if (option == "--preload" && i + 1 < argc) {
      options.preload = argv[++i];
    } else if (option == "--only" && i + 1 < argc) {
      options.only = argv[++i];
      if (findWorkload(options.only) == nullptr) {
        std::fprintf(stderr, "xmem_bench_preload: --only '%s': expected small, large4m, calloc, memalign or realloc\n",
                     options.only.c_str());
        return std::nullopt;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--pairs N (1 or more)] [--preload PATH] [--only WORKLOAD]\n", argv[0]);
      return std::nullopt;
    }
  }
  if (options.pairs < 1) {
    std::fprintf(stderr, "xmem_bench_preload: --pairs %d: expected 1 or more\n", options.pairs);
    return std::nullopt;
  }
  return options;
}

// One workload's paired runs and its table row; false when a child failed. Counts a missed target.
bool measure(const std::string& self, const Workload& workload, const Options& options, int& missed) {
  std::vector<double> plain, preloaded, ratios;
  for (int pair = 0; pair < options.pairs; ++pair) {
    const bool preloadFirst = pair % 2 == 1;
    auto first = spawn(self, workload, preloadFirst ? options.preload : "", workload.pairs);
    auto second = spawn(self, workload, preloadFirst ? "" : options.preload, workload.pairs);
    if (!first || !second) {
      std::fprintf(stderr, "xmem_bench_preload: the %s child failed\n", workload.name);
      return false;
    }
    const double glibc = preloadFirst ? second->loopSeconds : first->loopSeconds;
    const double xmem = preloadFirst ? first->loopSeconds : second->loopSeconds;
    plain.push_back(glibc);
    preloaded.push_back(xmem);
    ratios.push_back(xmem / glibc);
  }
  const double ratio = median(ratios);
  const auto [low, high] = std::minmax_element(ratios.begin(), ratios.end());
  char range[32];
  std::snprintf(range, sizeof range, "%.2f-%.2fx", *low, *high);
  char target[16] = "-";
  if (workload.target != 0) {
    std::snprintf(target, sizeof target, "%s%.2fx", ratio <= workload.target ? "<=" : "MISS ", workload.target);
    missed += ratio > workload.target ? 1 : 0;
  }
  const double perOp = 1e9 / static_cast<double>(workload.pairs);
  std::printf("%-9s %-38s %12.1f %12.1f %7.2fx %15s %7s\n", workload.name, workload.what, median(plain) * perOp,
              median(preloaded) * perOp, ratio, range, target);
  return true;
}

// System calls per warm 4 MiB pair: the difference of two run lengths cancels start-up.
void countSystemCalls(const std::string& self, const std::string& preload) {
  const Workload& large = *findWorkload("large4m");
  auto longer = systemCalls(self, large, preload, 20'000);
  auto shorter = systemCalls(self, large, preload, 10'000);
  auto glibcLonger = systemCalls(self, large, "", 20'000);
  auto glibcShorter = systemCalls(self, large, "", 10'000);
  if (longer && shorter && glibcLonger && glibcShorter)
    std::printf("\nsystem calls per 4 MiB pair once warm (strace -c, 20k minus 10k pairs): xmem %.3f, glibc %.3f\n",
                std::max(0.0, static_cast<double>(*longer) - static_cast<double>(*shorter)) / 10'000.0,
                std::max(0.0, static_cast<double>(*glibcLonger) - static_cast<double>(*glibcShorter)) / 10'000.0);
  else
    std::printf("\nsystem calls per pair: not counted (strace is not installed: apt-get install strace)\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string self = argv[0][0] == '/' ? argv[0] : std::string(getcwd(nullptr, 0)) + "/" + argv[0];
  if (argc == 4 && std::strcmp(argv[1], "--child") == 0) {
    const Workload* workload = findWorkload(argv[2]);
    return workload == nullptr ? 2 : runChild(*workload, std::strtoull(argv[3], nullptr, 10));
  }
  const auto options = parseOptions(argc, argv, self);
  if (!options) return 2;
  if (access(options->preload.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "xmem_bench_preload: no preload library at %s (give --preload PATH)\n", options->preload.c_str());
    return 1;
  }
  std::printf("glibc alone vs LD_PRELOAD=%s, %d pairs each, order alternating; CPU time of the loop\n\n",
              options->preload.c_str(), options->pairs);
  std::printf("%-9s %-38s %12s %12s %8s %15s %7s\n", "workload", "", "glibc ns/op", "xmem ns/op", "ratio", "pairs (lo-hi)",
              "target");
  int missed = 0;
  for (const auto& workload : kWorkloads) {
    if (!options->only.empty() && options->only != workload.name) continue;
    if (!measure(self, workload, *options, missed)) return 1;
  }
  if (options->only.empty() || options->only == "large4m") countSystemCalls(self, options->preload);
  return missed == 0 ? 0 : 3;
}

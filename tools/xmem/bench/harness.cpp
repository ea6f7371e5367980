#include "harness.h"

#include "interrupt.h"

#include <xmem/huge_pages.h>

namespace xmem::bench {

Results run(const Settings& settings, const Say& say) {
  InterruptScope signals;
  ScopedFreeHugePages counts;
  Results results;
  if (settings.synthetic) {
    const SyntheticRun synthetic{settings.bufferSize, settings.nodes, settings.threads, settings.rounds,
                                 settings.quick ? Work{2'000'000, 4'000'000, 200'000}
                                                : Work{12'000'000, 60'000'000, 4'000'000}};
    results.strategies = runStrategies(synthetic, counts, say);
  }
#if defined(_WIN32)
  if (settings.randomx && settings.profile->family == "randomx")
    say("librandomx part: not on Windows yet (it runs librandomx in child processes under LD_PRELOAD); "
        "the synthetic part above is what applies here\n");
#else
  if (settings.randomx && settings.profile->family == "randomx") {
    const RandomxRun randomx{settings.runner, settings.light(), settings.threads, settings.randomxRounds,
                             settings.hashSeconds};
    results.sources = runSources(sources(randomx.light, settings.threads, settings.preloadLibrary, settings.findLibrary),
                                 randomx, counts, say);
  }
#endif
  counts.restore();
  results.interrupted = interrupted();
  if (!results.interrupted) results.targets = judgeTargets(results.strategies, results.sources, settings.nodes);
  return results;
}

}  // namespace xmem::bench

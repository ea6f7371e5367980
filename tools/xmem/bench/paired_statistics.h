// What noisy, repeated measurements can claim: the median of a sample with a distribution-free
// confidence interval (from order statistics), and the ratio of two sources measured in the same
// rounds. `xmem bench` judges its hashrate target with these, because on a shared machine one
// run of each source differs by ±10% from the next.
#pragma once

#include <string>
#include <vector>

namespace xmem::bench {

struct MedianInterval {
  double median = 0;
  double low = 0;         ///< [low, high] holds the true median with probability `confidence`
  double high = 0;
  double confidence = 0;
  std::size_t count = 0;  ///< values it came from
};

/// The median and the narrowest interval of the form [x(k), x(n+1-k)] whose confidence is at least
/// `wanted` (or [min, max] when even that falls short: its confidence says so). Values that are
/// not finite are left out; no value at all gives zeros.
MedianInterval medianWithInterval(std::vector<double> values, double wanted = 0.90);

/// Per round, a[r] / b[r] (rounds where both were measured and b[r] > 0), then medianWithInterval:
/// pairing removes the drift common to both sources in a round.
MedianInterval pairedRatio(const std::vector<double>& a, const std::vector<double>& b, double wanted = 0.90);

/// "met" when the median reaches `goal`, "level" when it does not but the interval does (no
/// difference the measurement can show), else "not met".
std::string verdict(const MedianInterval& ratio, double goal);

}  // namespace xmem::bench

#include "paired_statistics.h"

#include <algorithm>
#include <cmath>

namespace xmem::bench {
namespace {

/// P(X <= k) for X ~ Binomial(n, 1/2).
double binomialHalfAtMost(std::size_t n, std::size_t k) {
  double term = std::pow(0.5, static_cast<double>(n));  // C(n, 0) / 2^n
  double sum = term;
  for (std::size_t i = 1; i <= k; ++i) {
    term = term * static_cast<double>(n - i + 1) / static_cast<double>(i);
    sum += term;
  }
  return sum;
}

}  // namespace

MedianInterval medianWithInterval(std::vector<double> values, double wanted) {
  std::erase_if(values, [](double value) { return !std::isfinite(value); });
  MedianInterval result;
  result.count = values.size();
  if (values.empty()) return result;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  result.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  // [x(k), x(n+1-k)] (1-based) misses the median when k or more values fall on one side of it.
  std::size_t k = 1;
  while (k + 1 <= (n + 1) / 2 && 1.0 - 2.0 * binomialHalfAtMost(n, k) >= wanted) ++k;
  result.low = values[k - 1];
  result.high = values[n - k];
  result.confidence = std::max(0.0, 1.0 - 2.0 * binomialHalfAtMost(n, k - 1));
  return result;
}

MedianInterval pairedRatio(const std::vector<double>& a, const std::vector<double>& b, double wanted) {
  std::vector<double> ratios;
  for (std::size_t r = 0; r < std::min(a.size(), b.size()); ++r)
    if (std::isfinite(a[r]) && std::isfinite(b[r]) && b[r] > 0) ratios.push_back(a[r] / b[r]);
  return medianWithInterval(std::move(ratios), wanted);
}

std::string verdict(const MedianInterval& ratio, double goal) {
  if (ratio.count == 0) return "not measured";
  if (ratio.median >= goal) return "met";
  return ratio.high >= goal ? "level" : "not met";
}

}  // namespace xmem::bench

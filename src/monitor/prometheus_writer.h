// A small writer of the Prometheus text format 0.0.4: families of samples, each family with one
// HELP and one TYPE line, written sorted by name so the same input always gives the same text.
// Samples keep the order they were added in; adding a label set again adds to its value, so a
// mapping can sum several sources into one series instead of writing a duplicate.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xmem::prometheus {

/// A sample's value: whole numbers stay exact (counters and byte counts above 2^53), the rest
/// are doubles.
struct Number {
  template <std::integral T>
  Number(T value) : integral(true), whole(static_cast<std::uint64_t>(value)) {}  // NOLINT(google-explicit-constructor)
  Number(double value) : integral(false), real(value) {}                         // NOLINT(google-explicit-constructor)

  bool integral = false;
  std::uint64_t whole = 0;
  double real = 0;
};

enum class MetricType : std::uint8_t { Counter, Gauge };
std::string_view toString(MetricType type) noexcept;

/// Label names and values, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Family {
 public:
  Family(std::string name, MetricType type, std::string help);

  /// Adds `value` to the series of `labels` (a new series starts at 0).
  Family& add(const Labels& labels, Number value);
  bool empty() const noexcept { return samples_.empty(); }
  MetricType type() const noexcept { return type_; }
  /// HELP, TYPE and the samples, each line ending in a newline.
  void write(std::string& out) const;

 private:
  std::string name_;
  MetricType type_;
  std::string help_;
  std::vector<std::pair<Labels, Number>> samples_;
  std::map<Labels, std::size_t> indexOf_;
};

class Exposition {
 public:
  /// The family of `name`; the first call fixes its type and help. Throws std::logic_error for a
  /// name the format refuses, a counter without `_total`, `_total` on a gauge, or a second call
  /// with another type.
  Family& family(std::string_view name, MetricType type, std::string_view help);
  Family& gauge(std::string_view name, std::string_view help) { return family(name, MetricType::Gauge, help); }
  Family& counter(std::string_view name, std::string_view help) { return family(name, MetricType::Counter, help); }

  /// Every family with samples, sorted by name, ending in a newline (empty when there are none).
  std::string text() const;

 private:
  std::map<std::string, Family, std::less<>> families_;
};

/// The text of a value as the format spells it: shortest round-trip digits, NaN, +Inf, -Inf.
std::string formatNumber(Number value);
/// A label value with \\, \" and \n escaped (and made valid UTF-8).
std::string escapeLabelValue(std::string_view value);
/// HELP text with \\ and \n escaped (and made valid UTF-8).
std::string escapeHelp(std::string_view text);
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
bool isValidMetricName(std::string_view name) noexcept;
/// `[a-zA-Z_][a-zA-Z0-9_]*`
bool isValidLabelName(std::string_view name) noexcept;
/// Whether `text` is valid UTF-8, which the format requires.
bool isValidUtf8(std::string_view text) noexcept;
/// `text` with each byte that is not part of valid UTF-8 replaced by U+FFFD: names and paths read
/// from a process are bytes, and one bad byte must not make the whole exposition unreadable.
std::string toValidUtf8(std::string_view text);
/// `text` made into a valid name part: anything but [a-zA-Z0-9_] becomes '_'.
std::string sanitizeNamePart(std::string_view text);

}  // namespace xmem::prometheus

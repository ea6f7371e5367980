// Our own lint of the text format 0.0.4, for what Debian's promtool 2.42 lets through (duplicate
// series, a family split in two groups, reserved label names) and what it reports only as a parse
// error without saying where; and the check that counters do not go down between two scrapes.
#include <xmem/exposition.h>

#include "monitor/prometheus_writer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace xmem {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

using prometheus::isValidLabelName;
using prometheus::isValidMetricName;

std::nullopt_t failWith(std::string& error, std::string message) {
  error = std::move(message);
  return std::nullopt;
}

bool isBlank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view skipBlanks(std::string_view text) {
  while (!text.empty() && isBlank(text.front())) text.remove_prefix(1);
  return text;
}
std::string_view takeToken(std::string_view& text) {
  text = skipBlanks(text);
  std::size_t end = 0;
  while (end < text.size() && !isBlank(text[end])) ++end;
  const std::string_view token = text.substr(0, end);
  text.remove_prefix(end);
  return token;
}

// A value as Go's ParseFloat reads it (the format's rule), with NaN and [+-]Inf in any case.
std::optional<double> parseValue(std::string_view token) {
  std::string lower(token);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
  const bool negative = !lower.empty() && lower[0] == '-';
  std::string_view digits = lower;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
  if (digits == "inf" || digits == "infinity") return negative ? -INFINITY : INFINITY;
  if (digits == "nan") return NAN;
  double value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return negative ? -value : value;
}

// Unescapes a label value up to its closing quote; the error names the bad escape.
std::optional<std::string> readLabelValue(std::string_view& text, std::string& error) {
  std::string value;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      text.remove_prefix(i + 1);
      return value;
    }
    if (c != '\\') {
      value += c;
      continue;
    }
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (next == '\\' || next == '"')
      value += next;
    else if (next == 'n')
      value += '\n';
    else {
      error = std::string("bad escape \\") + next + " in a label value (only \\\\, \\\" and \\n)";
      return std::nullopt;
    }
    ++i;
  }
  error = "label value without its closing quote";
  return std::nullopt;
}

// `{name="value",...}`: the labels, or an error naming what is wrong.
std::optional<Labels> readLabels(std::string_view& text, std::string& error) {
  Labels labels;
  text.remove_prefix(1);  // '{'
  while (true) {
    text = skipBlanks(text);
    if (!text.empty() && text.front() == '}') break;
    std::size_t end = 0;
    while (end < text.size() && text[end] != '=' && !isBlank(text[end])) ++end;
    std::string name(text.substr(0, end));
    text = skipBlanks(text.substr(end));
    if (text.empty() || text.front() != '=') return failWith(error, "label \"" + name + "\" has no =\"value\"");
    text = skipBlanks(text.substr(1));
    if (text.empty() || text.front() != '"') return failWith(error, "label \"" + name + "\" has no quoted value");
    text.remove_prefix(1);
    auto value = readLabelValue(text, error);
    if (!value) return std::nullopt;
    labels.emplace_back(std::move(name), std::move(*value));
    text = skipBlanks(text);
    if (!text.empty() && text.front() == ',')
      text.remove_prefix(1);
    else if (text.empty() || text.front() != '}')
      return failWith(error, "labels without a closing }");
  }
  text.remove_prefix(1);  // '}'
  return labels;
}

std::optional<Sample> readSample(std::string_view text, std::string& error) {
  Sample sample;
  std::size_t end = 0;
  while (end < text.size() && text[end] != '{' && !isBlank(text[end])) ++end;
  sample.name = std::string(text.substr(0, end));
  text.remove_prefix(end);
  if (!text.empty() && text.front() == '{') {
    auto labels = readLabels(text, error);
    if (!labels) return std::nullopt;
    sample.labels = std::move(*labels);
  }
  const std::string_view valueToken = takeToken(text);
  const auto value = parseValue(valueToken);
  if (!value) return failWith(error, "value \"" + std::string(valueToken) + "\" is not a number");
  sample.value = *value;
  const std::string_view timestamp = takeToken(text);
  std::int64_t milliseconds = 0;
  if (!timestamp.empty()) {
    const auto [stop, bad] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), milliseconds);
    if (bad != std::errc{} || stop != timestamp.data() + timestamp.size())
      return failWith(error, "timestamp \"" + std::string(timestamp) + "\" is not whole milliseconds");
  }
  if (!skipBlanks(text).empty()) return failWith(error, "text after the timestamp: \"" + std::string(text) + '"');
  return sample;
}

std::string escaped(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

// name{a="1",b="2"} with the labels sorted: one spelling per series, whatever order they came in.
std::string seriesKey(const std::string& name, Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::string key = name + '{';
  for (std::size_t i = 0; i < labels.size(); ++i)
    key += (i > 0 ? "," : "") + labels[i].first + "=\"" + escaped(labels[i].second) + '"';
  return key + '}';
}

struct FamilyState {
  std::string type;  ///< "" until its TYPE line
  std::size_t typeLine = 0;
  std::size_t helpLine = 0;
  std::map<std::string, bool> infBucketOf;  ///< histograms: labels but le -> has an le="+Inf" bucket
};

class Checker {
 public:
  explicit Checker(std::string_view text);
  std::vector<std::string> problems;
  std::map<std::string, double> monotonic;  ///< series of counters (and histogram buckets, counts) -> value

 private:
  void readLine(std::string_view text);
  void readComment(std::string_view text);
  void readHelp(std::string_view name, std::string_view help);
  void readType(std::string_view name, std::string_view type);
  void readSampleLine(std::string_view text);
  void checkLabels(const Sample& sample);
  void noteHistogram(const std::string& family, const Sample& sample, const std::string& key);
  void enterFamily(const std::string& family);
  std::string familyOf(const std::string& name) const;
  void problem(const std::string& message) { problems.push_back("line " + std::to_string(line_) + ": " + message); }

  std::size_t line_ = 0;
  std::map<std::string, FamilyState> families_;
  std::string current_;
  std::set<std::string> closed_;
  std::set<std::string> splitReported_;
  std::map<std::string, std::size_t> seriesLine_;
  std::set<std::string> sampledNames_;
};

Checker::Checker(std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    ++line_;
    readLine(text.substr(start, end - start));
    start = end + 1;
  }
  if (!text.empty() && text.back() != '\n') problems.push_back("the text does not end in a newline");
  for (const auto& [name, family] : families_) {
    for (const auto& [labels, hasInf] : family.infBucketOf) {
      if (!hasInf) problems.push_back("histogram " + name + labels + " has no le=\"+Inf\" bucket");
    }
  }
}

void Checker::readLine(std::string_view text) {
  if (text.find('\r') != std::string_view::npos) {
    problem("carriage return (\\r): lines end in \\n only");
    text = text.substr(0, text.find('\r'));
  }
  if (!prometheus::isValidUtf8(text)) problem("not valid UTF-8");
  text = skipBlanks(text);
  if (text.empty()) return;
  if (text.front() == '#')
    readComment(text);
  else
    readSampleLine(text);
}

void Checker::readComment(std::string_view text) {
  text.remove_prefix(1);
  std::string_view rest = text;
  const std::string_view keyword = takeToken(rest);
  if (keyword != "HELP" && keyword != "TYPE") return;  // any other comment is free text
  const std::string_view name = takeToken(rest);
  if (!isValidMetricName(name))
    return problem("# " + std::string(keyword) + ": metric name \"" + std::string(name) + "\" is not valid");
  rest = skipBlanks(rest);
  if (keyword == "HELP")
    readHelp(name, rest);
  else
    readType(name, rest);
}

void Checker::readHelp(std::string_view name, std::string_view help) {
  const std::string family(name);
  enterFamily(family);
  FamilyState& state = families_[family];
  if (state.helpLine != 0)
    problem("a second HELP for " + family + " (the first is on line " + std::to_string(state.helpLine) + ")");
  else
    state.helpLine = line_;
  for (std::size_t i = 0; i < help.size(); ++i) {
    if (help[i] != '\\') continue;
    const char next = i + 1 < help.size() ? help[i + 1] : '\0';
    if (next != '\\' && next != 'n')
      problem("bad escape \\" + std::string(1, next) + " in the HELP of " + family + " (only \\\\ and \\n)");
    ++i;
  }
}

void Checker::readType(std::string_view name, std::string_view type) {
  const std::string family(name);
  static const std::set<std::string_view> kTypes{"counter", "gauge", "histogram", "summary", "untyped"};
  if (!kTypes.contains(type))
    return problem("TYPE of " + family + " is \"" + std::string(type) +
                   "\": expected counter, gauge, histogram, summary or untyped");
  enterFamily(family);
  FamilyState& state = families_[family];
  if (state.typeLine != 0)
    return problem("a second TYPE for " + family + " (the first is on line " + std::to_string(state.typeLine) + ")");
  const bool composite = type == "histogram" || type == "summary";
  for (const std::string_view suffix : {"", "_bucket", "_count", "_sum"}) {
    if ((suffix.empty() || composite) && sampledNames_.contains(family + std::string(suffix)))
      problem("TYPE of " + family + " comes after its samples");
  }
  state.type = std::string(type);
  state.typeLine = line_;
  const bool total = family.ends_with("_total");
  if (type == "counter" && !total) problem("counter " + family + " does not end in _total");
  if (type != "counter" && total) problem(family + " ends in _total but is a " + std::string(type) + ", not a counter");
}

std::string Checker::familyOf(const std::string& name) const {
  for (const std::string_view suffix : {"_bucket", "_count", "_sum"}) {
    if (!name.ends_with(suffix)) continue;
    const auto found = families_.find(name.substr(0, name.size() - suffix.size()));
    if (found == families_.end()) continue;
    if (found->second.type == "histogram" || (found->second.type == "summary" && suffix != "_bucket"))
      return found->first;
  }
  return name;
}

void Checker::enterFamily(const std::string& family) {
  if (family == current_) return;
  if (closed_.contains(family) && splitReported_.insert(family).second)
    problem("family " + family + " is split in two groups (its lines must be together)");
  if (!current_.empty()) closed_.insert(current_);
  current_ = family;
}

void Checker::readSampleLine(std::string_view text) {
  std::string error;
  const auto sample = readSample(text, error);
  if (!sample) return problem(error);
  if (!isValidMetricName(sample->name)) return problem("metric name \"" + sample->name + "\" is not valid");
  checkLabels(*sample);
  const std::string family = familyOf(sample->name);
  enterFamily(family);
  sampledNames_.insert(sample->name);
  const std::string key = seriesKey(sample->name, sample->labels);
  if (const auto [where, added] = seriesLine_.try_emplace(key, line_); !added)
    problem("duplicate series " + key + " (first on line " + std::to_string(where->second) + ")");
  const std::string& type = families_[family].type;
  if (type == "counter" || (type == "histogram" && sample->name != family + "_sum") ||
      (type == "summary" && sample->name == family + "_count"))
    monotonic[key] = sample->value;
  if (type == "histogram") noteHistogram(family, *sample, key);
}

void Checker::checkLabels(const Sample& sample) {
  std::set<std::string> seen;
  for (const auto& [name, value] : sample.labels) {
    if (!isValidLabelName(name))
      problem(sample.name + ": label name \"" + name + "\" is not valid");
    else if (name.starts_with("__"))
      problem(sample.name + ": label name \"" + name + "\" starts with __ (reserved)");
    if (!seen.insert(name).second) problem(sample.name + ": label \"" + name + "\" appears twice");
  }
}

void Checker::noteHistogram(const std::string& family, const Sample& sample, const std::string& key) {
  Labels others;
  std::optional<std::string> le;
  for (const auto& label : sample.labels) {
    if (label.first == "le")
      le = label.second;
    else
      others.push_back(label);
  }
  const std::string group = seriesKey("", others);
  bool& hasInf = families_[family].infBucketOf[group];
  if (sample.name != family + "_bucket") return;
  if (!le) return problem(key + ": a histogram bucket without an le label");
  const auto bound = parseValue(*le);
  if (!bound) return problem(key + ": le=\"" + *le + "\" is not a number");
  if (std::isinf(*bound) && *bound > 0) hasInf = true;
}

std::string formatValue(double value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return error == std::errc{} ? std::string(buffer, end) : std::string("?");
}

}  // namespace

std::vector<std::string> checkExposition(std::string_view text) { return Checker(text).problems; }

std::vector<std::string> checkCountersMonotonic(std::string_view before, std::string_view after) {
  const Checker earlier(before);
  const Checker later(after);
  std::vector<std::string> problems;
  for (const auto& [series, value] : later.monotonic) {
    const auto found = earlier.monotonic.find(series);
    if (found != earlier.monotonic.end() && value < found->second)
      problems.push_back("counter " + series + " went down from " + formatValue(found->second) + " to " +
                         formatValue(value));
  }
  return problems;
}

}  // namespace xmem

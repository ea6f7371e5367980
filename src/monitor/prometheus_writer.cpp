#include "monitor/prometheus_writer.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace xmem::prometheus {
namespace {

bool isNameStart(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) noexcept { return isNameStart(c) || (c >= '0' && c <= '9'); }

void checkFamilyName(std::string_view name, MetricType type) {
  if (!isValidMetricName(name)) throw std::logic_error("metric name \"" + std::string(name) + "\" is not valid");
  const bool total = name.ends_with("_total");
  if (type == MetricType::Counter && !total)
    throw std::logic_error("counter \"" + std::string(name) + "\" must end in _total");
  if (type != MetricType::Counter && total)
    throw std::logic_error("\"" + std::string(name) + "\" ends in _total but is not a counter");
}

void addTo(Number& sum, Number value) {
  if (sum.integral && value.integral) {
    sum.whole += value.whole;
    return;
  }
  const double left = sum.integral ? static_cast<double>(sum.whole) : sum.real;
  const double right = value.integral ? static_cast<double>(value.whole) : value.real;
  sum = Number(left + right);
}

}  // namespace

std::string_view toString(MetricType type) noexcept { return type == MetricType::Counter ? "counter" : "gauge"; }

Family::Family(std::string name, MetricType type, std::string help)
    : name_(std::move(name)), type_(type), help_(std::move(help)) {}

Family& Family::add(const Labels& labels, Number value) {
  for (const auto& [label, text] : labels) {
    // A name starting with __ is reserved for Prometheus itself.
    if (!isValidLabelName(label) || label.starts_with("__"))
      throw std::logic_error(name_ + ": label name \"" + label + "\" is not valid");
  }
  const auto [where, added] = indexOf_.try_emplace(labels, samples_.size());
  if (added)
    samples_.emplace_back(labels, value);
  else
    addTo(samples_[where->second].second, value);
  return *this;
}

void Family::write(std::string& out) const {
  out += "# HELP " + name_ + ' ' + escapeHelp(help_) + '\n';
  out += "# TYPE " + name_ + ' ' + std::string(toString(type_)) + '\n';
  for (const auto& [labels, value] : samples_) {
    out += name_;
    if (!labels.empty()) {
      out += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out += ',';
        out += labels[i].first + "=\"" + escapeLabelValue(labels[i].second) + '"';
      }
      out += '}';
    }
    out += ' ' + formatNumber(value) + '\n';
  }
}

Family& Exposition::family(std::string_view name, MetricType type, std::string_view help) {
  if (const auto found = families_.find(name); found != families_.end()) {
    if (found->second.type() != type)
      throw std::logic_error("metric \"" + std::string(name) + "\" is asked for as two types");
    return found->second;
  }
  checkFamilyName(name, type);
  return families_.try_emplace(std::string(name), std::string(name), type, std::string(help)).first->second;
}

std::string Exposition::text() const {
  std::string out;
  for (const auto& [name, family] : families_) {
    if (!family.empty()) family.write(out);
  }
  return out;
}

std::string formatNumber(Number value) {
  if (value.integral) return std::to_string(value.whole);
  if (std::isnan(value.real)) return "NaN";
  if (std::isinf(value.real)) return value.real > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value.real);
  return error == std::errc{} ? std::string(buffer, end) : "NaN";
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

bool isValidMetricName(std::string_view name) noexcept {
  if (name.empty() || !(isNameStart(name[0]) || name[0] == ':')) return false;
  for (const char c : name) {
    if (!isNameChar(c) && c != ':') return false;
  }
  return true;
}

bool isValidLabelName(std::string_view name) noexcept {
  if (name.empty() || !isNameStart(name[0])) return false;
  for (const char c : name) {
    if (!isNameChar(c)) return false;
  }
  return true;
}

std::string sanitizeNamePart(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (!isNameChar(c)) c = '_';
  }
  return out;
}

}  // namespace xmem::prometheus

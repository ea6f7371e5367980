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

// The length of the valid UTF-8 sequence `text` starts with; 0 when it starts with none.
std::size_t utf8Length(std::string_view text) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;  // the second byte's range: narrower after some leads (overlong forms, surrogates)
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  return length;
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
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& label = labels[i].first;
    // A name starting with __ is reserved for Prometheus itself.
    if (!isValidLabelName(label) || label.starts_with("__"))
      throw std::logic_error(name_ + ": label name \"" + label + "\" is not valid");
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].first == label) throw std::logic_error(name_ + ": label \"" + label + "\" given twice");
    }
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
  for (const char c : toValidUtf8(value)) {
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
  for (const char c : toValidUtf8(text)) {
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

bool isValidUtf8(std::string_view text) noexcept {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8Length(text.substr(at));
    if (length == 0) return false;
    at += length;
  }
  return true;
}

std::string toValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8Length(text.substr(at));
    out += length == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(at, length);
    at += length == 0 ? 1 : length;
  }
  return out;
}

std::string sanitizeNamePart(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (!isNameChar(c)) c = '_';
  }
  return out;
}

}  // namespace xmem::prometheus

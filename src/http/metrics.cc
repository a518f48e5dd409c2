#include "http/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace bulwark::http {
namespace {

enum FamilyType { kCounter = 0, kGauge = 1, kHistogram = 2 };

void AtomicAdd(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + amount, std::memory_order_relaxed)) {
  }
}

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  return IsMetricName(name) && name.find(':') == std::string_view::npos;
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buffer, end);
}

void AppendEscaped(std::string& out, std::string_view text, bool quotes) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

// {a="x",b="y"} with `extra` ("le", value) appended; "" when there are no labels at all.
std::string FormatLabels(const MetricLabels& labels, std::string_view extra_name = {},
                         std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return std::string();
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view name, std::string_view value) {
    if (!first) out.push_back(',');
    first = false;
    out += name;
    out += "=\"";
    AppendEscaped(out, value, true);
    out.push_back('"');
  };
  for (const auto& [name, value] : labels) add(name, value);
  if (!extra_name.empty()) add(extra_name, extra_value);
  out.push_back('}');
  return out;
}

}  // namespace

void Gauge::Add(double amount) { AtomicAdd(value_, amount); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::Observe(double value) {
  // le semantics: a value equal to a bound belongs to that bound's bucket.
  std::size_t index = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::BucketCounts() const {
  std::vector<std::uint64_t> counts(bounds_.size() + 1);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

std::vector<double> LatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct Metrics::Family {
  std::string help;
  int type = kCounter;
  std::vector<double> bounds;  // histograms
  // Series by label set; exactly one of the pointers is set, per `type`.
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::map<MetricLabels, Series> series;
  Series* last_added = nullptr;
};

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

Metrics::Family* Metrics::FindOrAddFamily(std::string_view name, std::string_view help, int type,
                                          const std::vector<double>* bounds,
                                          const MetricLabels& labels) {
  if (!IsMetricName(name)) return nullptr;
  for (const auto& [label_name, value] : labels) {
    if (!IsLabelName(label_name) || label_name.starts_with("__")) return nullptr;
    if (type == kHistogram && label_name == "le") return nullptr;
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (bounds != nullptr) {
      if (!std::is_sorted(bounds->begin(), bounds->end()) ||
          std::adjacent_find(bounds->begin(), bounds->end()) != bounds->end()) {
        return nullptr;
      }
    }
    auto family = std::make_unique<Family>();
    family->help = std::string(help);
    family->type = type;
    if (bounds != nullptr) family->bounds = *bounds;
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  Family* family = it->second.get();
  if (family->type != type) return nullptr;
  if (bounds != nullptr && family->bounds != *bounds) return nullptr;
  MetricLabels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  auto [series_it, inserted] = family->series.try_emplace(std::move(sorted));
  if (inserted) {
    if (type == kCounter) series_it->second.counter = std::make_unique<Counter>();
    if (type == kGauge) series_it->second.gauge = std::make_unique<Gauge>();
    if (type == kHistogram) {
      series_it->second.histogram = std::make_unique<Histogram>(family->bounds);
    }
  }
  family->last_added = &series_it->second;
  return family;
}

Counter& Metrics::GetCounter(std::string_view name, std::string_view help,
                             const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family* family = FindOrAddFamily(name, help, kCounter, nullptr, labels);
  if (family == nullptr) {
    detached_counters_.push_back(std::make_unique<Counter>());
    return *detached_counters_.back();
  }
  return *family->last_added->counter;
}

Gauge& Metrics::GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family* family = FindOrAddFamily(name, help, kGauge, nullptr, labels);
  if (family == nullptr) {
    detached_gauges_.push_back(std::make_unique<Gauge>());
    return *detached_gauges_.back();
  }
  return *family->last_added->gauge;
}

Histogram& Metrics::GetHistogram(std::string_view name, std::string_view help,
                                 const std::vector<double>& bounds, const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family* family = FindOrAddFamily(name, help, kHistogram, &bounds, labels);
  if (family == nullptr) {
    detached_histograms_.push_back(std::make_unique<Histogram>(bounds));
    return *detached_histograms_.back();
  }
  return *family->last_added->histogram;
}

std::string Metrics::RenderPrometheus() const {
  static constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out.push_back(' ');
    AppendEscaped(out, family->help, false);
    out += "\n# TYPE ";
    out += name;
    out.push_back(' ');
    out += kTypeNames[family->type];
    out.push_back('\n');
    for (const auto& [labels, series] : family->series) {
      if (family->type == kCounter) {
        out += name + FormatLabels(labels) + " " + std::to_string(series.counter->Value()) + "\n";
      } else if (family->type == kGauge) {
        out += name + FormatLabels(labels) + " " + FormatNumber(series.gauge->Value()) + "\n";
      } else {
        const Histogram& histogram = *series.histogram;
        std::vector<std::uint64_t> counts = histogram.BucketCounts();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::string le = i < histogram.bounds().size() ? FormatNumber(histogram.bounds()[i])
                                                         : std::string("+Inf");
          out += name + "_bucket" + FormatLabels(labels, "le", le) + " " +
                 std::to_string(cumulative) + "\n";
        }
        // _count equals the +Inf bucket even while observations race with rendering.
        out += name + "_sum" + FormatLabels(labels) + " " + FormatNumber(histogram.Sum()) + "\n";
        out += name + "_count" + FormatLabels(labels) + " " + std::to_string(cumulative) + "\n";
      }
    }
  }
  return out;
}

}  // namespace bulwark::http

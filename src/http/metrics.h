#pragma once
// Metrics: a small Prometheus registry (text exposition format 0.0.4), created by the owner
// of the process (main) and passed by pointer to whatever records into it. No globals.
//
// A family is a metric name with its help text and type; a series is one label set of a
// family. Get*() creates the family and the series on first use and returns a reference
// that stays valid for the registry's lifetime, so hot paths can look a series up once and
// keep it. Recording (Increment/Set/Add/Observe) is lock-free; Get*() and
// RenderPrometheus() take the registry mutex. Everything is safe from any thread.
//
// Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]* (not
// "le" on histograms). A bad name, or a name reused with another type or other buckets, is
// a programming error: it gets a detached series that records but is never rendered.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::http {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(std::uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: strictly increasing upper bounds, without +Inf (added implicitly).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts; the last one is the +Inf bucket.
  std::vector<std::uint64_t> BucketCounts() const;
  std::uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// 5 ms … 10 s, for request latencies in seconds.
std::vector<double> LatencyBuckets();

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  Counter& GetCounter(std::string_view name, std::string_view help,
                      const MetricLabels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help,
                          const std::vector<double>& bounds, const MetricLabels& labels = {});

  // Every family sorted by name, series sorted by labels: "# HELP", "# TYPE", then samples.
  std::string RenderPrometheus() const;

 private:
  struct Family;
  Family* FindOrAddFamily(std::string_view name, std::string_view help, int type,
                          const std::vector<double>* bounds, const MetricLabels& labels);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;  // Guarded by mu_.
  // Detached series for misuse; never rendered. Guarded by mu_.
  std::vector<std::unique_ptr<Counter>> detached_counters_;
  std::vector<std::unique_ptr<Gauge>> detached_gauges_;
  std::vector<std::unique_ptr<Histogram>> detached_histograms_;
};

}  // namespace bulwark::http

// A small Prometheus text-format exporter (prometheus-cpp is not packaged in Debian 12).
//
// Families (counters, gauges, histograms) are registered once by name in a Registry, usually the
// process-wide Registry::Default(); each label combination is a child series created on first
// use. Recording is lock-free (atomics); looking a child up by labels takes a shared lock, so
// hot paths that always use the same labels keep the child pointer. Families and children live
// as long as the registry, so the references below never dangle.
//
//   // once, e.g. at start-up (registering the same name again returns the same family):
//   auto& planner_runs = linli::metrics::Registry::Default().AddCounter(
//       "linli_planner_runs_total", "Planner runs by result.", {"result"});
//   // on every run:
//   planner_runs.WithLabels({"ok"}).Increment();
//
//   auto& lag = Registry::Default().AddGauge("linli_outbox_lag_seconds", "...", {});
//   lag.WithLabels({}).Set(12.5);
//
//   // values only known at scrape time (pool sizes, queue lengths):
//   Registry::Default().AddCallbackGauge("linli_db_pool_connections", "...", {"state"},
//       [] { return std::vector<Sample>{{{"in_use"}, 3}, {{"open"}, 5}}; });
//
//   std::string text = Registry::Default().Render();  // what GET /metrics returns
//
// Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*; registering a
// name twice with a different type or labels aborts (a programming error, caught by any test).
#ifndef LINLI_COMMON_METRICS_H_
#define LINLI_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace linli::metrics {

using LabelValues = std::vector<std::string>;

// A value that only goes up (events, requests, errors).
class Counter {
 public:
  // `amount` must be >= 0; negative amounts are ignored.
  void Increment(double amount = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down (connections in use, lag).
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into cumulative buckets (Prometheus `le` semantics) plus sum and count.
class Histogram {
 public:
  // `bounds` are the finite upper bounds, strictly increasing; +Inf is implicit.
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double value);

  // Per-bucket counts (not cumulative), one more than bounds (the last is +Inf).
  std::vector<uint64_t> BucketCounts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, 1 ms to 10 s.
const std::vector<double>& DefaultLatencyBuckets();

// A family: one metric name, fixed label names, one child per label-value combination.
template <typename T>
class Family {
 public:
  // The child for `values` (one per label name, in order), created on first use. A wrong number
  // of values is a programming error: it aborts.
  T& WithLabels(const LabelValues& values);

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<T>> children_;  // guarded by mu_
};

// One series of a callback gauge.
struct Sample {
  LabelValues labels;
  double value;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The registry GET /metrics serves.
  static Registry& Default();

  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              const std::vector<std::string>& label_names);
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          const std::vector<std::string>& label_names);
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  const std::vector<std::string>& label_names,
                                  const std::vector<double>& bounds);
  // A gauge whose series `collect` returns at each scrape. `collect` runs during Render (on the
  // scraping thread) and must be thread-safe and quick. Registering the name again replaces it.
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        const std::vector<std::string>& label_names,
                        std::function<std::vector<Sample>()> collect);
  // The same for a counter kept elsewhere (e.g. an atomic in a lower layer): `collect` must
  // return values that never decrease.
  void AddCallbackCounter(const std::string& name, const std::string& help,
                          const std::vector<std::string>& label_names,
                          std::function<std::vector<Sample>()> collect);

  // The Prometheus text exposition format (version 0.0.4) of every family, sorted by name.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram, kCallbackGauge, kCallbackCounter };
  struct Entry {
    Type type;
    std::string help;
    std::vector<std::string> label_names;
    std::vector<double> bounds;  // histograms
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
    std::function<std::vector<Sample>()> collect;
  };
  Entry& Register(const std::string& name, Type type, const std::string& help,
                  const std::vector<std::string>& label_names, const std::vector<double>& bounds);

  mutable std::shared_mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

// Appends `value` to `out` escaped for a label value (backslash, double quote, newline).
void AppendEscapedLabelValue(std::string* out, const std::string& value);

}  // namespace linli::metrics

#endif  // LINLI_COMMON_METRICS_H_

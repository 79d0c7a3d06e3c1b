#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace linli::metrics {
namespace {

void AtomicAdd(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + amount, std::memory_order_relaxed)) {
  }
}

bool ValidName(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "metrics: %s\n", what.c_str());
  std::abort();
}

void AppendNumber(std::string* out, double value) {
  if (std::isnan(value)) {
    *out += "NaN";
  } else if (std::isinf(value)) {
    *out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", value);
    *out += buf;
  } else {
    // The shortest of 15 or 17 significant digits that reads back as the same double.
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.15g", value);
    if (std::strtod(buf, nullptr) != value) std::snprintf(buf, sizeof(buf), "%.17g", value);
    *out += buf;
  }
}

// {a="x",b="y"} (nothing when there are no labels); `extra` is an additional pre-rendered pair
// such as le="0.5".
void AppendLabels(std::string* out, const std::vector<std::string>& names,
                  const LabelValues& values, const std::string& extra = "") {
  if (names.empty() && extra.empty()) return;
  out->push_back('{');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out->push_back(',');
    *out += names[i];
    *out += "=\"";
    AppendEscapedLabelValue(out, values[i]);
    out->push_back('"');
  }
  if (!extra.empty()) {
    if (!names.empty()) out->push_back(',');
    *out += extra;
  }
  out->push_back('}');
}

void AppendHeader(std::string* out, const std::string& name, const std::string& help,
                  const char* type) {
  *out += "# HELP ";
  *out += name;
  out->push_back(' ');
  for (char c : help) {  // HELP escapes backslash and newline only
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      out->push_back(c);
    }
  }
  *out += "\n# TYPE ";
  *out += name;
  out->push_back(' ');
  *out += type;
  out->push_back('\n');
}

void AppendSeries(std::string* out, const std::string& name, const std::vector<std::string>& names,
                  const LabelValues& values, double value, const std::string& extra = "") {
  *out += name;
  AppendLabels(out, names, values, extra);
  out->push_back(' ');
  AppendNumber(out, value);
  out->push_back('\n');
}

}  // namespace

void AppendEscapedLabelValue(std::string* out, const std::string& value) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      out->push_back(c);
    }
  }
}

void Counter::Increment(double amount) {
  if (!(amount >= 0)) return;
  AtomicAdd(value_, amount);
}

void Gauge::Add(double amount) { AtomicAdd(value_, amount); }

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
  for (size_t i = 1; i < bounds_.size(); ++i) {
    if (!(bounds_[i - 1] < bounds_[i])) Die("histogram bounds must be strictly increasing");
  }
}

void Histogram::Observe(double value) {
  // Few buckets: a linear scan is as fast as a binary search and branch-predictable.
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double>* buckets = new std::vector<double>{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

template <typename T>
T& Family<T>::WithLabels(const LabelValues& values) {
  if (values.size() != label_names_.size()) {
    Die(name_ + ": wrong number of label values");
  }
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  std::unique_ptr<T>& child = children_[values];
  if (child == nullptr) child = make_();
  return *child;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry& Registry::Default() {
  static Registry* registry = new Registry();
  return *registry;
}

Registry::Entry& Registry::Register(const std::string& name, Type type, const std::string& help,
                                    const std::vector<std::string>& label_names,
                                    const std::vector<double>& bounds) {
  if (!ValidName(name, /*allow_colon=*/true)) Die("invalid metric name " + name);
  for (const std::string& label : label_names) {
    if (!ValidName(label, /*allow_colon=*/false) || label == "le" || label.rfind("__", 0) == 0) {
      Die(name + ": invalid label name " + label);
    }
  }
  auto [it, inserted] = entries_.try_emplace(name);
  Entry& entry = it->second;
  if (!inserted) {
    if (entry.type != type || entry.label_names != label_names || entry.bounds != bounds) {
      Die(name + " registered twice with a different type, labels or buckets");
    }
    return entry;
  }
  entry.type = type;
  entry.help = help;
  entry.label_names = label_names;
  entry.bounds = bounds;
  return entry;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      const std::vector<std::string>& label_names) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Entry& entry = Register(name, Type::kCounter, help, label_names, {});
  if (entry.counter == nullptr) {
    entry.counter.reset(
        new Family<Counter>(name, help, label_names, [] { return std::make_unique<Counter>(); }));
  }
  return *entry.counter;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  const std::vector<std::string>& label_names) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Entry& entry = Register(name, Type::kGauge, help, label_names, {});
  if (entry.gauge == nullptr) {
    entry.gauge.reset(
        new Family<Gauge>(name, help, label_names, [] { return std::make_unique<Gauge>(); }));
  }
  return *entry.gauge;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          const std::vector<std::string>& label_names,
                                          const std::vector<double>& bounds) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Entry& entry = Register(name, Type::kHistogram, help, label_names, bounds);
  if (entry.histogram == nullptr) {
    // Validate the bounds once, at registration, rather than on first use.
    Histogram check(bounds);
    (void)check;
    entry.histogram.reset(new Family<Histogram>(
        name, help, label_names, [bounds] { return std::make_unique<Histogram>(bounds); }));
  }
  return *entry.histogram;
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help,
                                const std::vector<std::string>& label_names,
                                std::function<std::vector<Sample>()> collect) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Entry& entry = Register(name, Type::kCallbackGauge, help, label_names, {});
  entry.collect = std::move(collect);
}

void Registry::AddCallbackCounter(const std::string& name, const std::string& help,
                                  const std::vector<std::string>& label_names,
                                  std::function<std::vector<Sample>()> collect) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Entry& entry = Register(name, Type::kCallbackCounter, help, label_names, {});
  entry.collect = std::move(collect);
}

std::string Registry::Render() const {
  std::string out;
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (const auto& [name, entry] : entries_) {
    switch (entry.type) {
      case Type::kCounter: {
        AppendHeader(&out, name, entry.help, "counter");
        std::shared_lock<std::shared_mutex> children(entry.counter->mu_);
        for (const auto& [labels, child] : entry.counter->children_) {
          AppendSeries(&out, name, entry.label_names, labels, child->value());
        }
        break;
      }
      case Type::kGauge: {
        AppendHeader(&out, name, entry.help, "gauge");
        std::shared_lock<std::shared_mutex> children(entry.gauge->mu_);
        for (const auto& [labels, child] : entry.gauge->children_) {
          AppendSeries(&out, name, entry.label_names, labels, child->value());
        }
        break;
      }
      case Type::kCallbackGauge:
      case Type::kCallbackCounter: {
        AppendHeader(&out, name, entry.help,
                     entry.type == Type::kCallbackGauge ? "gauge" : "counter");
        for (const Sample& sample : entry.collect()) {
          if (sample.labels.size() != entry.label_names.size()) continue;
          AppendSeries(&out, name, entry.label_names, sample.labels, sample.value);
        }
        break;
      }
      case Type::kHistogram: {
        AppendHeader(&out, name, entry.help, "histogram");
        std::shared_lock<std::shared_mutex> children(entry.histogram->mu_);
        for (const auto& [labels, child] : entry.histogram->children_) {
          // A concurrent Observe may have bumped its bucket but not yet the count: report at
          // least the bucket total so that _count equals the +Inf bucket, as scrapers expect.
          std::vector<uint64_t> counts = child->BucketCounts();
          uint64_t cumulative = 0;
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            std::string le = "le=\"";
            if (i < child->bounds().size()) {
              AppendNumber(&le, child->bounds()[i]);
            } else {
              le += "+Inf";
            }
            le.push_back('"');
            AppendSeries(&out, name + "_bucket", entry.label_names, labels,
                         static_cast<double>(cumulative), le);
          }
          AppendSeries(&out, name + "_sum", entry.label_names, labels, child->sum());
          AppendSeries(&out, name + "_count", entry.label_names, labels,
                       static_cast<double>(std::max<uint64_t>(child->count(), cumulative)));
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace linli::metrics

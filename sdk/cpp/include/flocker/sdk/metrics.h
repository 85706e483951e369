// Prometheus metrics: counters, gauges and histograms with labels, and their text exposition
// (format 0.0.4), for flocker-proxy and for deciders written with this SDK.
//
//   static auto& calls = metrics::global().counter(
//       "flocker_decider_calls_total", "Decider calls answered, by RPC and gRPC code",
//       {"rpc", "code"});
//   calls.with({"Route", "OK"}).inc();
//
// Updating a metric is lock-free (atomics); looking up a label set takes a mutex, so code on
// a hot path keeps the reference `with()` returns (it stays valid as long as the registry).
// Names follow Prometheus conventions: base units (seconds, bytes), `_total` for counters.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace flocker::metrics {

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Cumulative buckets, as Prometheus expects; the bounds are fixed when the family is made.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double value);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  // Per-bucket (not cumulative) counts; the last one is +Inf.
  std::vector<uint64_t> bucket_counts() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 1 ms to 10 s: what a proxy's requests and RPCs take.
const std::vector<double>& latency_buckets();

enum class Type { kCounter, kGauge, kHistogram };

// The metrics of one name, one per set of label values.
template <class Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}

  // The metric for these label values (as many as the family has labels), made on first use.
  Metric& with(std::initializer_list<std::string_view> values) {
    return with(std::vector<std::string>(values.begin(), values.end()));
  }
  Metric& with(const std::vector<std::string>& values) {
    if (values.size() != labels_.size()) throw std::logic_error(name_ + ": wrong number of label values");
    std::lock_guard lock(mutex_);
    auto& slot = metrics_[values];
    if (!slot) {
      if constexpr (std::is_same_v<Metric, Histogram>) {
        slot = std::make_unique<Metric>(bounds_);
      } else {
        slot = std::make_unique<Metric>();
      }
    }
    return *slot;
  }

  // Forgets one label set (e.g. a host gone from the inventory). References to it that
  // callers kept dangle: only for label sets that are looked up each time.
  void remove(const std::vector<std::string>& values) {
    std::lock_guard lock(mutex_);
    metrics_.erase(values);
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }
  // Calls f(values, metric) for each label set, in label order, under the family's lock.
  template <class F>
  void each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, metric] : metrics_) f(values, *metric);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> metrics_;
};

// A value read when Prometheus scrapes, for state that already lives elsewhere (a host's
// health, the object model's sizes): cheaper and never stale, unlike a gauge kept in step.
struct Sample {
  std::vector<std::string> label_values;
  double value = 0;
};
using Collect = std::function<std::vector<Sample>()>;

class Registry;

// Removes a scrape-time collector when it goes: whoever registers `this` in a callback keeps
// one of these as a member, so a scrape never calls into a destroyed object.
class CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(Registry* registry, uint64_t id) : registry_(registry), id_(id) {}
  CollectorHandle(CollectorHandle&& other) noexcept { *this = std::move(other); }
  CollectorHandle& operator=(CollectorHandle&& other) noexcept;
  ~CollectorHandle() { reset(); }
  void reset();

 private:
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

class Registry {
 public:
  // The family of this name, made on first call. Asking again with the same name gives the
  // same family (the help and labels of the first call win); a name used with another type
  // throws std::logic_error.
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> labels = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> labels = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> labels = {},
                               std::vector<double> bounds = latency_buckets());

  // A gauge (or counter, with Type::kCounter) whose samples `collect` returns at each
  // scrape. It is called on the scraping thread: it must be thread-safe and quick.
  [[nodiscard]] CollectorHandle collect(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels, Collect collect,
                                        Type type = Type::kGauge);

  // Every metric in Prometheus' text format, families sorted by name.
  std::string render() const;

 private:
  friend class CollectorHandle;
  void forget(uint64_t id);
  void check_type(const std::string& name, Type type) const;  // the lock is held

  struct Collector {
    std::string name, help;
    std::vector<std::string> labels;
    Collect collect;
    Type type;
  };
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_;
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_;
  mutable std::mutex collectors_mutex_;  // never taken with mutex_ held, nor the reverse
  std::map<uint64_t, Collector> collectors_;
  uint64_t next_id_ = 1;
};

// The process's registry: what the metrics listener serves.
Registry& global();

// Seconds since `start` on the steady clock, for Histogram::observe.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace flocker::metrics

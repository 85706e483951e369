#include "flocker/sdk/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <utility>

namespace flocker::metrics {
namespace {

// Numbers as Prometheus reads them: integers without a fraction, +Inf/-Inf/NaN spelled so.
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, ec == std::errc() ? end : buf);
  }
}

void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// {a="x",b="y"}, with an extra label (a histogram's le) when given; nothing when empty.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  const std::size_t n = std::min(names.size(), values.size());
  if (n == 0 && extra_name.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (n) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, const std::string& name, const std::string& help,
                   const char* type) {
  out += "# HELP " + name + ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE " + name + ' ' + type + '\n';
}

void append_sample(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& values, double v) {
  out += name;
  append_labels(out, label_names, values);
  out += ' ';
  append_number(out, v);
  out += '\n';
}

const char* type_name(Type type) {
  switch (type) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) {
  const auto i = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                           0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void CollectorHandle::reset() {
  if (registry_) registry_->forget(id_);
  registry_ = nullptr;
}

namespace {
// The family of this name in `map`, made when missing. The registry's lock is held.
template <class Map, class Family = typename Map::mapped_type::element_type>
Family& family(Map& map, const std::string& name, const std::string& help,
               std::vector<std::string> labels, std::vector<double> bounds = {}) {
  auto& slot = map[name];
  if (!slot) slot = std::make_unique<Family>(name, help, std::move(labels), std::move(bounds));
  return *slot;
}
}  // namespace

void Registry::check_type(const std::string& name, Type type) const {
  const bool taken = (type != Type::kCounter && counters_.count(name)) ||
                     (type != Type::kGauge && gauges_.count(name)) ||
                     (type != Type::kHistogram && histograms_.count(name));
  if (taken) throw std::logic_error("metric " + name + " already has another type");
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  check_type(name, Type::kCounter);
  return family(counters_, name, help, std::move(labels));
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  check_type(name, Type::kGauge);
  return family(gauges_, name, help, std::move(labels));
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> labels,
                                       std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  std::lock_guard lock(mutex_);
  check_type(name, Type::kHistogram);
  return family(histograms_, name, help, std::move(labels), std::move(bounds));
}

CollectorHandle Registry::collect(const std::string& name, const std::string& help,
                                  std::vector<std::string> labels, Collect collect, Type type) {
  std::lock_guard lock(collectors_mutex_);
  const uint64_t id = next_id_++;
  collectors_[id] = Collector{name, help, std::move(labels), std::move(collect), type};
  return CollectorHandle(this, id);
}

void Registry::forget(uint64_t id) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.erase(id);
}

std::string Registry::render() const {
  // name -> its text; a std::map keeps the families sorted.
  std::map<std::string, std::string> out;
  std::unique_lock lock(mutex_);
  for (const auto& [name, family] : counters_) {
    auto& text = out[name];
    append_header(text, name, family->help(), "counter");
    family->each([&](const std::vector<std::string>& values, const Counter& c) {
      append_sample(text, name, family->labels(), values, static_cast<double>(c.value()));
    });
  }
  for (const auto& [name, family] : gauges_) {
    auto& text = out[name];
    append_header(text, name, family->help(), "gauge");
    family->each([&](const std::vector<std::string>& values, const Gauge& g) {
      append_sample(text, name, family->labels(), values, static_cast<double>(g.value()));
    });
  }
  for (const auto& [name, family] : histograms_) {
    auto& text = out[name];
    append_header(text, name, family->help(), "histogram");
    family->each([&](const std::vector<std::string>& values, const Histogram& h) {
      const auto counts = h.bucket_counts();
      uint64_t cumulative = 0;
      for (std::size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        std::string le;
        if (i < h.bounds().size()) {
          append_number(le, h.bounds()[i]);
        } else {
          le = "+Inf";
        }
        text += name + "_bucket";
        append_labels(text, family->labels(), values, "le", le);
        text += ' ' + std::to_string(cumulative) + '\n';
      }
      append_sample(text, name + "_sum", family->labels(), values, h.sum());
      append_sample(text, name + "_count", family->labels(), values,
                    static_cast<double>(h.count()));
    });
  }
  lock.unlock();
  // Collectors: several may share a name (one per object that registered); one header. The
  // collectors' lock is held while they run, so that one is never forgotten (its object
  // destroyed) in the middle of a scrape.
  std::lock_guard collecting(collectors_mutex_);
  for (const auto& [id, c] : collectors_) {
    auto& text = out[c.name];
    if (text.empty()) append_header(text, c.name, c.help, type_name(c.type));
    for (const auto& sample : c.collect()) {
      append_sample(text, c.name, c.labels, sample.label_values, sample.value);
    }
  }
  std::string all;
  for (const auto& [name, text] : out) all += text;
  return all;
}

Registry& global() {
  static Registry registry;
  return registry;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace flocker::metrics

#include "flock/flock_metrics.h"

namespace flocker::flock {
namespace {

struct HostFamilies {
  metrics::Family<metrics::Histogram>& call_seconds = metrics::global().histogram(
      "flocker_host_call_seconds",
      "Time a host took to answer the proxy's calls for clients' requests (parts of merged "
      "reads, lookups), by host",
      {"host"});
  metrics::Family<metrics::Counter>& call_failures = metrics::global().counter(
      "flocker_host_call_failures_total",
      "The proxy's calls for clients' requests that a host did not answer (down, timed out), "
      "by host",
      {"host"});
  metrics::Family<metrics::Gauge>& event_stream = metrics::global().gauge(
      "flocker_host_event_stream_up",
      "1 while the host's event stream is open and its objects listed (the object model "
      "follows it), else 0",
      {"host"});
  metrics::Family<metrics::Counter>& copies = metrics::global().counter(
      "flocker_image_copies_total",
      "Images copied from one host to another for a create, by outcome (ok, failed)",
      {"outcome"});
  metrics::Family<metrics::Counter>& copied_bytes = metrics::global().counter(
      "flocker_image_copy_bytes_total", "Bytes of images copied between hosts");
};

HostFamilies& families() {
  static HostFamilies f;
  return f;
}

}  // namespace

FlockMetrics::FlockMetrics(const Inventory& inventory, const ObjectModel& model) {
  families();  // every family exists, empty, from the first scrape
  collectors_.push_back(metrics::global().collect(
      "flocker_host_healthy", "1 when the host passed its last health check, else 0", {"host"},
      [&inventory] {
        std::vector<metrics::Sample> out;
        for (const auto& h : *inventory.snapshot()) out.push_back({{h.name}, h.healthy ? 1.0 : 0.0});
        return out;
      }));
  collectors_.push_back(metrics::global().collect(
      "flocker_model_objects",
      "What the object model knows of, by kind (hosts, containers, images, volumes, networks; "
      "an object on two hosts counts twice)",
      {"kind"}, [&model] {
        const auto s = model.sizes();
        return std::vector<metrics::Sample>{
            {{"hosts"}, static_cast<double>(s.hosts)},
            {{"containers"}, static_cast<double>(s.containers)},
            {{"images"}, static_cast<double>(s.images)},
            {{"volumes"}, static_cast<double>(s.volumes)},
            {{"networks"}, static_cast<double>(s.networks)}};
      }));
}

void observe_host_call(const std::string& host, double seconds, bool answered) {
  auto& f = families();
  if (answered) {
    f.call_seconds.with({host}).observe(seconds);
  } else {
    f.call_failures.with({host}).inc();
  }
}

void set_event_stream(const std::string& host, bool up) {
  families().event_stream.with({host}).set(up ? 1 : 0);
}

void forget_host(const std::string& host) {
  auto& f = families();
  f.call_seconds.remove({host});
  f.call_failures.remove({host});
  f.event_stream.remove({host});
}

void count_image_copy(bool ok, uint64_t bytes) {
  auto& f = families();
  f.copies.with({ok ? "ok" : "failed"}).inc();
  if (ok) f.copied_bytes.with({}).inc(bytes);
}

}  // namespace flocker::flock

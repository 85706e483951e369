// The flock's Prometheus metrics: per host (health, its event stream, how long its calls
// take), the object model's sizes, and image copies. Health and sizes are read when
// Prometheus scrapes, from the inventory and the model themselves, so they are never stale.
#pragma once

#include <flocker/sdk/metrics.h>

#include <cstdint>
#include <string>
#include <vector>

#include "flock/control/inventory.h"
#include "flock/model/object_model.h"

namespace flocker::flock {

// Registers the scrape-time collectors over a flock's inventory and model; they go with it.
class FlockMetrics {
 public:
  FlockMetrics(const Inventory& inventory, const ObjectModel& model);

 private:
  std::vector<metrics::CollectorHandle> collectors_;
};

// A call the proxy made to a host for a client's request (a part of a merged read, a
// lookup), and whether the host answered.
void observe_host_call(const std::string& host, double seconds, bool answered);
// Whether the host's event stream is open and its objects listed (the model follows it).
void set_event_stream(const std::string& host, bool up);
// The host left the inventory: its series go.
void forget_host(const std::string& host);
// An image copied from one host to another (docker run where a host lacks the image).
void count_image_copy(bool ok, uint64_t bytes);

}  // namespace flocker::flock

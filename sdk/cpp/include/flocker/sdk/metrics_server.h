// Serves a metrics Registry to Prometheus: GET /metrics on addresses of its own (never the
// port that does the real work), from one thread of its own, so that a slow scraper never
// holds up requests or decisions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "flocker/sdk/metrics.h"

namespace flocker::metrics {

class MetricsServer {
 public:
  // `listen`: tcp://HOST:PORT or HOST:PORT (port 0: any free port). Binds in start().
  MetricsServer(std::vector<std::string> listen, Registry& registry = global());
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds every address and starts serving. Throws std::runtime_error naming the address
  // that cannot be bound.
  void start();
  // The bound ports, in the order of `listen` (useful with port 0).
  std::vector<int> ports() const;
  // Stops serving and joins the thread. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flocker::metrics

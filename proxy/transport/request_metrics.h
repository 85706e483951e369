// The data plane's Prometheus metrics (metrics::global()): requests by class, method and
// status, their latency, bytes each way, and the streams and hijacked sessions open now.
// The class is whatever label the handler gave the exchange (AccessRecord::label): the
// transport knows nothing of Docker's endpoint classes.
#pragma once

#include <flocker/sdk/metrics.h>

#include "exchange.h"

namespace flocker::transport {

// Counts a request once it has ended (next to its access-log line).
void count_request(Exchange& exchange);

// Counts a request the transport refused before any handler saw it (malformed, too large).
void count_refused(unsigned status);

// Holds +1 on a gauge for as long as it lives: a stream being relayed, a hijacked session.
class GaugeHold {
 public:
  explicit GaugeHold(metrics::Gauge& gauge) : gauge_(gauge) { gauge_.add(1); }
  ~GaugeHold() { gauge_.add(-1); }
  GaugeHold(const GaugeHold&) = delete;
  GaugeHold& operator=(const GaugeHold&) = delete;

 private:
  metrics::Gauge& gauge_;
};

// Responses streaming now: a chunked or until-close body being relayed (logs -f, events,
// pull progress), or one the proxy composes (merged events, fan-out progress).
metrics::Gauge& open_streams();
// Hijacked connections relayed now (attach, exec, `docker run -i`).
metrics::Gauge& hijacked_sessions();

}  // namespace flocker::transport

#include "request_metrics.h"

#include <string>

namespace flocker::transport {
namespace {

struct RequestFamilies {
  metrics::Family<metrics::Counter>& requests = metrics::global().counter(
      "flocker_requests_total",
      "Requests answered, by endpoint class (containers, images, exec, ...), method and status",
      {"class", "method", "code"});
  metrics::Family<metrics::Histogram>& latency = metrics::global().histogram(
      "flocker_request_latency_seconds",
      "Time from a request's header to its response's header (for a stream: to its start), "
      "by endpoint class and method",
      {"class", "method"});
  metrics::Family<metrics::Counter>& bytes_in = metrics::global().counter(
      "flocker_request_body_bytes_total",
      "Bytes of request bodies (and client-to-engine bytes of hijacked sessions), by class",
      {"class"});
  metrics::Family<metrics::Counter>& bytes_out = metrics::global().counter(
      "flocker_response_body_bytes_total",
      "Bytes of response bodies (and engine-to-client bytes of hijacked sessions), by class",
      {"class"});
};

RequestFamilies& families() {
  static RequestFamilies f;
  return f;
}

// A method label from a known few: a client must not be able to make up label values.
const char* method_label(http::verb method) {
  switch (method) {
    case http::verb::get: return "GET";
    case http::verb::head: return "HEAD";
    case http::verb::post: return "POST";
    case http::verb::put: return "PUT";
    case http::verb::delete_: return "DELETE";
    default: return "other";
  }
}

}  // namespace

void count_request(Exchange& ex) {
  auto& f = families();
  const auto& r = ex.record();
  const char* cls = r.label ? r.label : "other";
  const char* method = method_label(ex.request().method());
  f.requests.with({cls, method, std::to_string(r.status)}).inc();
  if (ex.answered()) {
    f.latency.with({cls, method})
        .observe(std::chrono::duration<double>(*ex.answered() - ex.started()).count());
  }
  if (r.bytes_in) f.bytes_in.with({cls}).inc(r.bytes_in);
  if (r.bytes_out) f.bytes_out.with({cls}).inc(r.bytes_out);
}

void count_refused(unsigned status) {
  families().requests.with({"invalid", "other", std::to_string(status)}).inc();
}

metrics::Gauge& open_streams() {
  static auto& gauge = metrics::global()
                           .gauge("flocker_open_streams",
                                  "Streamed responses being relayed or composed now")
                           .with({});
  return gauge;
}

metrics::Gauge& hijacked_sessions() {
  static auto& gauge =
      metrics::global().gauge("flocker_hijacked_sessions", "Hijacked connections relayed now").with({});
  return gauge;
}

}  // namespace flocker::transport

// Small things every flock route needs: who the client is, which hosts are up, relaying an
// engine's answer, calling one host or all of them.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "docker/merge.h"
#include "flock/flock.h"
#include "transport/client_call.h"
#include "transport/exchange.h"

namespace flocker::flock {

using transport::Exchange;
using transport::Task;
namespace http = transport::http;

// Counts itself in `counter` while it lives: how many requests are in some phase, for the
// other threads to see (it stays right when a coroutine ends by an exception).
class Counted {
 public:
  explicit Counted(std::atomic<int>& counter) : counter_(counter) { ++counter_; }
  ~Counted() { --counter_; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

 private:
  std::atomic<int>& counter_;
};

// The client as the decider sees it.
v1::Client client_of(Exchange& ex);
// The client for pinning: its address without the port (docker run's three requests come
// over different connections).
std::string client_key(const Exchange& ex);

std::vector<const HostState*> healthy_hosts(const HostList& hosts);

// The API versions every host serves: from the highest MinAPIVersion to the lowest
// ApiVersion (docker's defaults, 1.12 and 1.41, before any host has answered). Computed once
// per inventory snapshot and I/O thread.
struct ApiRange {
  std::string min = "1.12", max = "1.41";
};
const ApiRange& api_range(const HostsSnapshot& hosts);

// HTTP status for a decider's error code (its message goes to the docker user as is).
http::status http_status_for(grpc::StatusCode code);

Task<void> respond_json(Exchange& ex, http::status status, std::string body);
// An engine's buffered answer, passed on (hop-by-hop headers dropped).
Task<void> respond_engine(Exchange& ex, http::response<http::string_body> response);
// "host e1 (tcp://...) is unreachable: ...": 502.
Task<void> respond_host_down(Exchange& ex, const HostState& host, std::string_view why = {});
// "etcd (...) is unavailable ...": 503, logged (a create or rename refused, fail-closed).
Task<void> respond_coordination_down(Exchange& ex, const std::string& message);

// Streams the client's request to one host (the transport's forward); `answer_timeout`
// bounds the wait for its answer to start (docker::answer_deadline; 0 = none).
Task<void> forward_to(Exchange& ex, const HostState& host, std::chrono::milliseconds answer_timeout);

// The client's request re-made for a buffered call: same method, target (or `target`),
// end-to-end headers, and `body`.
http::request<http::string_body> client_request(Exchange& ex, std::string target, std::string body);

// Names `host` among the engines the access log says a request reached (once).
void note_upstream(Exchange& ex, const HostState& host);

// The proxy's own call to one host, answered within `timeout`.
Task<transport::CallResult> call_host(Exchange& ex, const HostState& host,
                                      http::request<http::string_body> request,
                                      std::chrono::milliseconds timeout);

// The same request to several hosts at once.
struct HostReply {
  const HostState* host;
  transport::CallResult result;
};
Task<std::vector<HostReply>> call_hosts(Exchange& ex, const std::vector<const HostState*>& hosts,
                                        http::verb method, std::string target, std::string body,
                                        std::chrono::milliseconds timeout);

// The hosts a read from every host could not include, and why. The answer says so: a
// Warnings entry where docker's answer has Warnings (docker volume ls), and always the
// header kLeftOutHeader ("e2: engine ... is down: ...; e3: ...").
constexpr std::string_view kLeftOutHeader = "X-Flocker-Left-Out";
struct LeftOut {
  std::vector<std::string> hosts;  // "e2 (tcp://...): why"
  void add(const HostState& host, std::string_view why);
  // The hosts of `all` that are down, among `names` (empty: all of them).
  void add_down(const HostList& all, const std::vector<std::string>& names = {});
};
// A 200 with a JSON answer from several hosts, saying which were left out.
Task<void> respond_merged(Exchange& ex, std::string body, const LeftOut& left);

// Base64url, as X-Registry-Auth wants.
std::string base64url(std::string_view data);

}  // namespace flocker::flock

// The views a flock answers from every host: /_ping, /version, /info, the lists, df, prune,
// and the merged event stream.
#include <spdlog/spdlog.h>

#include "docker/events.h"
#include "docker/filters.h"
#include "docker/host_filter.h"
#include "docker/json.h"
#include "docker/system_merge.h"
#include "flock/flock_handler.h"
#include "flock/line_merge.h"
#include "transport/gather.h"
#include "flocker_version.h"

namespace flocker::flock {
namespace {

std::vector<docker::HostSummary> summaries(const HostList& hosts) {
  std::vector<docker::HostSummary> out;
  for (const auto& h : hosts) {
    out.push_back({h.name, h.address.text, h.labels, h.healthy, h.health_error, h.info_json,
                   h.version_json});
  }
  return out;
}

docker::FlockIdentity identity(const Flock& flock) {
  return {flock.options.name, flock.id, FLOCKER_VERSION, flock.decider.address()};
}

// Hosts a filter selects, healthy ones only; unknown names select nothing.
std::vector<const HostState*> selected(const HostList& hosts, const std::vector<std::string>& names) {
  std::vector<const HostState*> out;
  for (const auto* h : healthy_hosts(hosts)) {
    if (names.empty() || std::find(names.begin(), names.end(), h->name) != names.end()) out.push_back(h);
  }
  return out;
}

}  // namespace

Task<void> FlockHandler::ping(Exchange& ex) {
  auto hosts = flock_.inventory.snapshot();
  http::response<http::string_body> res{http::status::ok, 11};
  // The headers the CLI negotiates on, for the whole flock.
  res.set("Api-Version", docker::flock_api_version(summaries(*hosts), "1.41"));
  res.set("Ostype", "linux");
  res.set("Docker-Experimental", "false");
  res.set("Builder-Version", "1");
  res.set(http::field::cache_control, "no-cache, no-store, must-revalidate");
  res.set(http::field::pragma, "no-cache");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = ex.request().method() == http::verb::head ? "" : "OK";
  co_await ex.respond(std::move(res));
}

Task<void> FlockHandler::version(Exchange& ex) {
  auto hosts = flock_.inventory.snapshot();
  co_await respond_json(ex, http::status::ok, docker::merge_version(summaries(*hosts), identity(flock_)));
}

Task<void> FlockHandler::info(Exchange& ex) {
  auto hosts = flock_.inventory.snapshot();
  auto views = summaries(*hosts);
  // Counts change by the second: ask every healthy host now; one that does not answer in
  // time is shown with what the last health check saw.
  auto replies = co_await call_hosts(ex, healthy_hosts(*hosts), http::verb::get, "/info", {},
                                     flock_.options.engine_timeout);
  for (auto& r : replies) {
    if (!r.result.ok() || r.result.response.result_int() != 200) continue;
    for (auto& v : views) {
      if (v.name == r.host->name) v.info_json = std::move(r.result.response.body());
    }
  }
  const auto route = docker::classify(ex.request().method(), ex.request().target());
  co_await respond_json(ex, http::status::ok, docker::merge_info(views, identity(flock_), route.target.version));
}

Task<std::optional<std::vector<docker::HostBody>>> FlockHandler::collect_bodies(
    Exchange& ex, std::vector<HostReply> replies) {
  std::vector<docker::HostBody> bodies;
  for (auto& r : replies) {
    if (!r.result.ok()) {
      spdlog::warn("{} {}: {} left out: {}", ex.request_id(), std::string_view(ex.request().target()),
                   r.host->name, r.result.error);
      continue;
    }
    if (r.result.response.result_int() != 200) {  // the engine refused the query: its answer
      co_await respond_engine(ex, std::move(r.result.response));
      co_return std::nullopt;
    }
    bodies.push_back({r.host->name, std::move(r.result.response.body())});
  }
  co_return bodies;
}

Task<void> FlockHandler::list_containers(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  auto filter = docker::take_host_filter(route.target.query);
  if (!filter.error.empty()) {  // filters that are not JSON: an engine's own refusal
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  auto targets = selected(*hosts, filter.hosts);
  // since= and before= name a container, and mean "created after / before it": on its own
  // host as they are, elsewhere as a window of creation times (seconds: a container of the
  // same second as the one named is left out there).
  auto order = docker::take_order_filters(filter.query);
  struct Bound {
    std::string host;
    int64_t created = 0;
  };
  std::optional<Bound> since, before;
  for (auto* which : {&order.since, &order.before}) {
    if (!*which) continue;
    auto found = co_await locate_container(ex, hosts, **which);
    if (found.found != ModelSnapshot::Found::kOne || found.container.created == 0) continue;
    (which == &order.since ? since : before) = Bound{found.container.host, found.container.created};
  }
  const bool windowed = (order.since && since) || (order.before && before);
  std::vector<Task<transport::CallResult>> calls;
  std::vector<std::pair<std::optional<int64_t>, std::optional<int64_t>>> windows;
  for (const auto* h : targets) {
    std::string query = windowed ? order.query_without : filter.query;
    std::optional<int64_t> after, below;
    if (windowed) {
      query = docker::with_query_param(query, "limit", std::nullopt);  // applied after the window
      if (order.since && since && since->host == h->name) query = docker::with_filter(query, "since", *order.since);
      if (order.since && since && since->host != h->name) after = since->created;
      if (order.before && before && before->host == h->name) query = docker::with_filter(query, "before", *order.before);
      if (order.before && before && before->host != h->name) below = before->created;
    }
    windows.emplace_back(after, below);
    calls.push_back(call_host(ex, *h, transport::make_request(http::verb::get, route.target.rebuild(query), {},
                                                              ex.request_id())));
  }
  auto results = co_await transport::gather(std::move(calls));
  std::vector<HostReply> replies;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto& r = results[i];
    if (r.ok() && r.response.result_int() == 200 && (windows[i].first || windows[i].second)) {
      if (auto kept = docker::filter_by_created(r.response.body(), windows[i].first, windows[i].second)) {
        r.response.body() = std::move(*kept);
      }
    }
    replies.push_back({targets[i], std::move(r)});
  }
  auto collected = co_await collect_bodies(ex, std::move(replies));
  if (!collected) co_return;
  auto& bodies = *collected;
  const auto& q = filter.query;
  int64_t limit = -1;
  if (auto l = docker::query_param(q, "limit")) limit = std::strtoll(l->c_str(), nullptr, 10);
  if (limit <= 0) limit = -1;
  std::string merged, failure;
  try {
    merged = docker::merge_container_lists(bodies, limit);
  } catch (const docker::MergeError& e) {
    failure = e.what();  // (no co_await inside a handler)
  }
  if (!failure.empty()) {
    co_await ex.respond_error(http::status::bad_gateway, failure);
    co_return;
  }
  co_await respond_json(ex, http::status::ok, std::move(merged));
}

Task<void> FlockHandler::merged(Exchange& ex, const docker::Route& route, Merge merge) {
  auto hosts = flock_.inventory.snapshot();
  const auto targets = healthy_hosts(*hosts);
  std::string body;
  if (!ex.request_body().done()) {  // prune requests may carry a body; engines ignore it
    auto read = co_await ex.read_body(1 << 20);
    if (!read) co_return;
  }
  auto replies = co_await call_hosts(ex, targets, ex.request().method(), route.target.rebuild(route.target.query));
  auto bodies = co_await collect_bodies(ex, std::move(replies));
  if (!bodies) co_return;
  std::string merged, failure;
  try {
    merged = merge(*bodies);
  } catch (const docker::MergeError& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    co_await ex.respond_error(http::status::bad_gateway, failure);
    co_return;
  }
  co_await respond_json(ex, http::status::ok, std::move(merged));
}

Task<void> FlockHandler::events(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  auto filter = docker::take_host_filter(route.target.query);
  if (!filter.error.empty()) {  // filters that are not JSON: an engine's own refusal
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  const auto targets = selected(*hosts, filter.hosts);
  const std::string target = route.target.rebuild(filter.query);
  std::vector<Task<std::unique_ptr<transport::StreamCall>>> opens;
  std::vector<transport::CallResult> failures(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    ex.record().upstream += (i ? "," : "") + targets[i]->address.text;
    opens.push_back(transport::StreamCall::open(
        ex.worker(), targets[i]->address,
        transport::make_request(http::verb::get, target, {}, ex.request_id()), failures[i],
        flock_.options.engine_timeout));
  }
  auto streams = co_await transport::gather(std::move(opens));
  std::vector<LineSource> sources;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (streams[i]) {
      sources.push_back({targets[i]->name, std::move(streams[i])});
    } else if (failures[i].response.result_int() >= 400) {
      // An engine refused the query (a bad filter, say): docker's own answer.
      co_await respond_engine(ex, std::move(failures[i].response));
      co_return;
    } else {
      spdlog::warn("events: {} left out: {}", targets[i]->name, failures[i].error);
    }
  }
  co_await merge_line_streams(ex, std::move(sources), &docker::tag_event, {});
}

}  // namespace flocker::flock

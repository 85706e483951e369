// The views a flock answers from every host: /_ping, /version, /info, the lists, df, prune,
// and the merged event stream.
#include <spdlog/spdlog.h>

#include "docker/events.h"
#include "docker/filters.h"
#include "docker/host_filter.h"
#include "docker/json.h"
#include "docker/ps_query.h"
#include "docker/system_merge.h"
#include "flock/flock_handler.h"
#include "flock/line_merge.h"
#include "flock/ps_from_model.h"
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
  // Counts from the model where it is exact for a host; the rest of a host's figures are its
  // last health check's. A host being listed again is asked now.
  const auto snapshot = flock_.model.snapshot();
  const bool live = live_read_requested(ex);
  std::vector<const HostState*> ask;
  for (std::size_t i = 0; i < hosts->size(); ++i) {
    const HostState& h = (*hosts)[i];
    const HostObjects* known = snapshot->host(h.name);
    const bool exact = known && known->synced && known->containers->unlisted == 0;
    views[i].model = !h.healthy ? "down" : exact ? "live" : "resyncing";
    if (h.healthy && (live || !exact)) ask.push_back(&h);
    if (live || !exact) continue;
    docker::HostSummary::Counts c;
    for (const auto& [id, r] : known->containers->by_id) {
      ++c.containers;
      const std::string_view state = r.listed ? std::string_view(r.listed->state_word) : std::string_view(r.state);
      if (state == "running") {
        ++c.running;
      } else if (state == "paused") {
        ++c.paused;
      } else {
        ++c.stopped;
      }
    }
    c.images = static_cast<int64_t>(known->images->by_id.size());
    views[i].counts = c;
  }
  auto replies = co_await call_hosts(ex, ask, http::verb::get, "/info", {}, flock_.options.engine_timeout);
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
    std::string host, id;
    int64_t created = 0;
  };
  std::optional<Bound> since, before;
  bool exact_names = true;  // dockerd takes a full ID or a name there, not a prefix
  for (auto* which : {&order.since, &order.before}) {
    if (!*which) continue;
    auto found = co_await locate_container(ex, hosts, **which);
    if (found.found != ModelSnapshot::Found::kOne || found.container.created == 0) continue;
    (which == &order.since ? since : before) = Bound{found.container.host, found.container.id, found.container.created};
    exact_names = exact_names && (found.container.id == **which || found.container.name == bare_name(**which));
  }
  const bool windowed = (order.since && since) || (order.before && before);
  // From memory where it can be exact: a query the engine would answer (else it words its
  // refusal), a host listed since its event stream opened, and every container of it read;
  // unless the client asks for a live read (Cache-Control: no-cache).
  const auto snapshot = flock_.model.snapshot();
  std::optional<docker::PsQuery> query;
  if (!live_read_requested(ex) && (!order.since || since) && (!order.before || before) && exact_names) {
    query = docker::parse_ps_query(filter.query);
  }
  std::vector<const HostObjects*> memory(targets.size(), nullptr);
  std::vector<Task<transport::CallResult>> calls;
  std::vector<std::size_t> called;
  std::vector<std::pair<std::optional<int64_t>, std::optional<int64_t>>> windows(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const HostState* h = targets[i];
    if (const HostObjects* known = snapshot->host(h->name);
        query && known && known->synced && known->containers->unlisted == 0) {
      memory[i] = known;
      continue;
    }
    std::string q = windowed ? order.query_without : filter.query;
    if (windowed) {
      q = docker::with_query_param(q, "limit", std::nullopt);  // applied after the window
      if (order.since && since && since->host == h->name) q = docker::with_filter(q, "since", *order.since);
      if (order.since && since && since->host != h->name) windows[i].first = since->created;
      if (order.before && before && before->host == h->name) q = docker::with_filter(q, "before", *order.before);
      if (order.before && before && before->host != h->name) windows[i].second = before->created;
    }
    called.push_back(i);
    calls.push_back(call_host(ex, *h, transport::make_request(http::verb::get, route.target.rebuild(q), {}, ex.request_id())));
  }
  auto results = co_await transport::gather(std::move(calls));

  // Every host's entries, in host order and each host's own order; then newest first, as the
  // fan-out merges them (docker::merge_container_lists).
  struct Item {
    int64_t created = 0;
    const docker::ListedContainer* listed = nullptr;  // from memory, or
    const HostObjects* host = nullptr;
    std::string json;  // as a host answered it
  };
  std::vector<Item> items;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!memory[i]) continue;
    const HostObjects& h = *memory[i];
    docker::PsHostContext ctx = ps_context(*query, h);
    if (since && since->host == h.host) ctx.since_id = since->id;
    if (since && since->host != h.host) ctx.created_after = since->created;
    if (before && before->host == h.host) ctx.before_id = before->id;
    if (before && before->host != h.host) ctx.created_before = before->created;
    std::vector<const docker::ListedContainer*> newest_first;
    newest_first.reserve(h.containers->by_id.size());
    for (const auto& [id, c] : h.containers->by_id) newest_first.push_back(c.listed.get());
    std::sort(newest_first.begin(), newest_first.end(),
              [](const auto* a, const auto* b) { return a->created_ns > b->created_ns; });
    for (const auto* c : docker::ps_select(*query, newest_first, ctx)) items.push_back({c->created, c, &h, {}});
  }
  std::vector<HostReply> replies;
  for (std::size_t k = 0; k < called.size(); ++k) replies.push_back({targets[called[k]], std::move(results[k])});
  // An engine's refusal is the answer; a host that failed is left out (logged).
  std::vector<std::size_t> answered_hosts;
  for (std::size_t k = 0; k < replies.size(); ++k) {
    if (replies[k].result.ok()) answered_hosts.push_back(k);
  }
  auto collected = co_await collect_bodies(ex, std::move(replies));
  if (!collected) co_return;
  std::vector<std::vector<Item>> live(targets.size());
  std::string failure;
  for (std::size_t k = 0; k < collected->size(); ++k) {
    const std::size_t i = called[answered_hosts[k]];
    auto& body = (*collected)[k].body;
    if (windows[i].first || windows[i].second) {
      if (auto kept = docker::filter_by_created(body, windows[i].first, windows[i].second)) body = std::move(*kept);
    }
    docker::dom::parser parser;
    docker::dom::array entries;
    if (parser.parse(body).get_array().get(entries)) {
      failure = "host " + targets[i]->name + " answered with invalid JSON";
      break;
    }
    for (auto e : entries) {
      docker::JsonWriter w;
      docker::write_container_entry(w, e, targets[i]->name);
      live[i].push_back({docker::int_field(e, "Created"), nullptr, nullptr, w.take()});
    }
  }
  if (!failure.empty()) {
    co_await ex.respond_error(http::status::bad_gateway, failure);
    co_return;
  }
  // Host order: the memory items were added host by host; put each live host's in its place.
  std::vector<Item> ordered;
  ordered.reserve(items.size());
  std::size_t next = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (memory[i]) {
      while (next < items.size() && items[next].host == memory[i]) ordered.push_back(std::move(items[next++]));
    } else {
      for (auto& it : live[i]) ordered.push_back(std::move(it));
    }
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const Item& a, const Item& b) { return a.created > b.created; });
  int64_t limit = -1;
  if (auto l = docker::query_param(filter.query, "limit")) limit = std::strtoll(l->c_str(), nullptr, 10);
  if (limit > 0 && ordered.size() > static_cast<std::size_t>(limit)) ordered.resize(limit);
  const auto now = docker::Clock::now();
  std::string out = "[";
  for (const auto& it : ordered) {
    if (out.size() > 1) out += ',';
    if (it.listed) {
      docker::append_listed(out, *it.listed, shown_image(*it.host, *it.listed), now);
    } else {
      out += it.json;
    }
  }
  out += ']';
  co_await respond_json(ex, http::status::ok, std::move(out));
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

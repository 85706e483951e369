// The views a flock answers from every host: /_ping, /version, /info, the lists, df, prune,
// and the merged event stream.
#include <spdlog/spdlog.h>

#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "docker/docker_time.h"
#include "docker/events.h"
#include "docker/filters.h"
#include "docker/host_filter.h"
#include "docker/json.h"
#include "docker/objects.h"
#include "docker/ps_query.h"
#include "docker/system_merge.h"
#include "flock/routes/flock_handler.h"
#include "flock/routes/line_merge.h"
#include "flock/routes/ps_from_model.h"
#include "transport/gather.h"
#include "flocker_version.h"

namespace flocker::flock {
namespace {

std::vector<docker::HostSummary> summaries(const HostList& hosts) {
  std::vector<docker::HostSummary> out;
  const auto now = std::chrono::system_clock::now();
  for (const auto& h : hosts) {
    out.push_back({h.name, h.address.text, h.labels, h.healthy, h.health_error, h.info_json, h.version_json});
    out.back().info_age = std::max(now - h.info_at, std::chrono::system_clock::duration::zero());
    switch (h.multihost.kind) {
      case docker::MultiHost::Kind::kSwarm:
        out.back().networks = h.multihost.manager ? "swarm manager" : "swarm worker";
        break;
      case docker::MultiHost::Kind::kClusterStore: out.back().networks = "cluster store"; break;
      case docker::MultiHost::Kind::kNone: break;
    }
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
  std::unordered_set<std::string_view> image_ids;  // of the healthy hosts, distinct
  for (std::size_t i = 0; i < hosts->size(); ++i) {
    const HostState& h = (*hosts)[i];
    const HostObjects* known = snapshot->host(h.name);
    const bool exact = known && known->synced && known->containers->unlisted == 0;
    views[i].model = !h.healthy ? "down" : exact ? "live" : "resyncing";
    if (known) {
      views[i].reserved_nano_cpus = known->containers->usage.nano_cpus;
      views[i].reserved_memory = known->containers->usage.memory;
    }
    if (h.healthy && (live || !exact)) ask.push_back(&h);
    if (live || !exact) continue;
    const auto& usage = known->containers->usage;  // (counted when its table changed)
    docker::HostSummary::Counts c;
    c.containers = usage.total;
    c.running = usage.running;
    c.paused = usage.paused;
    c.stopped = usage.total - usage.running - usage.paused;
    c.images = static_cast<int64_t>(known->images->by_id.size());
    views[i].counts = c;
    if (h.healthy) {
      for (const auto& [id, image] : known->images->by_id) image_ids.insert(id);
    }
  }
  auto replies = co_await call_hosts(ex, ask, http::verb::get, "/info", {}, flock_.options.engine_timeout);
  // The image IDs of the hosts read live too (Images counts distinct images, as one engine).
  auto lists = co_await call_hosts(ex, ask, http::verb::get, "/images/json?all=1", {}, flock_.options.engine_timeout);
  std::deque<std::string> live_ids;  // (what image_ids views for them)
  int64_t uncounted = 0;            // Images of hosts whose list did not come: summed
  for (std::size_t k = 0; k < replies.size(); ++k) {  // (the views point into the replies, kept until the answer is made)
    auto& r = replies[k];
    if (!r.result.ok() || r.result.response.result_int() != 200) continue;
    for (auto& v : views) {
      if (v.name == r.host->name) {
        v.info_json = r.result.response.body();
        v.info_age = {};
      }
    }
    std::optional<std::vector<docker::ImageSummary>> images;
    if (lists[k].result.ok() && lists[k].result.response.result_int() == 200) {
      images = docker::parse_image_list(lists[k].result.response.body());
    }
    if (!images) {
      docker::dom::parser parser;
      docker::dom::element root;
      if (!parser.parse(r.result.response.body()).get(root)) uncounted += docker::int_field(root, "Images");
      continue;
    }
    for (auto& i : *images) image_ids.insert(live_ids.emplace_back(std::move(i.id)));
  }
  const auto route = docker::classify(ex.request().method(), ex.request().target());
  auto flock_identity = identity(flock_);
  flock_identity.warnings = flock_.peers.info_warnings();  // other proxies without coordination
  flock_identity.images = static_cast<int64_t>(image_ids.size()) + uncounted;
  if (const auto networks = flock_networks(*hosts); networks.any()) {
    flock_identity.multihost = docker::multihost_kind_name(networks.kind);
    flock_identity.multihost_hosts = networks.hosts.size();
  }
  if (flock_.coordination && !flock_.coordination->available()) {
    flock_identity.warnings.push_back("WARNING: " + flock_.coordination->unavailable_message());
  }
  co_await respond_json(ex, http::status::ok, docker::merge_info(views, flock_identity, route.target.version));
}

Task<std::optional<std::vector<docker::HostBody>>> FlockHandler::collect_bodies(
    Exchange& ex, std::vector<HostReply> replies, LeftOut& left) {
  std::vector<docker::HostBody> bodies;
  for (auto& r : replies) {
    if (!r.result.ok()) {
      spdlog::warn("{} {}: {} left out: {}", ex.request_id(), std::string_view(ex.request().target()),
                   r.host->name, r.result.error);
      left.add(*r.host, r.result.error);
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

int64_t FlockHandler::exact_created(const ContainerRecord& c) {
  if (c.listed && c.listed->created_ns) return c.listed->created_ns;
  if (c.created_ns) return c.created_ns;
  return c.created * 1'000'000'000;
}

Task<int64_t> FlockHandler::created_ns_on(Exchange& ex, const HostState& host, std::string id) {
  auto r = co_await call_host(ex, host, transport::make_request(http::verb::get, "/containers/" + id + "/json", {}, ex.request_id()),
                              flock_.options.engine_timeout);
  if (!r.ok() || r.response.result_int() != 200) co_return 0;
  docker::dom::parser parser;
  docker::dom::element root;
  if (parser.parse(r.response.body()).get(root)) co_return 0;
  co_return docker::unix_nanos(docker::string_field(root, "Created"));
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
  // host as they are, elsewhere as a window of creation times, to the nanosecond (one engine
  // orders its containers so; a list says only the second).
  auto order = docker::take_order_filters(filter.query);
  struct Bound {
    std::string host, id;
    int64_t created_ns = 0;
  };
  std::optional<Bound> since, before;
  bool exact_names = true;  // dockerd takes a full ID or a name there, not a prefix
  for (auto* which : {&order.since, &order.before}) {
    if (!*which) continue;
    auto found = co_await locate_container(ex, hosts, **which);
    const int64_t created_ns = exact_created(found.container);
    if (found.found != ModelSnapshot::Found::kOne || created_ns == 0) continue;
    (which == &order.since ? since : before) = Bound{found.container.host, found.container.id, created_ns};
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
      if (order.since && since && since->host != h->name) windows[i].first = since->created_ns;
      if (order.before && before && before->host == h->name) q = docker::with_filter(q, "before", *order.before);
      if (order.before && before && before->host != h->name) windows[i].second = before->created_ns;
    }
    called.push_back(i);
    calls.push_back(call_host(ex, *h, transport::make_request(http::verb::get, route.target.rebuild(q), {}, ex.request_id()), answer_timeout(ex)));
  }
  auto results = co_await transport::gather(std::move(calls));

  // Every host's entries, in host order and each host's own order; then newest first, as the
  // fan-out merges them (docker::merge_container_lists).
  struct Item {
    int64_t created_ns = 0;
    const docker::ListedContainer* listed = nullptr;  // from memory (with the Image it shows), or
    const HostObjects* host = nullptr;
    std::string_view image;
    std::string_view json;  // as a host answered it (held in `answered`)
    bool exact = true;      // created_ns to the nanosecond (a live entry says only its second)
    std::string_view id = {};
  };
  std::deque<std::string> answered;
  std::vector<Item> items;
  std::deque<std::string> images_shown;  // (what Item::image views: one per host and image)
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!memory[i]) continue;
    const HostObjects& h = *memory[i];
    docker::PsHostContext ctx = ps_context(*query, h);
    if (since && since->host == h.host) ctx.since_id = since->id;
    if (since && since->host != h.host) ctx.created_after_ns = since->created_ns;
    if (before && before->host == h.host) ctx.before_id = before->id;
    if (before && before->host != h.host) ctx.created_before_ns = before->created_ns;
    std::unordered_map<std::string_view, std::string_view> shown;
    for (const auto* c : docker::ps_select(*query, h.containers->newest_first, ctx)) {
      auto it = shown.find(c->image_ref);
      if (it == shown.end()) it = shown.emplace(c->image_ref, images_shown.emplace_back(shown_image(h, *c))).first;
      items.push_back({c->created_ns, c, &h, it->second, {}});
    }
  }
  std::vector<HostReply> replies;
  for (std::size_t k = 0; k < called.size(); ++k) replies.push_back({targets[called[k]], std::move(results[k])});
  // An engine's refusal is the answer; a host that failed is left out (logged).
  std::vector<std::size_t> answered_hosts;
  for (std::size_t k = 0; k < replies.size(); ++k) {
    if (replies[k].result.ok()) answered_hosts.push_back(k);
  }
  LeftOut left;
  left.add_down(*hosts, filter.hosts);
  auto collected = co_await collect_bodies(ex, std::move(replies), left);
  if (!collected) co_return;
  std::vector<std::vector<Item>> live(targets.size());
  std::string failure;
  for (std::size_t k = 0; k < collected->size(); ++k) {
    const std::size_t i = called[answered_hosts[k]];
    auto& body = (*collected)[k].body;
    std::map<std::string, int64_t> exact;  // the window's own seconds, told apart by inspect
    if (windows[i].first || windows[i].second) {
      std::vector<std::string> unsure;
      if (auto kept = docker::filter_by_created(body, windows[i].first, windows[i].second, &unsure)) body = std::move(*kept);
      std::vector<std::string> outside;
      std::vector<Task<int64_t>> times;  // (asked all at once)
      for (const auto& id : unsure) times.push_back(created_ns_on(ex, *targets[i], id));
      const auto exact_times = co_await transport::gather(std::move(times));
      for (std::size_t u = 0; u < unsure.size(); ++u) {
        const int64_t ns = exact_times[u];
        exact[unsure[u]] = ns;
        if ((windows[i].first && ns <= *windows[i].first) || (windows[i].second && ns >= *windows[i].second)) {
          outside.push_back(unsure[u]);
        }
      }
      if (!outside.empty()) {
        if (auto kept = docker::without_ids(body, outside)) body = std::move(*kept);
      }
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
      const std::string_view id = docker::string_field(e, "Id");
      auto known = exact.find(std::string(id));
      const int64_t created_ns =
          known != exact.end() ? known->second : docker::int_field(e, "Created") * 1'000'000'000;
      std::string_view json = answered.emplace_back(w.take());
      live[i].push_back({created_ns, nullptr, nullptr, {}, json, known != exact.end(),
                         answered.emplace_back(id)});
    }
  }
  if (!failure.empty()) {
    co_await ex.respond_error(http::status::bad_gateway, failure);
    co_return;
  }
  // A live entry says only its second: where another host has a container of that second,
  // its exact time is asked, so that the merged list is in one engine's order.
  // (Only where some host was read live: from memory every time is exact.)
  if (std::any_of(live.begin(), live.end(), [](const auto& l) { return !l.empty(); })) {
    // The seconds of the live entries, and whether another host has a container of it.
    std::unordered_map<int64_t, std::size_t> host_of_second;  // a second -> one host there, or SIZE_MAX: several
    auto note = [&](int64_t second, std::size_t host) {
      auto [at, added] = host_of_second.emplace(second, host);
      if (!added && at->second != host) at->second = SIZE_MAX;
    };
    for (std::size_t i = 0; i < targets.size(); ++i) {
      for (const auto& it : live[i]) note(it.created_ns / 1'000'000'000, i);
    }
    std::unordered_map<const HostObjects*, std::size_t> index_of;  // (memory items: by their host)
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (memory[i]) index_of[memory[i]] = i;
    }
    for (const auto& it : items) {
      if (host_of_second.count(it.created_ns / 1'000'000'000)) note(it.created_ns / 1'000'000'000, index_of[it.host]);
    }
    std::vector<Item*> asked;  // (asked all at once)
    std::vector<Task<int64_t>> times;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      for (auto& it : live[i]) {
        if (it.exact || host_of_second[it.created_ns / 1'000'000'000] != SIZE_MAX) continue;
        asked.push_back(&it);
        times.push_back(created_ns_on(ex, *targets[i], std::string(it.id)));
      }
    }
    const auto exact_times = co_await transport::gather(std::move(times));
    for (std::size_t k = 0; k < asked.size(); ++k) {
      if (exact_times[k]) asked[k]->created_ns = exact_times[k];
    }
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
  std::stable_sort(ordered.begin(), ordered.end(), [](const Item& a, const Item& b) { return a.created_ns > b.created_ns; });
  int64_t limit = -1;
  if (auto l = docker::query_param(filter.query, "limit")) limit = std::strtoll(l->c_str(), nullptr, 10);
  if (limit > 0 && ordered.size() > static_cast<std::size_t>(limit)) ordered.resize(limit);
  const auto now = docker::Clock::now();
  std::size_t size = 2;
  for (const auto& it : ordered) size += (it.listed ? it.listed->entry.size() + it.image.size() + 48 : it.json.size()) + 1;
  std::string out;
  out.reserve(size);
  out += '[';
  for (const auto& it : ordered) {
    if (out.size() > 1) out += ',';
    if (it.listed) {
      docker::append_listed(out, *it.listed, it.image, now);
    } else {
      out += it.json;
    }
  }
  out += ']';
  co_await respond_merged(ex, std::move(out), left);
}

Task<void> FlockHandler::merged(Exchange& ex, const docker::Route& route, Merge merge) {
  auto hosts = flock_.inventory.snapshot();
  const auto targets = healthy_hosts(*hosts);
  std::string body;
  if (!ex.request_body().done()) {  // prune requests may carry a body; engines ignore it
    auto read = co_await ex.read_body(1 << 20);
    if (!read) co_return;
  }
  LeftOut left;
  left.add_down(*hosts);
  std::optional<std::vector<docker::HostBody>> bodies = lists_from_model(ex, route, targets);
  if (!bodies) {
    auto replies = co_await call_hosts(ex, targets, ex.request().method(), route.target.rebuild(route.target.query), {}, answer_timeout(ex));
    bodies = co_await collect_bodies(ex, std::move(replies), left);
    if (!bodies) co_return;
  }
  std::string merged, failure;
  try {
    merged = merge(*bodies);
  } catch (const docker::MergeError& e) {
    failure = e.what();
  }
  if (failure.empty() && route.endpoint == docker::Endpoint::kImageList) {
    // A tag shows on its newest image only, while hosts that kept an older one under it
    // are brought in line.
    const auto model = flock_.model.snapshot();
    std::map<std::string, std::string, std::less<>> newest;  // tag -> the image it names ("": none known)
    merged = docker::keep_tags(merged, [&](std::string_view tag, std::string_view id) {
      auto it = newest.find(tag);
      if (it == newest.end()) it = newest.emplace(std::string(tag), model->resolve_image(tag).winner_id).first;
      return it->second.empty() || it->second == id;
    });
  }
  if (!failure.empty()) {
    co_await ex.respond_error(http::status::bad_gateway, failure);
    co_return;
  }
  co_await respond_merged(ex, std::move(merged), left);
}

std::optional<std::vector<docker::HostBody>> FlockHandler::lists_from_model(
    Exchange& ex, const docker::Route& route, const std::vector<const HostState*>& targets) {
  using docker::Endpoint;
  const auto kind = route.endpoint;
  if (kind != Endpoint::kImageList && kind != Endpoint::kVolumeList && kind != Endpoint::kNetworkList) return std::nullopt;
  if (live_read_requested(ex) || flock_.list_changes.load() > 0) return std::nullopt;
  // Without filters (and for images, `all` alone): those the engines answer.
  bool all = false;
  for (const auto& [key, value] : docker::query_pairs(route.target.query)) {
    if (key == "all" && kind == Endpoint::kImageList) {
      all = value == "1" || value == "true" || value == "True";
    } else if (key != "filters" || (value != "" && value != "{}")) {
      return std::nullopt;
    }
  }
  const auto snapshot = flock_.model.snapshot();
  std::vector<docker::HostBody> bodies;
  for (const HostState* h : targets) {
    const HostObjects* known = snapshot->host(h->name);
    if (!known || !known->synced) return std::nullopt;
    std::string body;
    if (kind == Endpoint::kImageList) {
      std::set<std::string_view> parents;
      for (const auto& [id, image] : known->images->by_id) parents.insert(image.parent);
      std::vector<const docker::ImageSummary*> shown;
      for (const auto& [id, image] : known->images->by_id) {
        if (image.json.empty()) return std::nullopt;
        // dockerd leaves out untagged images that others are built on, unless all=1
        if (!all && image.refs.empty() && parents.count(image.id)) continue;
        shown.push_back(&image);
      }
      std::stable_sort(shown.begin(), shown.end(), [](const auto* a, const auto* b) { return a->created > b->created; });
      body = "[";
      for (const auto* image : shown) body += (body.size() > 1 ? "," : "") + image->json;
      body += "]";
    } else if (kind == Endpoint::kVolumeList) {
      body = "{\"Volumes\":[";
      bool first = true;
      for (const auto& [name, v] : known->volumes->by_name) {
        if (v.json.empty()) return std::nullopt;
        body += (first ? "" : ",") + v.json;
        first = false;
      }
      body += "],\"Warnings\":null}";
    } else {
      body = "[";
      for (const auto& [id, n] : known->networks->by_id) {
        if (n.json.empty()) return std::nullopt;
        body += (body.size() > 1 ? "," : "") + n.json;
      }
      body += "]";
    }
    bodies.push_back({h->name, std::move(body)});
  }
  return bodies;
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

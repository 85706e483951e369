// Requests about one object go where the object is: a container or exec instance to its
// owner, an image to the hosts that have it, a network or volume to the hosts that know it.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <set>

#include "docker/docker_time.h"
#include "docker/errors.h"
#include "docker/image_ref.h"
#include "docker/json.h"
#include "docker/filters.h"
#include "docker/go_json.h"
#include "docker/objects.h"
#include "docker/system_merge.h"
#include "flock/routes/flock_handler.h"
#include "flock/model/model_sync.h"
#include "transport/client_call.h"
#include "transport/gather.h"

namespace flocker::flock {
namespace {

// "/networks/OLD/connect" with the network's ID now.
std::string with_network(std::string_view path, std::string_view id) {
  constexpr std::string_view kPrefix = "/networks/";
  const auto rest = path.substr(kPrefix.size());
  const auto slash = rest.find('/');
  return std::string(kPrefix) + std::string(id) + (slash == std::string_view::npos ? "" : std::string(rest.substr(slash)));
}

bool is_2xx(const transport::CallResult& r) {
  return r.ok() && r.response.result_int() >= 200 && r.response.result_int() < 300;
}

// The actions that change a container's state (its list's State and Status).
bool is_state_change(std::string_view action) {
  return action == "start" || action == "stop" || action == "restart" || action == "kill" || action == "pause" ||
         action == "unpause";
}

// Swarm classic's "Node" object, spliced into `docker inspect` output: which host runs it.
std::string with_node(std::string inspect, const HostState& host) {
  auto brace = inspect.find('{');
  if (brace == std::string::npos) return inspect;
  docker::JsonWriter w;
  w.begin_object().key("Name").string(host.name).key("Addr").string(host.address.text);
  w.key("Cpus").number(host.ncpu).key("Memory").number(host.mem_total);
  w.key("Labels").begin_object();
  for (const auto& [k, v] : host.labels) w.key(k).string(v);
  w.end_object().end_object();
  const bool empty_object = inspect.find_first_not_of(" \t\r\n", brace + 1) != std::string::npos &&
                            inspect[inspect.find_first_not_of(" \t\r\n", brace + 1)] == '}';
  inspect.insert(brace + 1, "\"Node\":" + w.take() + (empty_object ? "" : ","));
  return inspect;
}

}  // namespace

Task<bool> FlockHandler::reread_container(Exchange& ex, const HostState& host, const std::string& id) {
  note_upstream(ex, host);
  co_return co_await flock::reread_container(ex.worker(), host.address, host.name, flock_.model, id,
                                             flock_.options.engine_timeout);
}

Task<ModelSnapshot::ContainerLookup> FlockHandler::locate_container(Exchange& ex, const HostsSnapshot& hosts,
                                                                   const std::string& ref,
                                                                   HostFailure* unanswered) {
  using Found = ModelSnapshot::Found;
  auto found = flock_.model.snapshot()->container(ref);
  if (found.found != Found::kNone) co_return found;
  // Not known: ask every healthy host (a container made directly on an engine a moment ago,
  // its event not seen yet, or through another flocker replica, is found all the same).
  auto replies = co_await call_hosts(ex, healthy_hosts(*hosts), http::verb::get,
                                     "/containers/" + docker::url_encode(ref) + "/json", {},
                                     flock_.options.engine_timeout);
  std::vector<ContainerRecord> matches;
  std::set<std::string> ids;
  for (auto& r : replies) {
    if (!r.result.ok()) {
      if (unanswered && !unanswered->host) *unanswered = {r.host, r.result.error};
      continue;
    }
    const unsigned status = r.result.response.result_int();
    if (status == 500 && r.result.response.body().find("Multiple IDs") != std::string::npos) {
      co_return ModelSnapshot::ContainerLookup{Found::kAmbiguous, {}};
    }
    if (status != 200) continue;
    docker::dom::parser parser;
    docker::dom::element root;
    if (parser.parse(r.result.response.body()).get(root)) continue;
    ContainerRecord rec{std::string(docker::string_field(root, "Id")), r.host->name,
                        std::string(bare_name(docker::string_field(root, "Name"))), {},
                        docker::unix_seconds(docker::string_field(root, "Created")), false, {}, 0, 0};
    rec.created_ns = docker::unix_nanos(docker::string_field(root, "Created"));
    if (rec.id.empty() || !ids.insert(rec.id).second) continue;
    matches.push_back(std::move(rec));
  }
  if (matches.size() > 1) co_return ModelSnapshot::ContainerLookup{Found::kAmbiguous, {}};
  if (matches.empty()) co_return ModelSnapshot::ContainerLookup{};
  const ContainerRecord record = matches[0];
  flock_.model.edit(record.host, [&](HostEdit& e) { e.containers().put(record); });
  co_return ModelSnapshot::ContainerLookup{Found::kOne, record};
}

Task<std::optional<std::pair<ContainerRecord, const HostState*>>> FlockHandler::owner_of(
    Exchange& ex, const HostsSnapshot& hosts, const std::string& ref, const std::string* body) {
  using Found = ModelSnapshot::Found;
  HostFailure unanswered;
  auto found = co_await locate_container(ex, hosts, ref, &unanswered);
  if (found.found == Found::kAmbiguous) {
    co_await ex.respond_error(http::status::internal_server_error, docker::ambiguous_prefix(ref));
    co_return std::nullopt;
  }
  const HostState* h = found.found == Found::kOne ? find_host(*hosts, found.container.host) : nullptr;
  if (!h && unanswered.host) {  // none of those that answered has it; one did not answer
    co_await respond_host_down(ex, *unanswered.host, unanswered.why);
    co_return std::nullopt;
  }
  if (!h) {  // no host has it: an engine says so, in its words for this action
    co_await answer_as_engine(ex, hosts, body);
    co_return std::nullopt;
  }
  if (!h->healthy) {
    co_await respond_host_down(ex, *h);
    co_return std::nullopt;
  }
  co_return std::make_pair(found.container, h);
}

Task<void> FlockHandler::answer_as_engine(Exchange& ex, const HostsSnapshot& hosts, const std::string* body) {
  auto healthy = healthy_hosts(*hosts);
  if (healthy.empty()) {
    co_await ex.respond_error(http::status::service_unavailable, "no healthy host in the flock");
    co_return;
  }
  const HostState& host = *healthy[any_host_turn_++ % healthy.size()];
  if (!body) {
    co_await forward_to(ex, host, answer_timeout(ex));
    co_return;
  }
  auto result = co_await call_host(ex, host, client_request(ex, std::string(ex.request().target()), *body),
                                   flock_.options.engine_timeout);
  if (!result.ok()) {
    co_await respond_host_down(ex, host, result.error);
    co_return;
  }
  co_await respond_engine(ex, std::move(result.response));
}

Task<bool> FlockHandler::malformed_body(Exchange& ex, const HostsSnapshot& hosts, std::optional<std::string>& body) {
  body = co_await ex.read_body(1 << 20);
  if (!body) co_return true;  // too large or the client failed: answered
  const bool blank = body->find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank || docker::go_decode(*body).ok) co_return false;
  co_await answer_as_engine(ex, hosts, &*body);
  co_return true;
}

Task<void> FlockHandler::container(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  // An engine reads these bodies before it looks the container up: a body it cannot read is
  // the error it reports, wherever the container is.
  std::optional<std::string> body;
  const bool json_body = ex.request().method() == http::verb::post &&
                         (route.action == "exec" || route.action == "update" || route.action == "start");
  if (json_body && !ex.request_body().is_none()) {
    if (co_await malformed_body(ex, hosts, body)) co_return;
    ex.replay_body(*body);
  }
  auto owner = co_await owner_of(ex, hosts, route.id);
  if (!owner) co_return;
  // (No structured bindings here: GCC 12 miscompiles them across co_await.)
  const ContainerRecord record = owner->first;
  const HostState* host = owner->second;
  const auto method = ex.request().method();

  if (route.action == "json") {  // docker inspect: with the host it runs on
    auto result = co_await call_host(ex, *host, client_request(ex, std::string(ex.request().target()), ""), answer_timeout(ex));
    if (!result.ok()) {
      co_await respond_host_down(ex, *host, result.error);
      co_return;
    }
    if (result.response.result_int() == 200) {
      result.response.body() = with_node(std::move(result.response.body()), *host);
    }
    co_await respond_engine(ex, std::move(result.response));
    co_return;
  }
  if (route.action == "rename") {  // names stay unique across the flock
    const std::string name = docker::query_param(route.target.query, "name").value_or("");
    NameReservations names(flock_.names, flock_.coordination.get(), ex.request_id());
    if (flock_.coordination && !flock_.coordination->available()) {
      co_await respond_coordination_down(ex, flock_.coordination->unavailable_message());
      co_return;
    }
    std::string holder;
    if (auto taken = flock_.model.snapshot()->container_by_name(name); !name.empty() && taken) {
      if (taken->id != record.id) holder = taken->id;
    } else if (!name.empty()) {
      auto claim = co_await names.reserve(name);
      if (claim == Claim::kUnavailable) {
        co_await respond_coordination_down(ex, names.problem());
        co_return;
      }
      if (claim == Claim::kTaken) {
        holder = names.holder();
      } else if (!names.placed_host().empty() && names.placed_host() != host->name) {
        holder = names.placed_holder();
      } else if (flock_.coordination) {
        // Another proxy may have given the name a moment ago (its event not seen here yet).
        const auto hosts_now = flock_.inventory.snapshot();
        const std::string bare(bare_name(name));
        auto holder_now = co_await name_owner(ex, hosts_now, bare);
        if (holder_now && holder_now->id != record.id) holder = holder_now->id;
      }
    }
    if (!holder.empty()) {
      const std::string message = "Error when allocating new name: " + docker::name_conflict(name, holder);
      co_await ex.respond_error(http::status::conflict, message);
      co_return;
    }
    if (!co_await names.placing(name, host->name)) {
      co_await respond_coordination_down(ex, names.problem());
      co_return;
    }
    auto result = co_await call_host(ex, *host, client_request(ex, std::string(ex.request().target()), ""), answer_timeout(ex));
    if (!result.ok()) {
      co_await respond_host_down(ex, *host, result.error);
      co_return;
    }
    if (result.response.result_int() == 204) {
      flock_.model.edit(host->name, [&](HostEdit& e) { e.containers().rename(record.id, name); });
      co_await reread_container(ex, *host, record.id);  // read-your-writes: its list entry too
    }
    co_await respond_engine(ex, std::move(result.response));
    co_return;
  }
  const bool state_change = method == http::verb::post && is_state_change(route.action);
  if (route.action == "exec" || state_change || (method == http::verb::delete_ && route.action.empty())) {
    // Small answers the model learns from: an exec ID, a state change, a removal.
    auto small = co_await ex.read_body(1 << 20);
    if (!small) co_return;
    auto result = co_await call_host(ex, *host, client_request(ex, std::string(ex.request().target()), *small), answer_timeout(ex));
    if (!result.ok()) {
      co_await respond_host_down(ex, *host, result.error);
      co_return;
    }
    const unsigned status = result.response.result_int();
    if (route.action == "exec" && status == 201) {
      docker::dom::parser parser;
      docker::dom::element root;
      if (!parser.parse(result.response.body()).get(root)) {
        flock_.execs.put(std::string(docker::string_field(root, "Id")), host->name);
      }
    } else if (route.action.empty() && status == 204) {
      const uint64_t seq = flock_.model.begin_read();  // any read issued before saw it alive
      flock_.model.edit(host->name, [&](HostEdit& e) {
        e.containers().remove(record.id);
        e.containers().bury(record.id, seq);
      });
      if (record.listed && !record.listed->links.empty()) {  // their Names lose its aliases of them
        note_upstream(ex, *host);
        co_await reread_linked(ex.worker(), host->address, host->name, flock_.model, record.listed->links,
                               flock_.options.engine_timeout);
      }
    } else if (state_change && status / 100 == 2) {
      // Read-your-writes: the model has its new state (and ports) before the client hears
      // back, so any read after this answer sees it, whatever its event is doing.
      const bool reread = co_await reread_container(ex, *host, record.id);
      if (!reread && route.action == "start") {  // running, publishing what its create asked for
        flock_.model.edit(host->name, [&](HostEdit& e) {
          auto& t = e.containers();
          if (auto it = t.by_id.find(record.id); it != t.by_id.end()) {
            it->second.running = true;
            if (it->second.ports.empty()) it->second.ports = it->second.requested_ports;
          }
        });
      }
    }
    co_await respond_engine(ex, std::move(result.response));
    co_return;
  }
  co_await forward_to(ex, *host, answer_timeout(ex));  // logs, attach, start, stop, wait, archive, stats, ...
}

Task<void> FlockHandler::exec(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  if (route.action == "start" && !ex.request_body().is_none()) {  // the body first, as an engine
    std::optional<std::string> body;
    if (co_await malformed_body(ex, hosts, body)) co_return;
    ex.replay_body(*body);
  }
  const HostState* host = nullptr;
  if (auto known = flock_.execs.host(route.id)) host = find_host(*hosts, *known);
  if (!host) {
    auto replies = co_await call_hosts(ex, healthy_hosts(*hosts), http::verb::get,
                                       "/exec/" + docker::url_encode(route.id) + "/json", {},
                                       flock_.options.engine_timeout);
    for (auto& r : replies) {
      if (r.result.ok() && r.result.response.result_int() == 200) {
        host = r.host;
        flock_.execs.put(route.id, host->name);
        break;
      }
    }
  }
  if (!host) {
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  co_await forward_to(ex, *host, answer_timeout(ex));
}

Task<std::vector<const HostState*>> FlockHandler::holders(Exchange& ex, const HostsSnapshot& hosts,
                                                          const std::vector<std::string>& known,
                                                          const std::string& path) {
  auto model = flock_.model.snapshot();
  std::vector<const HostState*> have, down, unsure;
  for (const auto& h : *hosts) {
    const HostObjects* objects = model->host(h.name);
    if (std::find(known.begin(), known.end(), h.name) != known.end()) {
      (h.healthy ? have : down).push_back(&h);
    } else if (h.healthy && (!objects || !objects->synced)) {
      unsure.push_back(&h);  // resyncing: the model cannot say it lacks the object
    }
  }
  if (!unsure.empty()) {
    auto more = co_await hosts_answering(ex, unsure, path);
    have.insert(have.end(), more.begin(), more.end());
  }
  have.insert(have.end(), down.begin(), down.end());  // healthy holders first
  co_return have;
}

Task<std::vector<const HostState*>> FlockHandler::hosts_with_image(Exchange& ex, const HostsSnapshot& hosts,
                                                                   const std::string& name, bool any_copy) {
  auto model = flock_.model.snapshot();
  std::vector<std::string> known;
  if (any_copy) {  // every host whose own engine resolves the name, to an older image or not
    for (const auto& h : model->hosts()) {
      if (h->image(name)) known.push_back(h->host);
    }
  } else {
    known = model->image_holders(name);
  }
  co_return co_await holders(ex, hosts, known, "/images/" + name + "/json");
}

Task<std::vector<const HostState*>> FlockHandler::volume_hosts(Exchange& ex, const HostsSnapshot& hosts,
                                                               const std::string& name) {
  co_return co_await holders(ex, hosts, flock_.model.snapshot()->volume_holders(name),
                             "/volumes/" + docker::url_encode(name));
}

Task<std::vector<const HostState*>> FlockHandler::network_hosts(Exchange& ex, const HostsSnapshot& hosts,
                                                                const std::string& ref) {
  co_return co_await holders(ex, hosts, flock_.model.snapshot()->network_holders(ref),
                             "/networks/" + docker::url_encode(ref));
}

Task<void> FlockHandler::image(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  co_await images_settled(ex);
  // A tag names its newest image: the hosts that name it so answer for it. A removal goes
  // to every host that has the name, so that no older image keeps it anywhere.
  const bool removal = route.action.empty() && ex.request().method() == http::verb::delete_;
  auto have = co_await hosts_with_image(ex, hosts, route.id, removal);
  // An image is a copy wherever it is: the hosts that answer now are enough.
  std::erase_if(have, [](const HostState* h) { return !h->healthy; });
  if (have.empty()) {
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  const bool everywhere = route.action == "tag" || removal;
  if (!everywhere) {  // inspect, history, get (save), push: one copy is enough
    if (route.action == "push") co_await fill_registry_auth(ex, route.id, *have[0]);
    co_await forward_to(ex, *have[0], answer_timeout(ex));
    co_return;
  }
  // tag and remove: on every host that has it; DELETE answers are lists, joined.
  auto body = co_await ex.read_body(1 << 20);
  if (!body) co_return;
  std::vector<Task<transport::CallResult>> calls;
  for (const auto* h : have) {
    calls.push_back(call_host(ex, *h, client_request(ex, std::string(ex.request().target()), *body), answer_timeout(ex)));
  }
  auto results = co_await transport::gather(std::move(calls));
  std::vector<docker::HostBody> deleted;
  transport::CallResult* first_error = nullptr;
  transport::CallResult* first_ok = nullptr;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    if (is_2xx(r)) {
      if (!first_ok) first_ok = &r;
      deleted.push_back({have[i]->name, std::string(r.response.body())});
    } else if (!first_error) {
      first_error = &r;
    }
  }
  if (!first_ok) {
    if (!first_error->ok()) {
      co_await respond_host_down(ex, *have[0], first_error->error);
    } else {
      co_await respond_engine(ex, std::move(first_error->response));
    }
    co_return;
  }
  if (route.action.empty()) {  // DELETE: [{"Untagged": ...}, {"Deleted": ...}] from each
    std::string joined = "[";
    for (const auto& d : deleted) {
      auto inner = d.body;
      auto open = inner.find('['), close = inner.rfind(']');
      if (open == std::string::npos || close == std::string::npos || close <= open + 1) continue;
      if (joined.size() > 1) joined += ',';
      joined += inner.substr(open + 1, close - open - 1);
    }
    joined += "]";
    co_await respond_json(ex, http::status::ok, joined);
    co_return;
  }
  co_await respond_engine(ex, std::move(first_ok->response));
}

Task<void> FlockHandler::image_get_many(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  co_await images_settled(ex);
  auto names = docker::query_params(route.target.query, "names");
  if (names.empty()) {
    co_await ex.respond_error(http::status::bad_request, "no image names given");
    co_return;
  }
  // The first host that has every image saves them all in one archive.
  auto have = co_await hosts_with_image(ex, hosts, names[0]);
  for (std::size_t i = 1; i < names.size() && !have.empty(); ++i) {
    auto more = co_await hosts_with_image(ex, hosts, names[i]);
    std::erase_if(have, [&](const HostState* h) { return std::find(more.begin(), more.end(), h) == more.end(); });
  }
  if (have.empty()) {
    bool any = false;  // none of them anywhere: an engine says so in its words
    for (const auto& n : names) any = any || !flock_.model.snapshot()->image_holders(n).empty();
    if (!any) {
      co_await answer_as_engine(ex, hosts);
      co_return;
    }
    co_await ex.respond_error(http::status::not_found,
                              "no host of the flock has all of the images: " + fmt::format("{}", fmt::join(names, ", ")));
    co_return;
  }
  co_await forward_to(ex, *have[0], answer_timeout(ex));
}

Task<void> FlockHandler::commit(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  auto ref = docker::query_param(route.target.query, "container").value_or("");
  auto owner = co_await owner_of(ex, hosts, ref);
  if (!owner) co_return;
  co_await forward_to(ex, *owner->second, answer_timeout(ex));
}

Task<std::vector<const HostState*>> FlockHandler::hosts_answering(
    Exchange& ex, const std::vector<const HostState*>& hosts, const std::string& path) {
  std::vector<const HostState*> out;
  auto replies = co_await call_hosts(ex, hosts, http::verb::get, path, {}, flock_.options.engine_timeout);
  for (auto& r : replies) {
    if (r.result.ok() && r.result.response.result_int() == 200) out.push_back(r.host);
  }
  co_return out;
}

Task<void> FlockHandler::network(Exchange& ex, const docker::Route& route_asked) {
  auto hosts = flock_.inventory.snapshot();
  // A network that followed its first container to another host is named by the ID it was
  // created with too: the request goes on with its ID now.
  docker::Route route = route_asked;
  if (flock_.model.snapshot()->network_holders(route.id).empty()) {
    if (auto now = flock_.model.snapshot()->network_alias(route.id)) {
      route.target.path = with_network(route.target.path, *now);
      ex.request().target(route.target.rebuild(route.target.query));
      route.id = *now;
    }
  }
  if (route.action == "connect" || route.action == "disconnect") {
    co_await network_connect(ex, route, hosts);
    co_return;
  }
  if (auto spanning = spanning_network(route.id)) {  // one network of many hosts
    co_await spanning_network_request(ex, route, hosts, *spanning);
    co_return;
  }
  auto have = co_await network_hosts(ex, hosts, route.id);
  if (have.empty()) {
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  if (ex.request().method() != http::verb::delete_) {
    co_await forward_to(ex, *have[0], answer_timeout(ex));
    co_return;
  }
  // Removal: by name on every host that has a network of that name (a network shared by
  // every host has its own ID on each), each by its ID there (a name may be another's ID).
  std::string name = route.id;
  if (const HostObjects* objects = flock_.model.snapshot()->host(have[0]->name)) {
    if (const auto* n = objects->network(route.id)) name = n->name;
  }
  auto everywhere = co_await network_hosts(ex, hosts, name);
  std::vector<std::string> ids;
  for (const auto* h : everywhere) {
    const HostObjects* objects = flock_.model.snapshot()->host(h->name);
    const docker::NetworkSummary* n = nullptr;
    if (objects) {
      auto named = objects->networks->id_by_name.find(name);
      if (named != objects->networks->id_by_name.end()) n = objects->network(named->second);
    }
    ids.push_back(n ? n->id : name);
  }
  std::vector<Task<transport::CallResult>> calls;
  for (std::size_t i = 0; i < everywhere.size(); ++i) {
    docker::ApiTarget target = route.target;
    target.path = "/networks/" + docker::url_encode(ids[i]);
    calls.push_back(call_host(ex, *everywhere[i], client_request(ex, target.rebuild(target.query), ""), answer_timeout(ex)));
  }
  auto results = co_await transport::gather(std::move(calls));
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!is_2xx(results[i])) {
      if (results[i].ok()) {
        co_await respond_engine(ex, std::move(results[i].response));
      } else {
        co_await respond_host_down(ex, *everywhere[i], results[i].error);
      }
      co_return;
    }
    flock_.model.edit(everywhere[i]->name, [&](HostEdit& e) { e.networks().remove(ids[i]); });
  }
  co_await ex.respond(http::response<http::string_body>{http::status::no_content, 11});
}

// docker network connect/disconnect NET CONTAINER: to the container's host. A local network
// lives on one host: an unused one follows the container there, as on create; one in use
// cannot be joined from another host.
Task<void> FlockHandler::network_connect(Exchange& ex, const docker::Route& route, const HostsSnapshot& hosts) {
  std::optional<std::string> body;
  if (co_await malformed_body(ex, hosts, body)) co_return;
  docker::dom::parser parser;
  docker::dom::element root;
  std::string container;
  const auto decoded = docker::go_decode(*body);
  if (decoded.ok && !parser.parse(body->data(), decoded.end).get(root)) {
    container = std::string(docker::go_string(root, "Container"));
  }
  auto owner = co_await owner_of(ex, hosts, container, &*body);
  if (!owner) co_return;
  const HostState* host = owner->second;
  std::string target = std::string(ex.request().target());
  std::list<KeyedLock::Held> follow_locks;  // held until the connect has answered
  // (A network that spans hosts is joined on the container's host, where it is or not.)
  if (route.action == "connect" && !docker::is_predefined_network(route.id) && !spanning_network(route.id)) {
    auto have = co_await network_hosts(ex, hosts, route.id);
    const bool here = std::find(have.begin(), have.end(), host) != have.end();
    if (!have.empty() && !here) {
      std::string id = network_id(*have[0], route.id);
      const std::string name = network_name(*have[0], route.id);
      if (co_await network_follows(ex, hosts, name, have, id, follow_locks) &&
          std::find(have.begin(), have.end(), host) == have.end()) {
        auto moved = co_await move_network(ex, *have[0], id, name, *host);
        if (!moved) {
          co_await ex.respond_error(http::status::internal_server_error,
                                    fmt::format("flocker: network {} could not follow container {} to host {}",
                                                route.id, container, host->name));
          co_return;
        }
        docker::ApiTarget moved_target = route.target;
        moved_target.path = with_network(route.target.path, *moved);
        target = moved_target.rebuild(route.target.query);
      } else if (std::find(have.begin(), have.end(), host) == have.end()) {
        std::vector<std::string> names;
        for (const auto* h : have) names.push_back(h->name);
        co_await ex.respond_error(
            http::status::conflict,
            fmt::format("container {} is on host {}, and network {} is on host {}, where containers use it: a "
                        "container can only join a network of its own host",
                        container, host->name, route.id, fmt::join(names, ", ")));
        co_return;
      }
    }
  }
  auto result = co_await call_host(ex, *host, client_request(ex, target, *body), answer_timeout(ex));
  if (!result.ok()) {
    co_await respond_host_down(ex, *host, result.error);
    co_return;
  }
  if (result.response.result_int() / 100 == 2) {
    co_await reread_container(ex, *host, owner->first.id);  // read-your-writes: its networks
  }
  co_await respond_engine(ex, std::move(result.response));
}

Task<void> FlockHandler::volume(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  auto have = co_await volume_hosts(ex, hosts, route.id);
  if (have.empty()) {
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  if (ex.request().method() != http::verb::delete_) {
    co_await forward_to(ex, *have[0], answer_timeout(ex));
    co_return;
  }
  std::vector<Task<transport::CallResult>> calls;
  for (const auto* h : have) {
    calls.push_back(call_host(ex, *h, client_request(ex, std::string(ex.request().target()), ""), answer_timeout(ex)));
  }
  auto results = co_await transport::gather(std::move(calls));
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!is_2xx(results[i])) {  // in use on some host: docker's answer from there
      if (results[i].ok()) {
        co_await respond_engine(ex, std::move(results[i].response));
      } else {
        co_await respond_host_down(ex, *have[i], results[i].error);
      }
      co_return;
    }
    flock_.model.edit(have[i]->name, [&](HostEdit& e) { e.volumes().by_name.erase(route.id); });
  }
  co_await respond_engine(ex, std::move(results[0].response));
}

// A plugin is read and changed on the host that has it (installing one is refused by the
// route table); no host has it: an engine without it answers (`docker inspect NAME` asks for
// a plugin last, and must get its not-found to end in docker's "No such object").
Task<void> FlockHandler::plugin(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  auto have = co_await hosts_answering(ex, healthy_hosts(*hosts),
                                       "/plugins/" + docker::url_encode(route.id) + "/json");
  if (have.empty()) {
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  co_await forward_to(ex, *have[0], answer_timeout(ex));
}

// Swarm mode: a flock is, to a client, an engine that is not in a swarm. An engine of the
// flock that is not in one answers, in its own words and order of checks (docker-py's
// teardown calls `swarm/leave` and expects its 503); if every engine is in a swarm of its
// own, the answer of an engine outside one is made here.
Task<void> FlockHandler::swarm(Exchange& ex) {
  auto hosts = flock_.inventory.snapshot();
  for (const auto* h : healthy_hosts(*hosts)) {
    if (docker::swarm_state(h->info_json) == "inactive") {
      co_await forward_to(ex, *h, answer_timeout(ex));
      co_return;
    }
  }
  const auto route = docker::classify(ex.request().method(), ex.request().target());
  const std::string message = route.target.path == "/swarm/leave" ? docker::kNotInSwarm : docker::kNotSwarmManager;
  co_await ex.respond_error(http::status::service_unavailable, message);
}

Task<void> FlockHandler::refuse(Exchange& ex, const docker::Route& route) {
  const auto& p = route.target.path;
  if (p == "/swarm/init" || p == "/swarm/join") {
    co_await ex.respond_error(http::status::service_unavailable,
                              "flocker: a flock cannot start or join a swarm: it is many engines, each "
                              "outside swarm mode (use docker swarm on the engines themselves)");
  } else if (p.starts_with("/plugins")) {
    co_await ex.respond_error(http::status::forbidden,
                              "flocker: plugins are not installed through a flock: installed on some of "
                              "its hosts, a plugin would make them differ silently (install it on every "
                              "engine directly)");
  } else {
    co_await ex.respond_error(
        http::status::not_implemented,
        "flocker does not support " + p +
            ": BuildKit sessions need one engine end to end (the classic builder works)");
  }
}

Task<void> FlockHandler::any_host(Exchange& ex) {
  auto hosts = flock_.inventory.snapshot();
  auto healthy = healthy_hosts(*hosts);
  if (healthy.empty()) {
    co_await ex.respond_error(http::status::service_unavailable, "no healthy host in the flock");
    co_return;
  }
  co_await forward_to(ex, *healthy[any_host_turn_++ % healthy.size()], answer_timeout(ex));
}

}  // namespace flocker::flock

// An unused local network follows its first container. docker-compose creates a project's
// network before any of its containers, so the network lands on some host before anything
// says where the project should run (a constraint, a volume, an affinity). While no
// container uses it, nothing ties it to that host: the create that first uses it may go
// anywhere (deciders keep it where it is when they can: the reference decider does), and
// the network is re-created there with the same configuration and removed from where it
// was; the ID it was created with goes on naming it (ObjectModel::alias_network). From then
// on it holds its containers, and the next ones go to it. `docker network connect` of such
// a network to a container on another host moves it the same way.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "docker/api_target.h"
#include "docker/json.h"
#include "docker/objects.h"
#include "flock/routes/flock_handler.h"
#include "transport/client_call.h"

namespace flocker::flock {
namespace {

// POST /networks/create's body from a network's inspect: what `docker network create` set.
// `with_subnets`: the IPAM configuration too (the engine's own choice of subnet may be
// taken on the other host: a second try goes without it).
std::string create_body_from(const docker::dom::element& inspect, bool with_subnets) {
  docker::JsonWriter w;
  w.begin_object();
  w.key("Name").string(docker::string_field(inspect, "Name"));
  w.key("CheckDuplicate").boolean(true);
  w.key("Driver").string(docker::string_field(inspect, "Driver"));
  for (const char* flag : {"Internal", "Attachable", "EnableIPv6"}) {
    bool value = false;
    if (auto f = docker::go_field(inspect, flag)) value = f->is_bool() && bool(*f);
    w.key(flag).boolean(value);
  }
  for (const char* map : {"Options", "Labels"}) {
    if (auto f = docker::go_field(inspect, map); f && f->is_object()) w.key(map).value(*f);
  }
  if (auto ipam = docker::go_field(inspect, "IPAM"); ipam && ipam->is_object()) {
    w.key("IPAM").begin_object();
    w.key("Driver").string(docker::string_field(*ipam, "Driver"));
    if (auto o = docker::go_field(*ipam, "Options"); o && o->is_object()) w.key("Options").value(*o);
    if (auto c = docker::go_field(*ipam, "Config"); with_subnets && c && c->is_array()) w.key("Config").value(*c);
    w.end_object();
  }
  w.end_object();
  return w.take();
}


}  // namespace

std::string FlockHandler::network_id(const HostState& holder, const std::string& ref) const {
  if (const HostObjects* objects = flock_.model.snapshot()->host(holder.name)) {
    if (const auto* n = objects->network(ref)) return n->id;
  }
  return ref;
}

Task<bool> FlockHandler::network_follows(Exchange& ex, const HostsSnapshot& hosts, const std::string& ref,
                                         std::vector<const HostState*>& have, std::string& id,
                                         std::list<KeyedLock::Held>& locks) {
  auto may_follow = [&] {
    if (have.size() != 1) return false;
    const HostObjects* objects = flock_.model.snapshot()->host(have[0]->name);
    const docker::NetworkSummary* n = objects ? objects->network(ref) : nullptr;
    return n && n->name == ref && n->scope == "local" && n->driver == "bridge" &&
           !docker::is_predefined_network(n->name);
  };
  if (!may_follow()) co_return false;
  // Creates that name it are decided one at a time (compose makes a project's containers in
  // parallel): the first may move it, the next ones find it used, where it went.
  const std::string key = "network\n" + ref;
  auto held = std::find_if(locks.begin(), locks.end(), [&](const KeyedLock::Held& h) { return h.key() == key; });
  if (held != locks.end()) co_return true;  // named twice (NetworkMode and EndpointsConfig)
  held = locks.insert(locks.end(), co_await flock_.network_follows.acquire(key));
  have = co_await network_hosts(ex, hosts, ref);
  if (!have.empty()) id = network_id(*have[0], ref);
  if (may_follow() && co_await network_unused(ex, *have[0], ref, id)) co_return true;
  locks.erase(held);
  co_return false;
}

Task<bool> FlockHandler::network_unused(Exchange& ex, const HostState& holder, const std::string& name,
                                        const std::string& id) {
  // `docker ps -a --filter network=`: created containers count, not only running ones. A
  // created container is found by the network's name (it has no endpoint ID until it starts).
  docker::JsonWriter w;
  w.begin_object().key("network").begin_array().string(name).string(id).end_array().end_object();
  const std::string filters = w.take();
  const std::string target = "/containers/json?all=1&filters=" + docker::url_encode(filters);
  auto res = co_await call_host(ex, holder, transport::make_request(http::verb::get, target, {}, ex.request_id()),
                                flock_.options.engine_timeout);
  if (!res.ok() || res.response.result_int() != 200) co_return false;
  docker::dom::parser parser;
  docker::dom::array list;
  co_return !parser.parse(res.response.body()).get(list) && list.size() == 0;
}

std::string FlockHandler::network_name(const HostState& holder, const std::string& ref) const {
  if (const HostObjects* objects = flock_.model.snapshot()->host(holder.name)) {
    if (const auto* n = objects->network(ref)) return n->name;
  }
  return ref;
}

Task<std::optional<std::string>> FlockHandler::move_network(Exchange& ex, const HostState& from,
                                                            const std::string& id, const std::string& name,
                                                            const HostState& target) {
  const std::string path = "/networks/" + id;
  auto inspected = co_await call_host(ex, from, transport::make_request(http::verb::get, path, {}, ex.request_id()),
                                      flock_.options.engine_timeout);
  docker::dom::parser parser;
  docker::dom::element inspect;
  if (!inspected.ok() || inspected.response.result_int() != 200 ||
      parser.parse(inspected.response.body()).get(inspect)) {
    spdlog::warn("{}: network {} on {} could not be read to move it: {}", ex.request_id(), name, from.name,
                 inspected.ok() ? inspected.response.body() : inspected.error);
    co_return std::nullopt;
  }
  transport::CallResult made;
  for (bool with_subnets : {true, false}) {
    made = co_await call_host(ex, target,
                              transport::make_request(http::verb::post, "/networks/create",
                                                      create_body_from(inspect, with_subnets), ex.request_id()),
                              flock_.options.engine_timeout);
    if (made.ok() && made.response.result_int() == 201) break;
  }
  docker::dom::parser made_parser;
  docker::dom::element answer;
  if (!made.ok() || made.response.result_int() != 201 || made_parser.parse(made.response.body()).get(answer)) {
    spdlog::warn("{}: network {} could not be made on {}: {}", ex.request_id(), name, target.name,
                 made.ok() ? made.response.body() : made.error);
    co_return std::nullopt;
  }
  docker::NetworkSummary moved{std::string(docker::string_field(answer, "Id")),
                               std::string(docker::string_field(inspect, "Name")),
                               std::string(docker::string_field(inspect, "Driver")), "local"};
  flock_.model.edit(target.name, [&](HostEdit& e) { e.networks().put(moved); });
  // The ID the client was given goes on naming it (docker network inspect/disconnect/rm).
  flock_.model.alias_network(id, moved.id);
  // Gone from where nothing used it. Should a container have joined it meanwhile, it stays
  // there too (two networks of one name, each with its own containers), and the log says so.
  auto removed = co_await call_host(ex, from, transport::make_request(http::verb::delete_, path, {}, ex.request_id()),
                                    flock_.options.engine_timeout);
  if (removed.ok() && removed.response.result_int() == 204) {
    flock_.model.edit(from.name, [&](HostEdit& e) { e.networks().remove(id); });
  } else {
    spdlog::warn("{}: network {} was made on {} but stays on {}: {}", ex.request_id(), name, target.name, from.name,
                 removed.ok() ? removed.response.body() : removed.error);
  }
  spdlog::info("{}: network {} followed its first container from {} to {} ({} is now {})", ex.request_id(), name,
               from.name, target.name, id.substr(0, 12), moved.id.substr(0, 12));
  co_return moved.id;
}

Task<bool> FlockHandler::bring_networks(Exchange& ex, const HostsSnapshot& hosts,
                                        const google::protobuf::RepeatedPtrField<v1::Requirement>& requirements,
                                        const HostState& target) {
  std::set<std::string> done;
  for (const auto& r : requirements) {
    if (!r.follows() || done.count(r.object_id())) continue;
    done.insert(r.object_id());
    if (std::find(r.hosts().begin(), r.hosts().end(), target.name) != r.hosts().end()) continue;
    const HostState* from = r.hosts_size() == 1 ? find_host(*hosts, r.hosts(0)) : nullptr;
    if (!from || !co_await move_network(ex, *from, r.object_id(), r.object(), target)) {
      co_await ex.respond_error(http::status::internal_server_error,
                                fmt::format("flocker: network {} could not follow this container to host {}",
                                            r.object(), target.name));
      co_return false;
    }
  }
  co_return true;
}

}  // namespace flocker::flock

// Requests about one object go where the object is: a container or exec instance to its
// owner, an image to the hosts that have it, a network or volume to the hosts that know it.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "docker/errors.h"
#include "docker/image_ref.h"
#include "docker/json.h"
#include "flock/flock_handler.h"

namespace flocker::flock {
namespace {

bool is_2xx(const transport::CallResult& r) {
  return r.ok() && r.response.result_int() >= 200 && r.response.result_int() < 300;
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

Task<std::optional<std::pair<ContainerRecord, const HostState*>>> FlockHandler::owner_of(
    Exchange& ex, const HostsSnapshot& hosts, const std::string& ref) {
  auto found = flock_.index.find(ref);
  if (found.found == OwnershipIndex::Found::kAmbiguous) {
    co_await ex.respond_error(http::status::internal_server_error, docker::ambiguous_prefix(ref));
    co_return std::nullopt;
  }
  if (found.found == OwnershipIndex::Found::kOne) {
    if (const HostState* h = find_host(*hosts, found.container.host)) {
      if (!h->healthy) {
        co_await respond_host_down(ex, *h);
        co_return std::nullopt;
      }
      co_return std::make_pair(found.container, h);
    }
  }
  // Not known: ask every healthy host (a container made directly on an engine, or through
  // another flocker replica, is found all the same).
  auto replies = co_await call_hosts(ex, healthy_hosts(*hosts), http::verb::get,
                                     "/containers/" + docker::url_encode(ref) + "/json", {},
                                     flock_.options.engine_timeout);
  std::vector<std::pair<ContainerRecord, const HostState*>> matches;
  std::set<std::string> ids;
  for (auto& r : replies) {
    if (!r.result.ok()) continue;
    const unsigned status = r.result.response.result_int();
    if (status == 500 && r.result.response.body().find("Multiple IDs") != std::string::npos) {
      co_await ex.respond_error(http::status::internal_server_error, docker::ambiguous_prefix(ref));
      co_return std::nullopt;
    }
    if (status != 200) continue;
    docker::dom::parser parser;
    docker::dom::element root;
    if (parser.parse(r.result.response.body()).get(root)) continue;
    ContainerRecord rec{std::string(docker::string_field(root, "Id")), r.host->name,
                        std::string(bare_name(docker::string_field(root, "Name")))};
    if (rec.id.empty() || !ids.insert(rec.id).second) continue;
    matches.emplace_back(rec, r.host);
  }
  if (matches.size() > 1) {
    co_await ex.respond_error(http::status::internal_server_error, docker::ambiguous_prefix(ref));
    co_return std::nullopt;
  }
  if (matches.empty()) {
    co_await ex.respond_error(http::status::not_found, docker::no_such_container(ref));
    co_return std::nullopt;
  }
  flock_.index.put(matches[0].first);
  co_return matches[0];
}

Task<void> FlockHandler::container(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  auto owner = co_await owner_of(ex, hosts, route.id);
  if (!owner) co_return;
  // (No structured bindings here: GCC 12 miscompiles them across co_await.)
  const ContainerRecord record = owner->first;
  const HostState* host = owner->second;
  const auto method = ex.request().method();

  if (route.action == "json") {  // docker inspect: with the host it runs on
    auto result = co_await call_host(ex, *host, client_request(ex, std::string(ex.request().target()), ""));
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
    NameReservations names(flock_.index);
    auto taken = flock_.index.by_name(name);
    if (!name.empty() && ((taken && taken->id != record.id) || !names.reserve(name))) {
      std::string holder = "(a container being renamed)";
      if (taken) holder = taken->id;
      const std::string message = "Error when allocating new name: " + docker::name_conflict(name, holder);
      co_await ex.respond_error(http::status::conflict, message);
      co_return;
    }
    auto result = co_await call_host(ex, *host, client_request(ex, std::string(ex.request().target()), ""));
    if (!result.ok()) {
      co_await respond_host_down(ex, *host, result.error);
      co_return;
    }
    if (result.response.result_int() == 204) flock_.index.rename(record.id, name);
    co_await respond_engine(ex, std::move(result.response));
    co_return;
  }
  if (route.action == "exec" || (method == http::verb::delete_ && route.action.empty())) {
    // Small answers the index learns from: an exec ID, or a removal.
    auto body = co_await ex.read_body(1 << 20);
    if (!body) co_return;
    auto result = co_await call_host(ex, *host, client_request(ex, std::string(ex.request().target()), *body));
    if (!result.ok()) {
      co_await respond_host_down(ex, *host, result.error);
      co_return;
    }
    const unsigned status = result.response.result_int();
    if (route.action == "exec" && status == 201) {
      docker::dom::parser parser;
      docker::dom::element root;
      if (!parser.parse(result.response.body()).get(root)) {
        flock_.index.put_exec(std::string(docker::string_field(root, "Id")), host->name);
      }
    } else if (route.action.empty() && status == 204) {
      flock_.index.remove(record.id);
    }
    co_await respond_engine(ex, std::move(result.response));
    co_return;
  }
  co_await forward_to(ex, *host);  // logs, attach, start, stop, wait, archive, stats, ...
}

Task<void> FlockHandler::exec(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  const HostState* host = nullptr;
  if (auto known = flock_.index.exec_host(route.id)) host = find_host(*hosts, *known);
  if (!host) {
    auto replies = co_await call_hosts(ex, healthy_hosts(*hosts), http::verb::get,
                                       "/exec/" + docker::url_encode(route.id) + "/json", {},
                                       flock_.options.engine_timeout);
    for (auto& r : replies) {
      if (r.result.ok() && r.result.response.result_int() == 200) {
        host = r.host;
        flock_.index.put_exec(route.id, host->name);
        break;
      }
    }
  }
  if (!host) {
    co_await ex.respond_error(http::status::not_found, docker::no_such_exec(route.id));
    co_return;
  }
  co_await forward_to(ex, *host);
}

Task<std::vector<const HostState*>> FlockHandler::hosts_with_image(Exchange& ex,
                                                                   const HostsSnapshot& hosts,
                                                                   const std::string& name) {
  const std::string normalized = docker::normalize_image(name);
  std::vector<const HostState*> have, unknown;
  for (const auto* h : healthy_hosts(*hosts)) {
    if (!h->images) {
      unknown.push_back(h);
    } else if (h->images->count(normalized) || h->images->count(name)) {
      have.push_back(h);
    }
  }
  // IDs, ID prefixes and anything the image sets cannot answer: ask the hosts.
  const std::string path = "/images/" + name + "/json";
  if (have.empty()) {
    have = co_await hosts_answering(ex, healthy_hosts(*hosts), path);
  } else if (!unknown.empty()) {
    auto more = co_await hosts_answering(ex, unknown, path);
    have.insert(have.end(), more.begin(), more.end());
  }
  co_return have;
}

Task<void> FlockHandler::image(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  auto have = co_await hosts_with_image(ex, hosts, route.id);
  if (have.empty()) {
    co_await ex.respond_error(http::status::not_found, docker::no_such_image(route.id));
    co_return;
  }
  const bool everywhere = route.action == "tag" || (route.action.empty() && ex.request().method() == http::verb::delete_);
  if (!everywhere) {  // inspect, history, get (save), push: one copy is enough
    if (route.action == "push") co_await fill_registry_auth(ex, route.id, *have[0]);
    co_await forward_to(ex, *have[0]);
    co_return;
  }
  // tag and remove: on every host that has it; DELETE answers are lists, joined.
  auto body = co_await ex.read_body(1 << 20);
  if (!body) co_return;
  std::vector<Task<transport::CallResult>> calls;
  for (const auto* h : have) {
    calls.push_back(call_host(ex, *h, client_request(ex, std::string(ex.request().target()), *body)));
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
    co_await ex.respond_error(http::status::not_found,
                              "no host of the flock has all of the images: " + fmt::format("{}", fmt::join(names, ", ")));
    co_return;
  }
  co_await forward_to(ex, *have[0]);
}

Task<void> FlockHandler::commit(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  auto ref = docker::query_param(route.target.query, "container").value_or("");
  auto owner = co_await owner_of(ex, hosts, ref);
  if (!owner) co_return;
  co_await forward_to(ex, *owner->second);
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

Task<void> FlockHandler::network(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  const std::string path = "/networks/" + docker::url_encode(route.id);
  const auto method = ex.request().method();
  if (route.action == "connect" || route.action == "disconnect") {
    // To the host of the container being connected (its body names it).
    auto body = co_await ex.read_body(1 << 20);
    if (!body) co_return;
    docker::dom::parser parser;
    docker::dom::element root;
    std::string container;
    if (!parser.parse(*body).get(root)) container = std::string(docker::string_field(root, "Container"));
    auto owner = co_await owner_of(ex, hosts, container);
    if (!owner) co_return;
    auto result = co_await call_host(ex, *owner->second, client_request(ex, std::string(ex.request().target()), *body));
    if (!result.ok()) {
      co_await respond_host_down(ex, *owner->second, result.error);
      co_return;
    }
    co_await respond_engine(ex, std::move(result.response));
    co_return;
  }
  auto have = co_await hosts_answering(ex, healthy_hosts(*hosts), path);
  if (have.empty()) {
    co_await ex.respond_error(http::status::not_found, "network " + route.id + " not found");
    co_return;
  }
  if (method != http::verb::delete_) {
    co_await forward_to(ex, *have[0]);
    co_return;
  }
  // Removal: the network's name on every host that has it (each host has its own ID).
  auto first = co_await call_host(ex, *have[0], transport::make_request(http::verb::get, path));
  std::string name = route.id;
  docker::dom::parser parser;
  docker::dom::element root;
  if (first.ok() && !parser.parse(first.response.body()).get(root)) name = std::string(docker::string_field(root, "Name"));
  auto everywhere = co_await hosts_answering(ex, healthy_hosts(*hosts), "/networks/" + docker::url_encode(name));
  auto replies = co_await call_hosts(ex, everywhere, http::verb::delete_, "/networks/" + docker::url_encode(name));
  for (auto& r : replies) {
    if (!is_2xx(r.result)) {
      if (r.result.ok()) {
        co_await respond_engine(ex, std::move(r.result.response));
      } else {
        co_await respond_host_down(ex, *r.host, r.result.error);
      }
      co_return;
    }
  }
  co_await ex.respond(http::response<http::string_body>{http::status::no_content, 11});
}

Task<void> FlockHandler::volume(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  const std::string path = "/volumes/" + docker::url_encode(route.id);
  auto have = co_await hosts_answering(ex, healthy_hosts(*hosts), path);
  if (have.empty()) {
    co_await ex.respond_error(http::status::not_found, "get " + route.id + ": no such volume");
    co_return;
  }
  if (ex.request().method() != http::verb::delete_) {
    co_await forward_to(ex, *have[0]);
    co_return;
  }
  std::vector<Task<transport::CallResult>> calls;
  for (const auto* h : have) {
    calls.push_back(call_host(ex, *h, client_request(ex, std::string(ex.request().target()), "")));
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
  }
  co_await respond_engine(ex, std::move(results[0].response));
}

Task<void> FlockHandler::any_host(Exchange& ex) {
  auto hosts = flock_.inventory.snapshot();
  auto healthy = healthy_hosts(*hosts);
  if (healthy.empty()) {
    co_await ex.respond_error(http::status::service_unavailable, "no healthy host in the flock");
    co_return;
  }
  co_await forward_to(ex, *healthy[any_host_turn_++ % healthy.size()]);
}

}  // namespace flocker::flock

// Operations that create something are placed by the decider: Route (where), then, for a
// container, RemapContainer (how), and the registry credentials a pull needs.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <random>

#include "docker/errors.h"
#include "docker/go_json.h"
#include "docker/image_ref.h"
#include "docker/json.h"
#include "docker/multihost.h"
#include "docker/objects.h"
#include "docker/progress.h"
#include "docker/swarm_rules.h"
#include "flock/routes/flock_handler.h"
#include "flock/routes/guard_handler.h"
#include "flock/routes/line_merge.h"
#include "flocker/sdk/placement.h"
#include "transport/fanout.h"

namespace flocker::flock {
namespace {

// A host that keeps an older image under the tag lacks the image (it gets the newest).
v1::ImagePresence presence(const ModelSnapshot& model, const HostState& h, const ImageRef& image) {
  const HostObjects* objects = model.host(h.name);
  if (image.ref.empty() || !objects) return v1::IMAGE_PRESENCE_UNSPECIFIED;
  if (objects->image(image)) return v1::IMAGE_PRESENCE_PRESENT;
  return objects->synced ? v1::IMAGE_PRESENCE_ABSENT : v1::IMAGE_PRESENCE_UNSPECIFIED;
}

// The candidates: every host, or only those in `allowed`.
void add_candidates(v1::RouteRequest& req, const HostList& hosts, const ModelSnapshot& model,
                    const std::set<std::string>* allowed) {
  const ImageRef image = model.resolve_image(req.image());  // (once, not once per host)
  for (const auto& h : hosts) {
    if (allowed && !allowed->count(h.name)) continue;
    auto* c = req.add_candidates();
    c->set_name(h.name);
    c->set_address(h.address.text);
    for (const auto& [k, v] : h.engine_labels) (*c->mutable_labels())[k] = v;
    for (const auto& [k, v] : h.labels) (*c->mutable_labels())[k] = v;  // the inventory wins
    c->mutable_facts()->insert(h.facts.begin(), h.facts.end());
    (*c->mutable_facts())["node"] = h.name;
    if (const HostObjects* objects = model.host(h.name)) {
      const auto& usage = objects->containers->usage;
      for (const auto& p : usage.published) {
        auto* out = c->add_published_ports();
        out->set_host_ip(p.ip);
        out->set_host_port(p.port);
        out->set_protocol(p.protocol);
      }
      c->set_reserved_nano_cpus(usage.nano_cpus);
      c->set_reserved_memory_bytes(usage.memory);
    }
    c->set_healthy(h.healthy);
    c->set_containers_running(h.containers_running);
    c->set_containers_total(h.containers_total);
    if (const HostObjects* objects = model.host(h.name); objects && objects->synced) {
      // The model's counts are current; the last health check's may be seconds old.
      c->set_containers_running(objects->containers->usage.running);
      c->set_containers_total(objects->containers->usage.total);
    }
    c->set_ncpu(h.ncpu);
    c->set_mem_total_bytes(h.mem_total);
    c->set_image(presence(model, h, image));
    c->set_engine_version(h.engine_version);
  }
}

v1::ValueKind value_kind(docker::SwarmRule::Kind k) {
  switch (k) {
    case docker::SwarmRule::Kind::kGlob: return v1::VALUE_KIND_GLOB;
    case docker::SwarmRule::Kind::kRegex: return v1::VALUE_KIND_REGEX;
    default: return v1::VALUE_KIND_PLAIN;
  }
}

template <class Rule>
void fill_rule(Rule& out, const docker::SwarmRule& r) {
  out.set_expression(r.expression);
  out.set_key(r.key);
  out.set_op(r.equal ? v1::MATCH_OPERATOR_EQUAL : v1::MATCH_OPERATOR_NOT_EQUAL);
  out.set_value(r.value);
  out.set_kind(value_kind(r.kind));
  out.set_soft(r.soft);
  out.set_source(r.source);
}

// Whether a plain affinity value is an ID prefix of `id` ("sha256:" optional), as docker
// resolves "3f2a" to the one container or image whose ID starts so.
bool id_prefix(std::string_view value, std::string_view id) {
  if (value.starts_with("sha256:")) value.remove_prefix(7);
  if (id.starts_with("sha256:")) id.remove_prefix(7);
  return !value.empty() && value.find_first_not_of("0123456789abcdef") == std::string_view::npos &&
         id.starts_with(value);
}

// Whether a host holds a container (by name, ID or ID prefix) or an image (by tag,
// repository, ID or ID prefix) that an affinity's value matches.
bool holds_match(const HostObjects& h, const docker::SwarmRule& r, const sdk::ValueMatcher& match) {
  const bool plain = r.kind == docker::SwarmRule::Kind::kPlain;
  if (r.key == "container") {
    for (const auto& [id, c] : h.containers->by_id) {
      if (match(id) || match(c.name) || (plain && id_prefix(r.value, id))) return true;
    }
    return false;
  }
  for (const auto& [id, image] : h.images->by_id) {
    if (match(id) || (plain && id_prefix(r.value, id))) return true;
    for (const auto& ref : image.refs) {
      if (match(ref) || match(ref.substr(0, ref.find_first_of("@:", ref.rfind('/') + 1)))) return true;
    }
  }
  return false;
}

// The rules of a create, as RouteRequest fields; affinities resolved to the hosts they name.
void add_rules(v1::RouteRequest& req, const docker::SwarmRules& rules, const ModelSnapshot& model) {
  for (const auto& r : rules.constraints) fill_rule(*req.add_constraints(), r);
  for (const auto& r : rules.affinities) {
    auto* a = req.add_affinities();
    fill_rule(*a, r);
    const sdk::ValueMatcher match(value_kind(r.kind), r.value);  // once, for every object of every host
    for (const auto& h : model.hosts()) {
      if (holds_match(*h, r, match)) a->add_hosts(h->host);
    }
  }
  for (const auto& p : rules.ports) {
    auto* out = req.add_ports();
    out->set_host_ip(p.ip);
    out->set_host_port(p.port);
    out->set_protocol(p.protocol);
  }
}

// What a create asks for (HostConfig.NanoCpus, Memory): recorded for deciders that pack.
struct Limits {
  int64_t nano_cpus = 0, memory = 0;
};
Limits limits_of(const docker::dom::element& body) {
  Limits out;
  if (auto hc = docker::go_field(body, "HostConfig")) {
    if (auto n = docker::go_field(*hc, "NanoCpus")) out.nano_cpus = n->is_int64() ? int64_t(*n) : 0;
    if (auto m = docker::go_field(*hc, "Memory")) out.memory = m->is_int64() ? int64_t(*m) : 0;
  }
  return out;
}

bool is_candidate(const v1::RouteRequest& req, const std::string& name) {
  for (const auto& c : req.candidates()) {
    if (c.name() == name) return true;
  }
  return false;
}

// The client sent no credentials: no header, an empty one, or docker's "{}" (e30=).
bool no_registry_auth(const http::request<http::buffer_body>& req) {
  auto it = req.find("X-Registry-Auth");
  if (it == req.end()) return true;
  auto v = it->value();
  return v.empty() || v == "e30=" || v == "e30" || v == "{}";
}

std::string random_volume_name() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}{:016x}{:016x}", random(), random(), random(), random());
}

// The body with "Name" set (unnamed volumes fanned out must have one name everywhere).
std::string with_name(const std::string& body, const std::string& name) {
  docker::dom::parser parser;
  docker::dom::element root;
  docker::dom::object obj;
  if (parser.parse(body).get(root) || root.get_object().get(obj)) return body;
  docker::JsonWriter w;
  w.begin_object();
  for (auto f : obj) {
    if (f.key != "Name") w.key(f.key).value(f.value);
  }
  w.key("Name").string(name).end_object();
  return w.take();
}

}  // namespace

Task<std::vector<const HostState*>> FlockHandler::decide(Exchange& ex, const HostsSnapshot& hosts,
                                                         v1::RouteRequest& req,
                                                         const std::set<std::string>* allowed) {
  req.set_request_id(ex.request_id());
  *req.mutable_client() = client_of(ex);
  add_candidates(req, *hosts, *flock_.model.snapshot(), allowed);
  bool any_healthy = false;
  for (const auto& c : req.candidates()) any_healthy = any_healthy || c.healthy();
  if (!any_healthy) {
    std::string message = fmt::format("no healthy host in the flock ({} hosts, none healthy)", hosts->size());
    if (allowed) {
      message = fmt::format("no healthy host holds what this container needs: {}",
                            describe({req.requirements().begin(), req.requirements().end()}));
    }
    co_await ex.respond_error(http::status::service_unavailable, message);
    co_return std::vector<const HostState*>{};
  }
  auto result = co_await flock_.decider.route(req);
  v1::RouteResponse answer = std::move(result.response);
  if (!result.ok()) {
    const bool no_opinion = result.unimplemented();
    const bool fallback =
        no_opinion || (result.unreachable() && flock_.options.on_decider_failure == DeciderFailure::kRoundRobin);
    if (result.unreachable() && !fallback) {
      co_await ex.respond_error(
          http::status::service_unavailable,
          fmt::format("decider {} is unavailable ({}): cannot place this {}", flock_.decider.address(),
                      result.status.error_message(), v1::OperationKind_Name(req.kind())));
      co_return std::vector<const HostState*>{};
    }
    if (!fallback) {  // the decider's decision is no: its message, as the user's error
      co_await ex.respond_error(http_status_for(result.status.error_code()), result.status.error_message());
      co_return std::vector<const HostState*>{};
    }
    if (!no_opinion) {
      spdlog::warn("decider {} unavailable ({}): placing {} round-robin", flock_.decider.address(),
                   result.status.error_message(), ex.request_id());
    }
    answer.Clear();
    flock_.fallback.decide(req, answer);
  }
  std::vector<const HostState*> chosen;
  std::string problem;
  for (const auto& name : answer.hosts()) {
    const HostState* h = find_host(*hosts, name);
    if (!h) {
      flock_.inventory_stale = true;  // the decider knows a host we do not: List again
      problem = "the decider chose host '" + name + "', which is not in the flock";
    } else if (!h->healthy) {
      problem = "the decider chose host '" + name + "', which is unhealthy";
    } else if (!is_candidate(req, name)) {
      problem = "the decider chose host '" + name + "', which does not hold what this container needs: " +
                describe({req.requirements().begin(), req.requirements().end()});
    } else if (std::find(chosen.begin(), chosen.end(), h) == chosen.end()) {
      chosen.push_back(h);
    }
  }
  if (problem.empty() && chosen.empty()) problem = "the decider chose no host";
  if (problem.empty() && req.kind() == v1::OPERATION_KIND_CONTAINER_CREATE && chosen.size() != 1) {
    problem = fmt::format("the decider chose {} hosts for a container; it needs one", chosen.size());
  }
  if (problem.empty() && req.scope() == v1::OBJECT_SCOPE_LOCAL && chosen.size() != 1) {
    problem = fmt::format("the decider chose {} hosts for a {} that lives on one host; it needs one",
                          chosen.size(), req.kind() == v1::OPERATION_KIND_VOLUME_CREATE ? "volume" : "network");
  }
  if (!problem.empty()) {
    spdlog::warn("{}: {}", ex.request_id(), problem);
    co_await ex.respond_error(http::status::service_unavailable, problem);
    co_return std::vector<const HostState*>{};
  }
  co_return chosen;
}

Task<bool> FlockHandler::remap(Exchange& ex, const HostState& host, const std::string& image,
                               std::string& body, std::string& name, NameReservations& names) {
  if (flock_.skip_remap()) co_return true;
  v1::RemapContainerRequest req;
  req.set_request_id(ex.request_id());
  req.set_host(host.name);
  req.set_name(name);
  req.set_body(body);
  *req.mutable_client() = client_of(ex);
  if (!image.empty()) {  // read-only context: the image's own config
    auto inspect = co_await call_host(ex, host, transport::make_request(http::verb::get, "/images/" + image + "/json"),
                                      flock_.options.engine_timeout);
    if (inspect.ok() && inspect.response.result_int() == 200) req.set_image(inspect.response.body());
  }
  auto result = co_await flock_.decider.remap(req);
  if (result.unimplemented()) {
    flock_.remap_unimplemented();
    co_return true;
  }
  if (!result.ok()) {
    if (result.unreachable() && flock_.options.on_decider_failure == DeciderFailure::kRoundRobin) {
      co_return true;  // fail-open: the container as the client asked
    }
    http::status status = http_status_for(result.status.error_code());
    std::string message = result.status.error_message();
    if (result.unreachable()) {
      status = http::status::service_unavailable;
      message = fmt::format("decider {} is unavailable ({})", flock_.decider.address(), message);
    }
    co_await ex.respond_error(status, message);
    co_return false;
  }
  if (!result.response.body().empty()) {
    docker::dom::parser parser;
    docker::dom::element root;
    if (parser.parse(result.response.body()).get(root) || !root.is_object()) {
      co_await ex.respond_error(http::status::internal_server_error,
                                "the decider's RemapContainer answered a body that is not a JSON object");
      co_return false;
    }
    body = result.response.body();
  }
  if (result.response.has_name() && result.response.name() != name) {
    name = result.response.name();
    if (!name.empty()) {
      auto holder = co_await name_holder(ex, names, name);
      if (!holder) co_return false;
      if (!holder->empty()) {
        const std::string message = docker::name_conflict(name, *holder);
        co_await ex.respond_error(http::status::conflict, message);
        co_return false;
      }
    }
  }
  co_return true;
}

Task<void> FlockHandler::fill_registry_auth(Exchange& ex, const std::string& image, const HostState& host) {
  if (!no_registry_auth(ex.request()) || flock_.skip_auth()) co_return;
  v1::RegistryAuthRequest req;
  req.set_request_id(ex.request_id());
  req.set_registry(docker::registry_of(image));
  req.set_image(image);
  *req.mutable_client() = client_of(ex);
  req.set_host(host.name);
  auto result = co_await flock_.decider.registry_auth(req);
  if (result.unimplemented()) {
    flock_.auth_unimplemented();
    co_return;
  }
  if (!result.ok()) {
    spdlog::warn("{}: RegistryAuth failed ({}): pulling without credentials", ex.request_id(),
                 result.status.error_message());
    co_return;
  }
  const auto& r = result.response;
  if (r.username().empty() && r.password().empty() && r.identity_token().empty() && r.registry_token().empty()) {
    co_return;
  }
  docker::JsonWriter w;  // docker's AuthConfig; never logged
  w.begin_object();
  if (!r.username().empty()) w.key("username").string(r.username());
  if (!r.password().empty()) w.key("password").string(r.password());
  if (!r.identity_token().empty()) w.key("identitytoken").string(r.identity_token());
  if (!r.registry_token().empty()) w.key("registrytoken").string(r.registry_token());
  w.key("serveraddress").string(r.server_address().empty() ? req.registry() : r.server_address());
  w.end_object();
  ex.request().set("X-Registry-Auth", base64url(w.str()));
}

Task<void> FlockHandler::create_container(Exchange& ex, const docker::Route& route) {
  auto body = co_await ex.read_body(flock_.options.max_create_body);
  if (!body) co_return;
  auto hosts = flock_.inventory.snapshot();
  // The engine reads the first JSON value of the body (Go's decoder). One it cannot read, or
  // that is not an object, creates nothing: any engine says what docker says about it.
  const auto decoded = docker::go_decode(*body);
  docker::dom::parser parser;
  docker::dom::element root;
  const std::string_view value(body->data(), decoded.ok ? decoded.end : 0);
  if (!decoded.ok || (!parser.parse(value.data(), value.size()).get(root) && !root.is_object())) {
    co_await answer_as_engine(ex, hosts, &*body);
    co_return;
  }
  if (parser.parse(value.data(), value.size()).get(root)) {  // Go reads it, simdjson cannot
    co_await ex.respond_error(http::status::bad_request,
                              "flocker: the container's configuration is not JSON it can read (invalid UTF-8?)");
    co_return;
  }
  const auto refs = docker::create_refs(value);
  const std::string& image = refs.image;
  // Swarm classic's placement language: parsed here, applied by the decider.
  auto rules = docker::swarm_rules(value);
  if (!rules.error.empty()) {
    co_await ex.respond_error(http::status::bad_request, rules.error);
    co_return;
  }
  const Limits limits = limits_of(root);
  std::string name = docker::query_param(route.target.query, "name").value_or("");
  NameReservations names(flock_.names, flock_.coordination.get(), ex.request_id());
  // With --coordination a create fails closed while etcd cannot vouch for names.
  if (flock_.coordination && !flock_.coordination->available()) {
    co_await respond_coordination_down(ex, flock_.coordination->unavailable_message());
    co_return;
  }
  if (!name.empty()) {  // names are unique across the flock
    auto holder = co_await name_holder(ex, names, name);
    if (!holder) co_return;
    if (holder->empty()) {
      // Not known here: a container made on an engine a moment ago (its event not seen yet)
      // may have it. Ask every host; the reservation above keeps the name meanwhile.
      auto owner = co_await name_owner(ex, hosts, std::string(bare_name(name)));
      if (owner) *holder = owner->id;
    }
    if (!holder->empty()) {
      const std::string message = docker::name_conflict(bare_name(name), *holder);
      co_await ex.respond_error(http::status::conflict, message);
      co_return;
    }
  }
  // A tag names its newest image: a build or tag through this proxy that has answered is
  // in the model first.
  if (!image.empty()) co_await images_settled(ex);
  // What the container refers to decides where it may go.
  std::list<KeyedLock::Held> follow_locks;  // until the create ends
  auto placement = co_await place_container(ex, hosts, refs, follow_locks);
  if (!placement) co_return;
  if (const std::string& placed = names.placed_host(); !placed.empty()) {
    // A proxy stopped while its create of this name was at `placed`: the engine may still
    // finish it. Only that engine can tell the two creates apart.
    if (placement->allowed && !placement->allowed->count(placed)) {
      const std::string message = docker::name_conflict(bare_name(name), names.placed_holder());
      co_await ex.respond_error(http::status::conflict, message);
      co_return;
    }
    placement->allowed = std::set<std::string>{placed};
  }

  const std::string client = client_key(ex);
  const std::string normalized = image.empty() ? "" : docker::normalize_image(image);
  v1::RouteRequest req;
  req.set_kind(v1::OPERATION_KIND_CONTAINER_CREATE);
  req.set_image(image);
  req.set_name(std::string(bare_name(name)));
  req.set_body(*body);
  req.set_query(route.target.query);
  for (auto& r : placement->requirements) *req.add_requirements() = std::move(r);
  add_rules(req, rules, *flock_.model.snapshot());
  if (auto pin = flock_.find_pin(client, normalized)) req.set_pinned_host(*pin);
  const std::set<std::string>* allowed = placement->allowed ? &*placement->allowed : nullptr;
  auto chosen = co_await decide(ex, hosts, req, allowed);
  if (chosen.empty()) co_return;
  const HostState& host = *chosen[0];
  if (!co_await bring_networks(ex, hosts, req.requirements(), host)) co_return;

  // The engine gets the body without the rules in Env (they are the proxy's, not the container's).
  std::string forward_body = rules.body ? std::move(*rules.body) : std::move(*body);
  std::string forward_name(bare_name(name));
  const std::string asked = guard_ ? forward_body : std::string();
  if (!co_await remap(ex, host, image, forward_body, forward_name, names)) co_return;
  if (guard_ && forward_body != asked) {  // what the engine gets is checked, not what was asked
    const bool allowed_again = co_await guard_->check_remapped(ex, host.name, forward_body);
    if (!allowed_again) co_return;
  }
  // An image anywhere in the flock is an image everywhere: its newest, under its name.
  if (!image.empty() && !co_await bring_image(ex, hosts, host, image)) co_return;

  if (!co_await names.placing(forward_name, host.name)) {
    co_await respond_coordination_down(ex, names.problem());
    co_return;
  }
  const std::string query = docker::with_query_param(
      route.target.query, "name", forward_name.empty() ? std::nullopt : std::optional<std::string>(forward_name));
  auto result = co_await call_host(ex, host, client_request(ex, route.target.rebuild(query), std::move(forward_body)), answer_timeout(ex));
  if (!result.ok()) {
    co_await respond_host_down(ex, host, result.error);
    co_return;
  }
  const unsigned status = result.response.result_int();
  if (status == 201) {
    if (!req.pinned_host().empty()) flock_.forget_pin(client, normalized);
    docker::dom::parser created;
    docker::dom::element answer;
    if (!created.parse(result.response.body()).get(answer)) {
      // Read-your-writes: the container, and the volumes docker made for it, are known at once.
      // (Created: now, near enough for `ps --filter since=` until the engine's event says.)
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
      ContainerRecord record{std::string(docker::string_field(answer, "Id")), host.name, forward_name, image, now,
                             false, {}, limits.nano_cpus, limits.memory, rules.ports};
      flock_.model.edit(host.name, [&](HostEdit& e) {
        e.containers().put(record);
        for (const auto& ref : refs.refs) {
          if (ref.kind != docker::CreateRef::Kind::kVolume || e.objects().volume(ref.object)) continue;
          e.volumes().by_name[ref.object] = {ref.object, ref.volume_driver.empty() ? "local" : ref.volume_driver};
        }
      });
      co_await reread_container(ex, host, record.id);  // its list entry, for `docker ps` right after
    }
  } else if (status == 404 && result.response.body().find("No such image") != std::string::npos) {
    // docker run pulls next, then creates again: both must come here.
    flock_.remember_pin(client, normalized, host.name);
  }
  co_await respond_engine(ex, std::move(result.response));
}

Task<std::optional<std::string>> FlockHandler::name_holder(Exchange& ex, NameReservations& names,
                                                          const std::string& name) {
  if (auto taken = flock_.model.snapshot()->container_by_name(name)) co_return taken->id;
  const Claim claim = co_await names.reserve(name);
  if (claim == Claim::kUnavailable) {
    co_await respond_coordination_down(ex, names.problem());
    co_return std::nullopt;
  }
  co_return claim == Claim::kTaken ? names.holder() : std::string();
}

Task<std::optional<ContainerRecord>> FlockHandler::name_owner(Exchange& ex, const HostsSnapshot& hosts,
                                                              const std::string& name) {
  auto replies = co_await call_hosts(ex, healthy_hosts(*hosts), http::verb::get,
                                     "/containers/" + docker::url_encode(name) + "/json", {},
                                     flock_.options.engine_timeout);
  for (auto& r : replies) {
    if (!r.result.ok() || r.result.response.result_int() != 200) continue;
    docker::dom::parser parser;
    docker::dom::element root;
    if (parser.parse(r.result.response.body()).get(root)) continue;
    // The engine also resolves IDs and ID prefixes; only an exact name is a conflict.
    if (bare_name(docker::string_field(root, "Name")) != name) continue;
    ContainerRecord record{std::string(docker::string_field(root, "Id")), r.host->name, name, {}, 0, false, {}, 0, 0};
    flock_.model.edit(record.host, [&](HostEdit& e) { e.containers().put(record); });
    co_return record;
  }
  co_return std::nullopt;
}

Task<void> FlockHandler::create_image(Exchange& ex, const docker::Route& route) {
  const auto& q = route.target.query;
  auto from_image = docker::query_param(q, "fromImage");
  if (from_image && !from_image->empty()) {
    co_await decided_stream(ex, route, v1::OPERATION_KIND_IMAGE_PULL,
                            docker::join_image_tag(*from_image, docker::query_param(q, "tag").value_or("")));
    co_return;
  }
  const std::string repo = docker::query_param(q, "repo").value_or("");
  std::string image;
  if (!repo.empty()) image = docker::join_image_tag(repo, docker::query_param(q, "tag").value_or(""));
  co_await decided_stream(ex, route, v1::OPERATION_KIND_IMAGE_IMPORT, image);
}

Task<void> FlockHandler::decided_stream(Exchange& ex, const docker::Route& route, v1::OperationKind kind,
                                        std::string image) {
  auto hosts = flock_.inventory.snapshot();
  v1::RouteRequest req;
  req.set_kind(kind);
  req.set_image(image);
  req.set_query(route.target.query);
  if (!image.empty()) {
    if (auto pin = flock_.find_pin(client_key(ex), docker::normalize_image(image))) req.set_pinned_host(*pin);
  }
  auto chosen = co_await decide(ex, hosts, req);
  if (chosen.empty()) co_return;
  if (kind == v1::OPERATION_KIND_IMAGE_PULL) co_await fill_registry_auth(ex, image, *chosen[0]);
  if (chosen.size() == 1) {
    co_await forward_to(ex, *chosen[0], answer_timeout(ex));
  } else {
    co_await forward_progress(ex, chosen);
  }
}

Task<void> FlockHandler::forward_progress(Exchange& ex, const std::vector<const HostState*>& hosts) {
  std::vector<transport::FanoutLeg> legs;
  for (const auto* h : hosts) {
    transport::FanoutLeg leg;
    leg.name = h->name;
    leg.address = h->address;
    legs.push_back(std::move(leg));
    ex.record().upstream += (ex.record().upstream.empty() ? "" : ",") + h->address.text;
  }
  legs = co_await transport::forward_to_many(ex, std::move(legs));
  std::vector<LineSource> sources;
  std::vector<std::string> errors;
  const transport::CallResult* first_failure = nullptr;
  for (auto& leg : legs) {
    if (leg.stream) {
      sources.push_back({leg.name, std::move(leg.stream)});
      continue;
    }
    if (!first_failure) first_failure = &leg.failure;
    std::string why = leg.failure.ec ? leg.failure.error : leg.failure.response.body();
    if (auto brace = why.find("\"message\":\""); brace != std::string::npos) {
      why = why.substr(brace + 11, why.rfind('"') - brace - 11);
    }
    errors.push_back(docker::progress_error(leg.name + ": " + why));
  }
  if (sources.empty()) {  // every host failed: the first one's answer, as it was
    if (first_failure && !first_failure->ec) {
      co_await respond_engine(ex, std::move(const_cast<transport::CallResult*>(first_failure)->response));
    } else {
      std::string why = "no host answered";
      if (first_failure) why = first_failure->error;
      co_await ex.respond_error(http::status::bad_gateway, why);
    }
    co_return;
  }
  // Progress from every host in one stream; failures first, so the CLI reports them.
  co_await merge_line_streams(ex, std::move(sources), &docker::tag_progress, std::move(errors));
}

// Volumes and networks. A name that exists goes where it is (docker answers for it: the
// volume as it is, the network's 409). A new one is placed by the decider: on one host when
// it lives on one (a local volume's data, a local network's bridge), on the hosts the decider
// names when it is shared.
Task<void> FlockHandler::create_named(Exchange& ex, const docker::Route& route, v1::OperationKind kind) {
  auto hosts = flock_.inventory.snapshot();
  std::optional<std::string> body;
  if (co_await malformed_body(ex, hosts, body)) co_return;
  const bool is_volume = kind == v1::OPERATION_KIND_VOLUME_CREATE;
  const auto decoded = docker::go_decode(*body);  // (blank: docker's defaults)
  docker::dom::parser parser;
  docker::dom::element root;
  std::string name, driver, fs_type;
  if (decoded.ok && !parser.parse(body->data(), decoded.end).get(root)) {
    name = std::string(docker::go_string(root, "Name"));
    driver = std::string(docker::go_string(root, "Driver"));
    if (auto opts = docker::go_field(root, "DriverOpts")) fs_type = std::string(docker::go_string(*opts, "type"));
  }
  const bool shared = is_volume ? docker::volume_is_shared(driver, fs_type) : !docker::network_driver_is_local(driver);
  std::vector<const HostState*> chosen;
  if (!name.empty()) {
    auto model = flock_.model.snapshot();
    if (is_volume) {
      chosen = co_await volume_hosts(ex, hosts, name);
    } else {
      std::vector<std::string> known;  // by name only: a new name may look like an ID prefix
      for (const auto& h : model->hosts()) {
        if (h->networks->id_by_name.count(name)) known.push_back(h->host);
      }
      chosen = co_await holders(ex, hosts, known, "/networks/" + docker::url_encode(name));
      std::erase_if(chosen, [&](const HostState* h) {  // a live answer may have matched an ID
        const HostObjects* objects = model->host(h->name);
        return objects && objects->synced && !objects->networks->id_by_name.count(name);
      });
    }
  }
  // A new network without a driver (or an overlay one) where the engines share a swarm or a
  // cluster store: one multi-host network, as Swarm classic made.
  if (chosen.empty() && !is_volume && docker::wants_multihost_network(driver)) {
    if (const auto facility = flock_networks(*hosts); facility.any()) {
      co_await create_multihost_network(ex, facility, *body, name);
      co_return;
    }
  }
  v1::RouteRequest req;
  if (chosen.empty()) {
    req.set_kind(kind);
    req.set_name(name);
    req.set_body(*body);
    req.set_query(route.target.query);
    req.set_scope(shared ? v1::OBJECT_SCOPE_SHARED : v1::OBJECT_SCOPE_LOCAL);
    chosen = co_await decide(ex, hosts, req);
    if (chosen.empty()) co_return;
  }
  if (chosen.size() > 1 && name.empty() && is_volume) {
    *body = with_name(*body, random_volume_name());  // one name on every host
  }
  std::vector<Task<transport::CallResult>> calls;
  for (const auto* h : chosen) {
    calls.push_back(call_host(ex, *h, client_request(ex, std::string(ex.request().target()), *body), answer_timeout(ex)));
  }
  auto results = co_await transport::gather(std::move(calls));
  // Answer with the first success (volumes: the same everywhere; networks: one host's ID,
  // the name reaches them all); when all failed, with the first failure.
  transport::CallResult* answer = nullptr;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    if (!(r.ok() && r.response.result_int() < 300)) {
      spdlog::warn("{}: {} on {} failed: {}", ex.request_id(), v1::OperationKind_Name(kind), chosen[i]->name,
                   r.ok() ? r.response.body() : r.error);
      continue;
    }
    if (!answer) answer = &r;
    // Read-your-writes: where the object now is, known at once.
    if (is_volume) {
      if (auto v = docker::parse_volume(r.response.body())) {
        flock_.model.edit(chosen[i]->name, [&](HostEdit& e) { e.volumes().by_name[v->name] = *v; });
      }
    } else {
      docker::dom::parser created;
      docker::dom::element made;
      if (!created.parse(r.response.body()).get(made) && !name.empty()) {
        docker::NetworkSummary n{std::string(docker::string_field(made, "Id")), name,
                                 driver.empty() ? "bridge" : driver, shared ? "global" : "local"};
        if (!n.id.empty()) flock_.model.edit(chosen[i]->name, [&](HostEdit& e) { e.networks().put(n); });
      }
    }
  }
  if (!answer) answer = &results[0];
  if (!answer->ok()) {
    co_await respond_host_down(ex, *chosen[0], answer->error);
    co_return;
  }
  co_await respond_engine(ex, std::move(answer->response));
}

}  // namespace flocker::flock

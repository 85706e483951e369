// Networks that span hosts: a swarm's attachable overlay networks, a cluster store's global
// ones. Where the flock's engines share such a facility (control/inventory's
// flock_networks), `docker network create` without a driver (or with overlay) makes one,
// once, and a container on it may run on any host that shares the facility: so a compose
// project spreads over the flock, its services reaching each other by name. The network is
// read and changed as one engine's: one inspect listing the containers of every host, one
// removal. (Local networks keep their rules: routes/network_follow.cc, requirements.cc.)
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "docker/api_target.h"
#include "docker/json.h"
#include "docker/multihost.h"
#include "docker/objects.h"
#include "flock/routes/flock_handler.h"
#include "transport/client_call.h"
#include "transport/gather.h"

namespace flocker::flock {
namespace {

// How long a subnet handed out stays taken without the model listing it (its create is
// then long answered and the network read back, or it failed).
constexpr auto kSubnetHeld = std::chrono::seconds(60);

// dockerd's words when no subnet is left (libnetwork's ipamutils).
constexpr std::string_view kPoolFull =
    "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network";

}  // namespace

std::optional<docker::NetworkSummary> FlockHandler::spanning_network(const std::string& ref) const {
  if (ref.empty() || docker::is_predefined_network(ref)) return std::nullopt;
  const auto model = flock_.model.snapshot();
  for (const auto& h : model->hosts()) {
    const docker::NetworkSummary* n = h->network(ref);
    if (n && docker::network_spans_hosts(n->scope)) return *n;
  }
  return std::nullopt;
}

Task<void> FlockHandler::network_settled(Exchange& ex, const HostState& host, const std::string& id, bool gone) {
  transport::asio::steady_timer pause(ex.worker().context());
  const auto until = std::chrono::steady_clock::now() + flock_.options.engine_timeout;
  while (std::chrono::steady_clock::now() < until) {
    auto r = co_await call_host(ex, host, transport::make_request(http::verb::get, "/networks/" + docker::url_encode(id)),
                                flock_.options.engine_timeout);
    if (!r.ok()) co_return;  // (the host's trouble shows on the next request)
    const int status = r.response.result_int();
    if (gone && status == 404) co_return;
    if (!gone) {
      if (status != 200) co_return;
      docker::dom::parser parser;
      docker::dom::element inspect;
      if (parser.parse(r.response.body()).get(inspect) || !docker::string_field(inspect, "Driver").empty()) co_return;
    }
    pause.expires_after(std::chrono::milliseconds(50));
    transport::error_code ec;
    co_await pause.async_wait(transport::ec_token(ec));
  }
  spdlog::warn("{}: network {} on {} not {} within the engine timeout", ex.request_id(), id, host.name,
               gone ? "removed" : "allocated");
}

Task<bool> FlockHandler::network_in_use(Exchange& ex, const std::vector<const HostState*>& hosts,
                                        const std::string& id) {
  auto replies = co_await call_hosts(ex, hosts, http::verb::get, "/networks/" + docker::url_encode(id), "",
                                     flock_.options.engine_timeout);
  for (auto& r : replies) {
    if (!r.result.ok()) co_return true;  // not known: as the engine said
    docker::dom::parser parser;
    docker::dom::element inspect;
    if (r.result.response.result_int() == 200 && !parser.parse(r.result.response.body()).get(inspect) &&
        docker::lists_own_container(inspect)) {
      co_return true;
    }
  }
  co_return false;
}

std::optional<std::string> FlockHandler::take_subnet(std::vector<docker::Cidr> used) {
  if (!flock_.options.network_pool) return "";
  const auto model = flock_.model.snapshot();
  docker::dom::parser parser;
  for (const auto& h : model->hosts()) {
    for (const auto& [id, n] : h->networks->by_id) {
      docker::dom::element entry;
      if (n.json.empty() || parser.parse(n.json).get(entry)) continue;
      for (const auto& c : docker::network_subnets(entry)) used.push_back(c);
    }
  }
  std::lock_guard lock(subnets_mu_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(subnets_taken_, [&](const auto& t) { return now - t.second > kSubnetHeld; });
  for (const auto& [cidr, at] : subnets_taken_) used.push_back(*docker::parse_cidr(cidr));
  auto free = docker::free_subnet(*flock_.options.network_pool, flock_.options.network_pool_size, used);
  if (!free) return std::nullopt;
  subnets_taken_[free->text()] = now;
  return free->text();
}

Task<void> FlockHandler::create_multihost_network(Exchange& ex, const FlockNetworks& facility,
                                                  const std::string& body, const std::string& name) {
  // Made once: on a manager for a swarm (workers cannot), on any one engine for a store.
  const auto& where = facility.kind == docker::MultiHost::Kind::kSwarm ? facility.managers : facility.hosts;
  if (where.empty()) {
    co_await ex.respond_error(http::status::service_unavailable,
                              "flocker: no swarm manager among the flock's healthy hosts: a multi-host network "
                              "is made on a manager");
    co_return;
  }
  const HostState& host = *where[0];
  std::string subnet;
  if (!docker::names_subnet(body) && flock_.options.network_pool) {
    // The subnets in use where it is made, read now: the model may have listed a swarm's
    // own networks (its ingress) before the swarm gave them theirs.
    std::vector<docker::Cidr> used;
    auto listed = co_await call_host(ex, host, transport::make_request(http::verb::get, "/networks"),
                                     flock_.options.engine_timeout);
    docker::dom::parser parser;
    docker::dom::array list;
    if (listed.ok() && listed.response.result_int() == 200 && !parser.parse(listed.response.body()).get_array().get(list)) {
      for (auto n : list) {
        for (const auto& c : docker::network_subnets(n)) used.push_back(c);
      }
    }
    auto taken = take_subnet(std::move(used));
    if (!taken) {
      co_await ex.respond_error(http::status::forbidden, kPoolFull);
      co_return;
    }
    subnet = *taken;
  }
  const std::string made = docker::multihost_create_body(body, subnet);
  auto result = co_await call_host(ex, host, client_request(ex, std::string(ex.request().target()), made),
                                   answer_timeout(ex));
  if (!result.ok()) {
    co_await respond_host_down(ex, host, result.error);
    co_return;
  }
  if (result.response.result_int() / 100 == 2) {
    docker::dom::parser parser;
    docker::dom::element answer;
    if (!parser.parse(result.response.body()).get(answer)) {
      // Read-your-writes: the next create names it at once (relisted after this answer).
      docker::NetworkSummary n{std::string(docker::string_field(answer, "Id")), name, "overlay",
                               facility.kind == docker::MultiHost::Kind::kSwarm ? "swarm" : "global"};
      if (!n.id.empty()) flock_.model.edit(host.name, [&](HostEdit& e) { e.networks().put(n); });
      // A swarm allocates the network (its driver, its subnet) a moment after it answered:
      // one engine's network is ready when its create answers, so this one is too.
      if (!n.id.empty() && facility.kind == docker::MultiHost::Kind::kSwarm) {
        co_await network_settled(ex, host, n.id, false);
      }
    }
    spdlog::info("{}: multi-host network {} made on {} ({}{})", ex.request_id(), name, host.name,
                 docker::multihost_kind_name(facility.kind), subnet.empty() ? "" : ", subnet " + subnet);
  } else if (!subnet.empty()) {
    std::lock_guard lock(subnets_mu_);
    subnets_taken_.erase(subnet);
  }
  co_await respond_engine(ex, std::move(result.response));
}

Task<void> FlockHandler::spanning_network_request(Exchange& ex, const docker::Route& route,
                                                  const HostsSnapshot& hosts, const docker::NetworkSummary& n) {
  // The hosts that have it: a swarm's managers (they always list it) first, then those whose
  // containers use it (a worker lists it only then), healthy ones.
  const auto facility = flock_networks(*hosts);
  std::vector<const HostState*> have;
  auto add = [&](const HostState* h) {
    if (h->healthy && std::find(have.begin(), have.end(), h) == have.end()) have.push_back(h);
  };
  for (const auto* h : facility.managers) add(h);
  for (const auto& name : flock_.model.snapshot()->network_holders(n.id)) {
    if (const HostState* h = find_host(*hosts, name)) add(h);
  }
  if (have.empty()) {
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  docker::ApiTarget target = route.target;
  target.path = "/networks/" + docker::url_encode(n.id);
  if (ex.request().method() == http::verb::delete_) {
    // Once, where it is made (the engine refuses while any host's container uses it). The
    // engine's count of endpoints learns of containers just removed on other hosts a moment
    // later (a cluster store's, in etcd): while no host has a container on it, a refusal is
    // asked again, so that `compose down` removes its network as one engine does.
    transport::asio::steady_timer pause(ex.worker().context());
    const auto until = std::chrono::steady_clock::now() + flock_.options.engine_timeout;
    transport::CallResult result;
    for (;;) {
      result = co_await call_host(ex, *have[0], client_request(ex, target.rebuild(target.query), ""),
                                  answer_timeout(ex));
      const int status = result.ok() ? result.response.result_int() : 0;
      if (status < 400 || status == 404 || std::chrono::steady_clock::now() >= until) break;
      if (co_await network_in_use(ex, have, n.id)) break;
      pause.expires_after(std::chrono::milliseconds(200));
      transport::error_code ec;
      co_await pause.async_wait(transport::ec_token(ec));
    }
    if (!result.ok()) {
      co_await respond_host_down(ex, *have[0], result.error);
      co_return;
    }
    if (result.response.result_int() / 100 == 2) {
      // A swarm removes it a moment after it answered: one engine's is gone when its
      // removal answers (a `compose down` then `up` makes it again at once).
      co_await network_settled(ex, *have[0], n.id, true);
      for (const auto& name : flock_.model.snapshot()->network_holders(n.id)) {
        flock_.model.edit(name, [&](HostEdit& e) { e.networks().remove(n.id); });
      }
    }
    co_await respond_engine(ex, std::move(result.response));
    co_return;
  }
  // Inspect: the containers of every host, as one engine lists every container on it.
  auto replies = co_await call_hosts(ex, have, http::verb::get, target.rebuild(target.query), "",
                                     answer_timeout(ex));
  std::vector<std::string_view> bodies;
  for (auto& r : replies) {
    if (r.result.ok() && r.result.response.result_int() == 200) bodies.push_back(r.result.response.body());
  }
  if (bodies.empty()) {  // the first host's own answer (its 404, or that it is down)
    auto& first = replies.front();
    if (first.result.ok()) {
      co_await respond_engine(ex, std::move(first.result.response));
    } else {
      co_await respond_host_down(ex, *first.host, first.result.error);
    }
    co_return;
  }
  co_await respond_json(ex, http::status::ok, docker::merge_network_inspects(bodies));
}

}  // namespace flocker::flock

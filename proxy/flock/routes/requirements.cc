// What a container create refers to, found in the flock: the container whose volumes,
// network, PID or IPC namespace it shares or links to, the named volumes it mounts, the user
// networks it joins. The container can only run where all of them are, except a network
// no container uses yet: that one follows it (network_follow.cc), and a network that spans
// hosts (multihost_networks.cc), which any host sharing it can join.
#include <fmt/format.h>

#include "docker/objects.h"
#include "flock/routes/flock_handler.h"

namespace flocker::flock {
namespace {

using Kind = docker::CreateRef::Kind;

v1::Requirement requirement(v1::RequirementKind kind, const docker::CreateRef& ref, std::string id,
                            const std::vector<const HostState*>& hosts) {
  v1::Requirement r;
  r.set_kind(kind);
  r.set_object(ref.object);
  r.set_object_id(std::move(id));
  r.set_referred_by(ref.field);
  for (const auto* h : hosts) r.add_hosts(h->name);
  return r;
}

}  // namespace

Task<std::optional<Placement>> FlockHandler::place_container(Exchange& ex, const HostsSnapshot& hosts,
                                                             const docker::CreateRefs& refs,
                                                             std::list<KeyedLock::Held>& follow_locks) {
  std::vector<v1::Requirement> requirements;
  for (const auto& ref : refs.refs) {
    switch (ref.kind) {
      case Kind::kContainer: {
        auto found = co_await locate_container(ex, hosts, ref.object);
        // Unknown or ambiguous: no requirement; the engine answers for it as docker does.
        if (found.found != ModelSnapshot::Found::kOne) break;
        const HostState* h = find_host(*hosts, found.container.host);
        if (!h) break;
        requirements.push_back(requirement(v1::REQUIREMENT_KIND_CONTAINER, ref, found.container.id, {h}));
        break;
      }
      case Kind::kVolume: {
        // A volume that exists nowhere is created by docker where the container goes.
        auto have = co_await volume_hosts(ex, hosts, ref.object);
        if (!have.empty()) requirements.push_back(requirement(v1::REQUIREMENT_KIND_VOLUME, ref, ref.object, have));
        break;
      }
      case Kind::kNetwork: {
        // A network that spans hosts asks for no co-location: any host sharing its facility.
        if (auto spanning = spanning_network(ref.object)) {
          auto can = flock_networks(*hosts).hosts;
          if (can.empty()) can = co_await network_hosts(ex, hosts, ref.object);
          auto r = requirement(v1::REQUIREMENT_KIND_NETWORK, ref, spanning->id, can);
          r.set_spans_hosts(true);
          requirements.push_back(std::move(r));
          break;
        }
        auto have = co_await network_hosts(ex, hosts, ref.object);
        if (have.empty()) break;  // the engine answers "network ... not found"
        std::string id = network_id(*have[0], ref.object);
        const bool follows = co_await network_follows(ex, hosts, ref.object, have, id, follow_locks);
        auto r = requirement(v1::REQUIREMENT_KIND_NETWORK, ref, id, have);
        r.set_follows(follows);
        requirements.push_back(std::move(r));
        break;
      }
    }
  }
  Placement placement = place(std::move(requirements));
  if (!placement.conflict.empty()) {
    co_await ex.respond_error(http::status::conflict, placement.conflict);
    co_return std::nullopt;
  }
  co_return placement;
}

}  // namespace flocker::flock

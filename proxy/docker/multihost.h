// Multi-host networks: how an engine joins networks that span hosts, as its /info says, and
// which networks do. Two facilities exist on Docker 20.10:
//   swarm          the engines are nodes of one swarm (used only for its networks: an
//                  attachable overlay network can be joined by plain `docker run` containers
//                  on any node, which reach each other by name across hosts);
//   cluster store  every engine runs with the same --cluster-store (Docker <= 20.10): an
//                  overlay network made on one engine is global, with one ID everywhere.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flocker::docker {

struct MultiHost {
  enum class Kind { kNone, kSwarm, kClusterStore };
  Kind kind = Kind::kNone;
  // What engines sharing the facility have in common: "swarm:" and the swarm's first
  // manager's node ID (workers do not see the cluster's ID; every node lists the managers),
  // or "store:" and the cluster store's address. "" for none.
  std::string key;
  bool manager = false;  // a swarm manager (where swarm-scoped networks are made and removed)
  bool operator==(const MultiHost&) const = default;
};

// From an engine's /info.
MultiHost multihost_of(const simdjson::dom::element& info);

// "swarm (3 of 3 hosts)", as docker info's SystemStatus words it.
std::string multihost_kind_name(MultiHost::Kind kind);

// Whether a network of this scope spans hosts ("swarm", "global").
bool network_spans_hosts(std::string_view scope);

// Whether `docker network create` with this driver asks for a multi-host network where the
// flock has one: no driver (Swarm classic's default) or "overlay".
bool wants_multihost_network(std::string_view driver);

// Networks a swarm makes for itself on every node, which one engine outside a swarm does
// not have: the routing mesh's "ingress" and the nodes' "docker_gwbridge".
bool is_swarm_internal_network(std::string_view name, bool ingress);

// An IPv4 range.
struct Cidr {
  uint32_t base = 0;  // host order, the host bits zero
  unsigned prefix = 0;
  std::string text() const;
  bool overlaps(const Cidr& other) const;
};
std::optional<Cidr> parse_cidr(std::string_view text);

// The first subnet of `size` bits in `pool` that overlaps none of `used`; nullopt when the
// pool is full.
std::optional<Cidr> free_subnet(const Cidr& pool, unsigned size, const std::vector<Cidr>& used);

// The subnets a network's list entry or inspect gives (IPAM.Config[].Subnet, IPv4).
std::vector<Cidr> network_subnets(const simdjson::dom::element& network);

// POST /networks/create's body made a multi-host network's: Driver "overlay", Attachable
// (plain containers may join it, as Swarm classic's networks), and `subnet` as its IPAM
// config when the body gives none (empty: none added). The rest as given.
std::string multihost_create_body(std::string_view body, const std::string& subnet);

// One inspect of a network that spans hosts, from each host's (the first's first): the
// first's, with Containers the union of all, each container once by its ID (a cluster
// store's hosts list the others' as "ep-ENDPOINT"), without a swarm's load-balancer
// endpoints ("lb-NAME", which one engine outside a swarm does not have).
std::string merge_network_inspects(const std::vector<std::string_view>& bodies);

// Whether a network's inspect lists a container of that engine's own (not another host's
// "ep-" endpoint, nor a swarm's "lb-" load balancer).
bool lists_own_container(const simdjson::dom::element& inspect);

// Whether the body asks for a subnet of its own (IPAM.Config with a Subnet).
bool names_subnet(std::string_view body);

}  // namespace flocker::docker

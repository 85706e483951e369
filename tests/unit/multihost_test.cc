// Multi-host networks in the docker layer: which facility an engine's /info shows, subnets
// from a pool that never overlap, a create body made an attachable overlay's, one inspect
// from every host's, and a swarm's own networks kept out of network ls.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "docker/merge.h"
#include "docker/multihost.h"

using namespace flocker::docker;

namespace {

MultiHost of(const std::string& info) {
  simdjson::dom::parser p;
  return multihost_of(p.parse(info).value());
}

}  // namespace

TEST(MultiHost, SwarmNodesShareTheirFirstManagersIdAndAStoreItsAddress) {
  const auto worker = of(R"({"Swarm":{"LocalNodeState":"active","ControlAvailable":false,
    "RemoteManagers":[{"NodeID":"zz","Addr":"a"},{"NodeID":"mm","Addr":"b"}]}})");
  EXPECT_EQ(worker.kind, MultiHost::Kind::kSwarm);
  EXPECT_EQ(worker.key, "swarm:mm");
  EXPECT_FALSE(worker.manager);
  const auto manager = of(R"({"Swarm":{"LocalNodeState":"active","ControlAvailable":true,
    "RemoteManagers":[{"NodeID":"mm","Addr":"b"},{"NodeID":"zz","Addr":"a"}],"Cluster":{"ID":"c"}}})");
  EXPECT_EQ(manager.key, worker.key);
  EXPECT_TRUE(manager.manager);
  EXPECT_EQ(of(R"({"ClusterStore":"etcd://198.18.0.254:2379","Swarm":{"LocalNodeState":"inactive"}})").key,
            "store:etcd://198.18.0.254:2379");
  EXPECT_EQ(of(R"({"Swarm":{"LocalNodeState":"inactive","RemoteManagers":null}})").kind, MultiHost::Kind::kNone);
  EXPECT_EQ(of(R"({"Swarm":{"LocalNodeState":"pending","RemoteManagers":[]}})").kind, MultiHost::Kind::kNone);
}

TEST(MultiHost, SubnetsFromThePoolNeverOverlap) {
  const auto pool = parse_cidr("198.19.64.0/18");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->text(), "198.19.64.0/18");
  EXPECT_EQ(free_subnet(*pool, 24, {})->text(), "198.19.64.0/24");
  EXPECT_EQ(free_subnet(*pool, 24, {*parse_cidr("198.19.64.0/23"), *parse_cidr("198.19.67.0/24")})->text(),
            "198.19.66.0/24");
  EXPECT_EQ(free_subnet(*pool, 24, {*parse_cidr("198.19.0.0/16")}), std::nullopt) << "full";
  EXPECT_EQ(parse_cidr("198.19.64.7/18")->text(), "198.19.64.0/18") << "host bits cleared";
  for (const char* bad : {"", "198.19.64.0", "198.19.64/18", "198.19.64.256/24", "198.19.64.0/33", "a.b.c.d/8",
                          "198.19.64.0/", "1.2.3.4.5/8"}) {
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  }
}

TEST(MultiHost, ACreateBodyBecomesAnAttachableOverlaysWithThePoolsSubnet) {
  simdjson::dom::parser p;
  auto body = multihost_create_body(R"({"Name":"n","Driver":null,"IPAM":{"Driver":"default","Config":[]},"Labels":{"a":"b"}})",
                                    "198.19.64.0/24");
  auto root = p.parse(body).value();
  EXPECT_EQ(std::string_view(root["Driver"]), "overlay");
  EXPECT_TRUE(bool(root["Attachable"]));
  EXPECT_EQ(std::string_view(root["IPAM"]["Config"].at(0)["Subnet"]), "198.19.64.0/24");
  EXPECT_EQ(std::string_view(root["Labels"]["a"]), "b");
  EXPECT_FALSE(names_subnet(R"({"IPAM":{"Config":[]}})"));
  EXPECT_TRUE(names_subnet(R"({"IPAM":{"Config":[{"Subnet":"198.19.1.0/24"}]}})"));
  auto blank = p.parse(multihost_create_body("", "")).value();
  EXPECT_EQ(std::string_view(blank["Driver"]), "overlay");
  EXPECT_TRUE(wants_multihost_network(""));
  EXPECT_TRUE(wants_multihost_network("overlay"));
  EXPECT_FALSE(wants_multihost_network("bridge"));
  EXPECT_FALSE(wants_multihost_network("macvlan"));
}

TEST(MultiHost, OneInspectListsEveryHostsContainersAndLsHidesTheSwarmsOwnNetworks) {
  const std::string manager = R"({"Name":"n","Id":"x","Scope":"swarm","Containers":{"a":{"Name":"a1"},"lb-n":{"Name":"n-endpoint"}}})";
  const std::string worker = R"({"Name":"n","Id":"x","Scope":"swarm","Containers":{"b":{"Name":"b1"},"lb-n":{"Name":"n-endpoint"}}})";
  EXPECT_EQ(merge_network_inspects({manager, worker}),
            R"({"Name":"n","Id":"x","Scope":"swarm","Containers":{"a":{"Name":"a1"},"b":{"Name":"b1"}}})");
  // A cluster store's hosts list each other's containers by endpoint: each container once.
  const std::string h1 = R"({"Containers":{"c1":{"Name":"d1","EndpointID":"E1"},"ep-E2":{"Name":"d2","EndpointID":"E2"}}})";
  const std::string h2 = R"({"Containers":{"c2":{"Name":"d2","EndpointID":"E2"},"ep-E1":{"Name":"d1","EndpointID":"E1"},"ep-E3":{"Name":"d3","EndpointID":"E3"}}})";
  EXPECT_EQ(merge_network_inspects({h1, h2}),
            R"({"Containers":{"c1":{"Name":"d1","EndpointID":"E1"},"c2":{"Name":"d2","EndpointID":"E2"},"ep-E3":{"Name":"d3","EndpointID":"E3"}}})");
  simdjson::dom::parser p;
  EXPECT_TRUE(lists_own_container(p.parse(h1).value()));
  EXPECT_FALSE(lists_own_container(p.parse(std::string(R"({"Containers":{"ep-E1":{},"lb-n":{}}})")).value()));
  EXPECT_FALSE(lists_own_container(p.parse(std::string(R"({"Containers":{}})")).value()));
  const std::string e1 = R"([{"Name":"bridge","Id":"1"},{"Name":"ingress","Id":"i","Ingress":true},{"Name":"docker_gwbridge","Id":"g"},{"Name":"n","Id":"x"}])";
  const std::string e2 = R"([{"Name":"bridge","Id":"2"},{"Name":"n","Id":"x"}])";
  EXPECT_EQ(merge_network_lists({{"e1", e1}, {"e2", e2}}), R"([{"Name":"bridge","Id":"1"},{"Name":"n","Id":"x"}])");
}

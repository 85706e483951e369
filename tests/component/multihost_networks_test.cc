// Multi-host networks, on fake engines that answer /info as dockerd does in a swarm and
// with a cluster store: the proxy finds the facility from the engines, `network create`
// without a driver makes one attachable overlay network once (on a manager; a subnet from
// --network-pool), containers on it are placed anywhere the facility reaches (the
// RouteRequest says the network spans hosts), it is listed and inspected as one engine's
// (every host's containers), removed once, joined on the container's host; bridge networks
// keep co-location; and the flock still answers as an engine outside a swarm.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <set>

#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Waits until the proxy sees `kind` shared by `hosts` of its hosts.
bool sees_facility(FlockHarness& f, docker::MultiHost::Kind kind, std::size_t hosts) {
  return FlockHarness::eventually([&] {
    auto n = flock::flock_networks(*f.the_flock->inventory.snapshot());
    return n.kind == kind && n.hosts.size() == hosts;
  });
}

// A flock whose engines form a swarm (e1 its manager), with a pool for new networks.
struct SwarmFlock : FlockHarness {
  SwarmFlock()
      : FlockHarness(flock::DeciderFailure::kFail, 500ms, std::nullopt, {}, [](flock::FlockOptions& o) {
          o.network_pool = docker::parse_cidr("198.19.64.0/18");
          o.network_pool_size = 24;
        }) {
    e1.join(swarm, true);
    e2.join(swarm);
    e3.join(swarm);
    for (auto* e : {&e1, &e2, &e3}) e->add_image("img:latest");
  }
  std::shared_ptr<SharedNetworks> swarm = make_swarm();
};

std::string create_body(FakeDocker& e) {
  auto made = e.requests("/networks/create");
  return made.empty() ? "" : made.back().body;
}

}  // namespace

TEST(MultiHostNetworks, TheFacilityIsFoundFromTheEnginesInfo) {
  FlockHarness f;
  auto swarm = make_swarm();
  f.e1.join(swarm, true);
  f.e2.join(swarm);
  ASSERT_TRUE(sees_facility(f, docker::MultiHost::Kind::kSwarm, 2)) << "e3 is outside: a mixed flock";
  auto hosts = f.the_flock->inventory.snapshot();
  auto n = flock::flock_networks(*hosts);
  ASSERT_EQ(n.managers.size(), 1u);
  EXPECT_EQ(n.managers[0]->name, "e1");
  auto info = f.request("GET", "/v1.41/info");
  ASSERT_EQ(info.result_int(), 200);
  EXPECT_TRUE(contains(info.body(), R"x(["Multi-host networks","swarm (2 of 3 hosts)"])x")) << info.body();
  EXPECT_TRUE(contains(info.body(), R"(["  └ Networks","swarm manager"])")) << info.body();
  EXPECT_TRUE(contains(info.body(), R"("LocalNodeState":"inactive")"))
      << "engines in a swarm for its networks do not make the flock a swarm: " << info.body();

  auto store = make_cluster_store();
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->join(store);
  ASSERT_TRUE(sees_facility(f, docker::MultiHost::Kind::kClusterStore, 3));
  f.e3.join(nullptr);
  ASSERT_TRUE(sees_facility(f, docker::MultiHost::Kind::kClusterStore, 2));
}

TEST(MultiHostNetworks, CreateWithoutADriverMakesOneAttachableOverlayOnAManager) {
  SwarmFlock f;
  ASSERT_TRUE(sees_facility(f, docker::MultiHost::Kind::kSwarm, 3));
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse& resp) {  // never asked
    resp.add_hosts("e3");
    return grpc::Status::OK;
  };
  auto made = f.request("POST", "/v1.41/networks/create", R"({"Name":"appnet","CheckDuplicate":true,"Driver":null})");
  ASSERT_EQ(made.result_int(), 201) << made.body();
  const std::string id = field(made.body(), "Id");
  EXPECT_EQ(id.size(), 25u) << "a swarm's network ID";
  EXPECT_EQ(f.e1.requests("/networks/create").size(), 1u) << "once, on the manager";
  EXPECT_EQ(f.e2.requests("/networks/create").size() + f.e3.requests("/networks/create").size(), 0u);
  const std::string body = create_body(f.e1);
  EXPECT_TRUE(contains(body, R"("Driver":"overlay")")) << body;
  EXPECT_TRUE(contains(body, R"("Attachable":true)")) << body;
  EXPECT_TRUE(contains(body, R"("Subnet":"198.19.64.0/24")")) << "from the pool: " << body;

  // The next takes the next subnet (two never overlap); one named by the client is kept.
  ASSERT_EQ(f.request("POST", "/v1.41/networks/create", R"({"Name":"second","Driver":"overlay"})").result_int(), 201);
  EXPECT_TRUE(contains(create_body(f.e1), R"("Subnet":"198.19.65.0/24")")) << create_body(f.e1);
  ASSERT_EQ(f.request("POST", "/v1.41/networks/create",
                      R"({"Name":"third","IPAM":{"Config":[{"Subnet":"198.19.200.0/24"}]}})").result_int(), 201);
  EXPECT_TRUE(contains(create_body(f.e1), R"("Subnet":"198.19.200.0/24")")) << create_body(f.e1);
  EXPECT_FALSE(contains(create_body(f.e1), "198.19.66.0")) << create_body(f.e1);

  // CheckDuplicate holds across the flock: the name is taken, wherever it is.
  auto again = f.request("POST", "/v1.41/networks/create", R"({"Name":"appnet","CheckDuplicate":true})");
  EXPECT_EQ(again.result_int(), 409) << again.body();
  f.e3.add_network("localnet");
  ASSERT_TRUE(FlockHarness::eventually([&] { return !f.the_flock->model.snapshot()->network_holders("localnet").empty(); }));
  EXPECT_EQ(f.request("POST", "/v1.41/networks/create", R"({"Name":"localnet"})").result_int(), 409);

  // An explicit bridge network stays local, placed by the decider.
  auto bridge = f.request("POST", "/v1.41/networks/create", R"({"Name":"mine","Driver":"bridge"})");
  ASSERT_EQ(bridge.result_int(), 201) << bridge.body();
  EXPECT_TRUE(f.e3.has_network("mine"));
  EXPECT_FALSE(f.e1.has_network("mine"));
}

TEST(MultiHostNetworks, ContainersOnItSpreadAndItReadsAsOneEnginesNetwork) {
  SwarmFlock f;
  ASSERT_TRUE(sees_facility(f, docker::MultiHost::Kind::kSwarm, 3));
  auto made = f.request("POST", "/v1.41/networks/create", R"({"Name":"appnet"})");
  ASSERT_EQ(made.result_int(), 201) << made.body();
  const std::string id = field(made.body(), "Id");
  EXPECT_EQ(f.request("GET", "/v1.41/swarm").result_int(), 503) << "as an engine outside a swarm";
  std::set<std::string> used;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "s" + std::to_string(i);
    auto c = f.request("POST", "/v1.41/containers/create?name=" + name,
                       i % 2 ? R"({"Image":"img","HostConfig":{"NetworkMode":"appnet"}})"
                             : R"({"Image":"img","NetworkingConfig":{"EndpointsConfig":{"appnet":{}}}})");
    ASSERT_EQ(c.result_int(), 201) << c.body();
    for (auto* e : {&f.e1, &f.e2, &f.e3}) {
      if (e->has_container(name)) used.insert(e->name());
    }
  }
  EXPECT_EQ(used.size(), 3u) << "six containers on a multi-host network, over every host";
  {
    std::lock_guard lock(f.decider.mu);
    const auto& asked = f.decider.routes.back();
    ASSERT_EQ(asked.requirements_size(), 1);
    EXPECT_TRUE(asked.requirements(0).spans_hosts());
    EXPECT_FALSE(asked.requirements(0).follows());
    EXPECT_EQ(asked.requirements(0).hosts_size(), 3) << "any host of the swarm";
    EXPECT_EQ(asked.requirements(0).object_id(), id);
  }

  // ls: once; inspect: the containers of every host, without the swarm's lb endpoints.
  ASSERT_TRUE(FlockHarness::eventually([&] {
    return f.the_flock->model.snapshot()->network_holders(id).size() == 3;
  })) << "a worker lists it while its containers use it";
  auto ls = f.request("GET", "/v1.41/networks");
  ASSERT_EQ(ls.result_int(), 200);
  std::size_t listed = 0;
  for (std::size_t at = 0; (at = ls.body().find(R"("Name":"appnet")", at)) != std::string::npos; ++at) ++listed;
  EXPECT_EQ(listed, 1u) << ls.body();
  auto inspect = f.request("GET", "/v1.41/networks/appnet");
  ASSERT_EQ(inspect.result_int(), 200) << inspect.body();
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(contains(inspect.body(), "\"Name\":\"s" + std::to_string(i) + "\"")) << inspect.body();
  EXPECT_FALSE(contains(inspect.body(), "lb-appnet")) << inspect.body();
  EXPECT_EQ(f.request("GET", "/v1.41/networks/" + id.substr(0, 10)).result_int(), 200) << "by a prefix of its ID";

  // connect/disconnect: on the container's host, wherever the network was made.
  auto other = f.request("POST", "/v1.41/containers/create?name=loner", R"({"Image":"img"})");
  ASSERT_EQ(other.result_int(), 201);
  FakeDocker* loner_host = f.e1.has_container("loner") ? &f.e1 : f.e2.has_container("loner") ? &f.e2 : &f.e3;
  auto joined = f.request("POST", "/v1.41/networks/appnet/connect", R"({"Container":"loner"})");
  EXPECT_EQ(joined.result_int(), 200) << joined.body();
  EXPECT_EQ(loner_host->requests("/networks/appnet/connect").size(), 1u);
  auto left = f.request("POST", "/v1.41/networks/" + id + "/disconnect", R"({"Container":"loner"})");
  EXPECT_EQ(left.result_int(), 200) << left.body();

  // rm: the engine's own refusal while any host's container uses it; then once.
  auto busy = f.request("DELETE", "/v1.41/networks/appnet");
  EXPECT_EQ(busy.result_int(), 403) << busy.body();
  EXPECT_TRUE(contains(busy.body(), "has active endpoints")) << busy.body();
  for (int i = 0; i < 6; ++i) ASSERT_EQ(f.request("DELETE", "/v1.41/containers/s" + std::to_string(i)).result_int(), 204);
  auto gone = f.request("DELETE", "/v1.41/networks/appnet");
  EXPECT_EQ(gone.result_int(), 204) << gone.body();
  auto deletes = [&](FakeDocker& e) {
    auto all = e.requests("/networks/");
    return std::count_if(all.begin(), all.end(), [](const RecordedRequest& r) { return r.method == "DELETE"; });
  };
  EXPECT_EQ(deletes(f.e1), 2) << "asked twice (refused, then removed), each once, on the manager";
  EXPECT_EQ(deletes(f.e2) + deletes(f.e3), 0);
  EXPECT_FALSE(f.e1.has_network("appnet"));
  EXPECT_EQ(f.request("GET", "/v1.41/networks/appnet").result_int(), 404);
}

TEST(MultiHostNetworks, LocalNetworksKeepCoLocation) {
  SwarmFlock f;
  ASSERT_TRUE(sees_facility(f, docker::MultiHost::Kind::kSwarm, 3));
  f.e2.add_network("backend");
  ASSERT_TRUE(FlockHarness::eventually([&] { return !f.the_flock->model.snapshot()->network_holders("backend").empty(); }));
  auto c = f.request("POST", "/v1.41/containers/create?name=db", R"({"Image":"img","HostConfig":{"NetworkMode":"backend"}})");
  ASSERT_EQ(c.result_int(), 201) << c.body();
  for (int i = 0; i < 3; ++i) {
    const std::string name = "web" + std::to_string(i);
    auto w = f.request("POST", "/v1.41/containers/create?name=" + name,
                       R"({"Image":"img","HostConfig":{"NetworkMode":"backend"}})");
    ASSERT_EQ(w.result_int(), 201) << w.body();
    EXPECT_TRUE(f.e2.has_container(name) || f.e1.has_container(name) || f.e3.has_container(name));
  }
  // All where db and the network are, whichever host that was.
  FakeDocker* home = f.e1.has_container("db") ? &f.e1 : f.e2.has_container("db") ? &f.e2 : &f.e3;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(home->has_container("web" + std::to_string(i)));
}

TEST(MultiHostNetworks, AClusterStoreNetworkIsMadeOnceAndAMixedFlockKeepsItsOutsiderOut) {
  FlockHarness f(flock::DeciderFailure::kFail, 500ms, std::nullopt, {}, [](flock::FlockOptions& o) {
    o.network_pool = docker::parse_cidr("198.19.128.0/20");
  });
  auto store = make_cluster_store();
  f.e1.join(store);
  f.e2.join(store);  // e3 runs without it
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->add_image("img:latest");
  ASSERT_TRUE(sees_facility(f, docker::MultiHost::Kind::kClusterStore, 2));
  auto made = f.request("POST", "/v1.41/networks/create", R"({"Name":"storenet"})");
  ASSERT_EQ(made.result_int(), 201) << made.body();
  EXPECT_EQ(f.e1.requests("/networks/create").size() + f.e2.requests("/networks/create").size(), 1u) << "once";
  EXPECT_EQ(f.e3.requests("/networks/create").size(), 0u);
  const std::string id = field(made.body(), "Id");
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.e1.has_network(id) && f.e2.has_network(id); }))
      << "global: one ID on every engine of the store";
  EXPECT_FALSE(f.e3.has_network("storenet"));
  std::set<std::string> used;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "g" + std::to_string(i);
    auto c = f.request("POST", "/v1.41/containers/create?name=" + name,
                       R"({"Image":"img","HostConfig":{"NetworkMode":"storenet"}})");
    ASSERT_EQ(c.result_int(), 201) << c.body();
    for (auto* e : {&f.e1, &f.e2, &f.e3}) {
      if (e->has_container(name)) used.insert(e->name());
    }
  }
  EXPECT_EQ(used, (std::set<std::string>{"e1", "e2"})) << "the hosts sharing the store, never e3";
  auto busy = f.request("DELETE", "/v1.41/networks/storenet");
  EXPECT_EQ(busy.result_int(), 403) << busy.body();
  for (int i = 0; i < 6; ++i) ASSERT_EQ(f.request("DELETE", "/v1.41/containers/g" + std::to_string(i)).result_int(), 204);
  EXPECT_EQ(f.request("DELETE", "/v1.41/networks/storenet").result_int(), 204);
  ASSERT_TRUE(FlockHarness::eventually([&] { return !f.e1.has_network(id) && !f.e2.has_network(id); }));
}

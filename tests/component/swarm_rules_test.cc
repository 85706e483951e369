// Swarm classic's placement language through the flock: the proxy parses constraints,
// affinities and host ports, takes the Env rules out of what the engine gets, resolves
// affinities to hosts, and gives every candidate the facts to match (daemon and inventory
// labels, Swarm's engine facts, published ports); malformed rules are refused whole.
#include <atomic>
#include <thread>

#include <flocker/sdk/placement.h>
#include <gtest/gtest.h>

#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A decider that applies the rules as the reference decider does, then takes the first.
void decide_by_rules(FlockHarness& f) {
  f.decider.on_route = [](const v1::RouteRequest& req, v1::RouteResponse& resp) {
    auto placement = sdk::apply_rules(req);
    if (placement.hosts.empty()) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "unsatisfiable");
    resp.add_hosts(placement.hosts.front()->name());
    return grpc::Status::OK;
  };
}

v1::RouteRequest last_route(FlockHarness& f) {
  std::lock_guard lock(f.decider.mu);
  return f.decider.routes.empty() ? v1::RouteRequest() : f.decider.routes.back();
}

std::string created_on(FlockHarness& f) {
  for (auto* e : {&f.e1, &f.e2, &f.e3}) {
    if (!e->requests("/containers/create").empty()) return e->name();
  }
  return "";
}

void image_everywhere(FlockHarness& f) {
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->add_image("img:latest");
  ASSERT_TRUE(FlockHarness::eventually([&] {
    return f.knows_image("e1", "img") && f.knows_image("e2", "img") && f.knows_image("e3", "img");
  }));
}

// The image on every host, and a network "proj_default" on e1 that no container uses.
void unused_network_on_e1(FlockHarness& f) {
  image_everywhere(f);
  f.e1.add_network("proj_default");
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto h = f.the_flock->model.snapshot()->host("e1");
    return h && h->network("proj_default");
  }));
}

}  // namespace

TEST(SwarmRules, EnvRulesAreTakenOutParsedAndMatchedAgainstEveryFact) {
  FlockHarness f;
  f.e3.set_daemon_labels({"disk=ssd", "zone=daemon-says"});
  image_everywhere(f);
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto hosts = f.the_flock->inventory.snapshot();
    auto* h = flock::find_host(*hosts, "e3");
    return h && h->engine_labels.count("disk");
  }));
  decide_by_rules(f);
  auto res = f.request("POST", "/v1.41/containers/create?name=placed",
                       R"({"Image":"img","Env":["A=1","constraint:disk==ssd","constraint:storagedriver==v*"],)"
                       R"("Labels":{"com.docker.swarm.constraints":"[\"node!=e1\"]"}})");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(created_on(f), "e3");
  const std::string body = f.e3.create_body("placed");
  EXPECT_TRUE(contains(body, R"("Env":["A=1"])")) << "the engine never sees the rules: " << body;
  EXPECT_TRUE(contains(body, "com.docker.swarm.constraints")) << "the labels stay: " << body;
  auto route = last_route(f);
  ASSERT_EQ(route.constraints_size(), 3);
  EXPECT_EQ(route.constraints(0).expression(), "disk==ssd");
  EXPECT_EQ(route.constraints(0).source(), "Env");
  EXPECT_EQ(route.constraints(1).kind(), v1::VALUE_KIND_GLOB);
  EXPECT_EQ(route.constraints(2).source(), "Labels");
  EXPECT_EQ(route.constraints(2).op(), v1::MATCH_OPERATOR_NOT_EQUAL);
  for (const auto& c : route.candidates()) {
    EXPECT_EQ(c.facts().at("node"), c.name());
    EXPECT_EQ(c.facts().at("storagedriver"), "vfs");
    EXPECT_EQ(c.facts().at("architecture"), "x86_64");
    EXPECT_EQ(c.facts().at("ostype"), "linux");
    if (c.name() == "e3") {
      EXPECT_EQ(c.labels().at("disk"), "ssd") << "the engine's daemon labels";
      EXPECT_EQ(c.labels().at("zone"), "z-e3") << "the inventory's win";
    }
  }
}

TEST(SwarmRules, AMalformedRuleIsRefusedQuotedAndNothingIsDecidedOrCreated) {
  FlockHarness f;
  image_everywhere(f);
  for (const std::string body : {R"({"Image":"img","Env":["constraint:zone=a"]})",
                                 R"({"Image":"img","Env":["affinity:volume==x"]})",
                                 R"({"Image":"img","Labels":{"com.docker.swarm.affinities":"container==db"}})"}) {
    auto res = f.request("POST", "/v1.41/containers/create", body);
    EXPECT_EQ(res.result_int(), 400) << body << ": " << res.body();
    EXPECT_TRUE(contains(res.body(), "invalid")) << res.body();
  }
  EXPECT_TRUE(contains(f.request("POST", "/v1.41/containers/create", R"({"Image":"img","Env":["constraint:zone=a"]})").body(),
                       R"(invalid constraint \"zone=a\": one of the operators ==, != is expected)"));
  std::lock_guard lock(f.decider.mu);
  EXPECT_TRUE(f.decider.routes.empty());
  EXPECT_EQ(created_on(f), "");
}

TEST(SwarmRules, AffinitiesAreResolvedToTheHostsHoldingWhatTheyName) {
  FlockHarness f;
  image_everywhere(f);
  const std::string db_id = f.e2.add_container("db-main", "img", 1);
  f.e1.add_image("legacy/app:2");
  ASSERT_TRUE(FlockHarness::eventually([&] {
    return f.the_flock->model.snapshot()->container_by_name("db-main") && f.knows_image("e1", "legacy/app:2");
  }));
  decide_by_rules(f);
  auto res = f.request("POST", "/v1.41/containers/create",
                       R"({"Image":"img","Env":["affinity:container==db-*","affinity:image!=legacy/app"]})");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(created_on(f), "e2");
  auto route = last_route(f);
  ASSERT_EQ(route.affinities_size(), 2);
  EXPECT_EQ(std::vector<std::string>(route.affinities(0).hosts().begin(), route.affinities(0).hosts().end()),
            std::vector<std::string>{"e2"});
  EXPECT_EQ(std::vector<std::string>(route.affinities(1).hosts().begin(), route.affinities(1).hosts().end()),
            std::vector<std::string>{"e1"}) << "an image by its repository, tag left out";

  // A container by an ID prefix, as docker resolves one.
  res = f.request("POST", "/v1.41/containers/create",
                  R"({"Image":"img","Env":["affinity:container==)" + db_id.substr(0, 10) + R"("]})");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(f.e2.requests("/containers/create").size(), 2u);
  route = last_route(f);
  ASSERT_EQ(route.affinities_size(), 1);
  ASSERT_EQ(route.affinities(0).hosts_size(), 1);
  EXPECT_EQ(route.affinities(0).hosts(0), "e2");
}

TEST(SwarmRules, AHostPublishingTheSamePortIsNoCandidate) {
  FlockHarness f;
  image_everywhere(f);
  f.e1.add_container("web1", "img", 1);
  f.e1.publish("web1", 18080);
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto c = f.the_flock->model.snapshot()->container_by_name("web1");
    return c && c->running && !c->ports.empty();
  }));
  decide_by_rules(f);
  auto res = f.request("POST", "/v1.41/containers/create",
                       R"({"Image":"img","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"18080"}]}}})");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(created_on(f), "e2");
  auto route = last_route(f);
  ASSERT_EQ(route.ports_size(), 1);
  EXPECT_EQ(route.ports(0).host_port(), 18080u);
  for (const auto& c : route.candidates()) {
    EXPECT_EQ(c.published_ports_size(), c.name() == "e1" ? 1 : 0) << c.name();
  }
}

// docker-compose makes a project's network before its containers: the network lands on some
// host before a constraint says where the project runs. Unused, it follows the first
// container; used, it holds the next ones.
TEST(SwarmRules, AnUnusedNetworkFollowsItsFirstContainerAndThenHoldsTheNext) {
  FlockHarness f;
  unused_network_on_e1(f);
  decide_by_rules(f);
  auto on = [](const std::string& node) {
    return R"({"Image":"img","Env":["constraint:node==)" + node +
           R"("],"HostConfig":{"NetworkMode":"proj_default"},"NetworkingConfig":{"EndpointsConfig":{"proj_default":{}}}})";
  };
  auto res = f.request("POST", "/v1.41/containers/create?name=first", on("e2"));
  ASSERT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(created_on(f), "e2");
  EXPECT_TRUE(f.e2.has_network("proj_default"));
  EXPECT_FALSE(f.e1.has_network("proj_default")) << "moved, not copied";
  auto route = last_route(f);
  ASSERT_GE(route.requirements_size(), 1);
  EXPECT_TRUE(route.requirements(0).follows());
  EXPECT_EQ(route.requirements(0).hosts(0), "e1");

  // Now it has a container: the next create that names it goes to it, or nowhere.
  res = f.request("POST", "/v1.41/containers/create?name=second", on("e3"));
  EXPECT_EQ(res.result_int(), 409) << res.body();  // the decider's FAILED_PRECONDITION
  EXPECT_FALSE(f.e3.has_network("proj_default"));
  route = last_route(f);
  ASSERT_GE(route.requirements_size(), 1);
  EXPECT_FALSE(route.requirements(0).follows());
  EXPECT_EQ(route.candidates_size(), 1);
  res = f.request("POST", "/v1.41/containers/create?name=third", on("e2"));
  EXPECT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(f.e2.requests("/containers/create").size(), 2u);
}

// docker-compose creates a project's containers in parallel: the creates that may move one
// network are decided one at a time, so they all land where the first one took it.
TEST(SwarmRules, ParallelCreatesNamingAnUnusedNetworkAllLandWhereItWent) {
  FlockHarness f;
  unused_network_on_e1(f);
  std::atomic<int> turn{1};
  f.decider.on_route = [&](const v1::RouteRequest& req, v1::RouteResponse& resp) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a slow decider widens any race
    resp.add_hosts(req.candidates(turn++ % req.candidates_size()).name());
    return grpc::Status::OK;
  };
  std::vector<std::thread> clients;
  std::vector<unsigned> statuses(4);
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    clients.emplace_back([&, i] {
      statuses[i] = f.request("POST", "/v1.41/containers/create",
                              R"({"Image":"img","HostConfig":{"NetworkMode":"proj_default"}})")
                        .result_int();
    });
  }
  for (auto& t : clients) t.join();
  for (auto s : statuses) EXPECT_EQ(s, 201u);
  int holders = 0;
  std::size_t creates = 0;
  for (auto* e : {&f.e1, &f.e2, &f.e3}) {
    if (!e->has_network("proj_default")) continue;
    ++holders;
    creates = e->requests("/containers/create").size();
  }
  EXPECT_EQ(holders, 1);
  EXPECT_EQ(creates, 4u) << "every container where the network is";
}

// Objects that refer to each other land together: a container goes where the containers,
// volumes and networks its create body names are; volumes and networks live on one host; a
// decider cannot place a container away from what it needs; conflicts are refused whole.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The engines that received a container create.
std::vector<std::string> creates_on(FlockHarness& f) {
  std::vector<std::string> out;
  for (auto* e : {&f.e1, &f.e2, &f.e3}) {
    for (std::size_t i = 0; i < e->requests("/containers/create").size(); ++i) out.push_back(e->name());
  }
  return out;
}

v1::RouteRequest last_route(FlockHarness& f) {
  std::lock_guard lock(f.decider.mu);
  return f.decider.routes.empty() ? v1::RouteRequest() : f.decider.routes.back();
}

std::size_t route_count(FlockHarness& f) {
  std::lock_guard lock(f.decider.mu);
  return f.decider.routes.size();
}

std::vector<std::string> candidate_names(const v1::RouteRequest& r) {
  std::vector<std::string> out;
  for (const auto& c : r.candidates()) out.push_back(c.name());
  return out;
}

// Every engine has the image, so that placement alone is tested.
void image_everywhere(FlockHarness& f, const std::string& image = "img:latest") {
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->add_image(image);
  ASSERT_TRUE(FlockHarness::eventually([&] {
    return f.knows_image("e1", image) && f.knows_image("e2", image) && f.knows_image("e3", image);
  }));
}

}  // namespace

TEST(Relations, AContainerGoesWhereTheContainerItSharesWithIs) {
  struct Case {
    const char* field;  // the requirement's referred_by
    std::string body;
  };
  const std::vector<Case> cases{
      {"HostConfig.VolumesFrom", R"({"Image":"img","HostConfig":{"VolumesFrom":["data:ro"]}})"},
      {"HostConfig.Links", R"({"Image":"img","HostConfig":{"Links":["/data:/app/db"]}})"},
      {"HostConfig.NetworkMode", R"({"Image":"img","HostConfig":{"NetworkMode":"container:data"}})"},
      {"HostConfig.PidMode", R"({"Image":"img","HostConfig":{"PidMode":"container:data"}})"},
      {"HostConfig.IpcMode", R"({"Image":"img","hostconfig":{"ipcmode":"container:data"}})"},  // Go reads keys in any case
  };
  FlockHarness f;
  image_everywhere(f);
  const std::string id = f.e2.add_container("data", "img", 1);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.the_flock->model.snapshot()->container_by_name("data").has_value(); }));
  for (const auto& c : cases) {
    for (int i = 0; i < 10; ++i) {  // round-robin would put 2 of 3 elsewhere
      auto res = f.request("POST", "/v1.41/containers/create", c.body);
      ASSERT_EQ(res.result_int(), 201) << c.field << ": " << res.body();
    }
    auto route = last_route(f);
    EXPECT_EQ(candidate_names(route), std::vector<std::string>{"e2"}) << c.field;
    ASSERT_EQ(route.requirements_size(), 1) << c.field;
    const auto& r = route.requirements(0);
    EXPECT_EQ(r.kind(), v1::REQUIREMENT_KIND_CONTAINER);
    EXPECT_EQ(r.object(), "data");
    EXPECT_EQ(r.object_id(), id);
    EXPECT_EQ(r.referred_by(), c.field);
    EXPECT_EQ(std::vector<std::string>(r.hosts().begin(), r.hosts().end()), std::vector<std::string>{"e2"});
  }
  EXPECT_EQ(creates_on(f), std::vector<std::string>(50, "e2"));
}

TEST(Relations, ANamedVolumeKeepsItsContainersOnItsHost) {
  FlockHarness f;
  image_everywhere(f);
  f.e3.add_volume("v");
  ASSERT_TRUE(FlockHarness::eventually([&] { return !f.the_flock->model.snapshot()->volume_holders("v").empty(); }));
  for (int i = 0; i < 6; ++i) {
    const std::string body = i % 2 ? R"({"Image":"img","HostConfig":{"Mounts":[{"Type":"volume","Source":"v","Target":"/d"}]}})"
                                   : R"({"Image":"img","HostConfig":{"Binds":["v:/data:rw"]}})";
    auto res = f.request("POST", "/v1.41/containers/create", body);
    ASSERT_EQ(res.result_int(), 201) << res.body();
  }
  EXPECT_EQ(creates_on(f), std::vector<std::string>(6, "e3"));
  auto route = last_route(f);
  ASSERT_EQ(route.requirements_size(), 1);
  EXPECT_EQ(route.requirements(0).kind(), v1::REQUIREMENT_KIND_VOLUME);
  EXPECT_EQ(route.requirements(0).referred_by(), "HostConfig.Mounts");
  // Host paths and anonymous volumes are no requirement.
  auto free = f.request("POST", "/v1.41/containers/create", R"({"Image":"img","HostConfig":{"Binds":[":/anon"]},"Volumes":{"/x":{}}})");
  EXPECT_EQ(free.result_int(), 201) << free.body();
  EXPECT_EQ(last_route(f).candidates_size(), 3);
}

TEST(Relations, AVolumeDockerCreatesForAContainerIsKnownWhereItWentAtOnce) {
  FlockHarness f;
  image_everywhere(f);
  auto first = f.request("POST", "/v1.41/containers/create?name=writer", R"({"Image":"img","HostConfig":{"Binds":["fresh:/data"]}})");
  ASSERT_EQ(first.result_int(), 201) << first.body();
  ASSERT_EQ(creates_on(f).size(), 1u);
  const std::string where = creates_on(f)[0];
  // At once: no event needed (read-your-writes), so the reader lands with the data.
  auto second = f.request("POST", "/v1.41/containers/create?name=reader", R"({"Image":"img","HostConfig":{"Binds":["fresh:/data:ro"]}})");
  ASSERT_EQ(second.result_int(), 201) << second.body();
  EXPECT_EQ(creates_on(f), std::vector<std::string>(2, where));
}

TEST(Relations, AUserNetworkKeepsItsContainersTogetherThePredefinedOnesConstrainNothing) {
  FlockHarness f;
  image_everywhere(f);
  const std::string net_id = f.e1.add_network("appnet");
  ASSERT_TRUE(FlockHarness::eventually([&] { return !f.the_flock->model.snapshot()->network_holders("appnet").empty(); }));
  const std::vector<std::string> bodies{
      R"({"Image":"img","HostConfig":{"NetworkMode":"appnet"}})",
      R"({"Image":"img","NetworkingConfig":{"EndpointsConfig":{"appnet":{"Aliases":["web"]}}}})",
      R"({"Image":"img","HostConfig":{"NetworkMode":")" + net_id.substr(0, 12) + R"("}})"};
  for (const auto& body : bodies) {
    auto res = f.request("POST", "/v1.41/containers/create", body);
    ASSERT_EQ(res.result_int(), 201) << body << ": " << res.body();
    auto route = last_route(f);
    ASSERT_EQ(route.requirements_size(), 1) << body;
    EXPECT_EQ(route.requirements(0).kind(), v1::REQUIREMENT_KIND_NETWORK);
    EXPECT_EQ(route.requirements(0).object_id(), net_id);
  }
  EXPECT_EQ(creates_on(f), std::vector<std::string>(3, "e1"));
  for (const char* mode : {"bridge", "host", "none", "default"}) {
    auto res = f.request("POST", "/v1.41/containers/create",
                         std::string(R"({"Image":"img","HostConfig":{"NetworkMode":")") + mode + R"("}})");
    EXPECT_EQ(res.result_int(), 201) << mode << ": " << res.body();
    EXPECT_EQ(last_route(f).candidates_size(), 3) << mode;
    EXPECT_EQ(last_route(f).requirements_size(), 0) << mode;
  }
}

TEST(Relations, WhatNoSingleHostHoldsIsRefusedNamingEachObjectAndNothingIsCreated) {
  FlockHarness f;
  image_everywhere(f);
  f.e1.add_container("data", "img", 1);
  // A macvlan network: local, and (unlike an unused bridge network) it never follows.
  f.e2.add_network("backend", "macvlan");
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto m = f.the_flock->model.snapshot();
    return m->container_by_name("data") && !m->network_holders("backend").empty();
  }));
  const auto routes = route_count(f);
  auto res = f.request("POST", "/v1.41/containers/create",
                       R"({"Image":"img","HostConfig":{"VolumesFrom":["data"],"NetworkMode":"backend"}})");
  EXPECT_EQ(res.result_int(), 409) << res.body();
  EXPECT_TRUE(contains(res.body(), R"(container \"data\" (HostConfig.VolumesFrom) is on host e1)")) << res.body();
  EXPECT_TRUE(contains(res.body(), R"(network \"backend\" (HostConfig.NetworkMode) is on host e2)")) << res.body();
  EXPECT_TRUE(creates_on(f).empty());
  EXPECT_EQ(route_count(f), routes) << "nothing to decide";
}

TEST(Relations, ADeciderAnswerOutsideTheCandidatesIsAnErrorNeverACreate) {
  FlockHarness f;
  image_everywhere(f);
  f.e2.add_container("data", "img", 1);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.the_flock->model.snapshot()->container_by_name("data").has_value(); }));
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts("e1");  // a decider that ignores the candidates
    return grpc::Status::OK;
  };
  auto res = f.request("POST", "/v1.41/containers/create", R"({"Image":"img","HostConfig":{"VolumesFrom":["data"]}})");
  EXPECT_EQ(res.result_int(), 503) << res.body();
  EXPECT_TRUE(contains(res.body(), "the decider chose host 'e1', which does not hold what this container needs")) << res.body();
  EXPECT_TRUE(contains(res.body(), R"(container \"data\" (HostConfig.VolumesFrom) is on host e2)")) << res.body();
  EXPECT_TRUE(creates_on(f).empty());
}

TEST(Relations, AContainerWhoseNeedsAreOnAnUnhealthyHostIsRefusedNotPlacedElsewhere) {
  FlockHarness f;
  image_everywhere(f);
  f.e2.add_volume("v");
  ASSERT_TRUE(FlockHarness::eventually([&] { return !f.the_flock->model.snapshot()->volume_holders("v").empty(); }));
  f.e2.stop();
  ASSERT_TRUE(f.wait_healthy(2));
  auto res = f.request("POST", "/v1.41/containers/create", R"({"Image":"img","HostConfig":{"Binds":["v:/data"]}})");
  EXPECT_EQ(res.result_int(), 503) << res.body();
  EXPECT_TRUE(contains(res.body(), R"(volume \"v\" (HostConfig.Binds) is on host e2)")) << res.body();
  EXPECT_TRUE(creates_on(f).empty()) << "an empty volume elsewhere would lose the data";
}

TEST(Relations, NetworkConnectGoesToTheContainersHostAndAnUnusedNetworkFollows) {
  FlockHarness f;
  f.e1.add_container("web", "img", 1);
  f.e2.add_network("backend");
  f.e1.add_network("front");
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto m = f.the_flock->model.snapshot();
    return m->container_by_name("web") && !m->network_holders("backend").empty() && !m->network_holders("front").empty();
  }));
  // backend is on e2 and no container uses it: it follows web to e1, as on a create
  // (one a container uses is refused: OverTime.NetworkConnectMovesAnUnusedNetworkToTheContainer).
  auto across = f.request("POST", "/v1.41/networks/backend/connect", R"({"Container":"web"})");
  EXPECT_EQ(across.result_int(), 200) << across.body();
  EXPECT_TRUE(f.e1.has_network("backend"));
  EXPECT_FALSE(f.e2.has_network("backend"));
  auto here = f.request("POST", "/v1.41/networks/front/connect", R"({"Container":"web"})");
  EXPECT_EQ(here.result_int(), 200) << here.body();
  EXPECT_EQ(f.e1.requests("/networks/front/connect").size(), 1u);
  auto bridge = f.request("POST", "/v1.41/networks/bridge/connect", R"({"Container":"web"})");
  EXPECT_EQ(bridge.result_int(), 200) << bridge.body();
}

TEST(Relations, ALocalVolumeOrNetworkIsCreatedOnOneHostAndItsNameGoesThereAfter) {
  FlockHarness f;
  auto made = f.request("POST", "/v1.41/volumes/create", R"({"Name":"v1"})");
  ASSERT_EQ(made.result_int(), 201) << made.body();
  auto route = last_route(f);
  EXPECT_EQ(route.kind(), v1::OPERATION_KIND_VOLUME_CREATE);
  EXPECT_EQ(route.scope(), v1::OBJECT_SCOPE_LOCAL);
  int holders = f.e1.has_volume("v1") + f.e2.has_volume("v1") + f.e3.has_volume("v1");
  EXPECT_EQ(holders, 1);
  // The same name again: to its host, as one engine answers it (no second volume).
  const auto routes = route_count(f);
  EXPECT_EQ(f.request("POST", "/v1.41/volumes/create", R"({"Name":"v1"})").result_int(), 201);
  EXPECT_EQ(route_count(f), routes);
  holders = f.e1.has_volume("v1") + f.e2.has_volume("v1") + f.e3.has_volume("v1");
  EXPECT_EQ(holders, 1);

  auto net = f.request("POST", "/v1.41/networks/create", R"({"Name":"n1","CheckDuplicate":true})");
  ASSERT_EQ(net.result_int(), 201) << net.body();
  EXPECT_EQ(last_route(f).scope(), v1::OBJECT_SCOPE_LOCAL);
  EXPECT_EQ(f.e1.has_network("n1") + f.e2.has_network("n1") + f.e3.has_network("n1"), 1);
  auto again = f.request("POST", "/v1.41/networks/create", R"({"Name":"n1","CheckDuplicate":true})");
  EXPECT_EQ(again.result_int(), 409) << "docker's own answer, from the network's host: " << again.body();
  EXPECT_TRUE(contains(again.body(), "network with name n1 already exists")) << again.body();
  // Inspect and remove by name reach its host.
  EXPECT_EQ(f.request("GET", "/v1.41/networks/n1").result_int(), 200);
  EXPECT_EQ(f.request("DELETE", "/v1.41/networks/n1").result_int(), 204);
  EXPECT_EQ(f.e1.has_network("n1") + f.e2.has_network("n1") + f.e3.has_network("n1"), 0);
  EXPECT_EQ(f.request("GET", "/v1.41/networks/n1").result_int(), 404);

  // A decider answering several hosts for something that lives on one: refused.
  f.decider.on_route = [](const v1::RouteRequest& req, v1::RouteResponse& resp) {
    for (const auto& c : req.candidates()) resp.add_hosts(c.name());
    return grpc::Status::OK;
  };
  auto spread = f.request("POST", "/v1.41/volumes/create", R"({"Name":"v2"})");
  EXPECT_EQ(spread.result_int(), 503) << spread.body();
  EXPECT_TRUE(contains(spread.body(), "the decider chose 3 hosts for a volume that lives on one host")) << spread.body();
  EXPECT_EQ(f.e1.has_volume("v2") + f.e2.has_volume("v2") + f.e3.has_volume("v2"), 0);
}

TEST(Relations, PluginLookupsAnswerLikeAnEngineWithoutThatPlugin) {
  FlockHarness f;
  auto missing = f.request("GET", "/v1.41/plugins/no-such-name/json");
  EXPECT_EQ(missing.result_int(), 404) << missing.body();
  EXPECT_TRUE(contains(missing.body(), R"(plugin \"no-such-name\" not found)")) << missing.body();
  auto list = f.request("GET", "/v1.41/plugins");
  EXPECT_EQ(list.result_int(), 200);
  EXPECT_EQ(list.body(), "[]");
  EXPECT_EQ(f.request("POST", "/v1.41/plugins/pull?remote=x").result_int(), 403);  // installing
  auto enable = f.request("POST", "/v1.41/plugins/no-such-name/enable?timeout=1");
  EXPECT_EQ(enable.result_int(), 404) << "an engine without it answers: " << enable.body();
}

TEST(Relations, AHostBackFromAnOutageIsListedAgainBeforeItsAbsencesAreTrusted) {
  FlockHarness f;
  auto synced = [&](const char* host) {
    const auto* h = f.the_flock->model.snapshot()->host(host);
    return h && h->synced;
  };
  ASSERT_TRUE(FlockHarness::eventually([&] { return synced("e2"); }));
  f.e2.stop();
  ASSERT_TRUE(FlockHarness::eventually([&] { return !synced("e2"); })) << "a lost stream: not trusted";
  // Changed while the proxy could not hear it (no stream: the events are lost to it).
  f.e2.add_volume("while-away");
  f.e2.add_container("arrived", "img", 9);
  f.e2.start();
  ASSERT_TRUE(f.wait_healthy(3));
  ASSERT_TRUE(FlockHarness::eventually([&] { return synced("e2"); }));
  auto model = f.the_flock->model.snapshot();
  EXPECT_EQ(model->volume_holders("while-away"), std::vector<std::string>{"e2"});
  ASSERT_TRUE(model->container_by_name("arrived"));
  EXPECT_EQ(model->container_by_name("arrived")->host, "e2");
}

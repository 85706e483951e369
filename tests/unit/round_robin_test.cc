#include "round_robin_decider.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

using namespace flocker::decider;
namespace v1 = flocker::v1;

namespace {

std::vector<HostEntry> three_hosts() {
  return parse_hosts_flag("tcp://h:1,tcp://h:2,tcp://h:3");  // names h:1, h:2, h:3
}

v1::RouteRequest request(v1::OperationKind kind, std::vector<std::pair<std::string, bool>> cands) {
  v1::RouteRequest req;
  req.set_kind(kind);
  req.set_request_id("test");
  for (auto& [name, healthy] : cands) {
    auto* c = req.add_candidates();
    c->set_name(name);
    c->set_healthy(healthy);
  }
  return req;
}

std::vector<std::string> hosts_of(const v1::RouteResponse& resp) {
  return {resp.hosts().begin(), resp.hosts().end()};
}

std::vector<std::string> route(RoundRobinDecider& d, const v1::RouteRequest& req) {
  v1::RouteResponse resp;
  auto status = d.decide(req, resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return hosts_of(resp);
}

}  // namespace

TEST(RoundRobin, CreatesSpreadEvenlyOverHealthyCandidates) {
  RoundRobinDecider d(three_hosts());
  auto req = request(v1::OPERATION_KIND_CONTAINER_CREATE, {{"h:1", true}, {"h:2", true}, {"h:3", true}});
  std::map<std::string, int> count;
  for (int i = 0; i < 6; ++i) {
    auto chosen = route(d, req);
    ASSERT_EQ(chosen.size(), 1u);
    ++count[chosen[0]];
  }
  EXPECT_EQ(count, (std::map<std::string, int>{{"h:1", 2}, {"h:2", 2}, {"h:3", 2}}));
}

TEST(RoundRobin, SkipsUnhealthyHosts) {
  RoundRobinDecider d(three_hosts());
  auto req = request(v1::OPERATION_KIND_IMAGE_BUILD, {{"h:1", true}, {"h:2", false}, {"h:3", true}});
  for (int i = 0; i < 10; ++i) EXPECT_NE(route(d, req).at(0), "h:2");
  v1::RouteResponse resp;
  auto none = request(v1::OPERATION_KIND_CONTAINER_CREATE, {{"h:1", false}});
  EXPECT_EQ(d.decide(none, resp).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(RoundRobin, WithoutCandidatesUsesItsOwnInventory) {
  RoundRobinDecider d(three_hosts());
  auto req = request(v1::OPERATION_KIND_CONTAINER_CREATE, {});
  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) seen.insert(route(d, req).at(0));
  EXPECT_EQ(seen.size(), 3u);
}

TEST(RoundRobin, PullHonoursThePinnedHost) {
  RoundRobinDecider d(three_hosts());
  auto req = request(v1::OPERATION_KIND_IMAGE_PULL, {{"h:1", true}, {"h:2", true}, {"h:3", true}});
  req.set_pinned_host("h:2");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(route(d, req), (std::vector<std::string>{"h:2"}));
}

TEST(RoundRobin, RetriedCreateHonoursThePinnedHostWithoutSpendingATurn) {
  RoundRobinDecider d(three_hosts());
  auto create = request(v1::OPERATION_KIND_CONTAINER_CREATE, {{"h:1", true}, {"h:2", true}, {"h:3", true}});
  EXPECT_EQ(route(d, create).at(0), "h:1");
  auto pinned = create;
  pinned.set_pinned_host("h:1");
  EXPECT_EQ(route(d, pinned).at(0), "h:1");
  EXPECT_EQ(route(d, create).at(0), "h:2");  // the pinned create did not advance the turn
}

TEST(RoundRobin, PinnedButUnhealthyFallsBack) {
  RoundRobinDecider d(three_hosts());
  auto req = request(v1::OPERATION_KIND_IMAGE_PULL, {{"h:1", true}, {"h:2", false}, {"h:3", true}});
  req.set_pinned_host("h:2");
  EXPECT_EQ(route(d, req), (std::vector<std::string>{"h:1", "h:3"}));
}

TEST(RoundRobin, PullWithoutHintGoesEverywhereOrToOne) {
  auto req = request(v1::OPERATION_KIND_IMAGE_PULL, {{"h:1", true}, {"h:2", false}, {"h:3", true}});
  RoundRobinDecider all(three_hosts());
  EXPECT_EQ(route(all, req), (std::vector<std::string>{"h:1", "h:3"}));
  RoundRobinDecider one(three_hosts(), PullPlacement::kOne);
  EXPECT_EQ(route(one, req), (std::vector<std::string>{"h:1"}));
  EXPECT_EQ(route(one, req), (std::vector<std::string>{"h:3"}));
}

TEST(RoundRobin, SharedVolumesAndNetworksGoToEveryHealthyHost) {
  RoundRobinDecider d(three_hosts());
  for (auto kind : {v1::OPERATION_KIND_VOLUME_CREATE, v1::OPERATION_KIND_NETWORK_CREATE}) {
    for (auto scope : {v1::OBJECT_SCOPE_SHARED, v1::OBJECT_SCOPE_UNSPECIFIED}) {  // (an older proxy)
      auto req = request(kind, {{"h:1", true}, {"h:2", true}, {"h:3", false}});
      req.set_scope(scope);
      EXPECT_EQ(route(d, req), (std::vector<std::string>{"h:1", "h:2"}));
    }
  }
}

TEST(RoundRobin, LocalVolumesAndNetworksGoToOneHostInTurn) {
  RoundRobinDecider d(three_hosts());
  std::map<std::string, int> count;
  for (int i = 0; i < 6; ++i) {
    auto req = request(i % 2 ? v1::OPERATION_KIND_VOLUME_CREATE : v1::OPERATION_KIND_NETWORK_CREATE,
                       {{"h:1", true}, {"h:2", true}, {"h:3", true}});
    req.set_scope(v1::OBJECT_SCOPE_LOCAL);
    auto chosen = route(d, req);
    ASSERT_EQ(chosen.size(), 1u);
    ++count[chosen[0]];
  }
  EXPECT_EQ(count, (std::map<std::string, int>{{"h:1", 2}, {"h:2", 2}, {"h:3", 2}}));
}

TEST(RoundRobin, RefusesAnUnspecifiedKind) {
  RoundRobinDecider d(three_hosts());
  v1::RouteResponse resp;
  EXPECT_EQ(d.decide(request(v1::OPERATION_KIND_UNSPECIFIED, {{"h:1", true}}), resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(RoundRobin, SetHostsReplacesTheInventory) {
  RoundRobinDecider d(three_hosts());
  auto before = d.hosts();
  d.set_hosts(parse_hosts_flag("tcp://x:9"));
  EXPECT_EQ(before->size(), 3u);  // a call in flight keeps its snapshot
  ASSERT_EQ(d.hosts()->size(), 1u);
  EXPECT_EQ(route(d, request(v1::OPERATION_KIND_CONTAINER_CREATE, {})).at(0), "x:9");
}

// A SIGHUP reload replaces the hosts while calls are being answered: every call must walk
// the snapshot it started with (ASan, in the sanitizer run, sees a walk of a freed one).
TEST(RoundRobin, CallsKeepTheirSnapshotWhileAReloadReplacesIt) {
  RoundRobinDecider d(three_hosts());
  std::atomic<bool> stop{false};
  std::thread reloader([&] {
    for (int i = 0; !stop; ++i) {
      d.set_hosts(parse_hosts_flag(i % 2 ? "tcp://a:1,tcp://a:2" : "tcp://b:1"));
    }
  });
  for (int i = 0; i < 20000; ++i) {
    grpc::ServerContext ctx;
    v1::ListResponse listed;
    ASSERT_TRUE(d.List(ctx, {}, listed).ok());
    EXPECT_GE(listed.hosts_size(), 1);
    EXPECT_EQ(route(d, request(v1::OPERATION_KIND_CONTAINER_CREATE, {})).size(), 1u);
  }
  stop = true;
  reloader.join();
}

TEST(RoundRobin, SwarmRulesNarrowTheCandidatesFirst) {
  RoundRobinDecider d(three_hosts());
  auto req = request(v1::OPERATION_KIND_CONTAINER_CREATE, {{"h:1", true}, {"h:2", true}, {"h:3", true}});
  (*req.mutable_candidates(1)->mutable_labels())["disk"] = "ssd";
  auto* c = req.add_constraints();
  c->set_key("disk");
  c->set_op(v1::MATCH_OPERATOR_EQUAL);
  c->set_value("ssd");
  c->set_kind(v1::VALUE_KIND_PLAIN);
  c->set_expression("disk==ssd");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(route(d, req), (std::vector<std::string>{"h:2"}));
  c->set_value("nvme");
  c->set_expression("disk==nvme");
  v1::RouteResponse resp;
  auto status = d.decide(req, resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "unable to find a host that satisfies the following conditions: constraint:disk==nvme");
}

TEST(RoundRobin, StrategiesSpreadBinpackAndRandom) {
  auto req = request(v1::OPERATION_KIND_CONTAINER_CREATE, {{"h:1", true}, {"h:2", true}, {"h:3", true}});
  for (int i = 0; i < 3; ++i) {
    auto* c = req.mutable_candidates(i);
    c->set_ncpu(4);
    c->set_mem_total_bytes(1000);
    c->set_containers_total(i == 2 ? 1 : 5);  // h:3 holds the fewest
    c->set_reserved_memory_bytes(i == 0 ? 800 : 100);  // h:1 is the fullest
  }
  RoundRobinDecider spread(three_hosts(), PullPlacement::kAll, Strategy::kSpread);
  EXPECT_EQ(route(spread, req), (std::vector<std::string>{"h:3"}));
  RoundRobinDecider binpack(three_hosts(), PullPlacement::kAll, Strategy::kBinpack);
  EXPECT_EQ(route(binpack, req), (std::vector<std::string>{"h:1"}));
  RoundRobinDecider random(three_hosts(), PullPlacement::kAll, Strategy::kRandom);
  std::set<std::string> seen;
  for (int i = 0; i < 60; ++i) seen.insert(route(random, req).at(0));
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_FALSE(strategy_from_name("clever"));
  EXPECT_EQ(strategy_from_name("binpack"), Strategy::kBinpack);
}

// The reference matching of Swarm classic's rules against candidates (flocker/sdk/placement.h).
#include <flocker/sdk/placement.h>
#include <gtest/gtest.h>

using namespace flocker;
namespace v1 = flocker::v1;

namespace {

v1::RouteRequest three_hosts() {
  v1::RouteRequest req;
  req.set_kind(v1::OPERATION_KIND_CONTAINER_CREATE);
  const char* zones[] = {"a", "b", "a"};
  const char* disks[] = {"hdd", "ssd", "ssd"};
  for (int i = 0; i < 3; ++i) {
    auto* c = req.add_candidates();
    c->set_name("e" + std::to_string(i + 1));
    c->set_healthy(true);
    (*c->mutable_labels())["zone"] = zones[i];
    (*c->mutable_labels())["disk"] = disks[i];
    (*c->mutable_facts())["node"] = c->name();
    (*c->mutable_facts())["storagedriver"] = i == 2 ? "overlay2" : "vfs";
  }
  return req;
}

void constraint(v1::RouteRequest& req, const std::string& key, bool equal, const std::string& value,
                v1::ValueKind kind = v1::VALUE_KIND_PLAIN, bool soft = false) {
  auto* c = req.add_constraints();
  c->set_key(key);
  c->set_op(equal ? v1::MATCH_OPERATOR_EQUAL : v1::MATCH_OPERATOR_NOT_EQUAL);
  c->set_value(value);
  c->set_kind(kind);
  c->set_soft(soft);
  c->set_expression(key + (equal ? "==" : "!=") + (soft ? "~" : "") + value);
}

std::vector<std::string> names(const sdk::Placement& p) {
  std::vector<std::string> out;
  for (const auto* c : p.hosts) out.push_back(c->name());
  return out;
}

}  // namespace

TEST(PlacementRules, ValuesPlainGlobRegex) {
  EXPECT_TRUE(sdk::value_matches(v1::VALUE_KIND_PLAIN, "ssd", "ssd"));
  EXPECT_FALSE(sdk::value_matches(v1::VALUE_KIND_PLAIN, "s.d", "ssd"));
  EXPECT_TRUE(sdk::value_matches(v1::VALUE_KIND_GLOB, "flock-e*", "flock-e12"));
  EXPECT_TRUE(sdk::value_matches(v1::VALUE_KIND_GLOB, "e?", "e3"));
  EXPECT_FALSE(sdk::value_matches(v1::VALUE_KIND_GLOB, "e?", "e33"));
  EXPECT_TRUE(sdk::value_matches(v1::VALUE_KIND_GLOB, "*a*b*", "xxaxxbxx"));
  EXPECT_TRUE(sdk::value_matches(v1::VALUE_KIND_REGEX, "ss|nv", "nvme"));
  EXPECT_FALSE(sdk::value_matches(v1::VALUE_KIND_REGEX, "^ssd$", "ssd2"));
  EXPECT_FALSE(sdk::value_matches(v1::VALUE_KIND_REGEX, "[", "x")) << "an invalid pattern matches nothing";
}

TEST(PlacementRules, HardConstraintsAffinitiesAndPortsNarrowSoftOnesPrefer) {
  auto req = three_hosts();
  constraint(req, "zone", true, "a");
  EXPECT_EQ(names(sdk::apply_rules(req)), (std::vector<std::string>{"e1", "e3"}));
  constraint(req, "disk", true, "ssd", v1::VALUE_KIND_PLAIN, /*soft=*/true);
  EXPECT_EQ(names(sdk::apply_rules(req)), (std::vector<std::string>{"e3"}));
  constraint(req, "storagedriver", true, "nope", v1::VALUE_KIND_PLAIN, /*soft=*/true);
  EXPECT_EQ(names(sdk::apply_rules(req)), (std::vector<std::string>{"e3"})) << "an unsatisfiable soft rule is dropped";
  auto* a = req.add_affinities();
  a->set_key("container");
  a->set_op(v1::MATCH_OPERATOR_NOT_EQUAL);
  a->add_hosts("e3");
  a->set_expression("container!=db");
  EXPECT_EQ(names(sdk::apply_rules(req)), (std::vector<std::string>{"e1"})) << "away from db, then soft ssd dropped";
}

TEST(PlacementRules, NodeAndMissingLabelsAndPorts) {
  auto req = three_hosts();
  constraint(req, "node", false, "e1");
  constraint(req, "rack", false, "r1");  // no host has a rack: != holds everywhere
  EXPECT_EQ(names(sdk::apply_rules(req)), (std::vector<std::string>{"e2", "e3"}));
  auto* want = req.add_ports();
  want->set_host_port(18080);
  want->set_protocol("tcp");
  auto* used = req.mutable_candidates(1)->add_published_ports();
  used->set_host_ip("0.0.0.0");
  used->set_host_port(18080);
  used->set_protocol("tcp");
  auto* other = req.mutable_candidates(2)->add_published_ports();
  other->set_host_port(18080);
  other->set_protocol("udp");  // another protocol: no conflict
  EXPECT_EQ(names(sdk::apply_rules(req)), (std::vector<std::string>{"e3"}));
}

TEST(PlacementRules, UnsatisfiableHardRulesAreListed) {
  auto req = three_hosts();
  constraint(req, "zone", true, "z");
  constraint(req, "disk", true, "nvme*", v1::VALUE_KIND_GLOB);
  auto p = sdk::apply_rules(req);
  EXPECT_TRUE(p.hosts.empty());
  EXPECT_EQ(p.unmet, (std::vector<std::string>{"constraint:zone==z", "constraint:disk==nvme*"}));
}

TEST(PlacementRules, AnUnusedNetworkStaysWhereItIsWhenTheRulesAllow) {
  auto req = three_hosts();
  auto* r = req.add_requirements();
  r->set_kind(v1::REQUIREMENT_KIND_NETWORK);
  r->set_object("appnet");
  r->add_hosts("e2");
  r->set_follows(true);
  auto left = sdk::apply_rules(req).hosts;
  auto kept = sdk::keep_followed_in_place(req, left);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]->name(), "e2") << "the network's host, so that it keeps its ID";
  // A constraint that leaves its host out: the network has to move, every host left stays.
  constraint(req, "zone", true, "a");
  left = sdk::apply_rules(req).hosts;
  kept = sdk::keep_followed_in_place(req, left);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0]->name(), "e1");
  EXPECT_EQ(kept[1]->name(), "e3");
  // A requirement that does not follow (a network in use) is the proxy's to enforce.
  r->set_follows(false);
  EXPECT_EQ(sdk::keep_followed_in_place(req, left).size(), 2u);
}

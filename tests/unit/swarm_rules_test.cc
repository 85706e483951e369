// Swarm classic's placement language as the proxy reads it from a create body.
#include <gtest/gtest.h>

#include "docker/swarm_rules.h"

using namespace flocker::docker;
using Kind = SwarmRule::Kind;

TEST(SwarmRules, EveryOperatorKindAndSoftness) {
  struct Case {
    std::string expr, key, value;
    bool equal, soft;
    Kind kind;
  };
  const std::vector<Case> cases{
      {"zone==a", "zone", "a", true, false, Kind::kPlain},
      {"Zone!=b", "zone", "b", false, false, Kind::kPlain},
      {"disk==~ssd", "disk", "ssd", true, true, Kind::kPlain},
      {"disk!=~hdd", "disk", "hdd", false, true, Kind::kPlain},
      {"node==flock-e*", "node", "flock-e*", true, false, Kind::kGlob},
      {"storagedriver==v?s", "storagedriver", "v?s", true, false, Kind::kGlob},
      {"kernelversion==/^6\\.1[0-9]/", "kernelversion", "^6\\.1[0-9]", true, false, Kind::kRegex},
      {"com.example.rack!=~/r[12]/", "com.example.rack", "r[12]", false, true, Kind::kRegex},
      {"zone==a==b", "zone", "a==b", true, false, Kind::kPlain},  // the first operator splits
  };
  for (const auto& c : cases) {
    std::string why;
    auto r = parse_swarm_rule(c.expr, why);
    ASSERT_TRUE(r) << c.expr << ": " << why;
    EXPECT_EQ(r->key, c.key) << c.expr;
    EXPECT_EQ(r->value, c.value) << c.expr;
    EXPECT_EQ(r->equal, c.equal) << c.expr;
    EXPECT_EQ(r->soft, c.soft) << c.expr;
    EXPECT_EQ(r->kind, c.kind) << c.expr;
    EXPECT_EQ(r->expression, c.expr);
  }
}

TEST(SwarmRules, MalformedExpressionsSayWhy) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"zone=a", "one of the operators ==, != is expected"},
      {"zone", "one of the operators ==, != is expected"},
      {"==a", "is not a name"},
      {"1zone==a", "is not a name"},
      {"zo ne==a", "is not a name"},
      {"zone==", "a value is expected"},
      {"zone==~", "a value is expected"},
      {"zone==/[/", "does not compile"},
  };
  for (const auto& [expr, says] : cases) {
    std::string why;
    EXPECT_FALSE(parse_swarm_rule(expr, why)) << expr;
    EXPECT_NE(why.find(says), std::string::npos) << expr << ": " << why;
  }
}

TEST(SwarmRules, FromEnvAndLabelsEnvTakenOutLabelsKept) {
  auto rules = swarm_rules(R"({
    "Image": "busybox",
    "Env": ["A=1", "constraint:zone==a", "affinity:container==db", "B=constraint:not-a-rule"],
    "Labels": {"com.docker.swarm.constraints": "[\"disk==~ssd\"]",
               "com.docker.swarm.affinities": "[\"image!=legacy*\"]", "keep": "me"},
    "HostConfig": {"Memory": 9223372036854775807,
                   "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "18080"}],
                                    "53/udp": [{"HostIp": "198.18.0.1", "HostPort": "5353"}],
                                    "443/tcp": [{"HostIp": "", "HostPort": ""}]}}
  })");
  ASSERT_TRUE(rules.error.empty()) << rules.error;
  ASSERT_EQ(rules.constraints.size(), 2u);
  EXPECT_EQ(rules.constraints[0].expression, "zone==a");
  EXPECT_EQ(rules.constraints[0].source, "Env");
  EXPECT_EQ(rules.constraints[1].expression, "disk==~ssd");
  EXPECT_EQ(rules.constraints[1].source, "Labels");
  ASSERT_EQ(rules.affinities.size(), 2u);
  EXPECT_EQ(rules.affinities[0].key, "container");
  EXPECT_EQ(rules.affinities[1].kind, Kind::kGlob);
  ASSERT_EQ(rules.ports.size(), 2u);  // the unbound one asks for no particular port
  EXPECT_EQ(rules.ports[0].port, 5353u);
  EXPECT_EQ(rules.ports[0].protocol, "udp");
  EXPECT_EQ(rules.ports[0].ip, "198.18.0.1");
  EXPECT_EQ(rules.ports[1].port, 18080u);
  ASSERT_TRUE(rules.body);
  const std::string& body = *rules.body;
  EXPECT_NE(body.find(R"("Env":["A=1","B=constraint:not-a-rule"])"), std::string::npos) << body;
  EXPECT_NE(body.find("com.docker.swarm.constraints"), std::string::npos) << "labels stay: " << body;
  EXPECT_NE(body.find("9223372036854775807"), std::string::npos) << "numbers exact: " << body;
}

TEST(SwarmRules, NoRulesNoChangeAndBadOnesRefused) {
  auto none = swarm_rules(R"({"Image":"busybox","Env":["A=1"]})");
  EXPECT_TRUE(none.error.empty());
  EXPECT_FALSE(none.body) << "a body without rules goes as it came";
  EXPECT_EQ(swarm_rules(R"({"Env":["constraint:zone=a"]})").error,
            "invalid constraint \"zone=a\": one of the operators ==, != is expected");
  EXPECT_NE(swarm_rules(R"({"Env":["affinity:zone==a"]})").error.find("a container or an image"), std::string::npos);
  EXPECT_NE(swarm_rules(R"({"Labels":{"com.docker.swarm.constraints":"zone==a"}})").error.find("a JSON array"),
            std::string::npos);
  // Go reads keys in any case: "env" is Env.
  EXPECT_EQ(swarm_rules(R"({"env":["constraint:node==e1"]})").constraints.size(), 1u);
}

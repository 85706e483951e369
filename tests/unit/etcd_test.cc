// The etcd client's pure parts, and the reference decider's reading of hosts kept in etcd.
#include <flocker/sdk/etcd.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "host_list.h"

namespace flocker {
namespace {

TEST(EtcdEndpoints, SchemeIsOptionalAndThePortDefaultsTo2379) {
  EXPECT_EQ(etcd::parse_endpoints("etcd://127.0.0.1:2379,127.0.0.1:22379"),
            (std::vector<std::string>{"127.0.0.1:2379", "127.0.0.1:22379"}));
  EXPECT_EQ(etcd::parse_endpoints("10.0.0.1"), (std::vector<std::string>{"10.0.0.1:2379"}));
  EXPECT_EQ(etcd::parse_endpoints("etcds://[::1]:2379,[::1]"),
            (std::vector<std::string>{"[::1]:2379", "[::1]:2379"}));
  EXPECT_EQ(etcd::parse_endpoints("http://etcd.local:4001"), (std::vector<std::string>{"etcd.local:4001"}));
}

TEST(EtcdEndpoints, EmptyOrPathsAreRefused) {
  EXPECT_THROW(etcd::parse_endpoints(""), std::invalid_argument);
  EXPECT_THROW(etcd::parse_endpoints("etcd://a:1,,b:2"), std::invalid_argument);
  EXPECT_THROW(etcd::parse_endpoints("etcd://a:1/v3"), std::invalid_argument);
  EXPECT_THROW(etcd::parse_endpoints("[::1"), std::invalid_argument);
}

etcd::Options at(std::vector<std::string> endpoints) {
  etcd::Options options;
  options.endpoints = std::move(endpoints);
  return options;
}

TEST(EtcdEndpoints, SeveralNamesCannotMakeOneChannel) {
  EXPECT_THROW(etcd::Client(at({"a.example:2379", "b.example:2379"})), std::invalid_argument);
  EXPECT_NO_THROW(etcd::Client(at({"localhost:2379"})));
  EXPECT_NO_THROW(etcd::Client(at({"127.0.0.1:2379", "127.0.0.1:22379"})));
}

TEST(EtcdPrefixEnd, IsThePrefixPlusOneInItsLastByte) {
  EXPECT_EQ(etcd::prefix_end("/flocker/names/"), "/flocker/names0");
  EXPECT_EQ(etcd::prefix_end("a\xff"), "b");
  EXPECT_EQ(etcd::prefix_end("\xff\xff"), std::string(1, '\0'));
}

TEST(HostsFromEtcd, NameFromTheKeyAddressAndLabelsFromTheValue) {
  std::vector<std::string> problems;
  auto hosts = decider::hosts_from_etcd(
      {{"/flocker/hosts/e1", "tcp://198.18.0.1:2375"}, {"/flocker/hosts/e4", "tcp://198.18.0.4:2375 zone=b rack=2"}},
      "/flocker/hosts/", problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].name, "e1");
  EXPECT_EQ(hosts[0].address, "tcp://198.18.0.1:2375");
  EXPECT_EQ(hosts[1].name, "e4");
  EXPECT_EQ(hosts[1].labels, (std::map<std::string, std::string>{{"rack", "2"}, {"zone", "b"}}));
}

TEST(HostsFromEtcd, ABadEntryIsLeftOutAndTheOthersStand) {
  std::vector<std::string> problems;
  auto hosts = decider::hosts_from_etcd({{"/h/good", "tcp://198.18.0.1:2375"},
                                         {"/h/empty", ""},
                                         {"/h/bare-word", "tcp://198.18.0.2:2375 other-name"},
                                         {"/h/", "tcp://198.18.0.3:2375"},
                                         {"/h/bad-address", "ftp://x"}},
                                        "/h/", problems);
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].name, "good");
  ASSERT_EQ(problems.size(), 4u);
  for (const auto& p : problems) EXPECT_NE(p.find("etcd key /h/"), std::string::npos) << p;
}

}  // namespace
}  // namespace flocker

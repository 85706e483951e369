#include <flocker/sdk/address.h>
#include <gtest/gtest.h>

using flocker::sdk::DockerAddress;
using flocker::sdk::parse_docker_address;

TEST(DockerAddress, AcceptsDockerHostSyntax) {
  EXPECT_EQ(parse_docker_address("tcp://127.0.0.1:2375")->str(), "tcp://127.0.0.1:2375");
  EXPECT_EQ(parse_docker_address("127.0.0.1:2375")->str(), "tcp://127.0.0.1:2375");
  EXPECT_EQ(parse_docker_address("tcp://engine-1:2376/")->str(), "tcp://engine-1:2376");
  EXPECT_EQ(parse_docker_address("unix:///var/run/docker.sock")->str(),
            "unix:///var/run/docker.sock");
  auto v6 = parse_docker_address("tcp://[::1]:2375");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 2375);
  EXPECT_EQ(v6->str(), "tcp://[::1]:2375");
}

TEST(DockerAddress, PortZeroOnlyToListen) {
  EXPECT_FALSE(parse_docker_address("tcp://127.0.0.1:0"));
  auto any = parse_docker_address("tcp://127.0.0.1:0", nullptr, flocker::sdk::AddressUse::kListen);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->port, 0);
}

TEST(DockerAddress, RefusesWithAReason) {
  for (const char* bad : {"", "tcp://", "tcp://host", "host:0", "host:65536", "host:12x",
                          "http://h:1", "unix://relative", "::1:2375", "tcp://h/p:1", ":2375"}) {
    std::string error;
    EXPECT_FALSE(parse_docker_address(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

// The SDK's record of the proxies that call List (ListResponse.proxies), on a clock the test
// moves.
#include "proxies_seen.h"

#include <gtest/gtest.h>

#include <algorithm>

using flocker::sdk::detail::ProxiesSeen;
namespace v1 = flocker::v1;
using namespace std::chrono_literals;

namespace {

v1::ListRequest request(const std::string& name, const std::string& instance,
                        bool coordinated = false) {
  v1::ListRequest r;
  r.set_proxy_name(name);
  r.set_proxy_instance(instance);
  r.set_coordinated(coordinated);
  return r;
}

// "name/instance/coordinated/age" of each proxy in an answer.
std::vector<std::string> seen(ProxiesSeen& s, ProxiesSeen::Clock::time_point now) {
  v1::ListResponse resp;
  s.fill(resp, now);
  std::vector<std::string> out;
  for (const auto& p : resp.proxies()) {
    out.push_back(p.proxy_name() + "/" + p.proxy_instance() + "/" + (p.coordinated() ? "c" : "-") +
                  "/" + std::to_string(p.seconds_since_list()));
  }
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST(ProxiesSeen, EveryCallerIsListedWithItsLastCall) {
  ProxiesSeen s;
  const auto t0 = ProxiesSeen::Clock::now();
  s.record(request("blue", "b1"), "ipv4:127.0.0.1:1000", 0, t0);
  EXPECT_EQ(seen(s, t0), V{"blue/b1/-/0"});  // the caller itself
  s.record(request("green", "a2", true), "ipv4:127.0.0.1:1001", 0, t0 + 10s);
  s.record(request("blue", "b1"), "ipv4:127.0.0.1:1000", 0, t0 + 30s);
  EXPECT_EQ(seen(s, t0 + 35s), (V{"green/a2/c/25", "blue/b1/-/5"}));  // by instance
  // Two proxies of one name (one machine) are two: the instance tells them apart.
  s.record(request("blue", "b2"), "ipv4:127.0.0.1:1002", 0, t0 + 36s);
  EXPECT_EQ(seen(s, t0 + 36s).size(), 3u);
  // A proxy restarted with --coordination: its new call says so.
  s.record(request("green", "a2", false), "ipv4:127.0.0.1:1001", 0, t0 + 40s);
  EXPECT_EQ(seen(s, t0 + 40s)[0], "green/a2/-/0");
}

TEST(ProxiesSeen, ProxiesLeaveAfterTheWindowOrThreeRefreshes) {
  ProxiesSeen s;
  const auto t0 = ProxiesSeen::Clock::now();
  s.record(request("blue", "b1"), "p1", 0, t0);
  s.record(request("slow", "s1"), "p2", 60, t0);  // told to ask every 60 s: kept 180 s
  EXPECT_EQ(seen(s, t0 + 90s).size(), 2u);
  EXPECT_EQ(seen(s, t0 + 91s), V{"slow/s1/-/91"});
  EXPECT_EQ(seen(s, t0 + 180s).size(), 1u);
  EXPECT_TRUE(seen(s, t0 + 181s).empty());
  EXPECT_EQ(s.size(), 0u);
}

TEST(ProxiesSeen, OlderProxiesWithoutInstanceAreToldApartByConnection) {
  ProxiesSeen s;
  const auto t0 = ProxiesSeen::Clock::now();
  s.record(request("old", ""), "ipv4:10.0.0.1:4000", 0, t0);
  s.record(request("old", ""), "ipv4:10.0.0.2:4000", 0, t0);
  s.record(request("old", ""), "ipv4:10.0.0.1:4000", 0, t0 + 1s);  // the first again
  EXPECT_EQ(seen(s, t0 + 1s), (V{"old//-/0", "old//-/1"}));
}

TEST(ProxiesSeen, ADecidersOwnAnswerIsLeftAlone) {
  ProxiesSeen s;
  const auto t0 = ProxiesSeen::Clock::now();
  s.record(request("blue", "b1"), "p", 0, t0);
  v1::ListResponse resp;
  resp.add_proxies()->set_proxy_name("told");
  s.fill(resp, t0);
  ASSERT_EQ(resp.proxies_size(), 1);
  EXPECT_EQ(resp.proxies(0).proxy_name(), "told");
}

TEST(ProxiesSeen, TheRecordIsBounded) {
  ProxiesSeen s;
  const auto t0 = ProxiesSeen::Clock::now();
  for (std::size_t i = 0; i < ProxiesSeen::kMaxTracked + 10; ++i) {
    s.record(request("p", "i" + std::to_string(i)), "peer", 0, t0 + std::chrono::milliseconds(i));
  }
  EXPECT_EQ(s.size(), ProxiesSeen::kMaxTracked);
  auto list = seen(s, t0 + 1s);
  // The least recent left first.
  EXPECT_EQ(std::count(list.begin(), list.end(), "p/i0/-/0"), 0);
  EXPECT_EQ(std::count(list.begin(), list.end(),
                       "p/i" + std::to_string(ProxiesSeen::kMaxTracked + 9) + "/-/0"),
            1);
}

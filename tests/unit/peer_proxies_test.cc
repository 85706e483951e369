// Which proxies of a List answer a proxy warns about, and how (flock/coordination/peer_proxies.h).
#include "flock/coordination/peer_proxies.h"

#include <gtest/gtest.h>

#include <set>

using namespace flocker::flock;

TEST(PeerProxies, InstancesAreSixteenHexDigitsDrawnPerProcess) {
  std::set<std::string> drawn;
  for (int i = 0; i < 100; ++i) {
    auto id = draw_proxy_instance();
    ASSERT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    drawn.insert(id);
  }
  EXPECT_EQ(drawn.size(), 100u);
}

TEST(PeerProxies, APeerIsAnotherInstanceWhenEitherSideIsUncoordinated) {
  const std::vector<PeerProxy> seen{
      {"me", "i1", false}, {"me", "i2", false}, {"c", "i3", true}, {"old", "", false}};
  using V = std::vector<PeerProxy>;
  // Uncoordinated: everyone else (the same name on the same machine included).
  EXPECT_EQ(uncoordinated_peers(seen, "i1", false),
            (V{{"me", "i2", false}, {"c", "i3", true}, {"old", "", false}}));
  // Coordinated: only the uncoordinated others.
  EXPECT_EQ(uncoordinated_peers(seen, "i3", true),
            (V{{"me", "i1", false}, {"me", "i2", false}, {"old", "", false}}));
  // Alone, or a decider that does not track proxies: nothing.
  EXPECT_TRUE(uncoordinated_peers({{"me", "i1", false}}, "i1", false).empty());
  EXPECT_TRUE(uncoordinated_peers({}, "i1", false).empty());
}

TEST(PeerProxies, EachPeerIsLoggedOnceAndShownWhileSeen) {
  PeerProxies peers;
  EXPECT_TRUE(peers.info_warnings().empty());
  auto fresh = peers.update({{"green", "a2", false}});
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(
      PeerProxies::log_warning(fresh[0], "b1"),
      "another flocker-proxy (name green, instance a2) uses this flock's decider without "
      "--coordination: container names are unique only within each proxy; run every proxy with "
      "--coordination etcd://...");
  EXPECT_EQ(peers.info_warnings(),
            std::vector<std::string>{
                "WARNING: another flocker-proxy (green, instance a2) serves this flock without "
                "--coordination: names are unique only per proxy"});
  // Seen again, or back after a gap: not logged again.
  EXPECT_TRUE(peers.update({{"green", "a2", false}}).empty());
  EXPECT_TRUE(peers.update({}).empty());
  EXPECT_TRUE(peers.info_warnings().empty());
  EXPECT_TRUE(peers.update({{"green", "a2", false}}).empty());
  // A restarted peer draws a new instance: a new peer. A coordinated one is worded for it.
  fresh = peers.update({{"green", "a3", true}});
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_NE(PeerProxies::log_warning(fresh[0], "b1")
                .find("with --coordination, and this proxy (instance b1) runs without it"),
            std::string::npos);
  EXPECT_EQ(peers.info_warnings(),
            std::vector<std::string>{
                "WARNING: another flocker-proxy (green, instance a3) serves this flock with "
                "--coordination, this one without: names are unique only per proxy"});
}

TEST(PeerProxies, DockerInfoShowsAFewPeersThenACount) {
  PeerProxies peers;
  std::vector<PeerProxy> many;
  for (std::size_t i = 0; i < PeerProxies::kMaxShown + 5; ++i)
    many.push_back({"p", std::to_string(i), false});
  peers.update(many);
  auto lines = peers.info_warnings();
  ASSERT_EQ(lines.size(), PeerProxies::kMaxShown + 1);
  EXPECT_EQ(lines.back(),
            "WARNING: and 5 more flocker-proxy processes serve this flock without coordination");
}

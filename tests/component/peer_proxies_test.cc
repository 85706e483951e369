// Two flocker-proxy processes on one flock (one decider): without --coordination each keeps
// container names unique only among its own creates, so each must notice the other, through
// the decider's List (ListResponse.proxies, which every C++ SDK decider fills), and say so in
// docker info's Warnings (and once in its log).
#include <gtest/gtest.h>
#include <simdjson.h>

#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

// The harness's proxy, as "blue" with its own instance and coordination.
std::function<void(flock::FlockOptions&)> as(std::string name, std::string instance,
                                             bool coordinated) {
  return [=](flock::FlockOptions& fo) {
    fo.proxy_name = name;
    fo.proxy_instance = instance;
    fo.coordinated = coordinated;
  };
}

FlockHarness harness(const std::function<void(flock::FlockOptions&)>& tune) {
  return FlockHarness(flock::DeciderFailure::kFail, 500ms, std::nullopt, {}, tune);
}

// A second proxy (flock, control plane, front) on the harness's decider and engines.
struct SecondProxy {
  SecondProxy(FlockHarness& f, std::string name, std::string instance, bool coordinated) {
    flock::FlockOptions fo;
    fo.name = "test-flock";
    fo.proxy_name = std::move(name);
    fo.proxy_instance = std::move(instance);
    fo.coordinated = coordinated;
    fo.decider.address = "127.0.0.1:" + std::to_string(f.decider_server->port());
    fo.decider.timeout = 500ms;
    fo.health_interval = 100ms;
    fo.inventory_refresh = 1s;
    fo.engine_timeout = 2s;
    the_flock = std::make_unique<flock::Flock>(fo);
    control = std::make_unique<flock::ControlPlane>(*the_flock, transport::PoolOptions{});
    handler = std::make_unique<flock::FlockHandler>(*the_flock);
    transport::ServerOptions options;
    options.listen = {"tcp://127.0.0.1:0"};
    options.threads = 1;
    options.grace = 200ms;
    server = std::make_unique<transport::Server>(options, *handler);
    control->watch_requests(*server);
    server->start();
    control->start();
  }
  ~SecondProxy() {
    server->shutdown();
    server->wait();
    control->stop();
  }
  std::string info() {
    RawClient c(server->bound().at(0).text);
    c.send(request_text("GET", "/v1.41/info", "", ""));
    return c.read_response(false).body();
  }

  std::unique_ptr<flock::Flock> the_flock;
  std::unique_ptr<flock::ControlPlane> control;
  std::unique_ptr<flock::FlockHandler> handler;
  std::unique_ptr<transport::Server> server;
};

// /info's Warnings.
std::vector<std::string> warnings(const std::string& info) {
  simdjson::dom::parser p;
  simdjson::dom::array list;
  std::vector<std::string> out;
  if (p.parse(info)["Warnings"].get(list)) return {"(no Warnings array) " + info};
  for (auto w : list) out.emplace_back(std::string_view(w.get_string()));
  return out;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines) {
    if (l.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST(PeerProxies, TwoUncoordinatedProxiesWarnAboutEachOther) {
  auto f = harness(as("blue", "00000000000000b1", false));
  SecondProxy green(f, "green", "00000000000000a2", false);
  const std::string blue_sees =
      "WARNING: another flocker-proxy (green, instance 00000000000000a2) serves this flock "
      "without --coordination: names are unique only per proxy";
  ASSERT_TRUE(FlockHarness::eventually(
      [&] { return any_contains(warnings(f.request("GET", "/v1.41/info").body()), blue_sees); },
      10s))
      << f.request("GET", "/v1.41/info").body();
  ASSERT_TRUE(FlockHarness::eventually(
      [&] { return any_contains(warnings(green.info()), "(blue, instance 00000000000000b1)"); },
      10s))
      << green.info();
  // Exactly one peer each: a proxy never warns about itself.
  auto blue_warnings = warnings(f.request("GET", "/v1.41/info").body());
  EXPECT_EQ(blue_warnings.size(), 1u) << joined(blue_warnings);
  auto peers = f.the_flock->peers.current();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].name, "green");
  EXPECT_EQ(peers[0].instance, "00000000000000a2");
  EXPECT_FALSE(peers[0].coordinated);
}

TEST(PeerProxies, ASingleProxyWarnsAboutNothing) {
  auto f = harness(as("blue", "00000000000000b1", false));
  // Several List answers in (each names this proxy, the caller, among the proxies seen).
  const int lists = [&] {
    std::lock_guard lock(f.decider.mu);
    return f.decider.lists;
  }();
  ASSERT_TRUE(FlockHarness::eventually(
      [&] {
        std::lock_guard lock(f.decider.mu);
        return f.decider.lists >= lists + 2;
      },
      10s));
  auto info = f.request("GET", "/v1.41/info");
  ASSERT_EQ(info.result_int(), 200);
  EXPECT_TRUE(warnings(info.body()).empty()) << info.body();
  EXPECT_TRUE(f.the_flock->peers.current().empty());
}

TEST(PeerProxies, CoordinatedProxiesAreQuietAndAnUncoordinatedOneIsNamed) {
  auto f = harness(as("blue", "00000000000000b1", true));
  SecondProxy green(f, "green", "00000000000000a2", true);
  // Both coordinated: quiet, even after both have been seen by the decider.
  ASSERT_TRUE(FlockHarness::eventually(
      [&] {
        std::lock_guard lock(f.decider.mu);
        return f.decider.lists >= 6;
      },
      10s));
  EXPECT_TRUE(warnings(f.request("GET", "/v1.41/info").body()).empty());
  EXPECT_TRUE(warnings(green.info()).empty());
  // A third proxy without --coordination: both coordinated ones name it; it names both.
  SecondProxy red(f, "red", "00000000000000c3", false);
  ASSERT_TRUE(FlockHarness::eventually(
      [&] {
        return any_contains(
            warnings(f.request("GET", "/v1.41/info").body()),
            "(red, instance 00000000000000c3) serves this flock without --coordination");
      },
      10s))
      << f.request("GET", "/v1.41/info").body();
  ASSERT_TRUE(FlockHarness::eventually([&] { return warnings(red.info()).size() == 2; }, 10s))
      << red.info();
  EXPECT_TRUE(
      any_contains(warnings(red.info()),
                   "another flocker-proxy (green, instance 00000000000000a2) serves this flock "
                   "with --coordination, this one without: names are unique only per proxy"))
      << red.info();
  ASSERT_TRUE(FlockHarness::eventually([&] { return !warnings(green.info()).empty(); }, 10s));
  EXPECT_EQ(warnings(green.info()).size(), 1u) << green.info();  // red only, never blue
}

// A decider that answers `proxies` itself (the SDK leaves a filled list alone): the warning
// lasts while the peer is listed, and an answer without it clears it.
TEST(PeerProxies, WarningsFollowTheDecidersAnswer) {
  auto f = harness(as("blue", "00000000000000b1", false));
  {
    std::lock_guard lock(f.decider.mu);
    auto* self = f.decider.inventory.add_proxies();
    self->set_proxy_name("blue");
    self->set_proxy_instance("00000000000000b1");
    auto* old = f.decider.inventory.add_proxies();  // an older proxy: no instance
    old->set_proxy_name("legacy");
    old->set_seconds_since_list(12);
  }
  ASSERT_TRUE(FlockHarness::eventually(
      [&] {
        return any_contains(
            warnings(f.request("GET", "/v1.41/info").body()),
            "another flocker-proxy (legacy, an older proxy without instance ID) serves this flock");
      },
      10s))
      << f.request("GET", "/v1.41/info").body();
  {
    std::lock_guard lock(f.decider.mu);
    f.decider.inventory.mutable_proxies()->RemoveLast();  // gone: only blue is listed
  }
  EXPECT_TRUE(FlockHarness::eventually(
      [&] { return warnings(f.request("GET", "/v1.41/info").body()).empty(); }, 10s))
      << f.request("GET", "/v1.41/info").body();
}

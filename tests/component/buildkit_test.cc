// BuildKit through the flock, on fake engines that answer /grpc and /session as upgrades
// (a line naming the engine, then an echo, then a last line after the client's EOF):
// relayed both ways with half-close, one client's connections pinned to one engine under
// concurrency, another client's decided on their own, the older CLI's /build?version=2 and
// its session together, and refusals (a denied /grpc answered as a gRPC server refuses).
#include <gtest/gtest.h>

#include <thread>

#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

std::string upgrade_request(const std::string& path, const std::string& extra = "") {
  return request_text("POST", "/v1.41" + path, "Connection: Upgrade\r\nUpgrade: h2c\r\n" + extra, "");
}

// An upgraded BuildKit connection: its 101, and the engine it reached.
struct Tunnel {
  std::unique_ptr<RawClient> client;
  std::string engine;  // "e2/grpc"
};

Tunnel open_tunnel(FlockHarness& f, const std::string& path, const std::string& extra = "",
                   const std::string& from = "") {
  Tunnel t{std::make_unique<RawClient>(f.address(), 5s, from), ""};
  t.client->send(upgrade_request(path, extra));
  auto head = t.client->read_response_header();
  EXPECT_EQ(head.result_int(), 101);
  std::string line;
  while (line.find('\n') == std::string::npos) line += t.client->read_some(256);
  t.engine = line.substr(0, line.find('\n'));
  return t;
}

std::string engine_of(const Tunnel& t) { return t.engine.substr(0, t.engine.find('/')); }

}  // namespace

TEST(BuildKit, GrpcAndSessionAreRelayedBothWaysWithHalfClose) {
  FlockHarness f;
  auto t = open_tunnel(f, "/grpc");
  EXPECT_TRUE(t.engine.ends_with("/grpc")) << t.engine;
  t.client->send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  std::string echoed;
  while (echoed.size() < 24) echoed += t.client->read_some();
  EXPECT_EQ(echoed, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  t.client->shutdown_write();  // its EOF reaches the engine, whose last words come back
  EXPECT_EQ(t.client->read_until_eof(), "bye from " + engine_of(t) + "\n");
  {
    std::lock_guard lock(f.decider.mu);
    EXPECT_EQ(f.decider.routes.back().kind(), v1::OPERATION_KIND_IMAGE_BUILD);
  }
}

TEST(BuildKit, OneClientsConnectionsShareAnEngineWhileOpenOthersAreDecided) {
  FlockHarness f;
  // Four builds at once from one client: eight connections, each pair on one engine.
  std::vector<Tunnel> tunnels(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      tunnels[i] = open_tunnel(f, i % 2 ? "/session" : "/grpc",
                               i % 2 ? "X-Docker-Expose-Session-Uuid: s" + std::to_string(i) + "\r\n" : "");
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& t : tunnels) EXPECT_EQ(engine_of(t), engine_of(tunnels[0])) << t.engine;
  int routes = 0;
  {
    std::lock_guard lock(f.decider.mu);
    routes = static_cast<int>(f.decider.routes.size());
  }
  EXPECT_EQ(routes, 1) << "the first was decided; the others followed it";
  // Another client at the same time: its own decision (round-robin: another engine).
  auto other = open_tunnel(f, "/grpc", "", "127.0.0.2");
  EXPECT_NE(engine_of(other), engine_of(tunnels[0]));
  // The decider hears where this client built last, for its cache.
  for (auto& t : tunnels) t.client.reset();
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard lock(f.decider.mu);
    EXPECT_TRUE(f.decider.routes.back().cache_host().empty()) << "127.0.0.2 built nowhere before";
  }
}

TEST(BuildKit, TheOlderClisBuildAndItsSessionGoTogether) {
  FlockHarness f;
  f.e1.add_image("img:latest");
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e1", "img"); }));
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts("e3");
    return grpc::Status::OK;
  };
  auto built = f.request("POST", "/v1.41/build?version=2&session=abc&buildid=b1&t=v2img&remote=client-session");
  EXPECT_EQ(built.result_int(), 200) << built.body();
  EXPECT_EQ(f.e3.requests("/build").size(), 1u);
  // Its session, from another connection of another client even: where the build went.
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts("e1");
    return grpc::Status::OK;
  };
  auto session = open_tunnel(f, "/session", "X-Docker-Expose-Session-Uuid: abc\r\n", "127.0.0.3");
  EXPECT_EQ(engine_of(session), "e3");
  auto cancel = f.request("POST", "/v1.41/build/cancel?id=b1");
  EXPECT_EQ(f.e3.requests("/build/cancel").size(), 1u) << cancel.body();
}

TEST(BuildKit, RefusalsAsDockerAndAsAGrpcServer) {
  flock::GuardOptions guard;
  guard.policy.denied.insert(docker::EndpointClass::kBuild);
  FlockHarness f(flock::DeciderFailure::kFail, 500ms, guard);
  // The control connection: upgraded, then every call refused with PERMISSION_DENIED.
  RawClient c(f.address());
  c.send(upgrade_request("/grpc") + "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + std::string("\0\0\0\4\0\0\0\0\0", 9) +
         // HEADERS on stream 1 (an empty block is enough to open a call)
         std::string("\0\0\0\1\4\0\0\0\1", 9));
  auto head = c.read_response_header();
  EXPECT_EQ(head.result_int(), 101);
  std::string h2;
  while (h2.find("grpc-message") == std::string::npos) h2 += c.read_some();
  EXPECT_NE(h2.find(std::string("grpc-status\1") + "7"), std::string::npos) << "PERMISSION_DENIED";
  EXPECT_NE(h2.find("the build endpoints are disabled on this proxy"), std::string::npos);
  // The session: docker's 403.
  RawClient s(f.address());
  s.send(upgrade_request("/session"));
  auto refused = s.read_response();
  EXPECT_EQ(refused.result_int(), 403);
  EXPECT_TRUE(f.e1.requests("/grpc").empty() && f.e2.requests("/grpc").empty() && f.e3.requests("/grpc").empty());
}

TEST(BuildKit, AnUpgradeToAnythingButH2cIsTheEnginesRefusal) {
  FlockHarness f;
  auto ws = f.request("POST", "/v1.41/grpc", "", "Connection: Upgrade\r\nUpgrade: websocket\r\n");
  EXPECT_EQ(ws.result_int(), 500);
  EXPECT_NE(ws.body().find("protocol websocket not supported"), std::string::npos) << ws.body();
  auto none = f.request("POST", "/v1.41/session");
  EXPECT_EQ(none.result_int(), 400);
  EXPECT_NE(none.body().find("no upgrade proto in request"), std::string::npos) << none.body();
}

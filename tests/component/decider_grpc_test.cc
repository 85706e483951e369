// The SDK and the reference decider through a real gRPC server on loopback.
#include <flocker/sdk/server.h>
#include <gtest/gtest.h>

#include <thread>

#include "grpc_probe.h"
#include "round_robin_decider.h"

using namespace flocker;
using namespace std::chrono_literals;
namespace v1 = flocker::v1;

namespace {

// A started sdk::Server on an ephemeral loopback port, with a client stub.
struct Running {
  Running(sdk::Decider& decider, sdk::ServeOptions options = {}) {
    options.listen = "127.0.0.1:0";
    server = std::make_unique<sdk::Server>(decider, options);
    server->start();
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                  grpc::InsecureChannelCredentials());
    stub = v1::Decider::NewStub(channel);
  }
  std::unique_ptr<sdk::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Decider::Stub> stub;
};

std::unique_ptr<grpc::ClientContext> context(std::chrono::milliseconds deadline = 2s) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  return ctx;
}

}  // namespace

TEST(DeciderGrpc, ReferenceDeciderListsItsHosts) {
  decider::RoundRobinDecider rr(decider::parse_hosts_file(
      "tcp://127.0.0.1:2376 e1 zone=a\nunix:///run/e2.sock e2\n", "test"));
  Running r(rr);
  v1::ListResponse resp;
  ASSERT_TRUE(r.stub->List(context().get(), {}, &resp).ok());
  ASSERT_EQ(resp.hosts_size(), 2);
  EXPECT_EQ(resp.hosts(0).name(), "e1");
  EXPECT_EQ(resp.hosts(0).address(), "tcp://127.0.0.1:2376");
  EXPECT_EQ(resp.hosts(0).labels().at("zone"), "a");
  EXPECT_EQ(resp.hosts(1).address(), "unix:///run/e2.sock");
}

TEST(DeciderGrpc, ReferenceDeciderRoutesEveryKind) {
  decider::RoundRobinDecider rr(decider::parse_hosts_flag("tcp://h:1,tcp://h:2"));
  Running r(rr);
  auto route = [&](v1::OperationKind kind, const std::string& pinned = "") {
    v1::RouteRequest req;
    req.set_kind(kind);
    req.set_pinned_host(pinned);
    for (const char* name : {"h:1", "h:2"}) {
      auto* c = req.add_candidates();
      c->set_name(name);
      c->set_healthy(true);
    }
    v1::RouteResponse resp;
    auto status = r.stub->Route(context().get(), req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return std::vector<std::string>(resp.hosts().begin(), resp.hosts().end());
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(route(v1::OPERATION_KIND_CONTAINER_CREATE), V{"h:1"});
  EXPECT_EQ(route(v1::OPERATION_KIND_IMAGE_BUILD), V{"h:2"});
  EXPECT_EQ(route(v1::OPERATION_KIND_IMAGE_LOAD), V{"h:1"});
  EXPECT_EQ(route(v1::OPERATION_KIND_IMAGE_IMPORT), V{"h:2"});
  EXPECT_EQ(route(v1::OPERATION_KIND_IMAGE_PULL), (V{"h:1", "h:2"}));
  EXPECT_EQ(route(v1::OPERATION_KIND_IMAGE_PULL, "h:2"), V{"h:2"});
  EXPECT_EQ(route(v1::OPERATION_KIND_VOLUME_CREATE), (V{"h:1", "h:2"}));
  EXPECT_EQ(route(v1::OPERATION_KIND_NETWORK_CREATE), (V{"h:1", "h:2"}));
}

TEST(DeciderGrpc, ReferenceDeciderHasNoOpinionOnRemapOrAuth) {
  decider::RoundRobinDecider rr(decider::parse_hosts_flag("tcp://h:1"));
  Running r(rr);
  v1::RemapContainerResponse remap;
  EXPECT_EQ(r.stub->RemapContainer(context().get(), {}, &remap).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  v1::RegistryAuthResponse auth;
  EXPECT_EQ(r.stub->RegistryAuth(context().get(), {}, &auth).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST(DeciderGrpc, SdkDefaultsAnswerUnimplemented) {
  sdk::Decider nothing;
  Running r(nothing);
  v1::ListResponse list;
  v1::RouteResponse route;
  v1::RemapContainerResponse remap;
  v1::RegistryAuthResponse auth;
  EXPECT_EQ(r.stub->List(context().get(), {}, &list).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(r.stub->Route(context().get(), {}, &route).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(r.stub->RemapContainer(context().get(), {}, &remap).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(r.stub->RegistryAuth(context().get(), {}, &auth).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST(DeciderGrpc, HandlerErrorsReachTheCallerWithTheirMessage) {
  struct Failing : sdk::Decider {
    grpc::Status Route(grpc::ServerContext&, const v1::RouteRequest&, v1::RouteResponse&) override {
      return {grpc::StatusCode::FAILED_PRECONDITION, "zone b is full"};
    }
    grpc::Status RemapContainer(grpc::ServerContext&, const v1::RemapContainerRequest&,
                                v1::RemapContainerResponse&) override {
      throw std::runtime_error("bad label");
    }
  } failing;
  Running r(failing);
  v1::RouteResponse route;
  auto s = r.stub->Route(context().get(), {}, &route);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "zone b is full");
  v1::RemapContainerResponse remap;
  s = r.stub->RemapContainer(context().get(), {}, &remap);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(s.error_message().find("bad label"), std::string::npos);
}

TEST(DeciderGrpc, ASlowHandlerHitsTheClientsDeadline) {
  struct Slow : sdk::Decider {
    grpc::Status Route(grpc::ServerContext& ctx, const v1::RouteRequest&,
                       v1::RouteResponse&) override {
      for (int i = 0; i < 100 && !ctx.IsCancelled(); ++i) std::this_thread::sleep_for(10ms);
      return grpc::Status::OK;
    }
  } slow;
  Running r(slow);
  v1::RouteResponse resp;
  auto start = std::chrono::steady_clock::now();
  auto s = r.stub->Route(context(100ms).get(), {}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
}

TEST(DeciderGrpc, HealthIsServingThenNotServingOnShutdown) {
  struct Slow : sdk::Decider {
    grpc::Status Route(grpc::ServerContext&, const v1::RouteRequest&, v1::RouteResponse& resp) override {
      std::this_thread::sleep_for(300ms);  // in flight while the server shuts down
      resp.add_hosts("drained");
      return grpc::Status::OK;
    }
  } slow;
  sdk::ServeOptions options;
  options.lame_duck = 500ms;
  options.drain = 3s;
  Running r(slow, options);
  EXPECT_EQ(test::health_check(r.channel, ""), test::Health::kServing);
  EXPECT_EQ(test::health_check(r.channel, "flocker.v1.Decider"), test::Health::kServing);

  v1::RouteResponse in_flight;
  grpc::Status in_flight_status;
  std::thread call([&] { in_flight_status = r.stub->Route(context(5s).get(), {}, &in_flight); });
  std::this_thread::sleep_for(50ms);
  std::thread stopper([&] { r.server->shutdown(); });
  EXPECT_TRUE(test::wait_for_health(r.channel, test::Health::kNotServing, 2s));
  stopper.join();
  call.join();
  EXPECT_TRUE(in_flight_status.ok()) << in_flight_status.error_message();  // drained, not cut
  EXPECT_EQ(in_flight.hosts(0), "drained");
}

TEST(DeciderGrpc, ServesReflection) {
  sdk::Decider nothing;
  Running r(nothing);
  auto services = test::reflection_list_services(r.channel);
  EXPECT_NE(services.find("flocker.v1.Decider"), std::string::npos);
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos);
}

TEST(DeciderGrpc, StartFailsClearlyOnABadAddress) {
  sdk::Decider nothing;
  sdk::ServeOptions options;
  options.listen = "256.0.0.1:99999";
  sdk::Server server(nothing, options);
  EXPECT_THROW(server.start(), std::runtime_error);
}

// Every decider on the SDK tells each proxy which proxies called List lately (the caller
// included), so that a proxy without --coordination can tell it is not alone.
TEST(DeciderGrpc, ListTellsWhichProxiesAsk) {
  decider::RoundRobinDecider rr(decider::parse_hosts_flag("tcp://h:1"));
  Running r(rr);
  auto list = [&](const std::string& name, const std::string& instance, bool coordinated) {
    v1::ListRequest req;
    req.set_proxy_name(name);
    req.set_proxy_instance(instance);
    req.set_coordinated(coordinated);
    v1::ListResponse resp;
    EXPECT_TRUE(r.stub->List(context().get(), req, &resp).ok());
    EXPECT_EQ(resp.hosts_size(), 1);  // the decider's own answer, untouched
    std::vector<std::string> out;
    for (const auto& p : resp.proxies()) {
      out.push_back(p.proxy_name() + "/" + p.proxy_instance() + (p.coordinated() ? "/c" : "/-"));
      EXPECT_LE(p.seconds_since_list(), 5u);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(list("blue", "b1", false), V{"blue/b1/-"});
  EXPECT_EQ(list("green", "a2", true), (V{"green/a2/c", "blue/b1/-"}));
  EXPECT_EQ(list("blue", "b1", false), (V{"green/a2/c", "blue/b1/-"}));
  // An older proxy sends no instance: listed by name, without one.
  EXPECT_EQ(list("old", "", false), (V{"green/a2/c", "blue/b1/-", "old//-"}));
}

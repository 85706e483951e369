// flocker-decision-bench: what the decider calls cost on their own, through the proxy's own
// decider client (the code path a container create takes).
//   flocker-decision-bench serve ADDRESS            a decider: Route round-robin, Remap adds Env
//   flocker-decision-bench run ADDRESS COUNT        COUNT Route+RemapContainer pairs, one at a
//                                                   time; prints p50 and p99 in microseconds
//   flocker-decision-bench floor ADDRESS COUNT      the same pairs with gRPC's own blocking
//                                                   client: what two unary calls cost on this
//                                                   machine, whoever makes them
#include <flocker/sdk/server.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "flock/control/decider_client.h"

using namespace flocker;
namespace v1 = flocker::v1;

namespace {

struct BenchDecider : sdk::Decider {
  std::atomic<uint64_t> turn{0};
  grpc::Status Route(grpc::ServerContext&, const v1::RouteRequest& req, v1::RouteResponse& resp) override {
    resp.add_hosts(req.candidates(turn++ % req.candidates_size()).name());
    return grpc::Status::OK;
  }
  grpc::Status RemapContainer(grpc::ServerContext&, const v1::RemapContainerRequest& req,
                              v1::RemapContainerResponse& resp) override {
    std::string body = req.body();  // {"Image":..., "Env":[...]} -> one more variable
    auto env = body.find("\"Env\":[");
    if (env != std::string::npos) body.insert(env + 7, "\"FLOCKER_HOST=" + req.host() + "\",");
    resp.set_body(body);
    return grpc::Status::OK;
  }
};

const std::string kBody =
    R"({"Image":"busybox","Env":["A=1"],"Labels":{"app":"web"},"HostConfig":{"Memory":0}})";

// What the proxy asks for a `docker run` on a flock of three.
v1::RouteRequest route_request(int i) {
  v1::RouteRequest route;
  route.set_kind(v1::OPERATION_KIND_CONTAINER_CREATE);
  route.set_image("busybox");
  route.set_body(kBody);
  route.set_request_id("bench-" + std::to_string(i));
  for (int h = 1; h <= 3; ++h) {
    auto* c = route.add_candidates();
    c->set_name("e" + std::to_string(h));
    c->set_address("tcp://127.0.0.1:" + std::to_string(2375 + h));
    c->set_healthy(true);
    c->set_ncpu(2);
  }
  return route;
}

v1::RemapContainerRequest remap_request(const v1::RouteRequest& route, const v1::RouteResponse& decided) {
  v1::RemapContainerRequest remap;
  remap.set_request_id(route.request_id());
  remap.set_host(decided.hosts_size() ? decided.hosts(0) : "");
  remap.set_body(kBody);
  return remap;
}

// The first tenth warms up the channel and is not counted.
bool counted(int i, int count) { return i >= count / 10; }

transport::Task<void> run(flock::DeciderClient& client, int count, std::vector<double>& micros) {
  for (int i = 0; i < count; ++i) {
    v1::RouteRequest route = route_request(i);
    auto start = std::chrono::steady_clock::now();
    auto decided = co_await client.route(route);
    v1::RemapContainerRequest remap = remap_request(route, decided.response);
    auto remapped = co_await client.remap(remap);
    auto took = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    if (!decided.ok() || !remapped.ok()) {
      std::cerr << "decider failed: " << decided.status.error_message() << " / "
                << remapped.status.error_message() << "\n";
      co_return;
    }
    if (counted(i, count)) micros.push_back(took);
  }
}

int floor_run(const std::string& address, int count, std::vector<double>& micros) {
  auto stub = v1::Decider::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  for (int i = 0; i < count; ++i) {
    v1::RouteRequest route = route_request(i);
    auto start = std::chrono::steady_clock::now();
    grpc::ClientContext route_context;
    v1::RouteResponse decided;
    grpc::Status status = stub->Route(&route_context, route, &decided);
    grpc::ClientContext remap_context;
    v1::RemapContainerResponse remapped;
    if (status.ok()) status = stub->RemapContainer(&remap_context, remap_request(route, decided), &remapped);
    auto took = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    if (!status.ok()) {
      std::cerr << "decider failed: " << status.error_message() << "\n";
      return 1;
    }
    if (counted(i, count)) micros.push_back(took);
  }
  return 0;
}

int report(std::vector<double>& micros) {
  if (micros.empty()) return 1;
  std::sort(micros.begin(), micros.end());
  std::cout << "p50_us=" << micros[micros.size() / 2] << " p99_us=" << micros[micros.size() * 99 / 100]
            << " n=" << micros.size() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "serve" && argc == 3) {
    BenchDecider decider;
    sdk::ServeOptions options;
    options.listen = argv[2];
    return sdk::serve(decider, options);
  }
  if (mode == "run" && argc == 4) {
    flock::DeciderOptions options;
    options.address = argv[2];
    options.timeout = std::chrono::seconds(2);
    flock::DeciderClient client(options);
    std::vector<double> micros;
    transport::asio::io_context ctx(1);
    transport::asio::co_spawn(ctx, run(client, std::stoi(argv[3]), micros), transport::asio::detached);
    ctx.run();
    return report(micros);
  }
  if (mode == "floor" && argc == 4) {
    std::vector<double> micros;
    if (floor_run(argv[2], std::stoi(argv[3]), micros) != 0) return 1;
    return report(micros);
  }
  std::cerr << "usage: flocker-decision-bench serve ADDRESS | run ADDRESS COUNT | floor ADDRESS COUNT\n";
  return 2;
}

// Test harness: a flock in one process. Three FakeDocker engines, a scripted decider on the
// C++ SDK, and flocker-proxy's flock mode in front.
#pragma once

#include <flocker/sdk/server.h>
#include <simdjson.h>

#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "fake_docker.h"
#include "flock/control/control_plane.h"
#include "flock/routes/flock_handler.h"
#include "flock/routes/guard_handler.h"
#include "raw_client.h"
#include "transport/server.h"

namespace flocker::test {

namespace v1 = ::flocker::v1;

// The string `key` of a JSON object answer ("" when it has none).
inline std::string field(const std::string& json, const char* key) {
  simdjson::dom::parser p;
  simdjson::dom::element root;
  std::string_view v;
  if (p.parse(json).get(root) || root[key].get_string().get(v)) return "";
  return std::string(v);
}

// A decider whose answers each test scripts; it records what it was asked.
struct ScriptedDecider : sdk::Decider {
  std::mutex mu;
  v1::ListResponse inventory;
  std::function<grpc::Status(const v1::RouteRequest&, v1::RouteResponse&)> on_route;
  std::function<grpc::Status(const v1::RemapContainerRequest&, v1::RemapContainerResponse&)> on_remap;
  std::function<grpc::Status(const v1::RegistryAuthRequest&, v1::RegistryAuthResponse&)> on_auth;
  std::function<grpc::Status(const v1::AuthorizeRequest&, v1::AuthorizeResponse&)> on_authorize;
  std::vector<v1::AuthorizeRequest> authorizations;
  std::chrono::milliseconds delay{0};
  std::vector<v1::RouteRequest> routes;
  std::vector<v1::RemapContainerRequest> remaps;
  int auths = 0;
  int lists = 0;
  int turn = 0;

  grpc::Status List(grpc::ServerContext&, const v1::ListRequest&, v1::ListResponse& resp) override {
    std::lock_guard lock(mu);
    ++lists;
    resp = inventory;
    return grpc::Status::OK;
  }
  grpc::Status Route(grpc::ServerContext&, const v1::RouteRequest& req, v1::RouteResponse& resp) override {
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(mu);
    routes.push_back(req);
    if (on_route) return on_route(req, resp);
    // Default: the pinned host, else round-robin over healthy candidates, one host.
    if (!req.pinned_host().empty()) {
      resp.add_hosts(req.pinned_host());
      return grpc::Status::OK;
    }
    std::vector<std::string> healthy;
    for (const auto& c : req.candidates()) {
      if (c.healthy()) healthy.push_back(c.name());
    }
    if (healthy.empty()) return {grpc::StatusCode::UNAVAILABLE, "nothing healthy"};
    resp.add_hosts(healthy[turn++ % healthy.size()]);
    return grpc::Status::OK;
  }
  grpc::Status RemapContainer(grpc::ServerContext& ctx, const v1::RemapContainerRequest& req,
                              v1::RemapContainerResponse& resp) override {
    std::lock_guard lock(mu);
    remaps.push_back(req);
    if (on_remap) return on_remap(req, resp);
    return sdk::Decider::RemapContainer(ctx, req, resp);
  }
  grpc::Status RegistryAuth(grpc::ServerContext& ctx, const v1::RegistryAuthRequest& req,
                            v1::RegistryAuthResponse& resp) override {
    std::lock_guard lock(mu);
    ++auths;
    if (on_auth) return on_auth(req, resp);
    return sdk::Decider::RegistryAuth(ctx, req, resp);
  }
  grpc::Status Authorize(grpc::ServerContext& ctx, const v1::AuthorizeRequest& req,
                         v1::AuthorizeResponse& resp) override {
    std::lock_guard lock(mu);
    authorizations.push_back(req);
    if (on_authorize) return on_authorize(req, resp);
    return sdk::Decider::Authorize(ctx, req, resp);
  }
};

struct FlockHarness {
  explicit FlockHarness(flock::DeciderFailure failure = flock::DeciderFailure::kFail,
                        std::chrono::milliseconds decider_timeout = std::chrono::milliseconds(500),
                        std::optional<flock::GuardOptions> guard_options = std::nullopt,
                        transport::ServerOptions options = {},
                        const std::function<void(flock::FlockOptions&)>& tune = {}) {
    for (auto* e : {&e1, &e2, &e3}) {
      auto* h = decider.inventory.add_hosts();
      h->set_name(e->name());
      h->set_address(e->address());
      (*h->mutable_labels())["zone"] = "z-" + e->name();
    }
    sdk::ServeOptions so;
    so.listen = "127.0.0.1:0";
    so.drain = std::chrono::milliseconds(100);
    decider_server = std::make_unique<sdk::Server>(decider, so);
    decider_server->start();
    flock::FlockOptions fo;
    fo.name = "test-flock";
    fo.decider.address = "127.0.0.1:" + std::to_string(decider_server->port());
    fo.decider.timeout = decider_timeout;
    fo.on_decider_failure = failure;
    fo.health_interval = std::chrono::milliseconds(100);
    fo.inventory_refresh = std::chrono::seconds(1);
    fo.engine_timeout = std::chrono::seconds(2);
    if (tune) tune(fo);
    the_flock = std::make_unique<flock::Flock>(fo);
    control = std::make_unique<flock::ControlPlane>(*the_flock, transport::PoolOptions{});
    handler = std::make_unique<flock::FlockHandler>(*the_flock);
    transport::Handler* front = handler.get();
    if (guard_options) {
      guard = std::make_unique<flock::GuardHandler>(*handler, *guard_options, &the_flock->decider);
      handler->set_guard(guard.get());
      front = guard.get();
    }
    options.listen = {"tcp://127.0.0.1:0"};
    options.threads = 2;
    options.grace = std::chrono::milliseconds(200);
    server = std::make_unique<transport::Server>(options, *front);
    control->watch_requests(*server);
    server->start();
    control->start();
    wait_healthy(3);
  }
  ~FlockHarness() {
    server->shutdown();
    server->wait();
    control->stop();
    decider_server->shutdown();
  }

  // Waits until `n` hosts are healthy (and their event streams are open).
  bool wait_healthy(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto hosts = the_flock->inventory.snapshot();
      std::size_t healthy = 0;
      for (const auto& h : *hosts) healthy += h.healthy;
      int streams = e1.open_event_streams() + e2.open_event_streams() + e3.open_event_streams();
      if (healthy == n && (n < 3 || streams >= 3)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Polls `ready` until it holds or the timeout passes.
  template <class F>
  static bool eventually(F&& ready, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // Whether the proxy's inventory knows that `host` has `image`.
  bool knows_image(const std::string& host, const std::string& image) {
    auto model = the_flock->model.snapshot();
    auto* h = model->host(host);
    return h && h->image(image);
  }

  std::string address() const { return server->bound().at(0).text; }

  // One request, its response.
  http::response<http::string_body> request(const std::string& method, const std::string& target,
                                            const std::string& body = "",
                                            const std::string& headers = "") {
    RawClient c(address());
    std::string extra = headers;
    if (!body.empty()) extra += "Content-Type: application/json\r\n";
    c.send(request_text(method, target, extra, body));
    return c.read_response(method == "HEAD");
  }

  FakeDocker e1{"e1"}, e2{"e2"}, e3{"e3"};
  ScriptedDecider decider;
  std::unique_ptr<sdk::Server> decider_server;
  std::unique_ptr<flock::Flock> the_flock;
  std::unique_ptr<flock::ControlPlane> control;
  std::unique_ptr<flock::FlockHandler> handler;
  std::unique_ptr<flock::GuardHandler> guard;
  std::unique_ptr<transport::Server> server;
};

}  // namespace flocker::test

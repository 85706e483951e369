#include "flocker/sdk/server.h"

#include "flocker/sdk/metrics.h"
#include "flocker/sdk/metrics_server.h"
#include "flocker/sdk/status_name.h"
#include "proxies_seen.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace flocker::sdk {
namespace {

constexpr const char* kServiceName = "flocker.v1.Decider";

// Every decider built on the SDK counts its calls and decisions, for Prometheus
// (ServeOptions::metrics_listen).
struct DeciderMetrics {
  metrics::Family<metrics::Counter>& calls = metrics::global().counter(
      "flocker_decider_server_calls_total", "Calls the decider answered, by RPC and gRPC code",
      {"rpc", "code"});
  metrics::Family<metrics::Histogram>& seconds = metrics::global().histogram(
      "flocker_decider_server_call_seconds", "Time the decider took to answer, by RPC", {"rpc"});
  metrics::Family<metrics::Counter>& decisions = metrics::global().counter(
      "flocker_decider_decisions_total",
      "Hosts chosen by Route, by operation kind (container_create, image_pull, ...) and host",
      {"kind", "host"});
};

DeciderMetrics& decider_metrics() {
  static DeciderMetrics m;
  return m;
}

// "OPERATION_KIND_CONTAINER_CREATE" -> "container_create".
std::string kind_label(v1::OperationKind kind) {
  std::string name = v1::OperationKind_Name(kind);
  constexpr std::string_view prefix = "OPERATION_KIND_";
  if (name.rfind(prefix, 0) == 0) name.erase(0, prefix.size());
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name.empty() ? "unknown" : name;
}

grpc::Status counted(const char* rpc, std::chrono::steady_clock::time_point start,
                     grpc::Status status) {
  auto& m = decider_metrics();
  m.calls.with({rpc, status_name(status.error_code())}).inc();
  m.seconds.with({rpc}).observe(metrics::seconds_since(start));
  return status;
}

// Runs one handler, turning an escaping exception into INTERNAL: a decider bug must reach
// the docker user as a message, not as a crashed decider.
template <class Handler>
grpc::Status run_guarded(const char* rpc, Handler&& handler) {
  try {
    grpc::Status status = handler();
    if (!status.ok() && status.error_code() != grpc::StatusCode::UNIMPLEMENTED) {
      spdlog::info("{}: answered {}: {}", rpc, static_cast<int>(status.error_code()),
                   status.error_message());
    }
    return status;
  } catch (const std::exception& e) {
    spdlog::error("{}: handler threw: {}", rpc, e.what());
    return {grpc::StatusCode::INTERNAL, std::string(rpc) + " failed in the decider: " + e.what()};
  } catch (...) {
    spdlog::error("{}: handler threw a non-exception", rpc);
    return {grpc::StatusCode::INTERNAL, std::string(rpc) + " failed in the decider"};
  }
}

// Runs one handler as run_guarded does, and counts the call.
template <class Handler>
grpc::Status guarded(const char* rpc, Handler&& handler) {
  const auto start = std::chrono::steady_clock::now();
  return counted(rpc, start, run_guarded(rpc, std::forward<Handler>(handler)));
}

// Adapts the generated service (pointer signatures, no exception safety) to sdk::Decider.
class ServiceAdapter final : public v1::Decider::Service {
 public:
  explicit ServiceAdapter(Decider& decider) : decider_(decider) {}

  grpc::Status List(grpc::ServerContext* ctx, const v1::ListRequest* req,
                    v1::ListResponse* resp) override {
    return guarded("List", [&] {
      auto status = decider_.List(*ctx, *req, *resp);
      // Every C++ decider tells its proxies who else asks (ListResponse.proxies).
      proxies_.record(*req, ctx->peer(), resp->refresh_interval_seconds());
      if (status.ok()) proxies_.fill(*resp);
      return status;
    });
  }
  grpc::Status Route(grpc::ServerContext* ctx, const v1::RouteRequest* req,
                     v1::RouteResponse* resp) override {
    return guarded("Route", [&] {
      auto status = decider_.Route(*ctx, *req, *resp);
      if (status.ok()) {
        const auto kind = kind_label(req->kind());
        for (const auto& host : resp->hosts()) decider_metrics().decisions.with({kind, host}).inc();
      }
      return status;
    });
  }
  grpc::Status RemapContainer(grpc::ServerContext* ctx, const v1::RemapContainerRequest* req,
                              v1::RemapContainerResponse* resp) override {
    return guarded("RemapContainer", [&] { return decider_.RemapContainer(*ctx, *req, *resp); });
  }
  grpc::Status RegistryAuth(grpc::ServerContext* ctx, const v1::RegistryAuthRequest* req,
                            v1::RegistryAuthResponse* resp) override {
    return guarded("RegistryAuth", [&] { return decider_.RegistryAuth(*ctx, *req, *resp); });
  }
  grpc::Status Authorize(grpc::ServerContext* ctx, const v1::AuthorizeRequest* req,
                         v1::AuthorizeResponse* resp) override {
    return guarded("Authorize", [&] { return decider_.Authorize(*ctx, *req, *resp); });
  }

 private:
  Decider& decider_;
  detail::ProxiesSeen proxies_;
};

std::shared_ptr<grpc::ServerCredentials> credentials(const ServeTls& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca_pem.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

struct Server::Impl {
  Impl(Decider& decider, ServeOptions opts) : adapter(decider), options(std::move(opts)) {}

  ServiceAdapter adapter;
  ServeOptions options;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<metrics::MetricsServer> metrics;
  int port = 0;
  std::once_flag shutdown_once;
};

Server::Server(Decider& decider, ServeOptions options)
    : impl_(std::make_unique<Impl>(decider, std::move(options))) {}

Server::~Server() {
  shutdown();
  wait();
}

void Server::start() {
  if (!impl_->options.metrics_listen.empty()) {
    decider_metrics();  // the families exist, at zero, from the first scrape
    impl_->metrics = std::make_unique<metrics::MetricsServer>(
        std::vector<std::string>{impl_->options.metrics_listen});
    impl_->metrics->start();
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second decider on a port already taken would start
  // without a word and split the calls (and their state) with the first. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(impl_->options.listen, credentials(impl_->options.tls), &impl_->port);
  builder.RegisterService(&impl_->adapter);
  impl_->server = builder.BuildAndStart();
  const bool unix_socket = impl_->options.listen.rfind("unix:", 0) == 0;
  if (!impl_->server || (impl_->port == 0 && !unix_socket)) {
    if (impl_->server) impl_->server->Shutdown();
    impl_->server.reset();
    throw std::runtime_error("cannot listen on " + impl_->options.listen +
                             " (is the address in use, by another decider?)");
  }
  auto* health = impl_->server->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus(kServiceName, true);
  spdlog::info("decider listening on {} (port {})", impl_->options.listen, impl_->port);
}

int Server::port() const { return impl_->port; }

void Server::shutdown() {
  if (!impl_->server) return;
  std::call_once(impl_->shutdown_once, [this] {
    // NOT_SERVING first, so that watchers move away while we still answer.
    impl_->server->GetHealthCheckService()->SetServingStatus(false);
    spdlog::info("decider shutting down: NOT_SERVING, draining for up to {} ms",
                 impl_->options.drain.count());
    std::this_thread::sleep_for(impl_->options.lame_duck);
    impl_->server->Shutdown(std::chrono::system_clock::now() + impl_->options.drain);
  });
}

void Server::wait() {
  if (impl_->server) impl_->server->Wait();
  if (impl_->metrics) impl_->metrics->stop();
}

int serve(Decider& decider, const ServeOptions& options) {
  // Block the signals before gRPC starts its threads (they inherit the mask), so that only
  // sigwait below ever sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Server server(decider, options);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 2;
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (options.on_reload) {
        spdlog::info("SIGHUP: reloading");
        options.on_reload();
      }
      continue;
    }
    spdlog::info("{}: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.shutdown();
    server.wait();
    return 0;
  }
}

}  // namespace flocker::sdk

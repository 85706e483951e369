#include "flocker/sdk/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <stdexcept>
#include <thread>

namespace flocker::sdk {
namespace {

constexpr const char* kServiceName = "flocker.v1.Decider";

// Runs one handler, turning an escaping exception into INTERNAL: a decider bug must reach
// the docker user as a message, not as a crashed decider.
template <class Handler>
grpc::Status guarded(const char* rpc, Handler&& handler) {
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

// Adapts the generated service (pointer signatures, no exception safety) to sdk::Decider.
class ServiceAdapter final : public v1::Decider::Service {
 public:
  explicit ServiceAdapter(Decider& decider) : decider_(decider) {}

  grpc::Status List(grpc::ServerContext* ctx, const v1::ListRequest* req,
                    v1::ListResponse* resp) override {
    return guarded("List", [&] { return decider_.List(*ctx, *req, *resp); });
  }
  grpc::Status Route(grpc::ServerContext* ctx, const v1::RouteRequest* req,
                     v1::RouteResponse* resp) override {
    return guarded("Route", [&] { return decider_.Route(*ctx, *req, *resp); });
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

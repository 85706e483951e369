#include "flock/control/decider_client.h"

#include <flocker/sdk/metrics.h>
#include <flocker/sdk/status_name.h>
#include <grpcpp/grpcpp.h>

#include "flock/control/grpc_await.h"

namespace flocker::flock {
namespace {

// Calls to the decider, by RPC and how they ended (a gRPC code: OK, DEADLINE_EXCEEDED,
// UNAVAILABLE when it is down...), and how long they took.
void count_call(const char* rpc, const grpc::Status& status,
                std::chrono::steady_clock::time_point start) {
  static auto& calls = metrics::global().counter(
      "flocker_decider_client_calls_total", "Calls the proxy made to the decider, by RPC and gRPC code",
      {"rpc", "code"});
  static auto& seconds = metrics::global().histogram(
      "flocker_decider_client_call_seconds", "Time the decider took to answer the proxy, by RPC",
      {"rpc"});
  calls.with({rpc, sdk::status_name(status.error_code())}).inc();
  seconds.with({rpc}).observe(metrics::seconds_since(start));
}

// Starts `start(context, request, response, callback)` and suspends the coroutine until the
// callback; resumes on the coroutine's executor.
template <class Request, class Response, class Start>
transport::Task<DeciderResult<Response>> invoke(const char* rpc, std::chrono::milliseconds timeout,
                                                Request request, Start start) {
  const auto started = std::chrono::steady_clock::now();
  auto call = std::make_shared<GrpcCall<Request, Response>>();
  call->request = std::move(request);
  call->context.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::Status status = co_await await_grpc(call, std::move(start));
  count_call(rpc, status, started);
  DeciderResult<Response> result{status, std::move(call->response)};
  co_return result;
}

}  // namespace

DeciderClient::DeciderClient(DeciderOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  // Reconnect quickly after the decider restarts: the proxy keeps asking.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (options_.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options_.tls_ca_pem;
    ssl.pem_cert_chain = options_.tls_cert_pem;
    ssl.pem_private_key = options_.tls_key_pem;
    credentials = grpc::SslCredentials(ssl);
    if (!options_.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options_.tls_server_name);
    }
  }
  channel_ = grpc::CreateCustomChannel(options_.address, credentials, args);
  stub_ = v1::Decider::NewStub(channel_);
}

transport::Task<DeciderResult<v1::ListResponse>> DeciderClient::list(v1::ListRequest request) {
  auto result = co_await invoke<v1::ListRequest, v1::ListResponse>(
      "List", options_.timeout, std::move(request), [this](auto* ctx, auto* req, auto* resp, auto cb) {
        stub_->async()->List(ctx, req, resp, std::move(cb));
      });
  co_return result;
}

transport::Task<DeciderResult<v1::RouteResponse>> DeciderClient::route(v1::RouteRequest request) {
  auto result = co_await invoke<v1::RouteRequest, v1::RouteResponse>(
      "Route", options_.timeout, std::move(request), [this](auto* ctx, auto* req, auto* resp, auto cb) {
        stub_->async()->Route(ctx, req, resp, std::move(cb));
      });
  co_return result;
}

transport::Task<DeciderResult<v1::RemapContainerResponse>> DeciderClient::remap(
    v1::RemapContainerRequest request) {
  auto result = co_await invoke<v1::RemapContainerRequest, v1::RemapContainerResponse>(
      "RemapContainer", options_.timeout, std::move(request), [this](auto* ctx, auto* req, auto* resp, auto cb) {
        stub_->async()->RemapContainer(ctx, req, resp, std::move(cb));
      });
  co_return result;
}

transport::Task<DeciderResult<v1::RegistryAuthResponse>> DeciderClient::registry_auth(
    v1::RegistryAuthRequest request) {
  auto result = co_await invoke<v1::RegistryAuthRequest, v1::RegistryAuthResponse>(
      "RegistryAuth", options_.timeout, std::move(request), [this](auto* ctx, auto* req, auto* resp, auto cb) {
        stub_->async()->RegistryAuth(ctx, req, resp, std::move(cb));
      });
  co_return result;
}

transport::Task<DeciderResult<v1::AuthorizeResponse>> DeciderClient::authorize(
    v1::AuthorizeRequest request) {
  auto result = co_await invoke<v1::AuthorizeRequest, v1::AuthorizeResponse>(
      "Authorize", options_.timeout, std::move(request), [this](auto* ctx, auto* req, auto* resp, auto cb) {
        stub_->async()->Authorize(ctx, req, resp, std::move(cb));
      });
  co_return result;
}

}  // namespace flocker::flock

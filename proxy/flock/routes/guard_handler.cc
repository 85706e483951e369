#include "flock/routes/guard_handler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "flock/routes/handler_support.h"
#include "transport/h2c_refusal.h"

namespace flocker::flock {

using transport::Exchange;
using transport::Task;
namespace http = transport::http;

namespace {

v1::EndpointClass to_proto(docker::EndpointClass c) {
  switch (c) {
    case docker::EndpointClass::kContainers:
      return v1::ENDPOINT_CLASS_CONTAINERS;
    case docker::EndpointClass::kImages:
      return v1::ENDPOINT_CLASS_IMAGES;
    case docker::EndpointClass::kExec:
      return v1::ENDPOINT_CLASS_EXEC;
    case docker::EndpointClass::kBuild:
      return v1::ENDPOINT_CLASS_BUILD;
    case docker::EndpointClass::kVolumes:
      return v1::ENDPOINT_CLASS_VOLUMES;
    case docker::EndpointClass::kNetworks:
      return v1::ENDPOINT_CLASS_NETWORKS;
    case docker::EndpointClass::kSystem:
      return v1::ENDPOINT_CLASS_SYSTEM;
    case docker::EndpointClass::kEvents:
      return v1::ENDPOINT_CLASS_EVENTS;
    case docker::EndpointClass::kOther:
      return v1::ENDPOINT_CLASS_OTHER;
  }
  return v1::ENDPOINT_CLASS_OTHER;
}

Task<void> refuse(Exchange& ex, http::status status, const std::string& why) {
  spdlog::info("{} refused {} {} from {}: {}", ex.request_id(),
               std::string_view(ex.request().method_string()),
               std::string_view(ex.request().target()), ex.peer().address, why);
  co_await ex.respond_error(status, why);
}

}  // namespace

GuardHandler::GuardHandler(transport::Handler& inner, GuardOptions options, DeciderClient* decider)
    : inner_(inner), options_(std::move(options)), decider_(decider) {}

// The checks run in their own coroutine, whose frame (the route, the body) is gone before the
// request goes on: an event stream held open for hours keeps only this small frame.
Task<void> GuardHandler::handle(Exchange& ex) {
  const bool admitted = co_await admit(ex);
  if (admitted) co_await inner_.handle(ex);
}

Task<bool> GuardHandler::admit(Exchange& ex) {
  const auto method = ex.request().method();
  const std::string target(ex.request().target());
  if (auto why = docker::non_canonical_target(target)) {
    ex.close_after();
    co_await refuse(ex, http::status::bad_request, "refused: " + *why);
    co_return false;
  }
  const docker::Route route = docker::classify(method, target);
  // BuildKit's control connection: refused as a gRPC server refuses (a refused upgrade makes
  // buildx fall back to a builder container).
  if (route.endpoint == docker::Endpoint::kBuildKitControl && transport::wants_h2c(ex.request())) ex.refuse_as_grpc();
  const docker::EndpointClass cls = docker::endpoint_class(route, method);
  ex.record().label = docker::class_name(cls);
  if (auto why = docker::check_endpoint(options_.policy, method, cls)) {
    co_await refuse(ex, http::status::forbidden, *why);
    co_return false;
  }
  if (options_.policy.read_only && ex.parser().upgrade()) {  // a websocket attach writes stdin
    co_await refuse(ex, http::status::forbidden, "flocker policy: this proxy is read-only");
    co_return false;
  }
  const bool has_body = !ex.request_body().done();
  const bool streamed = docker::streams_request_body(route, method);
  const bool buffer =
      has_body && !streamed && (options_.authorize || docker::body_is_checked(route, method));
  std::string body;
  if (buffer) {
    auto read = co_await ex.read_body(options_.body_limit);
    if (!read) co_return false;  // too large to check (413 sent), or the client went away
    body = std::move(*read);
    if (auto why = docker::check_body(options_.policy, route, method, body)) {
      co_await refuse(ex, http::status::forbidden, *why);
      co_return false;
    }
  }
  if (options_.authorize) {
    const bool inspected = !has_body || buffer;
    const bool go_on =
        co_await authorized(ex, route, cls, body, inspected, v1::AUTHORIZE_STAGE_REQUEST, "");
    if (!go_on) co_return false;
  }
  if (buffer) ex.replay_body(std::move(body));
  co_return true;
}

Task<bool> GuardHandler::check_remapped(Exchange& ex, const std::string& host,
                                        const std::string& body) const {
  const auto method = ex.request().method();
  const docker::Route route = docker::classify(method, ex.request().target());
  if (auto why = docker::check_body(options_.policy, route, method, body)) {
    co_await refuse(ex, http::status::forbidden,
                    *why + " (in the configuration the decider's RemapContainer made)");
    co_return false;
  }
  if (!options_.authorize) co_return true;
  const bool go_on = co_await authorized(ex, route, docker::endpoint_class(route, method), body,
                                         true, v1::AUTHORIZE_STAGE_REMAPPED, host);
  co_return go_on;
}

Task<bool> GuardHandler::authorized(Exchange& ex, const docker::Route& route,
                                    docker::EndpointClass cls, const std::string& body,
                                    bool inspected, v1::AuthorizeStage stage,
                                    const std::string& host) const {
  v1::AuthorizeRequest req;
  req.set_request_id(ex.request_id());
  req.set_method(std::string(ex.request().method_string()));
  req.set_path(route.target.path);
  req.set_api_version(route.target.version);
  req.set_query(route.target.query);
  *req.mutable_client() = client_of(ex);
  req.set_endpoint_class(to_proto(cls));
  req.set_body(body);
  req.set_content_type(std::string(ex.request()[http::field::content_type]));
  req.set_body_inspected(inspected);
  req.set_stage(stage);
  req.set_host(host);
  auto result = co_await decider_->authorize(std::move(req));
  if (result.ok() && result.response.allow()) co_return true;
  // Fail closed: no answer, or no opinion, is a refusal.
  http::status status = http::status::forbidden;
  std::string message;
  if (result.ok()) {
    message = result.response.message().empty() ? "request denied by the decider"
                                                : result.response.message();
  } else if (result.unimplemented()) {
    message =
        "the decider does not implement Authorize, and this proxy runs with --authorize: refused";
  } else if (result.unreachable()) {
    status = http::status::service_unavailable;
    message = fmt::format("authorization unavailable: decider {} ({}): refused",
                          decider_->address(), result.status.error_message());
  } else {
    message = fmt::format("authorization failed: {}: refused", result.status.error_message());
  }
  co_await refuse(ex, status, message);
  co_return false;
}

}  // namespace flocker::flock

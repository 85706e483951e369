// BuildKit through the flock (today's `docker build`): POST /grpc and POST /session, each
// upgraded to h2c and then relayed raw with the hijack machinery attach uses, both to the
// engine the client's BuildKit connections are pinned to (flock/coordination/buildkit_pins.h); the older
// CLI's POST /build?version=2 to its session's engine; POST /build/cancel to its build's.
#include <spdlog/spdlog.h>

#include "docker/api_target.h"
#include "flock/routes/flock_handler.h"
#include "transport/h2c_refusal.h"

namespace flocker::flock {

Task<const HostState*> FlockHandler::buildkit_host(Exchange& ex, const HostsSnapshot& hosts,
                                                   const std::string& session, const std::string& shared_key,
                                                   const std::string& image,
                                                   std::optional<BuildKitPins::Hold>& hold) {
  const std::string client = client_key(ex);
  // A client's first connections are decided one at a time: they all go where the first went.
  auto deciding = co_await flock_.buildkit_deciding.acquire(client);
  const HostState* host = nullptr;
  if (auto pinned = flock_.buildkit.pinned(client, session)) {
    host = find_host(*hosts, *pinned);
    if (host && !host->healthy) {
      co_await respond_host_down(ex, *host);  // its sessions are there: no other host will do
      co_return nullptr;
    }
  }
  if (!host) {
    v1::RouteRequest req;
    req.set_kind(v1::OPERATION_KIND_IMAGE_BUILD);
    req.set_image(image);
    req.set_query(ex.request().target().find('?') == std::string_view::npos
                      ? std::string()
                      : std::string(ex.request().target().substr(ex.request().target().find('?') + 1)));
    // Where a rebuild's steps are cached: the tag's newest image's host, else where this
    // context or client built last.
    std::string cache = image.empty() ? std::string() : flock_.model.snapshot()->resolve_image(image).winner_host;
    if (cache.empty()) cache = flock_.buildkit.cache_host(client, shared_key);
    if (const HostState* h = find_host(*hosts, cache); h && h->healthy) req.set_cache_host(cache);
    auto chosen = co_await decide(ex, hosts, req);
    if (chosen.empty()) co_return nullptr;
    host = chosen[0];
  }
  hold.emplace(flock_.buildkit.hold(client, host->name, session, shared_key));
  co_return host;
}

Task<void> FlockHandler::buildkit(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  if (!transport::wants_h2c(ex.request())) {  // dockerd's words for any other upgrade, or none
    co_await answer_as_engine(ex, hosts);
    co_return;
  }
  // A refusal of the control connection must reach buildx as a gRPC error: a refused
  // upgrade makes it take the endpoint for one without BuildKit and start a builder container.
  if (route.endpoint == docker::Endpoint::kBuildKitControl) ex.refuse_as_grpc();
  const auto header = [&](std::string_view name) {
    auto it = ex.request().find(name);
    return it == ex.request().end() ? std::string() : std::string(it->value());
  };
  const std::string session = route.endpoint == docker::Endpoint::kBuildKitSession
                                  ? header("X-Docker-Expose-Session-Uuid")
                                  : std::string();
  std::optional<BuildKitPins::Hold> hold;  // while the tunnel is open
  const HostState* host =
      co_await buildkit_host(ex, hosts, session, header("X-Docker-Expose-Session-Sharedkey"), "", hold);
  if (!host) co_return;
  co_await forward_to(ex, *host, answer_timeout(ex));
}

Task<void> FlockHandler::build_with_session(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  const auto& q = route.target.query;
  const std::string session = docker::query_param(q, "session").value_or("");
  std::optional<BuildKitPins::Hold> hold;  // the session that follows goes where this went
  const HostState* host =
      co_await buildkit_host(ex, hosts, session, "", docker::query_param(q, "t").value_or(""), hold);
  if (!host) co_return;
  if (auto id = docker::query_param(q, "buildid"); id && !id->empty()) flock_.buildkit.remember_build(*id, host->name);
  co_await forward_to(ex, *host, answer_timeout(ex));
}

Task<void> FlockHandler::build_cancel(Exchange& ex, const docker::Route& route) {
  auto hosts = flock_.inventory.snapshot();
  const std::string id = docker::query_param(route.target.query, "id").value_or("");
  if (auto known = flock_.buildkit.build_host(id)) {
    if (const HostState* h = find_host(*hosts, *known); h && h->healthy) {
      co_await forward_to(ex, *h, answer_timeout(ex));
      co_return;
    }
  }
  co_await answer_as_engine(ex, hosts);  // a build no host runs: an engine says so
}

}  // namespace flocker::flock

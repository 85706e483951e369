#include "flock/routes/flock_handler.h"

#include <spdlog/spdlog.h>

#include "docker/answer_deadline.h"
#include "docker/error_response.h"
#include "docker/errors.h"
#include "docker/system_merge.h"
#include "flock/routes/handler_support.h"
#include "flock/model/model_sync.h"
#include "flock/model/tag_sync.h"
#include "transport/gather.h"

namespace flocker::flock {

using docker::Endpoint;

http::response<http::string_body> FlockHandler::render_error(http::status status,
                                                             std::string_view message) const {
  return docker::error_response(status, message);
}

Task<void> FlockHandler::handle(Exchange& ex) {
  const auto route = docker::classify(ex.request().method(), ex.request().target());
  // A /vX.YY the flock does not serve is refused before anything, as dockerd's version
  // middleware does (and in its words: too old is plain text there).
  if (!route.target.version.empty() && route.endpoint != Endpoint::kUnknown) {
    const ApiRange range = api_range(flock_.inventory.snapshot());
    if (docker::compare_api_versions(route.target.version, range.max) > 0) {
      co_await ex.respond_error(http::status::bad_request, docker::client_too_new(route.target.version, range.max));
      co_return;
    }
    if (docker::compare_api_versions(route.target.version, range.min) < 0) {
      http::response<http::string_body> res{http::status::bad_request, 11};
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = docker::client_too_old(route.target.version, range.min) + "\n";
      co_await ex.respond(std::move(res));
      co_return;
    }
  }
  const unsigned lists = lists_changed_by(ex.request().method(), route);
  if (lists) {
    // Read-your-writes for image, volume and network lists: until the lists of the hosts
    // this request reached are read again, every such list is read live.
    Counted changing(flock_.list_changes);
    co_await dispatch(ex, route);
    // Tags it moved are brought in line on every host before a name is resolved again.
    std::optional<Counted> relisting;
    if (lists & kRelistImages) relisting.emplace(flock_.image_relists);
    co_await relist_touched(ex, lists);
    co_return;
  }
  co_await dispatch(ex, route);
}

Task<void> FlockHandler::images_settled(Exchange& ex) {
  if (flock_.image_relists.load() == 0) co_return;
  transport::asio::steady_timer pause(ex.worker().context());
  const auto until = std::chrono::steady_clock::now() + flock_.options.engine_timeout;
  while (flock_.image_relists.load() > 0 && std::chrono::steady_clock::now() < until) {
    pause.expires_after(std::chrono::milliseconds(2));
    transport::error_code ec;
    co_await pause.async_wait(transport::ec_token(ec));
  }
}

unsigned FlockHandler::lists_changed_by(http::verb method, const docker::Route& route) {
  if (method == http::verb::get || method == http::verb::head) return kRelistNone;
  switch (route.endpoint) {
    case Endpoint::kImageCreate:
    case Endpoint::kImageLoad:
    case Endpoint::kBuild:
    case Endpoint::kBuildKitControl:  // (a BuildKit build exports its image to the engine)
    case Endpoint::kBuildKitSession:
    case Endpoint::kCommit:
    case Endpoint::kImage:
    case Endpoint::kImagePrune: return kRelistImages;
    case Endpoint::kVolumeCreate:
    case Endpoint::kVolume:
    case Endpoint::kVolumePrune:
    case Endpoint::kContainerCreate: return kRelistVolumes;  // (named volumes made on first use)
    case Endpoint::kContainer: return method == http::verb::delete_ ? kRelistVolumes : kRelistNone;  // rm -v
    case Endpoint::kNetworkCreate:
    case Endpoint::kNetworkPrune: return kRelistNetworks;
    case Endpoint::kNetwork: return method == http::verb::delete_ ? kRelistNetworks : kRelistNone;
    default: return kRelistNone;
  }
}

Task<void> FlockHandler::relist_touched(Exchange& ex, unsigned lists) {
  auto hosts = flock_.inventory.snapshot();
  const std::string& upstream = ex.record().upstream;
  std::vector<Task<std::vector<std::string>>> reads;
  for (const auto& h : *hosts) {
    if (upstream.find(h.address.text) == std::string::npos) continue;
    reads.push_back(relist(ex.worker(), h.address, h.name, flock_.model, lists, flock_.options.engine_timeout));
  }
  std::vector<std::string> moved;
  for (auto& tags : co_await transport::gather(std::move(reads))) moved.insert(moved.end(), tags.begin(), tags.end());
  co_await settle_tags(ex.worker(), flock_, std::move(moved), ex.request_id());
}

std::chrono::milliseconds FlockHandler::answer_timeout(Exchange& ex) const {
  const auto method = ex.request().method();
  return docker::answer_deadline(method, docker::classify(method, ex.request().target()), flock_.options.answer_timeout);
}

Task<void> FlockHandler::dispatch(Exchange& ex, const docker::Route& route) {
  switch (route.endpoint) {
    case Endpoint::kPing: co_await ping(ex); break;
    case Endpoint::kVersion: co_await version(ex); break;
    case Endpoint::kInfo: co_await info(ex); break;
    case Endpoint::kEvents: co_await events(ex, route); break;
    case Endpoint::kContainerList: co_await list_containers(ex, route); break;
    case Endpoint::kImageList: co_await merged(ex, route, &docker::merge_image_lists); break;
    case Endpoint::kNetworkList: co_await merged(ex, route, &docker::merge_network_lists); break;
    case Endpoint::kVolumeList: co_await merged(ex, route, &docker::merge_volume_lists); break;
    case Endpoint::kPluginList: co_await merged(ex, route, &docker::merge_network_lists); break;
    case Endpoint::kSystemDf: co_await merged(ex, route, &docker::merge_system_df); break;
    case Endpoint::kContainerPrune:
    case Endpoint::kImagePrune:
    case Endpoint::kNetworkPrune:
    case Endpoint::kVolumePrune:
    case Endpoint::kBuildPrune: co_await merged(ex, route, &docker::merge_prune_reports); break;
    case Endpoint::kContainerCreate: co_await create_container(ex, route); break;
    case Endpoint::kImageCreate: co_await create_image(ex, route); break;
    case Endpoint::kImageLoad:
      co_await decided_stream(ex, route, v1::OPERATION_KIND_IMAGE_LOAD, "");
      break;
    case Endpoint::kBuild: co_await build(ex, route); break;
    case Endpoint::kBuildKitControl:
    case Endpoint::kBuildKitSession: co_await buildkit(ex, route); break;
    case Endpoint::kBuildCancel: co_await build_cancel(ex, route); break;
    case Endpoint::kVolumeCreate:
      co_await create_named(ex, route, v1::OPERATION_KIND_VOLUME_CREATE);
      break;
    case Endpoint::kNetworkCreate:
      co_await create_named(ex, route, v1::OPERATION_KIND_NETWORK_CREATE);
      break;
    case Endpoint::kContainer: co_await container(ex, route); break;
    case Endpoint::kExec: co_await exec(ex, route); break;
    case Endpoint::kImage: co_await image(ex, route); break;
    case Endpoint::kImageGetMany: co_await image_get_many(ex, route); break;
    case Endpoint::kCommit: co_await commit(ex, route); break;
    case Endpoint::kNetwork: co_await network(ex, route); break;
    case Endpoint::kVolume: co_await volume(ex, route); break;
    case Endpoint::kPlugin: co_await plugin(ex, route); break;
    case Endpoint::kSwarm: co_await swarm(ex); break;
    case Endpoint::kAnyHost: co_await any_host(ex); break;
    case Endpoint::kUnsupported: co_await refuse(ex, route); break;
    case Endpoint::kUnknown:
      co_await ex.respond_error(http::status::not_found, "page not found");
      break;
  }
}

}  // namespace flocker::flock

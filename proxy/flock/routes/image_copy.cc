// An image anywhere in the flock is an image everywhere: a container placed on a host that
// lacks its image gets the image from a host that has it, streamed through the proxy
// (GET /images/{name}/get there, POST /images/load here; never whole in memory), before
// its create goes on. Only an image no host has makes the create answer "No such image",
// and then `docker run` pulls as it does with one engine. A tag is the flock's newest
// assignment of it (flock/model/tag_sync.h): a host that keeps an older image under the tag gets
// the newest first, re-tagged if it has it, else copied; never a create of the older one.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "docker/image_ref.h"
#include "docker/api_target.h"
#include "flock/routes/flock_handler.h"
#include "flock/model/model_sync.h"
#include "flock/model/tag_sync.h"
#include "transport/stream_copy.h"

namespace flocker::flock {
namespace {

// docker load answers 200 and reports a failure inside its progress stream.
bool load_failed(const std::string& body) {
  return body.find("\"errorDetail\"") != std::string::npos || body.find("\"error\"") != std::string::npos;
}

}  // namespace

Task<bool> FlockHandler::bring_image(Exchange& ex, const HostsSnapshot& hosts, const HostState& target,
                                     const std::string& image) {
  auto model = flock_.model.snapshot();
  const ImageRef ref = model->resolve_image(image);
  const HostObjects* here = model->host(target.name);
  if (here && here->image(ref)) co_return true;
  // A tag the target keeps on an older image while it has the newest: named so there.
  if (!ref.winner_id.empty() && here && here->images->by_id.count(ref.winner_id)) {
    auto [repo, tag] = split_tag(ref.tag);
    auto tagged = co_await call_host(ex, target,
                                     transport::make_request(http::verb::post,
                                                             "/images/" + ref.winner_id + "/tag?repo=" +
                                                                 docker::url_encode(repo) + "&tag=" + docker::url_encode(tag),
                                                             {}, ex.request_id()),
                                     flock_.options.engine_timeout);
    if (tagged.ok() && tagged.response.result_int() / 100 == 2) {
      co_await relist(ex.worker(), target.address, target.name, flock_.model, kRelistImages, flock_.options.engine_timeout);
    }
    co_return co_await not_stale(ex, target, ref);
  }
  std::vector<const HostState*> sources;
  for (const auto& name : model->image_holders(ref)) {
    const HostState* h = find_host(*hosts, name);
    if (h && h->healthy && h != &target) sources.push_back(h);
  }
  if (sources.empty()) co_return co_await not_stale(ex, target, ref);  // nowhere else: the create answers for it
  if (!here || !here->synced) {  // the model is not sure the target lacks it: ask
    // (A named vector: GCC 12 cannot keep an initializer list alive across a co_await.)
    const std::vector<const HostState*> asked{&target};
    auto has = co_await hosts_answering(ex, asked, "/images/" + image + "/json");
    if (!has.empty() && ref.winner_id.empty()) co_return true;
  }
  const std::string key = target.name + "\n" + docker::normalize_image(image);
  co_await flock_.image_copies.run(key, [&, source = sources[0]]() -> Task<void> {
    // A copy that just ended (another create's) may have brought it.
    if (const HostObjects* now = flock_.model.snapshot()->host(target.name); now && now->image(ref)) co_return;
    const auto started = std::chrono::steady_clock::now();
    http::request<http::empty_body> load{http::verb::post, "/images/load?quiet=1", 11};
    load.set(http::field::host, "docker");
    load.set(http::field::user_agent, "flocker");
    load.set(http::field::content_type, "application/x-tar");
    load.set("X-Request-Id", ex.request_id());
    auto& upstream = ex.record().upstream;
    upstream += (upstream.empty() ? "" : ",") + source->address.text;
    auto copy = co_await transport::copy_body(ex.worker(), source->address, "/images/" + image + "/get",
                                              target.address, load.base(), flock_.options.engine_timeout);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const bool loaded = copy.ok && !load_failed(copy.response.body());
    count_image_copy(loaded, copy.bytes);
    if (!loaded) {
      spdlog::warn("{}: copying image {} from {} to {} failed after {:.1f} s: {}", ex.request_id(), image,
                   source->name, target.name, seconds, copy.ok ? copy.response.body() : copy.error);
      co_return;
    }
    spdlog::info("{}: copied image {} from {} to {}: {:.1f} MB in {:.2f} s ({:.0f} MB/s)", ex.request_id(), image,
                 source->name, target.name, copy.bytes / 1e6, seconds, copy.bytes / 1e6 / std::max(seconds, 1e-6));
    // Read-your-writes: the target has it now, under its name (its image event says so too).
    co_await relist(ex.worker(), target.address, target.name, flock_.model, kRelistImages, flock_.options.engine_timeout);
  });
  co_return co_await not_stale(ex, target, ref);
}

Task<bool> FlockHandler::not_stale(Exchange& ex, const HostState& target, const ImageRef& ref) {
  if (ref.winner_id.empty()) co_return true;
  const HostObjects* here = flock_.model.snapshot()->host(target.name);
  if (!here) co_return true;
  const auto named = here->images->id_by_ref.find(ref.tag);
  if (named == here->images->id_by_ref.end() || named->second == ref.winner_id) co_return true;
  // A container is never made from an older image than the tag names elsewhere.
  co_await ex.respond_error(
      http::status::service_unavailable,
      fmt::format("flocker: host {} keeps an older image under {} ({}) than the flock's newest ({}, on {}), and the "
                  "newest could not be brought there",
                  target.name, ref.tag, named->second.substr(0, 19), ref.winner_id.substr(0, 19), ref.winner_host));
  co_return false;
}

}  // namespace flocker::flock

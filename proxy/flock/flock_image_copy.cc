// An image anywhere in the flock is an image everywhere: a container placed on a host that
// lacks its image gets the image from a host that has it, streamed through the proxy
// (GET /images/{name}/get there, POST /images/load here; never whole in memory), before
// its create goes on. Only an image no host has makes the create answer "No such image",
// and then `docker run` pulls as it does with one engine.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "docker/image_ref.h"
#include "flock/flock_handler.h"
#include "transport/stream_copy.h"

namespace flocker::flock {
namespace {

// docker load answers 200 and reports a failure inside its progress stream.
bool load_failed(const std::string& body) {
  return body.find("\"errorDetail\"") != std::string::npos || body.find("\"error\"") != std::string::npos;
}

}  // namespace

Task<void> FlockHandler::bring_image(Exchange& ex, const HostsSnapshot& hosts, const HostState& target,
                                     const std::string& image) {
  auto model = flock_.model.snapshot();
  const HostObjects* here = model->host(target.name);
  if (here && here->image(image)) co_return;
  std::vector<const HostState*> sources;
  for (const auto& name : model->image_holders(image)) {
    const HostState* h = find_host(*hosts, name);
    if (h && h->healthy && h != &target) sources.push_back(h);
  }
  if (sources.empty()) co_return;  // nowhere else: the create answers for it
  if (!here || !here->synced) {  // the model is not sure the target lacks it: ask
    // (A named vector: GCC 12 cannot keep an initializer list alive across a co_await.)
    const std::vector<const HostState*> asked{&target};
    auto has = co_await hosts_answering(ex, asked, "/images/" + image + "/json");
    if (!has.empty()) co_return;
  }
  const std::string key = target.name + "\n" + docker::normalize_image(image);
  co_await flock_.image_copies.run(key, [&, source = sources[0]]() -> Task<void> {
    // A copy that just ended (another create's) may have brought it.
    if (const HostObjects* now = flock_.model.snapshot()->host(target.name); now && now->image(image)) co_return;
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
    // Read-your-writes: the target has it now (its image event will say so too).
    const HostObjects* from = flock_.model.snapshot()->host(source->name);
    const docker::ImageSummary* summary = from ? from->image(image) : nullptr;
    if (summary) {
      docker::ImageSummary copied = *summary;
      flock_.model.edit(target.name, [&](HostEdit& e) { e.images().put(copied); });
    }
  });
}

}  // namespace flocker::flock

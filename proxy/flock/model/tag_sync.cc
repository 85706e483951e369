#include "flock/model/tag_sync.h"

#include <spdlog/spdlog.h>

#include "docker/api_target.h"
#include "docker/docker_time.h"
#include "docker/json.h"
#include "flock/flock.h"
#include "flock/model/model_sync.h"
#include "transport/client_call.h"
#include "transport/gather.h"

namespace flocker::flock {

namespace http = transport::http;
using transport::Task;

void UnsettledTags::add(const std::string& tag) {
  std::lock_guard lock(mu_);
  tags_.insert(tag);
}

std::vector<std::string> UnsettledTags::take() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out(tags_.begin(), tags_.end());
  tags_.clear();
  return out;
}

std::pair<std::string, std::string> split_tag(std::string_view normalized) {
  const auto slash = normalized.rfind('/');
  const auto colon = normalized.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return {std::string(normalized), "latest"};
  }
  return {std::string(normalized.substr(0, colon)), std::string(normalized.substr(colon + 1))};
}

namespace {

Task<transport::CallResult> call(transport::Worker& worker, const HostState& host, http::verb method,
                                 const std::string& target, const std::string& request_id,
                                 std::chrono::milliseconds timeout) {
  transport::CallOptions opts;
  opts.timeout = timeout;
  co_return co_await transport::call(worker, host.address, transport::make_request(method, target, {}, request_id),
                                     opts);
}

// An estimated mark made exact: when dockerd last tagged the image (a build, commit or tag
// sets Metadata.LastTagTime), else when it was made (a pull or load leaves LastTagTime zero).
Task<bool> refine(transport::Worker& worker, Flock& flock, const HostState& host, const std::string& tag,
                  const std::string& id, const std::string& request_id) {
  auto r = co_await call(worker, host, http::verb::get, "/images/" + id + "/json", request_id,
                         flock.options.engine_timeout);
  if (!r.ok() || r.response.result_int() != 200) co_return false;
  docker::dom::parser parser;
  docker::dom::element root, metadata;
  if (parser.parse(r.response.body()).get(root)) co_return false;
  int64_t ns = 0;
  if (!root["Metadata"].get(metadata)) ns = docker::unix_nanos(docker::string_field(metadata, "LastTagTime"));
  if (ns == 0) ns = docker::unix_nanos(docker::string_field(root, "Created"));
  flock.model.edit(host.name, [&](HostEdit& e) {
    const auto& t = *e.objects().images;
    auto named = t.id_by_ref.find(tag);
    auto mark = t.tagged.find(tag);
    if (named == t.id_by_ref.end() || named->second != id || mark == t.tagged.end() || !mark->second.estimated) return;
    e.images().tagged[tag] = {ns, false};
  });
  co_return true;
}

// `host` names `tag` with another image than the flock's: re-tagged when it has the flock's
// image, else untagged (an image no container uses goes with its last tag, as `docker rmi`;
// one a container uses stays, untagged, as after a rebuild on one engine).
Task<bool> bring_in_line(transport::Worker& worker, Flock& flock, const HostState& host, const ImageRef& winner,
                         bool has_image, const std::string& request_id) {
  const auto timeout = flock.options.engine_timeout;
  transport::CallResult r;
  if (has_image) {
    auto [repo, tag] = split_tag(winner.tag);
    r = co_await call(worker, host, http::verb::post,
                      "/images/" + winner.winner_id + "/tag?repo=" + docker::url_encode(repo) +
                          "&tag=" + docker::url_encode(tag),
                      request_id, timeout);
  } else {
    r = co_await call(worker, host, http::verb::delete_, "/images/" + winner.tag + "?noprune=1", request_id, timeout);
    if (r.ok() && r.response.result_int() == 409) {  // a container uses it: untag only
      r = co_await call(worker, host, http::verb::delete_, "/images/" + winner.tag + "?noprune=1&force=1",
                        request_id, timeout);
    }
  }
  const bool ok = r.ok() && (r.response.result_int() / 100 == 2 || r.response.result_int() == 404);
  if (!ok) {
    spdlog::warn("{}: tag {} on {} names an older image than on {}, and {} it failed: {}", request_id, winner.tag,
                 host.name, winner.winner_host, has_image ? "re-tagging" : "untagging",
                 r.ok() ? r.response.body() : r.error);
    co_return false;
  }
  spdlog::info("{}: tag {} on {} {} {} (newest, from {})", request_id, winner.tag, host.name,
               has_image ? "re-tagged to" : "untagged: it lacks", winner.winner_id.substr(0, 19), winner.winner_host);
  co_await relist(worker, host.address, host.name, flock.model, kRelistImages, timeout);
  co_return true;
}

Task<void> settle_one(transport::Worker& worker, Flock& flock, const std::string& tag, const std::string& request_id) {
  auto held = co_await flock.tag_settling.acquire(tag);
  if (flock.model.snapshot()->disagreeing({tag}).empty()) co_return;
  const auto hosts = flock.inventory.snapshot();
  // Estimates made exact first (an estimate may be older than the truth: a `docker tag` of an
  // old image). Again while hosts listed meanwhile bring new ones.
  for (int round = 0; round < 3; ++round) {
    const auto model = flock.model.snapshot();
    std::vector<Task<bool>> refines;
    for (const auto& h : model->hosts()) {
      auto named = h->images->id_by_ref.find(tag);
      auto mark = h->images->tagged.find(tag);
      if (named == h->images->id_by_ref.end() || (mark != h->images->tagged.end() && !mark->second.estimated)) continue;
      const HostState* state = find_host(*hosts, h->host);
      if (state && state->healthy) refines.push_back(refine(worker, flock, *state, tag, named->second, request_id));
    }
    if (refines.empty()) break;
    co_await transport::gather(std::move(refines));
  }
  const auto model = flock.model.snapshot();
  const ImageRef winner = model->resolve_image(tag);
  if (winner.winner_id.empty()) co_return;
  std::vector<Task<bool>> fixes;
  for (const auto& h : model->hosts()) {
    auto named = h->images->id_by_ref.find(tag);
    if (named == h->images->id_by_ref.end() || named->second == winner.winner_id) continue;
    const HostState* state = find_host(*hosts, h->host);
    if (!state || !state->healthy) {
      flock.unsettled_tags.add(tag);  // in line once it is listed again
      continue;
    }
    fixes.push_back(bring_in_line(worker, flock, *state, winner, h->images->by_id.count(winner.winner_id) > 0,
                                  request_id));
  }
  for (bool ok : co_await transport::gather(std::move(fixes))) {
    if (!ok) flock.unsettled_tags.add(tag);
  }
}

}  // namespace

Task<void> settle_tags(transport::Worker& worker, Flock& flock, std::vector<std::string> tags, std::string request_id) {
  if (tags.empty()) co_return;
  tags = flock.model.snapshot()->disagreeing(tags);
  if (request_id.empty()) request_id = "tags";
  for (const auto& tag : tags) co_await settle_one(worker, flock, tag, request_id);
}

}  // namespace flocker::flock

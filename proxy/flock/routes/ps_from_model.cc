#include "flock/routes/ps_from_model.h"

#include <map>

namespace flocker::flock {

docker::PsHostContext ps_context(const docker::PsQuery& q, const HostObjects& host) {
  docker::PsHostContext ctx;
  if (q.has("id")) {  // the daemon's truncindex: a full ID, or a prefix of exactly one
    const auto& by_id = host.containers->by_id;
    for (const auto& value : q.filters.find("id")->second) {
      if (value.empty()) continue;
      auto it = by_id.lower_bound(value);
      if (it == by_id.end() || !it->first.starts_with(value)) continue;
      auto second = std::next(it);
      if (it->first != value && second != by_id.end() && second->first.starts_with(value)) continue;  // ambiguous
      ctx.id_matches.insert(it->first);
    }
  }
  if (q.has("ancestor")) {  // each image named, and every image built on it
    std::multimap<std::string_view, std::string_view> children;
    for (const auto& [id, image] : host.images->by_id) {
      if (!image.parent.empty()) children.emplace(image.parent, id);
    }
    std::vector<std::string> todo;
    for (const auto& value : q.filters.find("ancestor")->second) {
      if (const docker::ImageSummary* image = host.image(value)) todo.push_back(image->id);
    }
    while (!todo.empty()) {
      std::string id = std::move(todo.back());
      todo.pop_back();
      if (!ctx.ancestor_ids.insert(id).second) continue;
      auto [from, to] = children.equal_range(id);
      for (auto it = from; it != to; ++it) todo.emplace_back(it->second);
    }
  }
  return ctx;
}

std::string shown_image(const HostObjects& host, const docker::ListedContainer& c) {
  if (c.image_ref == c.image_id) return c.image_ref;
  const docker::ImageSummary* image = host.image(c.image_ref);
  return image && image->id == c.image_id ? c.image_ref : c.image_id;
}

bool live_read_requested(transport::Exchange& ex) {
  auto it = ex.request().find(transport::http::field::cache_control);
  return it != ex.request().end() && it->value().find("no-cache") != std::string_view::npos;
}

}  // namespace flocker::flock

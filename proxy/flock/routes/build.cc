// docker build goes where its images are. The images a build starts from (its Dockerfile's
// FROM, unless it pulls them) and the `cachefrom` images whose steps it reuses are the
// build's requirements: the decider chooses among the hosts that hold all of them, and when
// none does, the missing ones are copied to the host it chose before the build starts. On
// one engine every local image is there; in a flock an image built on one host is found
// by the next build wherever it lands, and a rebuild shows its cached steps.
#include <fmt/format.h>

#include "docker/api_target.h"
#include "docker/build_context.h"
#include "docker/json.h"
#include "flock/routes/flock_handler.h"

namespace flocker::flock {
namespace {

// How much of a build's context is read ahead for its Dockerfile: the CLI sends the context
// in name order, so the Dockerfile comes early unless many files sort before it.
constexpr std::size_t kContextPeek = 4 << 20;

// A query parameter that holds JSON (cachefrom: an array of strings; buildargs: an object of
// strings), parsed by `parser`; nullopt when absent or not JSON.
std::optional<docker::dom::element> json_param(docker::dom::parser& parser, std::string_view query,
                                               std::string_view key) {
  auto raw = docker::query_param(query, key);
  docker::dom::element root;
  if (!raw || raw->empty() || parser.parse(*raw).get(root)) return std::nullopt;
  return root;
}

std::vector<std::string> json_strings(std::string_view query, std::string_view key) {
  std::vector<std::string> out;
  docker::dom::parser parser;
  docker::dom::array list;
  auto root = json_param(parser, query, key);
  if (!root || root->get_array().get(list)) return out;
  for (auto item : list) {
    std::string_view s;
    if (!item.get_string().get(s) && !s.empty()) out.emplace_back(s);
  }
  return out;
}

std::map<std::string, std::string> json_object(std::string_view query, std::string_view key) {
  std::map<std::string, std::string> out;
  docker::dom::parser parser;
  docker::dom::object obj;
  auto root = json_param(parser, query, key);
  if (!root || root->get_object().get(obj)) return out;
  for (auto f : obj) {
    std::string_view s;
    if (!f.value.get_string().get(s)) out.emplace(std::string(f.key), std::string(s));
  }
  return out;
}

}  // namespace

Task<std::vector<FlockHandler::BuildImage>> FlockHandler::build_images(Exchange& ex, const docker::Route& route) {
  std::vector<BuildImage> out;
  const auto& q = route.target.query;
  for (auto& ref : json_strings(q, "cachefrom")) out.push_back({std::move(ref), "cachefrom"});
  // The Dockerfile's images, unless the build pulls them anyway (pull=1) or its context is
  // not in the body (remote=: a git or tarball URL the engine fetches).
  const bool pulls = docker::query_true(q, "pull");
  const bool remote = docker::query_param(q, "remote").has_value();
  auto type = ex.request().find(http::field::content_type);
  const bool tar = type == ex.request().end() || type->value() == "application/x-tar" || type->value() == "application/tar";
  if (!pulls && !remote && tar && !ex.request_body().is_none()) {
    const std::string prefix = co_await ex.peek_body(kContextPeek);
    const std::string name = docker::query_param(q, "dockerfile").value_or("Dockerfile");
    if (auto dockerfile = docker::file_in_tar(prefix, name.empty() ? "Dockerfile" : name)) {
      for (auto& ref : docker::dockerfile_images(*dockerfile, json_object(q, "buildargs"))) {
        if (std::none_of(out.begin(), out.end(), [&](const BuildImage& b) { return b.ref == ref; })) {
          out.push_back({std::move(ref), "FROM"});
        }
      }
    }
  }
  co_return out;
}

Task<void> FlockHandler::build(Exchange& ex, const docker::Route& route) {
  // BuildKit's (the older CLI with DOCKER_BUILDKIT=1): the context comes over a session.
  if (docker::query_param(route.target.query, "version") == "2") {
    co_await build_with_session(ex, route);
    co_return;
  }
  auto hosts = flock_.inventory.snapshot();
  co_await images_settled(ex);  // a tag built a moment ago names its newest image
  const auto images = co_await build_images(ex, route);
  // Each image some host has is a requirement: the hosts holding its newest.
  std::vector<v1::Requirement> requirements;
  std::optional<std::set<std::string>> allowed;
  for (const auto& image : images) {
    const auto model = flock_.model.snapshot();
    const ImageRef ref = model->resolve_image(image.ref);
    auto have = co_await holders(ex, hosts, model->image_holders(ref), "/images/" + image.ref + "/json");
    std::erase_if(have, [](const HostState* h) { return !h->healthy; });
    if (have.empty()) continue;  // nowhere: the engine pulls it, or says it cannot
    v1::Requirement r;
    r.set_kind(v1::REQUIREMENT_KIND_IMAGE);
    r.set_object(image.ref);
    r.set_object_id(ref.winner_id);
    r.set_referred_by(image.field);
    std::set<std::string> names;
    for (const auto* h : have) {
      r.add_hosts(h->name);
      names.insert(h->name);
    }
    if (!allowed) {
      allowed = names;
    } else {
      std::erase_if(*allowed, [&](const std::string& h) { return !names.count(h); });
    }
    requirements.push_back(std::move(r));
  }
  if (allowed && allowed->empty()) allowed.reset();  // none has them all: copied to the chosen host
  v1::RouteRequest req;
  req.set_kind(v1::OPERATION_KIND_IMAGE_BUILD);
  req.set_image(docker::query_param(route.target.query, "t").value_or(""));
  req.set_query(route.target.query);
  for (auto& r : requirements) *req.add_requirements() = std::move(r);
  auto chosen = co_await decide(ex, hosts, req, allowed ? &*allowed : nullptr);
  if (chosen.empty()) co_return;
  if (chosen.size() > 1) {  // the context to each (a decider that builds everywhere)
    co_await forward_progress(ex, chosen);
    co_return;
  }
  const HostState& host = *chosen[0];
  for (const auto& r : req.requirements()) {
    if (std::find(r.hosts().begin(), r.hosts().end(), host.name) != r.hosts().end()) continue;
    if (!co_await bring_image(ex, hosts, host, r.object())) co_return;
  }
  co_await forward_to(ex, host, answer_timeout(ex));
}

}  // namespace flocker::flock

#include "docker/route_table.h"

#include <array>

namespace flocker::docker {

using transport::http::verb;

namespace {

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "/containers/ID/logs" -> {"ID", "logs"}; "/containers/ID" -> {"ID", ""}.
std::pair<std::string, std::string> id_and_action(std::string_view rest) {
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return {url_decode(rest), ""};
  return {url_decode(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

// Image names contain '/' (127.0.0.1:5000/team/app:1): the action is a known last segment.
std::pair<std::string, std::string> image_and_action(std::string_view rest, verb method) {
  static constexpr std::array<std::string_view, 5> kActions{"json", "history", "tag", "push", "get"};
  if (method != verb::delete_) {
    auto slash = rest.rfind('/');
    if (slash != std::string_view::npos) {
      std::string_view last = rest.substr(slash + 1);
      for (auto a : kActions) {
        if (last == a) return {url_decode(rest.substr(0, slash)), std::string(a)};
      }
    }
  }
  return {url_decode(rest), ""};
}

}  // namespace

Route classify(verb m, std::string_view raw_target) {
  Route r;
  r.target = parse_target(raw_target);
  const std::string& p = r.target.path;
  auto is = [&](verb method, std::string_view path) { return m == method && p == path; };
  auto set = [&](Endpoint e) {
    r.endpoint = e;
    return r;
  };

  if ((m == verb::get || m == verb::head) && p == "/_ping") return set(Endpoint::kPing);
  if (is(verb::get, "/version")) return set(Endpoint::kVersion);
  if (is(verb::get, "/info")) return set(Endpoint::kInfo);
  if (is(verb::get, "/events")) return set(Endpoint::kEvents);
  if (is(verb::get, "/system/df")) return set(Endpoint::kSystemDf);
  if (is(verb::post, "/auth")) return set(Endpoint::kAnyHost);

  // Swarm mode: a flock is, to a client, an engine that is not in a swarm (it answers as one
  // does); starting or joining a swarm is refused.
  if (is(verb::post, "/swarm/init") || is(verb::post, "/swarm/join")) return set(Endpoint::kUnsupported);
  for (std::string_view prefix : {"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"}) {
    if (p == prefix || starts(p, std::string(prefix) + "/")) return set(Endpoint::kSwarm);
  }
  // Plugins: what the hosts have is read and changed where it is (`docker inspect NAME`
  // asks for a plugin last, and must get the engines' not-found to say "No such object");
  // installing one is refused below (it would make the hosts differ silently).
  if (is(verb::get, "/plugins")) return set(Endpoint::kPluginList);
  if (is(verb::get, "/plugins/privileges")) return set(Endpoint::kAnyHost);
  if (starts(p, "/plugins/") && p != "/plugins/pull" && p != "/plugins/create") {
    std::string_view rest = std::string_view(p).substr(9);
    static constexpr std::array<std::string_view, 5> kActions{"json", "enable", "disable", "push", "set"};
    const auto slash = rest.rfind('/');
    const std::string_view last = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    for (auto a : kActions) {
      if (last == a) {
        r.id = url_decode(rest.substr(0, slash)), r.action = std::string(a);
        return set(Endpoint::kPlugin);
      }
    }
    if (m == verb::delete_) {
      r.id = url_decode(rest);
      return set(Endpoint::kPlugin);
    }
  }
  // BuildKit's two upgraded connections (dockerd serves POST only).
  if (is(verb::post, "/grpc")) return set(Endpoint::kBuildKitControl);
  if (is(verb::post, "/session")) return set(Endpoint::kBuildKitSession);
  // Installing plugins (pull, create, upgrade).
  if (p == "/plugins" || starts(p, "/plugins/")) return set(Endpoint::kUnsupported);

  if (starts(p, "/containers/")) {
    std::string_view rest = std::string_view(p).substr(12);
    if (is(verb::get, "/containers/json") || is(verb::get, "/containers/ps")) {
      return set(Endpoint::kContainerList);
    }
    if (is(verb::post, "/containers/create")) return set(Endpoint::kContainerCreate);
    if (is(verb::post, "/containers/prune")) return set(Endpoint::kContainerPrune);
    auto [id, action] = id_and_action(rest);
    if (id.empty()) return set(Endpoint::kUnknown);
    if (action.empty() && m != verb::delete_) return set(Endpoint::kUnknown);
    r.id = id, r.action = action;
    return set(Endpoint::kContainer);
  }
  if (starts(p, "/exec/")) {
    auto [id, action] = id_and_action(std::string_view(p).substr(6));
    if (id.empty() || action.empty()) return set(Endpoint::kUnknown);
    r.id = id, r.action = action;
    return set(Endpoint::kExec);
  }
  if (p == "/images/json" && m == verb::get) return set(Endpoint::kImageList);
  if (is(verb::post, "/images/create")) return set(Endpoint::kImageCreate);
  if (is(verb::post, "/images/load")) return set(Endpoint::kImageLoad);
  if (is(verb::post, "/images/prune")) return set(Endpoint::kImagePrune);
  if (is(verb::get, "/images/get")) return set(Endpoint::kImageGetMany);
  if (is(verb::get, "/images/search")) return set(Endpoint::kAnyHost);
  if (starts(p, "/images/")) {
    auto [name, action] = image_and_action(std::string_view(p).substr(8), m);
    if (name.empty()) return set(Endpoint::kUnknown);
    r.id = name, r.action = action;
    return set(Endpoint::kImage);
  }
  if (starts(p, "/distribution/") && m == verb::get) return set(Endpoint::kAnyHost);
  if (is(verb::post, "/build")) return set(Endpoint::kBuild);
  if (is(verb::post, "/build/prune")) return set(Endpoint::kBuildPrune);
  if (is(verb::post, "/build/cancel")) return set(Endpoint::kBuildCancel);
  if (is(verb::post, "/commit")) return set(Endpoint::kCommit);

  // dockerd routes both, /networks and /networks/.
  if (is(verb::get, "/networks") || is(verb::get, "/networks/")) return set(Endpoint::kNetworkList);
  if (is(verb::post, "/networks/create")) return set(Endpoint::kNetworkCreate);
  if (is(verb::post, "/networks/prune")) return set(Endpoint::kNetworkPrune);
  if (starts(p, "/networks/")) {
    auto [id, action] = id_and_action(std::string_view(p).substr(10));
    if (id.empty()) return set(Endpoint::kUnknown);
    r.id = id, r.action = action;
    return set(Endpoint::kNetwork);
  }
  if (is(verb::get, "/volumes")) return set(Endpoint::kVolumeList);
  if (is(verb::post, "/volumes/create")) return set(Endpoint::kVolumeCreate);
  if (is(verb::post, "/volumes/prune")) return set(Endpoint::kVolumePrune);
  if (starts(p, "/volumes/")) {
    auto [name, action] = id_and_action(std::string_view(p).substr(9));
    if (!action.empty()) return set(Endpoint::kUnknown);
    r.id = name;  // "" (/volumes/): an engine answers "get: no such volume"
    return set(Endpoint::kVolume);
  }
  return set(Endpoint::kUnknown);
}

const char* endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::kPing: return "ping";
    case Endpoint::kVersion: return "version";
    case Endpoint::kInfo: return "info";
    case Endpoint::kEvents: return "events";
    case Endpoint::kSystemDf: return "system-df";
    case Endpoint::kContainerList: return "container-list";
    case Endpoint::kImageList: return "image-list";
    case Endpoint::kNetworkList: return "network-list";
    case Endpoint::kVolumeList: return "volume-list";
    case Endpoint::kPluginList: return "plugin-list";
    case Endpoint::kContainerPrune: return "container-prune";
    case Endpoint::kImagePrune: return "image-prune";
    case Endpoint::kNetworkPrune: return "network-prune";
    case Endpoint::kVolumePrune: return "volume-prune";
    case Endpoint::kBuildPrune: return "build-prune";
    case Endpoint::kContainerCreate: return "container-create";
    case Endpoint::kImageCreate: return "image-create";
    case Endpoint::kImageLoad: return "image-load";
    case Endpoint::kBuild: return "build";
    case Endpoint::kBuildKitControl: return "buildkit-grpc";
    case Endpoint::kBuildKitSession: return "buildkit-session";
    case Endpoint::kBuildCancel: return "build-cancel";
    case Endpoint::kVolumeCreate: return "volume-create";
    case Endpoint::kNetworkCreate: return "network-create";
    case Endpoint::kContainer: return "container";
    case Endpoint::kExec: return "exec";
    case Endpoint::kImage: return "image";
    case Endpoint::kImageGetMany: return "image-get";
    case Endpoint::kCommit: return "commit";
    case Endpoint::kNetwork: return "network";
    case Endpoint::kVolume: return "volume";
    case Endpoint::kPlugin: return "plugin";
    case Endpoint::kSwarm: return "swarm";
    case Endpoint::kAnyHost: return "any-host";
    case Endpoint::kUnsupported: return "unsupported";
    case Endpoint::kUnknown: return "unknown";
  }
  return "?";
}

}  // namespace flocker::docker

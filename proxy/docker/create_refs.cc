#include "docker/create_refs.h"

#include "docker/json.h"
#include "docker/objects.h"

namespace flocker::docker {
namespace {

using Kind = CreateRef::Kind;

// "container:X" in NetworkMode, PidMode, IpcMode: X.
std::string_view container_mode(std::string_view mode) {
  constexpr std::string_view kPrefix = "container:";
  if (!mode.starts_with(kPrefix)) return {};
  return mode.substr(kPrefix.size());
}

std::vector<std::string_view> string_items(const dom::element& obj, std::string_view key) {
  std::vector<std::string_view> out;
  auto v = go_field(obj, key);
  dom::array a;
  if (!v || v->get(a)) return out;
  for (auto item : a) {
    std::string_view s;
    if (!item.get(s)) out.push_back(s);
  }
  return out;
}

// A Binds entry "SOURCE:TARGET[:OPTIONS]" names a volume when SOURCE is not a host path.
std::string_view bind_volume(std::string_view bind) {
  auto colon = bind.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};  // an anonymous volume
  std::string_view source = bind.substr(0, colon);
  if (source[0] == '/' || source[0] == '.' || source[0] == '~') return {};  // a host path
  return source;
}

void add(CreateRefs& out, Kind kind, std::string_view object, std::string_view field) {
  if (object.empty()) return;
  out.refs.push_back({kind, std::string(object), std::string(field), {}, {}});
}

void host_config_refs(const dom::element& hc, CreateRefs& out) {
  for (auto from : string_items(hc, "VolumesFrom")) {  // "NAME[:ro|rw]"
    add(out, Kind::kContainer, from.substr(0, from.find(':')), "HostConfig.VolumesFrom");
  }
  for (auto link : string_items(hc, "Links")) {  // "NAME:ALIAS", "/NAME:/PARENT/ALIAS"
    std::string_view name = link.substr(0, link.find(':'));
    if (!name.empty() && name[0] == '/') name.remove_prefix(1);
    add(out, Kind::kContainer, name, "HostConfig.Links");
  }
  for (std::string_view field : {"NetworkMode", "PidMode", "IpcMode"}) {
    const std::string_view mode = go_string(hc, field);
    const std::string where = "HostConfig." + std::string(field);
    if (auto c = container_mode(mode); !c.empty()) {
      add(out, Kind::kContainer, c, where);
    } else if (field == "NetworkMode" && !is_predefined_network(mode)) {
      add(out, Kind::kNetwork, mode, where);
    }
  }
  for (auto bind : string_items(hc, "Binds")) {
    add(out, Kind::kVolume, bind_volume(bind), "HostConfig.Binds");
  }
  auto mounts = go_field(hc, "Mounts");
  dom::array list;
  if (mounts && !mounts->get(list)) {
    for (auto m : list) {
      if (go_string(m, "Type") != "volume" || go_string(m, "Source").empty()) continue;
      CreateRef ref{Kind::kVolume, std::string(go_string(m, "Source")), "HostConfig.Mounts", {}, {}};
      if (auto vo = go_field(m, "VolumeOptions")) {
        if (auto dc = go_field(*vo, "DriverConfig")) {
          ref.volume_driver = std::string(go_string(*dc, "Name"));
          if (auto opts = go_field(*dc, "Options")) {
            ref.volume_fs_type = std::string(go_string(*opts, "type"));
          }
        }
      }
      out.refs.push_back(std::move(ref));
    }
  }
}

}  // namespace

CreateRefs create_refs(std::string_view body) {
  CreateRefs out;
  dom::parser parser;
  dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) || !root.is_object()) return out;
  out.image = std::string(go_string(root, "Image"));
  if (auto hc = go_field(root, "HostConfig")) host_config_refs(*hc, out);
  auto nc = go_field(root, "NetworkingConfig");
  if (nc) {
    if (auto endpoints = go_field(*nc, "EndpointsConfig")) {
      dom::object o;
      if (!endpoints->get(o)) {
        for (auto field : o) {
          if (!is_predefined_network(field.key)) {
            add(out, Kind::kNetwork, field.key, "NetworkingConfig.EndpointsConfig");
          }
        }
      }
    }
  }
  return out;
}

}  // namespace flocker::docker

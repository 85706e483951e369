#include "docker/objects.h"

#include <array>

#include "docker/image_ref.h"
#include "docker/json.h"

namespace flocker::docker {
namespace {

// The array at the root (or under `key` of the root object); false when it is not there.
bool root_array(dom::parser& parser, std::string_view json, std::string_view key,
                dom::array& out) {
  dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return false;
  if (key.empty()) return !root.get_array().get(out);
  dom::element inner;
  if (root.at_key(key).get(inner)) return false;
  return !inner.get_array().get(out);
}

std::vector<std::string_view> strings_of(const dom::element& obj, std::string_view key) {
  std::vector<std::string_view> out;
  dom::array a;
  if (obj.at_key(key).get_array().get(a)) return out;
  for (auto item : a) {
    std::string_view s;
    if (!item.get_string().get(s)) out.push_back(s);
  }
  return out;
}

VolumeSummary volume_of(const dom::element& v) {
  return {std::string(string_field(v, "Name")), std::string(string_field(v, "Driver")),
          std::string(simdjson::minify(v))};
}

NetworkSummary network_of(const dom::element& n) {
  return {std::string(string_field(n, "Id")), std::string(string_field(n, "Name")),
          std::string(string_field(n, "Driver")), std::string(string_field(n, "Scope")),
          std::string(simdjson::minify(n))};
}

}  // namespace

std::string_view primary_name(const std::vector<std::string_view>& names) {
  for (auto n : names) {
    if (!n.empty() && n[0] == '/') n.remove_prefix(1);
    if (n.find('/') == std::string_view::npos) return n;
  }
  return {};
}

std::optional<std::vector<ContainerSummary>> parse_container_list(std::string_view json) {
  dom::parser parser;
  dom::array array;
  if (!root_array(parser, json, "", array)) return std::nullopt;
  std::vector<ContainerSummary> out;
  out.reserve(array.size());
  for (auto c : array) {
    ContainerSummary s;
    s.id = std::string(string_field(c, "Id"));
    if (s.id.empty()) continue;
    s.name = std::string(primary_name(strings_of(c, "Names")));
    s.image = std::string(string_field(c, "Image"));
    s.created = int_field(c, "Created");
    s.state = std::string(string_field(c, "State"));
    s.running = s.state == "running" || s.state == "paused";
    dom::array ports;
    if (!c["Ports"].get_array().get(ports)) {
      for (auto p : ports) {
        const int64_t published = int_field(p, "PublicPort");
        if (published <= 0) continue;
        std::string protocol(string_field(p, "Type"));
        s.ports.push_back({std::string(string_field(p, "IP")), static_cast<uint32_t>(published),
                           protocol.empty() ? "tcp" : protocol});
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<std::vector<ImageSummary>> parse_image_list(std::string_view json) {
  dom::parser parser;
  dom::array array;
  if (!root_array(parser, json, "", array)) return std::nullopt;
  std::vector<ImageSummary> out;
  out.reserve(array.size());
  for (auto img : array) {
    ImageSummary s;
    s.id = std::string(string_field(img, "Id"));
    if (s.id.empty()) continue;
    s.parent = std::string(string_field(img, "ParentId"));
    s.created = int_field(img, "Created");
    s.json = std::string(simdjson::minify(img));
    for (auto tag : strings_of(img, "RepoTags")) {
      if (tag != "<none>:<none>") s.refs.push_back(normalize_image(tag));
    }
    for (auto digest : strings_of(img, "RepoDigests")) {
      if (digest != "<none>@<none>") s.refs.push_back(normalize_image(digest));
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<std::vector<VolumeSummary>> parse_volume_list(std::string_view json) {
  std::vector<VolumeSummary> out;
  dom::parser parser;
  dom::array array;
  if (!root_array(parser, json, "Volumes", array)) {
    // {"Volumes": null}: an engine without volumes.
    dom::element root;
    if (!parser.parse(json.data(), json.size()).get(root) && root["Volumes"].is_null()) return out;
    return std::nullopt;
  }
  for (auto v : array) {
    auto s = volume_of(v);
    if (!s.name.empty()) out.push_back(std::move(s));
  }
  return out;
}

std::optional<std::vector<NetworkSummary>> parse_network_list(std::string_view json) {
  dom::parser parser;
  dom::array array;
  if (!root_array(parser, json, "", array)) return std::nullopt;
  std::vector<NetworkSummary> out;
  for (auto n : array) {
    auto s = network_of(n);
    if (!s.id.empty()) out.push_back(std::move(s));
  }
  return out;
}

std::optional<VolumeSummary> parse_volume(std::string_view json) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) || !root.is_object()) return std::nullopt;
  auto v = volume_of(root);
  if (v.name.empty()) return std::nullopt;
  return v;
}

std::optional<NetworkSummary> parse_network(std::string_view json) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) || !root.is_object()) return std::nullopt;
  auto n = network_of(root);
  if (n.id.empty()) return std::nullopt;
  return n;
}

std::map<std::string, std::string> engine_labels(const dom::element& info) {
  std::map<std::string, std::string> out;
  dom::array labels;
  if (info["Labels"].get_array().get(labels)) return out;
  for (auto l : labels) {
    std::string_view s;
    if (l.get_string().get(s)) continue;
    const auto eq = s.find('=');
    out[std::string(s.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(s.substr(eq + 1));
  }
  return out;
}

std::map<std::string, std::string> engine_facts(const dom::element& info) {
  return {{"storagedriver", std::string(string_field(info, "Driver"))},
          {"kernelversion", std::string(string_field(info, "KernelVersion"))},
          {"operatingsystem", std::string(string_field(info, "OperatingSystem"))},
          {"ostype", std::string(string_field(info, "OSType"))},
          {"architecture", std::string(string_field(info, "Architecture"))}};
}

bool is_predefined_network(std::string_view name) {
  return name.empty() || name == "bridge" || name == "host" || name == "none" ||
         name == "default";
}

bool network_driver_is_local(std::string_view driver) {
  return driver.empty() || driver == "bridge" || driver == "macvlan" || driver == "ipvlan";
}

bool volume_is_shared(std::string_view driver, std::string_view fs_type) {
  if (!driver.empty() && driver != "local") return true;
  // The local driver mounts what `type` names (mount(8)): network filesystems are shared.
  static constexpr std::array<std::string_view, 8> kNetworkFs{
      "nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs", "lustre", "9p"};
  for (auto fs : kNetworkFs) {
    if (fs_type == fs) return true;
  }
  return false;
}

std::optional<EngineEvent> parse_event(std::string_view line) {
  dom::parser parser;
  dom::element e;
  if (parser.parse(line.data(), line.size()).get(e) || !e.is_object()) return std::nullopt;
  EngineEvent out;
  out.type = std::string(string_field(e, "Type"));
  out.action = std::string(string_field(e, "Action"));
  out.time = int_field(e, "time");
  dom::element actor;
  if (!e["Actor"].get(actor)) {
    out.id = std::string(string_field(actor, "ID"));
    dom::element attrs;
    if (!actor["Attributes"].get(attrs)) {
      out.name = std::string(string_field(attrs, "name"));
      out.image = std::string(string_field(attrs, "image"));
      out.exec_id = std::string(string_field(attrs, "execID"));
      out.driver = std::string(string_field(attrs, out.type == "network" ? "type" : "driver"));
      out.container = std::string(string_field(attrs, "container"));
    }
  }
  return out;
}

}  // namespace flocker::docker

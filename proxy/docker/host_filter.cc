#include "docker/host_filter.h"

#include <map>

#include "docker/api_target.h"
#include "docker/json.h"
#include "docker/merge.h"

namespace flocker::docker {

HostFilter take_host_filter(std::string_view query) {
  HostFilter out;
  out.query = std::string(query);
  auto filters = query_param(query, "filters");
  if (!filters || filters->empty()) return out;
  dom::parser parser;
  dom::element root;
  dom::object obj;
  if (parser.parse(*filters).get(root) || root.get_object().get(obj)) {
    out.error = "invalid filter: " + *filters;
    return out;
  }
  // Both docker spellings: {"key": ["v"]} and {"key": {"v": true}}.
  std::map<std::string, std::vector<std::string>, std::less<>> kept;
  const std::string host_label = std::string(kHostLabel) + "=";
  for (auto field : obj) {
    std::vector<std::string> values;
    dom::array arr;
    dom::object map;
    if (!field.value.get_array().get(arr)) {
      for (auto v : arr) {
        std::string_view s;
        if (!v.get_string().get(s)) values.emplace_back(s);
      }
    } else if (!field.value.get_object().get(map)) {
      for (auto v : map) values.emplace_back(v.key);
    }
    auto& keep = kept[std::string(field.key)];
    for (auto& v : values) {
      if (field.key == "node") {
        out.hosts.push_back(v);
      } else if (field.key == "label" && v.starts_with(host_label)) {
        out.hosts.push_back(v.substr(host_label.size()));
      } else {
        keep.push_back(v);
      }
    }
  }
  if (out.hosts.empty()) return out;  // untouched
  JsonWriter w;
  w.begin_object();
  bool any = false;
  for (const auto& [key, values] : kept) {
    if (values.empty()) continue;
    any = true;
    w.key(key).begin_object();
    for (const auto& v : values) w.key(v).boolean(true);
    w.end_object();
  }
  w.end_object();
  out.query = with_query_param(query, "filters", any ? std::optional<std::string>(w.take()) : std::nullopt);
  return out;
}

}  // namespace flocker::docker

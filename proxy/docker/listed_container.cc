#include "docker/listed_container.h"

#include "docker/docker_time.h"

#include <algorithm>

#include "docker/merge.h"

namespace flocker::docker {
namespace {

bool bool_field(const dom::element& obj, std::string_view key) {
  bool b = false;
  return !obj[key].get_bool().get(b) && b;
}

std::optional<Clock::time_point> time_field(const dom::element& obj, std::string_view key) {
  return parse_docker_time(string_field(obj, key));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::optional<ListedContainer> listed_container(const dom::element& entry, const dom::element& inspect,
                                                std::string_view host) {
  ListedContainer c;
  c.id = std::string(string_field(entry, "Id"));
  if (c.id.empty() || c.id != string_field(inspect, "Id")) return std::nullopt;
  JsonWriter w;
  EntrySpans spans;
  write_container_entry(w, entry, host, &spans);
  c.entry = w.take();
  if (spans.image.second == 0 || spans.status.second == 0 || spans.image.first > spans.status.first) return std::nullopt;
  c.image_at = spans.image.first;
  c.image_len = spans.image.second;
  c.status_at = spans.status.first;
  c.status_len = spans.status.second;

  c.name = std::string(string_field(inspect, "Name"));
  dom::array names;
  if (!entry["Names"].get_array().get(names)) {
    for (auto n : names) {
      std::string_view v;
      if (!n.get_string().get(v)) c.names.emplace_back(v);
    }
  }
  dom::element config, host_config, state;
  if (!inspect["Config"].get(config)) c.image_ref = std::string(string_field(config, "Image"));
  if (c.image_ref.empty()) c.image_ref = std::string(string_field(entry, "Image"));
  c.image_id = std::string(string_field(entry, "ImageID"));
  c.created = int_field(entry, "Created");
  c.created_ns = unix_nanos(string_field(inspect, "Created"));
  if (c.created_ns == 0) c.created_ns = c.created * 1'000'000'000;
  c.state_word = std::string(string_field(entry, "State"));
  if (!inspect["State"].get(state)) {
    c.state.running = bool_field(state, "Running");
    c.state.paused = bool_field(state, "Paused");
    c.state.restarting = bool_field(state, "Restarting");
    c.state.dead = bool_field(state, "Dead");
    c.state.removing = c.state_word == "removing";
    c.state.exit_code = int_field(state, "ExitCode");
    c.state.started_at = time_field(state, "StartedAt");
    c.state.finished_at = time_field(state, "FinishedAt");
    dom::element health;
    if (!state["Health"].get(health) && health.is_object()) {
      c.state.health = std::string(string_field(health, "Status"));
      c.health = c.state.health.empty() ? "none" : c.state.health;
    }
  }
  if (!inspect["HostConfig"].get(host_config)) {
    c.isolation = lower(string_field(host_config, "Isolation"));
    dom::array links;  // "/db:/web/db": the container linked to, then the alias
    if (!host_config["Links"].get_array().get(links)) {
      for (auto l : links) {
        std::string_view v;
        if (l.get_string().get(v)) continue;
        v = v.substr(0, v.find(':'));
        if (v.starts_with('/')) v.remove_prefix(1);
        if (!v.empty()) c.links.emplace_back(v);
      }
    }
  }

  dom::object labels;
  if (!entry["Labels"].get_object().get(labels)) {
    for (auto l : labels) {
      std::string_view v;
      if (!l.value.get_string().get(v)) c.labels.emplace(std::string(l.key), std::string(v));
    }
  }
  dom::array mounts;
  if (!entry["Mounts"].get_array().get(mounts)) {
    for (auto m : mounts) {
      c.mounts.push_back({std::string(string_field(m, "Name")), std::string(string_field(m, "Source")),
                          std::string(string_field(m, "Destination"))});
    }
  }
  dom::object networks;
  if (!entry["NetworkSettings"]["Networks"].get_object().get(networks)) {
    for (auto n : networks) {
      c.networks.emplace_back(std::string(n.key),
                              n.value.is_object() ? std::string(string_field(n.value, "NetworkID")) : std::string());
    }
  }
  dom::array ports;
  if (!entry["Ports"].get_array().get(ports)) {
    for (auto p : ports) {
      c.ports.push_back({int_field(p, "PublicPort"), int_field(p, "PrivatePort"), std::string(string_field(p, "Type")),
                         std::string(string_field(p, "IP"))});
    }
  }
  return c;
}

bool list_agrees_with_inspect(const ListedContainer& c, const dom::element& entry, const dom::element& inspect) {
  if (c.state_word != "removing" && c.state_word != "dead" && state_word(c.state) != c.state_word) return false;
  // A rename in progress: for a moment dockerd lists the old name and the new one. Its own
  // names (not link aliases, "/web/db") must be just the one inspect gives.
  for (const auto& n : c.names) {
    if (n.find('/', 1) == std::string::npos && n != c.name) return false;
  }
  std::vector<std::string_view> listed, inspected;
  dom::object networks;
  if (!entry["NetworkSettings"]["Networks"].get_object().get(networks)) {
    for (auto n : networks) listed.push_back(n.key);
  }
  if (!inspect["NetworkSettings"]["Networks"].get_object().get(networks)) {
    for (auto n : networks) inspected.push_back(n.key);
  }
  std::sort(listed.begin(), listed.end());
  std::sort(inspected.begin(), inspected.end());
  return listed == inspected || !inspect["NetworkSettings"].is_object();
}

void append_listed(std::string& out, const ListedContainer& c, std::string_view image, Clock::time_point now) {
  const std::string_view e = c.entry;
  out.append(e.substr(0, c.image_at));
  append_quoted(out, image);
  out.append(e.substr(c.image_at + c.image_len, c.status_at - c.image_at - c.image_len));
  append_quoted(out, status_text(c.state, now));
  out.append(e.substr(c.status_at + c.status_len));
}

}  // namespace flocker::docker

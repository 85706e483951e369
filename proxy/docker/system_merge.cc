#include "docker/system_merge.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "docker/docker_time.h"
#include "docker/json.h"

namespace flocker::docker {

int compare_api_versions(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string pa, pb;
  for (;;) {
    bool more_a = static_cast<bool>(std::getline(sa, pa, '.'));
    bool more_b = static_cast<bool>(std::getline(sb, pb, '.'));
    if (!more_a && !more_b) return 0;
    long va = more_a ? std::strtol(pa.c_str(), nullptr, 10) : 0;
    long vb = more_b ? std::strtol(pb.c_str(), nullptr, 10) : 0;
    if (va != vb) return va < vb ? -1 : 1;
  }
}

namespace {

// A host's counts: the model's when it has them, else its /info's.
HostSummary::Counts counts_of(const HostSummary& h, const dom::element& info) {
  if (h.counts) return *h.counts;
  return {int_field(info, "Containers"), int_field(info, "ContainersRunning"), int_field(info, "ContainersPaused"),
          int_field(info, "ContainersStopped"), int_field(info, "Images")};
}


struct Parsed {
  dom::parser parser;
  dom::element root;
  bool ok = false;
};

std::vector<std::unique_ptr<Parsed>> parse_field(const std::vector<HostSummary>& hosts,
                                                 std::string_view HostSummary::*field) {
  std::vector<std::unique_ptr<Parsed>> out;
  for (const auto& h : hosts) {
    auto p = std::make_unique<Parsed>();
    p->ok = !(h.*field).empty() && !p->parser.parse(h.*field).get(p->root) && p->root.is_object();
    out.push_back(std::move(p));
  }
  return out;
}

// A size as docker's go-units writes it (BytesSize): binary units, 4 significant digits.
std::string binary_size(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t i = 0;
  while (bytes >= 1024 && i + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++i;
  }
  return fmt::format("{:.4g} {}", bytes, kUnits[i]);
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return out;
}

}  // namespace

std::string flock_api_version(const std::vector<HostSummary>& hosts, const std::string& fallback) {
  std::string lowest;
  auto versions = parse_field(hosts, &HostSummary::version_json);
  for (const auto& v : versions) {
    if (!v->ok) continue;
    std::string api(string_field(v->root, "ApiVersion"));
    if (!api.empty() && (lowest.empty() || compare_api_versions(api, lowest) < 0)) lowest = api;
  }
  return lowest.empty() ? fallback : lowest;
}

std::string swarm_state(const std::string& info_json) {
  dom::parser parser;
  dom::element root, swarm;
  if (info_json.empty() || parser.parse(info_json).get(root) || root["Swarm"].get(swarm)) return "";
  return std::string(string_field(swarm, "LocalNodeState"));
}

std::string merge_info(const std::vector<HostSummary>& hosts, const FlockIdentity& flock,
                       const std::string& api_version) {
  // Each host's figures, read with one parser (a flock of a thousand hosts is a thousand
  // documents per request); the base host's document is read again, whole, below.
  struct Figures {
    bool ok = false;
    HostSummary::Counts counts;
    int64_t ncpu = 0, mem = 0;
    std::string server_version;
  };
  std::vector<Figures> figures(hosts.size());
  {
    dom::parser parser;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      dom::element r;
      if (hosts[i].info_json.empty() || parser.parse(hosts[i].info_json).get(r) || !r.is_object()) continue;
      figures[i] = {true, counts_of(hosts[i], r), int_field(r, "NCPU"), int_field(r, "MemTotal"),
                    std::string(string_field(r, "ServerVersion"))};
    }
  }
  std::optional<std::size_t> base_index;
  for (std::size_t i = 0; i < hosts.size() && !base_index; ++i) {
    if (hosts[i].healthy && figures[i].ok) base_index = i;
  }
  for (std::size_t i = 0; i < hosts.size() && !base_index; ++i) {
    if (figures[i].ok) base_index = i;
  }
  dom::parser base_parser;
  std::optional<dom::element> base;
  if (base_index) {
    dom::element r;
    if (!base_parser.parse(hosts[*base_index].info_json).get(r)) base = r;
  }

  int64_t containers = 0, running = 0, paused = 0, stopped = 0, images = flock.images.value_or(0), ncpu = 0, mem = 0;
  int healthy = 0;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    healthy += hosts[i].healthy ? 1 : 0;
    if (!hosts[i].healthy || !figures[i].ok) continue;  // a host down counts for nothing
    const auto& c = figures[i].counts;
    containers += c.containers;
    running += c.running;
    paused += c.paused;
    stopped += c.stopped;
    if (!flock.images) images += c.images;
    ncpu = std::max(ncpu, figures[i].ncpu);
    mem = std::max(mem, figures[i].mem);
  }

  // SystemStatus: Swarm classic's layout, one block per host.
  int64_t total_cpus = 0, total_memory = 0;  // the flock's capacity, which NCPU/MemTotal are not
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i].healthy || !figures[i].ok) continue;
    total_cpus += figures[i].ncpu;
    total_memory += figures[i].mem;
  }
  std::vector<std::pair<std::string, std::string>> status{
      {"Role", "primary"},
      {"Strategy", "decider " + flock.decider},
      {"Nodes", std::to_string(hosts.size())},
      {"Total CPUs", std::to_string(total_cpus)},
      {"Total Memory", fmt::format("{} B", total_memory)}};
  if (!flock.multihost.empty()) {
    status.emplace_back("Multi-host networks",
                        fmt::format("{} ({} of {} hosts)", flock.multihost, flock.multihost_hosts, hosts.size()));
  }
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const auto& h = hosts[i];
    status.emplace_back(" " + h.name, h.address);
    status.emplace_back("  └ Status", h.healthy ? "Healthy" : "Unhealthy" + (h.error.empty() ? "" : ": " + h.error));
    if (!h.model.empty()) status.emplace_back("  └ Model", h.model);
    if (figures[i].ok) {
      const auto& c = figures[i].counts;
      status.emplace_back("  └ Containers", fmt::format("{} ({} running, {} paused, {} stopped)", c.containers,
                                                        c.running, c.paused, c.stopped));
      status.emplace_back("  └ Reserved CPUs", fmt::format("{:.4g} / {}", h.reserved_nano_cpus / 1e9,
                                                           figures[i].ncpu));
      status.emplace_back("  └ Reserved Memory",
                          binary_size(static_cast<double>(h.reserved_memory)) + " / " +
                              binary_size(static_cast<double>(figures[i].mem)));
      status.emplace_back("  └ ServerVersion", figures[i].server_version);
    }
    if (!h.networks.empty()) status.emplace_back("  └ Networks", h.networks);
    status.emplace_back("  └ Labels", labels_text(h.labels));
  }

  JsonWriter w;
  w.begin_object();
  static const std::set<std::string_view> kReplaced{
      "ID", "Name", "Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped",
      "Images", "NCPU", "MemTotal", "SystemStatus", "OperatingSystem", "Labels", "Warnings", "Swarm"};
  if (base) {
    dom::object obj;
    if (!base->get_object().get(obj)) {
      for (auto f : obj) {
        if (kReplaced.count(f.key)) continue;
        std::string_view text;
        if (f.key == "SystemTime" && !f.value.get_string().get(text)) {
          // Clients take it for the engine's clock now (events --since/--until windows).
          if (auto now = shift_docker_time(text, hosts[*base_index].info_age)) {
            w.key(f.key).string(*now);
            continue;
          }
        }
        w.key(f.key).value(f.value);
      }
    }
  }
  // Engines in a swarm for its networks do not make the flock one: it answers as an engine
  // outside swarm mode (GET /swarm does too).
  w.key("Swarm").begin_object();
  w.key("NodeID").string("").key("NodeAddr").string("").key("LocalNodeState").string("inactive");
  w.key("ControlAvailable").boolean(false).key("Error").string("").key("RemoteManagers").null();
  w.end_object();
  w.key("ID").string(flock.id);
  w.key("Name").string(flock.name);
  w.key("Containers").number(containers);
  w.key("ContainersRunning").number(running);
  w.key("ContainersPaused").number(paused);
  w.key("ContainersStopped").number(stopped);
  w.key("Images").number(images);
  w.key("NCPU").number(ncpu);
  w.key("MemTotal").number(mem);
  w.key("OperatingSystem").string(fmt::format("flocker {} ({} of {} hosts healthy)", flock.version,
                                              healthy, hosts.size()));
  w.key("Labels").begin_array();
  for (const auto& h : hosts) {
    w.string(fmt::format("com.docker.flocker.host.{}={} {}", h.name, h.address,
                         h.healthy ? "healthy" : "unhealthy"));
  }
  w.end_array();
  w.key("SystemStatus").begin_array();
  for (const auto& [k, v] : status) w.begin_array().string(k).string(v).end_array();
  w.end_array();
  w.key("Warnings").begin_array();
  for (const auto& h : hosts) {
    if (!h.healthy) w.string("host " + h.name + " (" + h.address + ") is unhealthy" + (h.error.empty() ? "" : ": " + h.error));
  }
  for (const auto& warning : flock.warnings) w.string(warning);
  w.end_array();
  // What dockerd adds for older clients (api/server/router/system/system_routes.go).
  if (!api_version.empty() && compare_api_versions(api_version, "1.25") < 0) {
    w.key("ExecutionDriver").string("not supported");
  }
  w.end_object();
  return w.take();
}

std::string merge_version(const std::vector<HostSummary>& hosts, const FlockIdentity& flock) {
  auto versions = parse_field(hosts, &HostSummary::version_json);
  const Parsed* base = nullptr;
  std::string api, min_api;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!versions[i]->ok) continue;
    const auto& r = versions[i]->root;
    std::string a(string_field(r, "ApiVersion")), m(string_field(r, "MinAPIVersion"));
    if (!a.empty() && (api.empty() || compare_api_versions(a, api) < 0)) {
      api = a;
      base = versions[i].get();
    }
    if (!m.empty() && (min_api.empty() || compare_api_versions(m, min_api) > 0)) min_api = m;
  }
  JsonWriter w;
  w.begin_object();
  w.key("Platform").begin_object().key("Name").string("flocker " + flock.version).end_object();
  w.key("Components").begin_array();
  w.begin_object().key("Name").string("flocker").key("Version").string(flock.version);
  w.key("Details").begin_object().key("Decider").string(flock.decider).end_object().end_object();
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!versions[i]->ok) continue;
    w.begin_object().key("Name").string("Engine " + hosts[i].name);
    w.key("Version").string(string_field(versions[i]->root, "Version"));
    w.key("Details").begin_object().key("Address").string(hosts[i].address);
    w.key("ApiVersion").string(string_field(versions[i]->root, "ApiVersion")).end_object();
    w.end_object();
  }
  w.end_array();
  w.key("Version").string("flocker-" + flock.version);
  w.key("ApiVersion").string(api.empty() ? "1.41" : api);
  w.key("MinAPIVersion").string(min_api.empty() ? "1.12" : min_api);
  if (base) {
    for (std::string_view k : {"GitCommit", "GoVersion", "Os", "Arch", "KernelVersion", "BuildTime"}) {
      w.key(k).string(string_field(base->root, k));
    }
  }
  w.end_object();
  return w.take();
}

}  // namespace flocker::docker

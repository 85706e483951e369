#include "docker/multihost.h"

#include "docker/json.h"

#include <algorithm>
#include <set>

namespace flocker::docker {

MultiHost multihost_of(const dom::element& info) {
  MultiHost out;
  dom::element swarm;
  if (!info["Swarm"].get(swarm) && string_field(swarm, "LocalNodeState") == "active") {
    std::string first;  // the smallest manager node ID: the same on every node of the swarm
    dom::array managers;
    if (!swarm["RemoteManagers"].get_array().get(managers)) {
      for (auto m : managers) {
        const std::string_view id = string_field(m, "NodeID");
        if (!id.empty() && (first.empty() || id < first)) first = std::string(id);
      }
    }
    if (!first.empty()) {
      out.kind = MultiHost::Kind::kSwarm;
      out.key = "swarm:" + first;
      dom::element control;
      out.manager = !swarm["ControlAvailable"].get(control) && control.is_bool() && bool(control);
      return out;
    }
  }
  const std::string_view store = string_field(info, "ClusterStore");
  if (!store.empty()) {
    out.kind = MultiHost::Kind::kClusterStore;
    out.key = "store:" + std::string(store);
  }
  return out;
}

std::string multihost_kind_name(MultiHost::Kind kind) {
  switch (kind) {
    case MultiHost::Kind::kSwarm: return "swarm";
    case MultiHost::Kind::kClusterStore: return "cluster store";
    case MultiHost::Kind::kNone: break;
  }
  return "none";
}

bool network_spans_hosts(std::string_view scope) { return scope == "swarm" || scope == "global"; }

bool wants_multihost_network(std::string_view driver) { return driver.empty() || driver == "overlay"; }

bool is_swarm_internal_network(std::string_view name, bool ingress) { return ingress || name == "docker_gwbridge"; }

std::string Cidr::text() const {
  return std::to_string(base >> 24) + "." + std::to_string((base >> 16) & 0xff) + "." +
         std::to_string((base >> 8) & 0xff) + "." + std::to_string(base & 0xff) + "/" + std::to_string(prefix);
}

namespace {
uint32_t mask_of(unsigned prefix) { return prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix); }
}  // namespace

bool Cidr::overlaps(const Cidr& other) const {
  const uint32_t mask = mask_of(std::min(prefix, other.prefix));
  return (base & mask) == (other.base & mask);
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  uint32_t address = 0;
  std::string_view ip = text.substr(0, slash);
  for (int part = 0; part < 4; ++part) {
    const auto dot = ip.find('.');
    if ((dot == std::string_view::npos) != (part == 3)) return std::nullopt;
    const std::string_view octet = ip.substr(0, dot);
    unsigned value = 0;
    if (octet.empty() || octet.size() > 3) return std::nullopt;
    for (char c : octet) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 255) return std::nullopt;
    address = (address << 8) | value;
    ip = dot == std::string_view::npos ? std::string_view() : ip.substr(dot + 1);
  }
  const std::string_view bits = text.substr(slash + 1);
  unsigned prefix = 0;
  if (bits.empty() || bits.size() > 2) return std::nullopt;
  for (char c : bits) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + static_cast<unsigned>(c - '0');
  }
  if (prefix > 32) return std::nullopt;
  return Cidr{address & mask_of(prefix), prefix};
}

std::optional<Cidr> free_subnet(const Cidr& pool, unsigned size, const std::vector<Cidr>& used) {
  if (size < pool.prefix || size > 32) return std::nullopt;
  const uint64_t step = uint64_t(1) << (32 - size);
  const uint64_t end = uint64_t(pool.base) + (uint64_t(1) << (32 - pool.prefix));
  for (uint64_t at = pool.base; at < end; at += step) {
    const Cidr candidate{static_cast<uint32_t>(at), size};
    if (std::none_of(used.begin(), used.end(), [&](const Cidr& u) { return u.overlaps(candidate); })) return candidate;
  }
  return std::nullopt;
}

std::vector<Cidr> network_subnets(const dom::element& network) {
  std::vector<Cidr> out;
  dom::array configs;
  if (network["IPAM"]["Config"].get_array().get(configs)) return out;
  for (auto c : configs) {
    if (auto cidr = parse_cidr(string_field(c, "Subnet"))) out.push_back(*cidr);
  }
  return out;
}

bool names_subnet(std::string_view body) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(body.data(), body.size()).get(root)) return false;
  dom::array configs;
  if (root["IPAM"]["Config"].get_array().get(configs)) return false;
  for (auto c : configs) {
    if (!string_field(c, "Subnet").empty()) return true;
  }
  return false;
}

std::string multihost_create_body(std::string_view body, const std::string& subnet) {
  dom::parser parser;
  dom::object obj;
  const std::string empty = "{}";
  const bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (parser.parse(blank ? std::string_view(empty) : body).get_object().get(obj)) return std::string(body);
  JsonWriter w;
  w.begin_object();
  bool ipam = false;
  for (auto f : obj) {
    if (f.key == "Driver" || f.key == "Attachable") continue;
    if (f.key == "IPAM" && !subnet.empty()) {
      ipam = true;
      w.key("IPAM").begin_object();
      dom::object inner;
      std::string_view driver = "default";
      if (!f.value.get_object().get(inner)) {
        for (auto g : inner) {
          if (g.key == "Config") continue;
          if (g.key == "Driver") {
            std::string_view d;
            if (!g.value.get_string().get(d) && !d.empty()) driver = d;
            continue;
          }
          w.key(g.key).value(g.value);
        }
      }
      w.key("Driver").string(driver);
      w.key("Config").begin_array().begin_object().key("Subnet").string(subnet).end_object().end_array();
      w.end_object();
      continue;
    }
    w.key(f.key).value(f.value);
  }
  w.key("Driver").string("overlay");
  w.key("Attachable").boolean(true);
  if (!ipam && !subnet.empty()) {
    w.key("IPAM").begin_object().key("Driver").string("default");
    w.key("Config").begin_array().begin_object().key("Subnet").string(subnet).end_object().end_array();
    w.end_object();
  }
  w.end_object();
  return w.take();
}

bool lists_own_container(const dom::element& inspect) {
  dom::object containers;
  if (inspect["Containers"].get_object().get(containers)) return false;
  for (auto c : containers) {
    if (!c.key.starts_with("ep-") && !c.key.starts_with("lb-")) return true;
  }
  return false;
}

std::string merge_network_inspects(const std::vector<std::string_view>& bodies) {
  std::vector<dom::parser> parsers(bodies.size());
  std::vector<dom::object> roots;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    dom::object o;
    if (!parsers[i].parse(bodies[i].data(), bodies[i].size()).get_object().get(o)) roots.push_back(o);
  }
  if (roots.empty()) return bodies.empty() ? "{}" : std::string(bodies.front());
  JsonWriter w;
  w.begin_object();
  for (auto f : roots.front()) {
    if (f.key != "Containers") {
      w.key(f.key).value(f.value);
      continue;
    }
    w.key("Containers").begin_object();
    // Each host names its own containers by ID; a cluster store's hosts list the others'
    // too, as "ep-" and the endpoint's ID: those only when no host named the container.
    std::set<std::string_view> seen, endpoints;
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& root : roots) {
        dom::object containers;
        if (root["Containers"].get_object().get(containers)) continue;
        for (auto c : containers) {
          if (c.key.starts_with("lb-") || c.key.starts_with("ep-") != (pass == 1)) continue;
          const std::string_view endpoint = string_field(c.value, "EndpointID");
          if (pass == 1 && !endpoint.empty() && endpoints.count(endpoint)) continue;
          if (!seen.insert(c.key).second) continue;
          if (!endpoint.empty()) endpoints.insert(endpoint);
          w.key(c.key).value(c.value);
        }
      }
    }
    w.end_object();
  }
  w.end_object();
  return w.take();
}

}  // namespace flocker::docker

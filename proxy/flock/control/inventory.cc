#include "flock/control/inventory.h"

#include <algorithm>

namespace flocker::flock {

const HostState* find_host(const HostList& hosts, std::string_view name) {
  for (const auto& h : hosts) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

bool FlockNetworks::has(const std::string& host) const {
  return std::any_of(hosts.begin(), hosts.end(), [&](const HostState* h) { return h->name == host; });
}

FlockNetworks flock_networks(const HostList& hosts) {
  std::map<std::string, std::size_t> count;
  for (const auto& h : hosts) {
    if (h.healthy && !h.multihost.key.empty()) ++count[h.multihost.key];
  }
  FlockNetworks out;
  std::size_t best = 0;
  for (const auto& [key, n] : count) {
    if (n > best) best = n, out.key = key;
  }
  for (const auto& h : hosts) {
    if (!h.healthy || out.key.empty() || h.multihost.key != out.key) continue;
    out.kind = h.multihost.kind;
    out.hosts.push_back(&h);
    if (h.multihost.manager) out.managers.push_back(&h);
  }
  return out;
}

}  // namespace flocker::flock

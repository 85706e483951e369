#include "flock/control/inventory.h"

namespace flocker::flock {

const HostState* find_host(const HostList& hosts, std::string_view name) {
  for (const auto& h : hosts) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

}  // namespace flocker::flock

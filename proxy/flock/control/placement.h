// Where a container may go, given what it refers to: the hosts that hold every object its
// create body names (a container whose volumes or namespaces it shares, a volume, a local
// network), leaving out objects that follow the container (an unused local network).
// Pure logic; requirements.cc finds the objects.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "flocker/v1/decider.pb.h"

namespace flocker::flock {

namespace v1 = ::flocker::v1;

struct Placement {
  std::vector<v1::Requirement> requirements;  // each object found, and its hosts
  // The hosts that hold all of them; nullopt: no requirement, any host.
  std::optional<std::set<std::string>> allowed;
  // When no single host holds them all: the 409 message naming each object and its hosts.
  std::string conflict;
};

Placement place(std::vector<v1::Requirement> requirements);

// "container "data" (HostConfig.VolumesFrom) is on e1" for each requirement, joined.
std::string describe(const std::vector<v1::Requirement>& requirements);

}  // namespace flocker::flock

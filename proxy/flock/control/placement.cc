#include "flock/control/placement.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace flocker::flock {
namespace {

const char* kind_word(v1::RequirementKind kind) {
  switch (kind) {
    case v1::REQUIREMENT_KIND_CONTAINER: return "container";
    case v1::REQUIREMENT_KIND_VOLUME: return "volume";
    case v1::REQUIREMENT_KIND_NETWORK: return "network";
    case v1::REQUIREMENT_KIND_IMAGE: return "image";
    default: return "object";
  }
}

std::string where(const v1::Requirement& r) {
  if (r.hosts_size() == 1) return "is on host " + r.hosts(0);
  return fmt::format("is on hosts {}", fmt::join(r.hosts(), ", "));
}

}  // namespace

std::string describe(const std::vector<v1::Requirement>& requirements) {
  std::vector<std::string> parts;
  for (const auto& r : requirements) {
    parts.push_back(fmt::format("{} \"{}\" ({}) {}", kind_word(r.kind()), r.object(), r.referred_by(), where(r)));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

Placement place(std::vector<v1::Requirement> requirements) {
  Placement out;
  for (const auto& r : requirements) {
    if (r.follows()) continue;  // it goes where the container goes
    std::set<std::string> holders(r.hosts().begin(), r.hosts().end());
    if (!out.allowed) {
      out.allowed = std::move(holders);
      continue;
    }
    std::erase_if(*out.allowed, [&](const std::string& h) { return !holders.count(h); });
  }
  if (out.allowed && out.allowed->empty()) {
    out.conflict = "cannot create this container: what it refers to is on different hosts of the flock, "
                   "and a container runs on one host: " + describe(requirements);
  }
  out.requirements = std::move(requirements);
  return out;
}

}  // namespace flocker::flock

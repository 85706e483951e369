#include "flock/coordination/pull_pins.h"

namespace flocker::flock {

void PullPins::remember(const std::string& client, const std::string& image,
                        const std::string& host) {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  std::erase_if(pins_, [&](const auto& p) { return p.second.expires < now; });
  pins_[{client, image}] = {host, now + ttl_};
}

std::optional<std::string> PullPins::find(const std::string& client, const std::string& image) {
  std::lock_guard lock(mu_);
  auto it = pins_.find({client, image});
  if (it == pins_.end() || it->second.expires < Clock::now()) return std::nullopt;
  return it->second.host;
}

void PullPins::forget(const std::string& client, const std::string& image) {
  std::lock_guard lock(mu_);
  pins_.erase({client, image});
}

}  // namespace flocker::flock

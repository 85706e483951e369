#include "proxies_seen.h"

#include <algorithm>

namespace flocker::sdk::detail {

void ProxiesSeen::record(const v1::ListRequest& request, const std::string& peer,
                         uint32_t refresh_seconds, Clock::time_point now) {
  // An older proxy sends no instance: its connection stands for it (one channel per proxy).
  const std::string key = request.proxy_instance().empty()
                              ? "peer:" + peer + "/" + request.proxy_name()
                              : "instance:" + request.proxy_instance();
  const Clock::duration keep = std::max<Clock::duration>(
      kWindow, std::chrono::seconds(3 * static_cast<int64_t>(refresh_seconds)));
  std::lock_guard lock(mu_);
  prune(now);
  auto& s = seen_[key];
  s.name = request.proxy_name();
  s.instance = request.proxy_instance();
  s.coordinated = request.coordinated();
  s.last = now;
  s.keep = keep;
  while (seen_.size() > kMaxTracked) {
    auto oldest = std::min_element(seen_.begin(), seen_.end(), [](const auto& a, const auto& b) {
      return a.second.last < b.second.last;
    });
    seen_.erase(oldest);
  }
}

void ProxiesSeen::fill(v1::ListResponse& response, Clock::time_point now) {
  if (response.proxies_size() > 0) return;  // the decider said it itself
  std::lock_guard lock(mu_);
  prune(now);
  for (const auto& [_, s] : seen_) {
    auto* p = response.add_proxies();
    p->set_proxy_name(s.name);
    p->set_proxy_instance(s.instance);
    p->set_coordinated(s.coordinated);
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - s.last).count();
    p->set_seconds_since_list(static_cast<uint32_t>(std::max<int64_t>(age, 0)));
  }
}

std::size_t ProxiesSeen::size() {
  std::lock_guard lock(mu_);
  return seen_.size();
}

void ProxiesSeen::prune(Clock::time_point now) {
  std::erase_if(seen_,
                [&](const auto& entry) { return now - entry.second.last > entry.second.keep; });
}

}  // namespace flocker::sdk::detail

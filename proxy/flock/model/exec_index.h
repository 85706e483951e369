// Which host made each exec instance (`docker exec` is three requests: create on the
// container's host, then start and inspect by the exec ID, which only that engine knows).
// Fed by exec-create answers and exec_create events; bounded, oldest forgotten first. A miss
// is resolved by asking every host.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace flocker::flock {

class ExecIndex {
 public:
  void put(const std::string& exec_id, const std::string& host) {
    std::lock_guard lock(mu_);
    if (host_.emplace(exec_id, host).second) order_.push_back(exec_id);
    while (order_.size() > kMax) {
      host_.erase(order_.front());
      order_.pop_front();
    }
  }
  std::optional<std::string> host(std::string_view exec_id) const {
    std::lock_guard lock(mu_);
    auto it = host_.find(std::string(exec_id));
    if (it == host_.end()) return std::nullopt;
    return it->second;
  }

 private:
  static constexpr std::size_t kMax = 100000;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> host_;
  std::deque<std::string> order_;  // oldest first
};

}  // namespace flocker::flock

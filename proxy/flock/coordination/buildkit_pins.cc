#include "flock/coordination/buildkit_pins.h"

namespace flocker::flock {
namespace {
constexpr std::size_t kRemembered = 4096;
}  // namespace

void BuildKitPins::Recent::put(const std::string& key, const std::string& value) {
  if (key.empty()) return;
  if (auto it = index_.find(key); it != index_.end()) {
    order_.erase(it->second);
    index_.erase(it);
  }
  order_.push_front({key, value, Clock::now()});
  index_[key] = order_.begin();
  if (order_.size() > kRemembered) {
    index_.erase(order_.back().key);
    order_.pop_back();
  }
}

const std::string* BuildKitPins::Recent::get(const std::string& key, std::chrono::seconds max_age) const {
  auto it = index_.find(key);
  if (it == index_.end() || Clock::now() - it->second->at > max_age) return nullptr;
  return &it->second->value;
}

BuildKitPins::Hold::~Hold() {
  if (pins_) pins_->release(client_);
}

std::optional<std::string> BuildKitPins::pinned(const std::string& client, const std::string& session) {
  std::lock_guard lock(mu_);
  if (!session.empty()) {
    if (const std::string* host = sessions_.get(session)) return *host;
  }
  auto it = pins_.find(client);
  if (it == pins_.end()) return std::nullopt;
  if (it->second.open > 0 || Clock::now() - it->second.released < linger_) return it->second.host;
  pins_.erase(it);
  return std::nullopt;
}

BuildKitPins::Hold BuildKitPins::hold(const std::string& client, const std::string& host, const std::string& session,
                                      const std::string& shared_key) {
  std::lock_guard lock(mu_);
  Pin& pin = pins_[client];
  pin.host = host;  // (a lapsed pin, or one whose host went down, moves)
  ++pin.open;
  sessions_.put(session, host);
  last_by_client_.put(client, host);
  last_by_context_.put(shared_key, host);
  return Hold(this, client);
}

void BuildKitPins::release(const std::string& client) {
  std::lock_guard lock(mu_);
  auto it = pins_.find(client);
  if (it == pins_.end()) return;
  if (--it->second.open <= 0) {
    it->second.open = 0;
    it->second.released = Clock::now();
  }
}

std::string BuildKitPins::cache_host(const std::string& client, const std::string& shared_key) const {
  std::lock_guard lock(mu_);
  if (const std::string* host = shared_key.empty() ? nullptr : last_by_context_.get(shared_key)) return *host;
  if (const std::string* host = last_by_client_.get(client, std::chrono::minutes(10))) return *host;
  return {};
}

void BuildKitPins::remember_build(const std::string& build_id, const std::string& host) {
  std::lock_guard lock(mu_);
  builds_.put(build_id, host);
}

std::optional<std::string> BuildKitPins::build_host(const std::string& build_id) const {
  std::lock_guard lock(mu_);
  if (const std::string* host = builds_.get(build_id)) return *host;
  return std::nullopt;
}

}  // namespace flocker::flock

#include "flock/coordination/keyed_lock.h"

#include <boost/asio/post.hpp>

namespace flocker::flock {

namespace asio = transport::asio;

KeyedLock::Held::~Held() {
  if (owner_) owner_->release(key_);
}

transport::Task<KeyedLock::Held> KeyedLock::acquire(const std::string& key) {
  auto executor = co_await asio::this_coro::executor;
  auto wake = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  {
    std::lock_guard lock(mu_);
    auto [it, free] = held_.try_emplace(key);
    if (free) co_return Held(*this, key);
    // Woken on this coroutine's own executor, whichever thread releases; the key is then
    // ours (release hands it over without letting go).
    it->second.push_back([wake, executor] { asio::post(executor, [wake] { wake->cancel(); }); });
  }
  transport::error_code ec;
  co_await wake->async_wait(transport::ec_token(ec));
  co_return Held(*this, key);
}

void KeyedLock::release(const std::string& key) {
  std::function<void()> next;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(key);
    if (it == held_.end()) return;
    if (it->second.empty()) {
      held_.erase(it);
      return;
    }
    next = std::move(it->second.front());
    it->second.pop_front();
  }
  next();
}

}  // namespace flocker::flock

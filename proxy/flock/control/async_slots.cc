#include "flock/control/async_slots.h"

namespace flocker::flock {

transport::Task<bool> AsyncSlots::acquire() {
  if (closed_) co_return false;
  if (free_ > 0 && waiters_.empty()) {
    --free_;
    co_return true;
  }
  auto w = std::make_shared<Waiter>(ctx_);
  w->timer.expires_at(transport::asio::steady_timer::time_point::max());
  waiters_.push_back(w);
  transport::error_code ec;
  co_await w->timer.async_wait(transport::ec_token(ec));
  co_return w->granted;
}

void AsyncSlots::release() {
  if (waiters_.empty()) {
    ++free_;
    return;
  }
  auto w = std::move(waiters_.front());  // the slot goes to the first waiter, not to the pool
  waiters_.pop_front();
  w->granted = true;
  w->timer.cancel();
}

void AsyncSlots::close() {
  closed_ = true;
  for (auto& w : waiters_) w->timer.cancel();
  waiters_.clear();
}

}  // namespace flocker::flock

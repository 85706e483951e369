#include "deadline.h"

namespace flocker::transport {

std::shared_ptr<Deadline> arm(Socket& socket, std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) return nullptr;
  auto d = std::make_shared<Deadline>(socket.get_executor(), &socket);
  d->timer.expires_after(timeout);
  d->timer.async_wait([d](error_code e) {
    if (!e && d->socket) {
      d->fired = true;
      error_code ignored;
      d->socket->close(ignored);
    }
  });
  return d;
}

void disarm(const std::shared_ptr<Deadline>& d, error_code& ec) {
  if (!d) return;
  d->socket = nullptr;
  d->timer.cancel();
  if (d->fired) ec = asio::error::timed_out;
}

}  // namespace flocker::transport

namespace flocker::transport {

Alarm::Alarm(const asio::any_io_executor& ex, std::chrono::milliseconds after, std::function<void()> fire)
    : timer_(std::make_shared<asio::steady_timer>(ex)) {
  timer_->expires_after(after);
  timer_->async_wait([keep = timer_, fire = std::move(fire)](error_code e) {
    if (!e) fire();
  });
}

void Alarm::cancel() {
  if (timer_) timer_->cancel();
  timer_.reset();
}

}  // namespace flocker::transport

// Time limits on upstream operations.
// - Deadline: if the time passes before `disarm`, the socket is closed, which ends whatever
//   waits on it, and `disarm` reports asio::error::timed_out.
// - Alarm: if the time passes before the alarm is gone, a function is called once (nothing
//   is closed): "this engine is slow to answer, check it now".
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "net.h"

namespace flocker::transport {

// Shared with the timer's handler, which may run after the operation finished.
struct Deadline {
  Deadline(const asio::any_io_executor& ex, Socket* socket) : timer(ex), socket(socket) {}
  asio::steady_timer timer;
  Socket* socket;
  bool fired = false;
};

// No deadline (nullptr) for a timeout of zero or less. `socket` must outlive the disarm.
std::shared_ptr<Deadline> arm(Socket& socket, std::chrono::milliseconds timeout);

// Stops the deadline; sets `ec` to timed_out if it had fired.
void disarm(const std::shared_ptr<Deadline>& deadline, error_code& ec);

class Alarm {
 public:
  Alarm() = default;  // none
  Alarm(const asio::any_io_executor& ex, std::chrono::milliseconds after, std::function<void()> fire);
  Alarm(Alarm&&) = default;
  Alarm& operator=(Alarm&&) = default;
  ~Alarm() { cancel(); }
  void cancel();

 private:
  std::shared_ptr<asio::steady_timer> timer_;
};

}  // namespace flocker::transport

// A coroutine run alongside the current one, on the same single-threaded executor, that
// the current one joins before the objects both use go away. Used for the two directions
// of a relay (request body up while the response comes down; the two halves of a tunnel).
#pragma once

#include <exception>

#include "net.h"

namespace flocker::transport {

class Companion {
 public:
  explicit Companion(const asio::any_io_executor& ex)
      : wake_(ex, asio::steady_timer::time_point::max()) {}
  Companion(const Companion&) = delete;
  Companion& operator=(const Companion&) = delete;
  ~Companion() = default;  // callers always join() first: the task references their frame

  void start(Task<void> task) {
    running_ = true;
    asio::co_spawn(wake_.get_executor(), std::move(task), [this](std::exception_ptr e) {
      running_ = false;
      error_ = e;
      wake_.cancel();
    });
  }

  bool running() const { return running_; }

  // Waits for the task to end; rethrows what it threw.
  Task<void> join() {
    while (running_) {
      error_code ec;
      co_await wake_.async_wait(ec_token(ec));
    }
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  asio::steady_timer wake_;
  bool running_ = false;
  std::exception_ptr error_;
};

}  // namespace flocker::transport

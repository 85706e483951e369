// A counting semaphore for coroutines on one io_context (one thread): at most N holders at
// once, the others wait in order. Used where a flock of many hosts would otherwise ask all
// of them at the same moment.
#pragma once

#include <deque>
#include <memory>

#include "transport/worker.h"

namespace flocker::flock {

class AsyncSlots {
 public:
  AsyncSlots(transport::asio::io_context& ctx, int slots) : ctx_(ctx), free_(slots) {}
  // Waits for a slot; false once closed (then nothing is held).
  transport::Task<bool> acquire();
  void release();
  // Wakes every waiter with false, and refuses from now on.
  void close();

 private:
  transport::asio::io_context& ctx_;
  int free_;
  bool closed_ = false;
  struct Waiter {
    explicit Waiter(transport::asio::io_context& ctx) : timer(ctx) {}
    transport::asio::steady_timer timer;
    bool granted = false;
  };
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace flocker::flock

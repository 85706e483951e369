// Running several coroutines at once on the current executor and waiting for all of them:
// the fan-out of one request to many engines.
#pragma once

#include <exception>
#include <memory>
#include <vector>

#include "net.h"

namespace flocker::transport {

// Runs every task concurrently; returns their results in order. An exception in a task is
// rethrown after all have finished.
template <class T>
Task<std::vector<T>> gather(std::vector<Task<T>> tasks) {
  struct State {
    explicit State(const asio::any_io_executor& ex, std::size_t n)
        : wake(ex, asio::steady_timer::time_point::max()), results(n), left(n) {}
    asio::steady_timer wake;
    std::vector<T> results;
    std::size_t left;
    std::exception_ptr error;
  };
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<State>(ex, tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    asio::co_spawn(ex, std::move(tasks[i]), [state, i](std::exception_ptr e, T value) {
      if (e && !state->error) state->error = e;
      if (!e) state->results[i] = std::move(value);
      if (--state->left == 0) state->wake.cancel();
    });
  }
  while (state->left > 0) {
    error_code ec;
    co_await state->wake.async_wait(ec_token(ec));
  }
  if (state->error) std::rethrow_exception(state->error);
  co_return std::move(state->results);
}

// An asynchronous mutex for coroutines of one executor (no threads involved): several
// readers of upstream streams take turns writing to one client.
class AsyncLock {
 public:
  explicit AsyncLock(const asio::any_io_executor& ex)
      : wake_(ex, asio::steady_timer::time_point::max()) {}
  Task<void> lock() {
    while (locked_) {
      error_code ec;
      co_await wake_.async_wait(ec_token(ec));
    }
    locked_ = true;
  }
  void unlock() {
    locked_ = false;
    wake_.cancel();  // the waiters retry; one of them wins
  }

 private:
  asio::steady_timer wake_;
  bool locked_ = false;
};

}  // namespace flocker::transport

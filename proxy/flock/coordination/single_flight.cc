#include "flock/coordination/single_flight.h"

#include <boost/asio/post.hpp>

namespace flocker::flock {

namespace asio = transport::asio;

transport::Task<void> SingleFlight::run(const std::string& key, std::function<transport::Task<void>()> work) {
  auto executor = co_await asio::this_coro::executor;
  auto wake = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  bool leader = false;
  {
    std::lock_guard lock(mu_);
    auto& flight = flights_[key];
    if (!flight) {
      flight = std::make_shared<Flight>();
      leader = true;
    } else {
      // Resumed on this coroutine's own executor, whichever thread ends the flight.
      flight->waiters.push_back([wake, executor] { asio::post(executor, [wake] { wake->cancel(); }); });
    }
  }
  if (!leader) {
    transport::error_code ec;
    co_await wake->async_wait(transport::ec_token(ec));
    co_return;
  }
  std::exception_ptr failure;
  try {
    co_await work();
  } catch (...) {
    failure = std::current_exception();
  }
  std::shared_ptr<Flight> done;
  {
    std::lock_guard lock(mu_);
    auto it = flights_.find(key);
    done = std::move(it->second);
    flights_.erase(it);
  }
  for (auto& w : done->waiters) w();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace flocker::flock

// One operation at a time per key, across I/O threads: the first asker does it, the others
// wait for it to end and then look again (several `docker run` of one image landing on one
// host at once copy the image there once). A waiter is resumed on its own executor.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "transport/net.h"

namespace flocker::flock {

class SingleFlight {
 public:
  // Runs `work` unless another coroutine runs it for `key` now; then waits for that one to
  // finish instead. Either way, returns once no `work` for `key` is running.
  transport::Task<void> run(const std::string& key, std::function<transport::Task<void>()> work);

 private:
  struct Flight {
    std::vector<std::function<void()>> waiters;  // called once the work is over
  };
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace flocker::flock

// One holder at a time per key, across I/O threads, for coroutines: the others wait in line
// (first come, first served) and each is resumed on its own executor. Held for the span of
// one request's work on one object (a network that may follow a container: the creates that
// name it are decided one after another, so two of them cannot move it two ways).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "transport/net.h"

namespace flocker::flock {

class KeyedLock {
 public:
  // Releases its key when destroyed (to the next in line, if any).
  class Held {
   public:
    Held(KeyedLock& owner, std::string key) : owner_(&owner), key_(std::move(key)) {}
    Held(Held&& other) noexcept : owner_(other.owner_), key_(std::move(other.key_)) { other.owner_ = nullptr; }
    Held& operator=(Held&&) = delete;
    ~Held();
    const std::string& key() const { return key_; }

   private:
    KeyedLock* owner_;
    std::string key_;
  };

  transport::Task<Held> acquire(const std::string& key);

 private:
  void release(const std::string& key);
  std::mutex mu_;
  // A key is held while it is in the map; its waiters in line, each a wake-up call.
  std::map<std::string, std::deque<std::function<void()>>> held_;
};

}  // namespace flocker::flock

// The proxy's background work, on a thread of its own: the inventory (the decider's List,
// refreshed), and for every host a health loop (/_ping, /version, /info) and an event-stream
// loop that keeps the host's part of the object model current (flock/model_sync.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "flock/async_slots.h"
#include "flock/flock.h"
#include "transport/worker.h"

namespace flocker::flock {

class ControlPlane {
 public:
  ControlPlane(Flock& flock, transport::PoolOptions pool);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  void start();
  void stop();  // idempotent; joins the thread

 private:
  struct Monitor;
  transport::Task<void> inventory_loop();
  transport::Task<void> apply_inventory(const v1::ListResponse& list);
  transport::Task<void> health_loop(std::shared_ptr<Monitor> m);
  transport::Task<void> events_loop(std::shared_ptr<Monitor> m);
  transport::Task<bool> check(Monitor& m);
  void set_health(const std::string& host, bool healthy, const std::string& why);
  transport::Task<void> sleep(transport::asio::steady_timer& timer, std::chrono::milliseconds d);

  Flock& flock_;
  EngineTls engine_tls_;  // control thread only
  transport::Worker worker_;
  std::thread thread_;
  std::map<std::string, std::shared_ptr<Monitor>> monitors_;  // control thread only
  transport::asio::steady_timer inventory_timer_;
  AsyncSlots sync_slots_;  // hosts listing at once
  bool stopping_ = false;
  bool started_ = false;
};

}  // namespace flocker::flock

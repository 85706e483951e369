// The proxy's background work, on a thread of its own: the inventory (the decider's List,
// refreshed), and for every host a health loop (/_ping, /version, /info) and an event-stream
// loop that keeps the host's part of the object model current (flock/model/model_sync.h).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "flock/control/async_slots.h"
#include "flock/flock.h"
#include "transport/server.h"
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

  // No request waits on a dead engine: an engine slow to answer one of `server`'s requests
  // is checked at once, and once found down every request in flight to it on the server's
  // I/O threads ends (a 502 naming it, or the end of a stream). Before either starts.
  void watch_requests(transport::Server& server);

  // Asks the decider's List now (the inventory's generation moved in etcd). From any thread.
  void refresh_inventory_now();

  // Checks the host at `address` (Address::text) now rather than at its next turn: a request
  // to it is slow to answer. From any thread; at most once a second per host.
  void check_now(const std::string& address);

 private:
  struct Monitor;
  transport::Task<void> inventory_loop();
  transport::Task<void> apply_inventory(const v1::ListResponse& list);
  transport::Task<void> health_loop(std::shared_ptr<Monitor> m);
  transport::Task<void> events_loop(std::shared_ptr<Monitor> m);
  transport::Task<bool> check(Monitor& m);
  void set_health(Monitor& m, bool healthy, const std::string& why);
  // Tags a listing found moved: every host brought in line (flock/model/tag_sync.h).
  void settle_in_background(std::vector<std::string> tags);
  transport::Task<void> sleep(transport::asio::steady_timer& timer, std::chrono::milliseconds d);

  Flock& flock_;
  EngineTls engine_tls_;  // control thread only
  transport::Worker worker_;
  std::thread thread_;
  std::map<std::string, std::shared_ptr<Monitor>> monitors_;  // control thread only
  transport::asio::steady_timer inventory_timer_;
  AsyncSlots sync_slots_;  // hosts listing at once
  std::function<void(const std::string&, const std::string&)> host_down_;
  std::function<void(const std::string&)> host_up_;
  bool stopping_ = false;
  bool started_ = false;
};

}  // namespace flocker::flock

// Keep-alive connections to upstream servers (the engines), pooled per upstream address.
// One pool per I/O thread: connections never cross threads, so the pool needs no lock.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "address.h"
#include "net.h"

namespace flocker::transport {

struct PoolOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(3)};
  // An idle pooled connection is closed after this long.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  std::size_t max_idle_per_upstream = 64;
};

struct UpstreamConnection;

// What acquire() reports for an upstream the pool was told is down (abort with refuse_new):
// no connection is tried until revive().
const boost::system::error_category& pool_category();
inline error_code upstream_down() { return {1, pool_category()}; }

// The connections lent out of a pool, per upstream, so that an upstream found dead can have
// every request in flight to it ended at once. Shared with the connections, which may
// outlive their pool at shutdown.
struct BusyConnections {
  std::unordered_map<std::string, std::unordered_set<UpstreamConnection*>> by_upstream;
};

// A connection to an upstream and the bytes read from it past the last message.
struct UpstreamConnection {
  explicit UpstreamConnection(Socket s) : socket(std::move(s)) {}
  ~UpstreamConnection() { leave_busy(); }
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  Socket socket;
  beast::flat_buffer buffer;
  bool reused = false;  // came from the pool: it may have been closed by the peer meanwhile
  std::chrono::steady_clock::time_point idle_since;
  // Why the pool closed it while in use ("" while it did not): its upstream was found down.
  std::string aborted;

 private:
  friend class UpstreamPool;
  void leave_busy() {
    if (!busy) return;
    if (auto it = busy->by_upstream.find(upstream); it != busy->by_upstream.end()) it->second.erase(this);
    busy.reset();
  }
  std::string upstream;                   // the pool's key (Address::text)
  std::shared_ptr<BusyConnections> busy;  // set while lent out
};
using ConnectionPtr = std::unique_ptr<UpstreamConnection>;

class UpstreamPool {
 public:
  UpstreamPool(asio::io_context& context, PoolOptions options);
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // A pooled connection, else a new one (within connect_timeout). On failure returns null
  // with ec set (asio::error::timed_out when the connect timed out). `check_alive` first
  // makes sure a pooled connection was not closed by the engine meanwhile (one syscall),
  // for requests that could not be sent again.
  Task<ConnectionPtr> acquire(const Address& upstream, error_code& ec, bool check_alive = true);

  // Gives back a connection whose last response ended cleanly with keep-alive.
  void release(const Address& upstream, ConnectionPtr connection);

  // Closes every idle connection and stops the idle sweep (on shutdown).
  void close_all();

  // The upstream is down: closes its idle connections, and those in use, which ends the
  // requests waiting on them (their `aborted` says why). With `refuse_new`, acquire() fails
  // at once (upstream_down) until revive(): a request that chose the host before it was
  // found down must not wait on it either. Returns how many were in use.
  std::size_t abort(const std::string& upstream, const std::string& why, bool refuse_new = true);
  void revive(const std::string& upstream) { down_.erase(upstream); }
  std::size_t busy_count(const std::string& upstream) const;

  std::size_t idle_count() const;
  uint64_t connects() const { return connects_; }  // new connections made, for tests and stats

 private:
  Task<void> sweep();
  ConnectionPtr lend(const Address& upstream, ConnectionPtr connection);

  asio::io_context& context_;
  const PoolOptions options_;
  std::unordered_map<std::string, std::vector<ConnectionPtr>> idle_;
  std::shared_ptr<BusyConnections> busy_ = std::make_shared<BusyConnections>();
  std::unordered_map<std::string, std::string> down_;  // upstream -> why
  asio::steady_timer sweep_timer_;
  bool sweeping_ = false;
  bool closed_ = false;
  uint64_t connects_ = 0;
};

}  // namespace flocker::transport

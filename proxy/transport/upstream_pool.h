// Keep-alive connections to upstream servers (the engines), pooled per upstream address.
// One pool per I/O thread: connections never cross threads, so the pool needs no lock.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
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

// A connection to an upstream and the bytes read from it past the last message.
struct UpstreamConnection {
  explicit UpstreamConnection(Socket s) : socket(std::move(s)) {}
  Socket socket;
  beast::flat_buffer buffer;
  bool reused = false;  // came from the pool: it may have been closed by the peer meanwhile
  std::chrono::steady_clock::time_point idle_since;
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

  std::size_t idle_count() const;
  uint64_t connects() const { return connects_; }  // new connections made, for tests and stats

 private:
  Task<void> sweep();

  asio::io_context& context_;
  const PoolOptions options_;
  std::unordered_map<std::string, std::vector<ConnectionPtr>> idle_;
  asio::steady_timer sweep_timer_;
  bool sweeping_ = false;
  bool closed_ = false;
  uint64_t connects_ = 0;
};

}  // namespace flocker::transport

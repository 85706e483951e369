// Per-I/O-thread state: the io_context the thread runs, its upstream pool, and the client
// sessions it serves (so that shutdown can drain and then close them).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "address.h"
#include "buffer_pool.h"
#include "deadline.h"
#include "net.h"
#include "upstream_pool.h"

namespace flocker::transport {

// What shutdown needs to know of a live client session.
struct SessionEntry {
  Socket* client = nullptr;
  Socket* upstream = nullptr;  // the upstream connection in use, if any
  bool idle = true;            // waiting for the next request
};

class Worker {
 public:
  Worker(unsigned index, PoolOptions pool_options);

  unsigned index() const { return index_; }
  asio::io_context& context() { return context_; }
  UpstreamPool& pool() { return pool_; }
  BufferPool& buffers() { return buffers_; }

  // Registration of sessions; the iterator is the session's handle.
  using SessionList = std::list<SessionEntry>;
  SessionList::iterator add_session(Socket* client);
  void remove_session(SessionList::iterator it);
  std::size_t session_count() const { return sessions_.size(); }

  // Shutdown, step 1 (on this worker's thread): idle sessions close now, busy ones after
  // their current request; the pool closes. Step 2, after the grace period: everything closes.
  void begin_drain();
  void close_everything();
  bool draining() const { return draining_; }

  // A short unique id for a request ("5f3a9c1e-1a").
  std::string next_request_id();

  // Who to tell when an upstream has not answered a request after `after` (the flock checks
  // that engine's health at once, rather than at its next turn). Set before the thread runs.
  void set_slow_answer_hook(std::chrono::milliseconds after, std::function<void(const std::string& upstream)> hook) {
    slow_after_ = after;
    slow_hook_ = std::move(hook);
  }
  // An alarm for one request to `upstream` (none without a hook); destroy it once answered.
  Alarm slow_answer_alarm(const Address& upstream);

 private:
  const unsigned index_;
  asio::io_context context_{1};
  UpstreamPool pool_;
  BufferPool buffers_;
  SessionList sessions_;
  bool draining_ = false;
  uint64_t requests_ = 0;
  uint32_t id_prefix_;
  std::chrono::milliseconds slow_after_{0};
  std::function<void(const std::string&)> slow_hook_;
};

}  // namespace flocker::transport

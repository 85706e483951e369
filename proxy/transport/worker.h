// Per-I/O-thread state: the io_context the thread runs, its upstream pool, and the client
// sessions it serves (so that shutdown can drain and then close them).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "buffer_pool.h"
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

 private:
  const unsigned index_;
  asio::io_context context_{1};
  UpstreamPool pool_;
  BufferPool buffers_;
  SessionList sessions_;
  bool draining_ = false;
  uint64_t requests_ = 0;
  uint32_t id_prefix_;
};

}  // namespace flocker::transport

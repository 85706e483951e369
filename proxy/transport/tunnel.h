// The raw two-way byte relay a hijacked connection becomes (docker attach, exec start,
// `Upgrade: tcp`, websockets). Half-close is carried across: when one side shuts its write
// half, the other side's write half is shut and the opposite direction keeps flowing, so
// `echo hi | docker run -i IMAGE cat` still gets `hi` back after stdin's EOF.
#pragma once

#include <cstdint>

#include "buffer_pool.h"
#include "net.h"

namespace flocker::transport {

struct TunnelBytes {
  uint64_t a_to_b = 0;
  uint64_t b_to_a = 0;
};

// Relays until both directions have ended. `a_pending` / `b_pending` hold bytes already read
// from a / b (past the HTTP header) that must reach the other side first. When either side
// fails, both sockets are closed.
Task<TunnelBytes> tunnel(Socket& a, beast::flat_buffer& a_pending, Socket& b,
                         beast::flat_buffer& b_pending, BufferPool& pool);

}  // namespace flocker::transport

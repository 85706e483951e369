// Relaying an HTTP body from one socket to another as raw bytes, framing untouched, one
// pooled buffer at a time: a slow reader slows the writer (backpressure both ways), memory
// stays bounded, and an idle stream holds no buffer.
#pragma once

#include <cstdint>

#include "body_framing.h"
#include "buffer_pool.h"
#include "net.h"

namespace flocker::transport {

enum class RelayEnd { kDone, kInputFailed, kOutputFailed };

// Relays the rest of the body `framing` describes from `in` to `out`. Bytes already read
// from `in` (in `pending`) go first; bytes past the body's end are left in `pending` (they
// begin the next message).
Task<RelayEnd> relay_body(Socket& in, beast::flat_buffer& pending, BodyFraming& framing,
                          Socket& out, BufferPool& pool);

// Relays raw bytes from `in` to `out` until EOF (then shuts `out`'s write half: half-close
// carried across) or an error. Counts the bytes into `bytes`.
Task<RelayEnd> relay_until_eof(Socket& in, beast::flat_buffer& pending, Socket& out,
                               BufferPool& pool, uint64_t& bytes);

}  // namespace flocker::transport

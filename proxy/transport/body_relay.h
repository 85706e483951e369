// Streaming an HTTP body from a parser on one socket to a serializer on another, piece by
// piece, never holding more than one buffer: a slow reader slows the writer (backpressure).
#pragma once

#include <cstdint>

#include "net.h"

namespace flocker::transport {

enum class RelayEnd { kDone, kInputFailed, kOutputFailed };

// The relay buffer; it starts small (idle streams cost little) and grows while the stream
// fills it (bulk transfers get large reads), up to kMaxRelayBuffer.
constexpr std::size_t kMinRelayBuffer = 4 * 1024;
constexpr std::size_t kMaxRelayBuffer = 64 * 1024;

// Relays the rest of the body `parser` is reading from `in` to `out` through `serializer`
// (whose header must already be written). Adds the body bytes to `bytes`.
template <bool isRequest>
Task<RelayEnd> relay_body(Socket& in, beast::flat_buffer& in_buffer,
                          http::parser<isRequest, http::buffer_body>& parser, Socket& out,
                          http::serializer<isRequest, http::buffer_body>& serializer,
                          uint64_t& bytes);

extern template Task<RelayEnd> relay_body<true>(Socket&, beast::flat_buffer&,
                                                http::parser<true, http::buffer_body>&, Socket&,
                                                http::serializer<true, http::buffer_body>&,
                                                uint64_t&);
extern template Task<RelayEnd> relay_body<false>(Socket&, beast::flat_buffer&,
                                                 http::parser<false, http::buffer_body>&, Socket&,
                                                 http::serializer<false, http::buffer_body>&,
                                                 uint64_t&);

}  // namespace flocker::transport

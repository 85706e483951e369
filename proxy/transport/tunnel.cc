#include "tunnel.h"

#include "body_relay.h"
#include "companion.h"

namespace flocker::transport {
namespace {

Task<void> pump(Socket& from, beast::flat_buffer& pending, Socket& to, BufferPool& pool,
                uint64_t& bytes) {
  if (co_await relay_until_eof(from, pending, to, pool, bytes) != RelayEnd::kDone) {
    error_code ignored;  // a failure ends both directions
    from.close(ignored);
    to.close(ignored);
  }
}

}  // namespace

Task<TunnelBytes> tunnel(Socket& a, beast::flat_buffer& a_pending, Socket& b,
                         beast::flat_buffer& b_pending, BufferPool& pool) {
  TunnelBytes bytes;
  Companion up(co_await asio::this_coro::executor);
  up.start(pump(a, a_pending, b, pool, bytes.a_to_b));
  co_await pump(b, b_pending, a, pool, bytes.b_to_a);
  co_await up.join();
  co_return bytes;
}

}  // namespace flocker::transport

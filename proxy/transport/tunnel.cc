#include "tunnel.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <memory>

#include "companion.h"

namespace flocker::transport {
namespace {

constexpr std::size_t kPumpBuffer = 16 * 1024;

// One direction: from -> to, until EOF (then shut `to`'s write half) or an error (then
// close both, which also ends the other direction).
Task<void> pump(Socket& from, beast::flat_buffer& pending, Socket& to, uint64_t& bytes) {
  error_code ec;
  if (pending.size() > 0) {
    bytes += co_await asio::async_write(to, pending.data(), ec_token(ec));
    pending.consume(pending.size());
  }
  auto buffer = std::make_unique<char[]>(kPumpBuffer);
  while (!ec) {
    std::size_t n =
        co_await from.async_read_some(asio::buffer(buffer.get(), kPumpBuffer), ec_token(ec));
    if (ec == asio::error::eof) {
      to.shutdown(Socket::shutdown_send, ec);  // the half-close, carried across
      co_return;
    }
    if (!ec) bytes += co_await asio::async_write(to, asio::buffer(buffer.get(), n), ec_token(ec));
  }
  from.close(ec);
  to.close(ec);
}

}  // namespace

Task<TunnelBytes> tunnel(Socket& a, beast::flat_buffer& a_pending, Socket& b,
                         beast::flat_buffer& b_pending) {
  TunnelBytes bytes;
  Companion up(co_await asio::this_coro::executor);
  up.start(pump(a, a_pending, b, bytes.a_to_b));
  co_await pump(b, b_pending, a, bytes.b_to_a);
  co_await up.join();
  co_return bytes;
}

}  // namespace flocker::transport

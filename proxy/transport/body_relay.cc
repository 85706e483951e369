#include "body_relay.h"

#include <boost/asio/write.hpp>

namespace flocker::transport {
namespace {

// Reads what `in` has now into a pooled buffer, waiting (without a buffer) until it has
// something. Returns the bytes read; ec is eof at the end of input.
Task<std::size_t> read_available(Socket& in, BufferPool& pool, BufferPool::Buffer& buffer,
                                  error_code& ec) {
  for (;;) {
    if (!buffer) buffer = pool.acquire();
    std::size_t n = in.read_some(asio::buffer(buffer.get(), BufferPool::kBufferSize), ec);
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return n;
    pool.release(std::move(buffer));
    co_await in.async_wait(Socket::wait_read, ec_token(ec));
    if (ec) co_return 0;
  }
}

}  // namespace

Task<RelayEnd> relay_body(Socket& in, beast::flat_buffer& pending, BodyFraming& framing,
                          Socket& out, BufferPool& pool) {
  error_code ec;
  if (pending.size() > 0 && !framing.done()) {
    const char* data = static_cast<const char*>(pending.data().data());
    const std::size_t used = framing.consume(data, pending.size());
    if (framing.error()) co_return RelayEnd::kInputFailed;
    co_await asio::async_write(out, asio::buffer(data, used), ec_token(ec));
    pending.consume(used);
    if (ec) co_return RelayEnd::kOutputFailed;
  }
  if (pending.size() == 0) pending.shrink_to_fit();  // a long stream keeps no idle buffer
  if (!in.non_blocking()) in.non_blocking(true, ec);
  BufferPool::Buffer buffer;
  while (!framing.done()) {
    const std::size_t n = co_await read_available(in, pool, buffer, ec);
    if (ec == asio::error::eof) {
      framing.end_of_input();
      if (framing.done()) break;
    }
    if (ec) co_return RelayEnd::kInputFailed;
    const std::size_t used = framing.consume(buffer.get(), n);
    if (framing.error()) co_return RelayEnd::kInputFailed;
    if (used < n) {  // the start of the next message, for the next header read
      auto room = pending.prepare(n - used);
      asio::buffer_copy(room, asio::buffer(buffer.get() + used, n - used));
      pending.commit(n - used);
    }
    co_await asio::async_write(out, asio::buffer(buffer.get(), used), ec_token(ec));
    if (ec) co_return RelayEnd::kOutputFailed;
  }
  pool.release(std::move(buffer));
  co_return RelayEnd::kDone;
}

Task<RelayEnd> relay_until_eof(Socket& in, beast::flat_buffer& pending, Socket& out,
                               BufferPool& pool, uint64_t& bytes) {
  error_code ec;
  if (pending.size() > 0) {
    bytes += co_await asio::async_write(out, pending.data(), ec_token(ec));
    pending.consume(pending.size());
    if (ec) co_return RelayEnd::kOutputFailed;
  }
  if (!in.non_blocking()) in.non_blocking(true, ec);
  BufferPool::Buffer buffer;
  for (;;) {
    const std::size_t n = co_await read_available(in, pool, buffer, ec);
    if (ec == asio::error::eof) {
      out.shutdown(Socket::shutdown_send, ec);
      break;
    }
    if (ec) co_return RelayEnd::kInputFailed;
    co_await asio::async_write(out, asio::buffer(buffer.get(), n), ec_token(ec));
    if (ec) co_return RelayEnd::kOutputFailed;
    bytes += n;
  }
  pool.release(std::move(buffer));
  co_return RelayEnd::kDone;
}

}  // namespace flocker::transport

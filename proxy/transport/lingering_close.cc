#include "lingering_close.h"

#include <array>
#include <chrono>

#include "deadline.h"

namespace flocker::transport {
namespace {

// The time is the bound that matters (what a peer can hold); the bytes are generous, so that
// a client still writing a refused body (a 413 for 2 MiB) finishes and reads why.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 64 * 1024 * 1024;

Task<void> discard_until_eof(Socket socket) {
  auto deadline = arm(socket, kLingerTime);
  std::array<char, 4096> sink;
  std::size_t discarded = 0;
  error_code ec;
  while (discarded < kLingerBytes) {
    const std::size_t n = co_await socket.async_read_some(asio::buffer(sink), ec_token(ec));
    if (ec) break;  // the peer's EOF, a reset, or the deadline
    discarded += n;
  }
  disarm(deadline, ec);
  socket.close(ec);
}

}  // namespace

void lingering_close(Socket socket) {
  error_code ec;
  socket.shutdown(Socket::shutdown_send, ec);
  if (ec) {  // not connected any more: nothing to wait for
    socket.close(ec);
    return;
  }
  auto executor = socket.get_executor();
  asio::co_spawn(executor, discard_until_eof(std::move(socket)), asio::detached);
}

}  // namespace flocker::transport

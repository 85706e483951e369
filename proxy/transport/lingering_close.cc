#include "lingering_close.h"

#include <array>
#include <chrono>
#include <memory>

namespace flocker::transport {
namespace {

constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 256 * 1024;

struct Lingering {
  explicit Lingering(Socket s) : socket(std::move(s)), deadline(socket.get_executor()) {}
  Socket socket;
  asio::steady_timer deadline;
};

Task<void> discard_until_eof(std::shared_ptr<Lingering> l) {
  std::array<char, 4096> sink;
  std::size_t discarded = 0;
  error_code ec;
  while (discarded < kLingerBytes) {
    const std::size_t n = co_await l->socket.async_read_some(asio::buffer(sink), ec_token(ec));
    if (ec) break;  // the peer's EOF, a reset, or the deadline
    discarded += n;
  }
  l->deadline.cancel();
  l->socket.close(ec);
}

}  // namespace

void lingering_close(Socket socket) {
  error_code ec;
  socket.shutdown(Socket::shutdown_send, ec);
  if (ec) {  // not connected any more: nothing to wait for
    socket.close(ec);
    return;
  }
  auto l = std::make_shared<Lingering>(std::move(socket));
  l->deadline.expires_after(kLingerTime);
  l->deadline.async_wait([weak = std::weak_ptr<Lingering>(l)](error_code e) {
    if (e) return;
    if (auto alive = weak.lock()) {
      error_code ignored;
      alive->socket.cancel(ignored);
    }
  });
  auto executor = l->socket.get_executor();
  asio::co_spawn(executor, discard_until_eof(std::move(l)), asio::detached);
}

}  // namespace flocker::transport

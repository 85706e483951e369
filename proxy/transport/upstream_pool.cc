#include "upstream_pool.h"

#include "tls.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>

namespace flocker::transport {
namespace {

// True when a pooled connection is still usable: nothing to read and no EOF pending. A peer
// that closed an idle connection leaves EOF (or an RST) in the socket.
bool still_open(Socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// State shared with the connect timer's handler, which may run after the connect finished.
struct ConnectAttempt {
  explicit ConnectAttempt(const asio::any_io_executor& ex) : socket(ex), timer(ex) {}
  Socket socket;
  asio::steady_timer timer;
  bool timed_out = false;
};

}  // namespace

// (Boost's error_category has a protected non-virtual destructor, by design.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
const boost::system::error_category& pool_category() {
  struct Category : boost::system::error_category {
    const char* name() const noexcept override { return "flocker.pool"; }
    std::string message(int) const override { return "the engine was found down by its health check"; }
  };
  static const Category category;
  return category;
}
#pragma GCC diagnostic pop

UpstreamPool::UpstreamPool(asio::io_context& context, PoolOptions options)
    : context_(context), options_(options), sweep_timer_(context) {}

Task<ConnectionPtr> UpstreamPool::acquire(const Address& upstream, error_code& ec,
                                          bool check_alive) {
  ec = {};
  if (!down_.empty() && down_.count(upstream.text)) {
    ec = upstream_down();
    co_return nullptr;
  }
  if (auto it = idle_.find(upstream.text); it != idle_.end()) {
    auto& list = it->second;
    while (!list.empty()) {
      ConnectionPtr conn = std::move(list.back());
      list.pop_back();
      if (!check_alive || still_open(conn->socket)) {
        conn->reused = true;
        co_return lend(upstream, std::move(conn));
      }
    }
  }
  auto attempt = std::make_shared<ConnectAttempt>(context_.get_executor());
  attempt->timer.expires_after(options_.connect_timeout);
  attempt->timer.async_wait([attempt](error_code e) {
    if (!e) {
      attempt->timed_out = true;
      error_code ignored;
      attempt->socket.close(ignored);
    }
  });
  co_await attempt->socket.async_connect(upstream.endpoint, ec_token(ec));
  attempt->timer.cancel();
  if (attempt->timed_out) ec = asio::error::timed_out;
  if (ec) co_return nullptr;
  ++connects_;
  error_code ignored;
  if (!upstream.is_unix) attempt->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  attempt->socket.non_blocking(true, ignored);  // once, not per relay
  Socket socket = std::move(attempt->socket);
  if (upstream.tls) {
    std::string why;
    auto plain = co_await tls_connect(std::move(socket), *upstream.tls, options_.connect_timeout, upstream.text, why);
    if (!plain) {
      spdlog::warn("engine {}: {}", upstream.text, why);
      ec = tls_handshake_failed();
      co_return nullptr;
    }
    socket = std::move(*plain);
  }
  if (!sweeping_ && !closed_) {
    sweeping_ = true;
    asio::co_spawn(context_, sweep(), asio::detached);
  }
  co_return lend(upstream, std::make_unique<UpstreamConnection>(std::move(socket)));
}

ConnectionPtr UpstreamPool::lend(const Address& upstream, ConnectionPtr connection) {
  connection->upstream = upstream.text;
  connection->busy = busy_;
  busy_->by_upstream[upstream.text].insert(connection.get());
  return connection;
}

void UpstreamPool::release(const Address& upstream, ConnectionPtr connection) {
  connection->leave_busy();
  if (!connection->aborted.empty()) return;
  auto& list = idle_[upstream.text];
  if (closed_ || list.size() >= options_.max_idle_per_upstream) return;  // closes it
  connection->idle_since = std::chrono::steady_clock::now();
  list.push_back(std::move(connection));
}

void UpstreamPool::close_all() {
  closed_ = true;
  idle_.clear();
  sweep_timer_.cancel();
}

std::size_t UpstreamPool::abort(const std::string& upstream, const std::string& why, bool refuse_new) {
  idle_.erase(upstream);
  if (refuse_new) down_[upstream] = why;
  auto it = busy_->by_upstream.find(upstream);
  if (it == busy_->by_upstream.end()) return 0;
  for (UpstreamConnection* c : it->second) {
    c->aborted = why.empty() ? "it is down" : why;
    error_code ignored;
    c->socket.close(ignored);
  }
  return it->second.size();
}

std::size_t UpstreamPool::busy_count(const std::string& upstream) const {
  auto it = busy_->by_upstream.find(upstream);
  return it == busy_->by_upstream.end() ? 0 : it->second.size();
}

std::size_t UpstreamPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [_, list] : idle_) n += list.size();
  return n;
}

Task<void> UpstreamPool::sweep() {
  const auto period = std::max(options_.idle_timeout / 2, std::chrono::milliseconds(100));
  while (!closed_) {
    sweep_timer_.expires_after(period);
    error_code ec;
    co_await sweep_timer_.async_wait(ec_token(ec));
    const auto cutoff = std::chrono::steady_clock::now() - options_.idle_timeout;
    for (auto& [_, list] : idle_) {
      std::erase_if(list, [&](const ConnectionPtr& c) { return c->idle_since < cutoff; });
    }
  }
}

}  // namespace flocker::transport

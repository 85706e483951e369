#include "session.h"

#include <spdlog/spdlog.h>

#include <boost/beast/core/string.hpp>

#include "access_log.h"
#include "request_metrics.h"
#include "lingering_close.h"

namespace flocker::transport {
namespace {

// Refusals of requests that parsed but must not be passed on. Beast already refuses
// Content-Length together with Transfer-Encoding, and conflicting Content-Lengths.
std::optional<std::string> refusal(const RequestParser& parser) {
  const auto& req = parser.get();
  if (req.target().empty() || (req.target()[0] != '/' && req.target() != "*")) {
    return "malformed request target";
  }
  // A Transfer-Encoding other than exactly "chunked" is ignored by the parser (it would
  // read the body as absent) but not by every server: a smuggling vector, refused.
  auto te = req.find(http::field::transfer_encoding);
  if (te != req.end() && !beast::iequals(te->value(), "chunked")) {
    return "unsupported Transfer-Encoding '" + std::string(te->value()) + "'";
  }
  if (req.count(http::field::transfer_encoding) > 1) return "repeated Transfer-Encoding";
  if (req.method() == http::verb::unknown) return "unknown method";
  return std::nullopt;
}

bool client_went_away(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor || ec == http::error::partial_message;
}

// Answers a request the transport itself refuses, then the connection closes.
Task<void> refuse(Socket& client, const Handler& handler, http::status status,
                  std::string_view message, const Peer& peer) {
  auto res = handler.render_error(status, message);
  res.keep_alive(false);
  res.prepare_payload();
  error_code ec;
  co_await http::async_write(client, res, ec_token(ec));
  spdlog::warn("refused a request from {}: {} {}", peer.address, res.result_int(), message);
  count_refused(res.result_int());
}

// Closes a connection whose client takes longer than the timeout to send a request header.
// One timer per connection, re-armed only when it fires: no timer syscalls per request.
class IdleWatch : public std::enable_shared_from_this<IdleWatch> {
 public:
  static std::shared_ptr<IdleWatch> start(Socket& client, std::chrono::milliseconds timeout) {
    auto w = std::shared_ptr<IdleWatch>(new IdleWatch(client, timeout));
    w->arm(timeout);
    return w;
  }
  void begin_wait() {
    waiting_ = true;
    since_ = std::chrono::steady_clock::now();
  }
  void end_wait() { waiting_ = false; }
  void stop() {
    client_ = nullptr;
    timer_.cancel();
  }

 private:
  IdleWatch(Socket& client, std::chrono::milliseconds timeout)
      : client_(&client), timer_(client.get_executor()), timeout_(timeout) {}
  void arm(std::chrono::steady_clock::duration after) {
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this()](error_code e) { self->fired(e); });
  }
  void fired(error_code e) {
    if (e || !client_) return;
    const auto waited = std::chrono::steady_clock::now() - since_;
    if (waiting_ && waited >= timeout_) {
      spdlog::debug("closing a client connection idle for {} s",
                    std::chrono::duration_cast<std::chrono::seconds>(waited).count());
      error_code ignored;
      client_->cancel(ignored);
      return;
    }
    arm(waiting_ ? timeout_ - waited : std::chrono::steady_clock::duration(timeout_));
  }
  Socket* client_;
  asio::steady_timer timer_;
  const std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  bool waiting_ = false;
};

}  // namespace

Task<void> run_session(Worker& worker, Handler& handler, Socket client, Peer peer,
                       const SessionOptions& options) {
  auto entry = worker.add_session(&client);
  beast::flat_buffer buffer;
  std::shared_ptr<IdleWatch> idle;
  if (options.idle_timeout.count() > 0) idle = IdleWatch::start(client, options.idle_timeout);
  for (;;) {
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(kUnlimitedBody);
    entry->idle = true;
    if (worker.draining()) break;
    error_code ec;
    if (idle) idle->begin_wait();
    co_await http::async_read_header(client, buffer, parser, ec_token(ec));
    if (idle) idle->end_wait();
    entry->idle = false;
    if (ec) {
      if (client_went_away(ec)) break;
      if (ec == http::error::header_limit) {
        co_await refuse(client, handler, http::status::request_header_fields_too_large,
                        "request header is larger than the limit", peer);
      } else {
        co_await refuse(client, handler, http::status::bad_request,
                        "malformed HTTP request: " + ec.message(), peer);
      }
      break;
    }
    if (auto why = refusal(parser)) {
      co_await refuse(client, handler, http::status::bad_request, *why, peer);
      break;
    }

    Exchange exchange(worker, handler, client, buffer, parser, peer, *entry);
    std::string failure;
    try {
      co_await handler.handle(exchange);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      spdlog::error("request {} failed: {}", exchange.request_id(), failure);
      exchange.close_after();
      if (!exchange.response_started()) {
        co_await exchange.respond_error(http::status::internal_server_error, failure);
      }
    }
    log_access(exchange);
    count_request(exchange);
    if (!exchange.keep_alive()) break;
  }
  if (idle) idle->stop();
  worker.remove_session(entry);
  if (worker.draining()) {  // shutting down: nothing may outlive the grace period
    error_code ignored;
    client.shutdown(Socket::shutdown_both, ignored);
    client.close(ignored);
  } else {
    lingering_close(std::move(client));  // a refusal's answer must not be lost to a RST
  }
}

}  // namespace flocker::transport

#include "exchange.h"

#include <boost/asio/write.hpp>

#include "h2c_refusal.h"
#include "header_bytes.h"
#include "request_metrics.h"
#include <boost/beast/core/string.hpp>

namespace flocker::transport {
namespace {

// Requests without Content-Length or chunked framing have no body (RFC 9112, 6.3).
BodyFraming request_framing(const RequestParser& parser) {
  if (parser.chunked()) return BodyFraming::chunked();
  if (auto length = parser.content_length()) return BodyFraming::length(*length);
  return BodyFraming::none();
}

}  // namespace

Exchange::Exchange(Worker& worker, const Handler& handler, Socket& client,
                   beast::flat_buffer& buffer, RequestParser& parser, const Peer& peer,
                   SessionEntry& entry)
    : worker_(worker),
      handler_(handler),
      client_(client),
      buffer_(buffer),
      parser_(parser),
      request_body_(request_framing(parser)),
      peer_(peer),
      entry_(entry),
      request_id_(worker.next_request_id()) {}

bool Exchange::keep_alive() const {
  return !close_after_ && request_body_.done() && parser_.get().keep_alive() &&
         !worker_.draining();
}

Task<void> Exchange::send_continue() {
  auto expect = parser_.get().find(http::field::expect);
  if (expect != parser_.get().end() && beast::iequals(expect->value(), "100-continue") &&
      !request_body_.done() && buffer_.size() == 0) {
    // The client waits for a go-ahead before it sends the body.
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    error_code ec;
    co_await asio::async_write(client_, asio::buffer(kContinue), ec_token(ec));
    parser_.get().erase(http::field::expect);  // (given: whoever relays the body next sends none)
  }
}

Task<std::string> Exchange::peek_body(std::size_t limit, std::chrono::milliseconds patience) {
  std::string payload;
  co_await send_continue();
  BodyFraming framing = request_body_;  // a copy: the body itself stays unread
  std::size_t scanned = 0;              // wire bytes of the buffer already looked at
  auto append = [&](const char* data, std::size_t n) {
    payload.append(data, std::min(n, limit - std::min(limit, payload.size())));
  };
  asio::steady_timer quiet(client_.get_executor());
  while (!framing.done() && !framing.error() && payload.size() < limit) {
    if (scanned == buffer_.size()) {
      // Wait for more, but not for ever: a client that sends part of a body and waits would
      // otherwise hold the request here rather than in the relay, which has its own timeouts.
      quiet.expires_after(patience);
      quiet.async_wait([this](const error_code& ec) {
        if (!ec) {
          error_code ignored;
          client_.cancel(ignored);
        }
      });
      error_code ec;
      std::size_t n = co_await client_.async_read_some(buffer_.prepare(16 * 1024), ec_token(ec));
      quiet.cancel();
      if (ec) break;
      buffer_.commit(n);
    }
    const auto* data = static_cast<const char*>(buffer_.data().data());
    scanned += framing.consume(data + scanned, buffer_.size() - scanned, append);
  }
  co_return payload;
}

Task<std::optional<std::string>> Exchange::read_body(std::size_t limit) {
  std::string body;
  bool too_large = false;
  auto append = [&](const char* data, std::size_t n) {
    if (body.size() + n > limit) too_large = true;
    if (!too_large) body.append(data, n);
  };
  co_await send_continue();
  while (!request_body_.done() && !too_large) {
    if (buffer_.size() == 0) {
      error_code ec;
      std::size_t n = co_await client_.async_read_some(buffer_.prepare(16 * 1024), ec_token(ec));
      if (ec) {
        close_after();
        co_return std::nullopt;
      }
      buffer_.commit(n);
    }
    buffer_.consume(request_body_.consume(static_cast<const char*>(buffer_.data().data()),
                                          buffer_.size(), append));
    if (request_body_.error()) {
      close_after();
      co_await respond_error(http::status::bad_request, "malformed chunked request body");
      co_return std::nullopt;
    }
  }
  if (too_large) {
    close_after();
    co_await respond_error(http::status::payload_too_large,
                           "request body is larger than " + std::to_string(limit) + " bytes");
    co_return std::nullopt;
  }
  record_.bytes_in += body.size();
  co_return body;
}

void Exchange::replay_body(std::string body) {
  const std::size_t rest = buffer_.size();
  std::string pipelined(static_cast<const char*>(buffer_.data().data()), rest);
  buffer_.consume(rest);
  auto room = buffer_.prepare(body.size() + rest);
  char* out = static_cast<char*>(room.data());
  std::copy(body.begin(), body.end(), out);
  std::copy(pipelined.begin(), pipelined.end(), out + body.size());
  buffer_.commit(body.size() + rest);
  auto& req = parser_.get();
  req.erase(http::field::transfer_encoding);
  req.erase(http::field::expect);  // the body is here already
  req.set(http::field::content_length, std::to_string(body.size()));
  request_body_ = BodyFraming::length(body.size());
  record_.bytes_in -= std::min<uint64_t>(record_.bytes_in, body.size());  // counted again when sent
}

Task<void> Exchange::respond(http::response<http::string_body> response) {
  mark_response_started();
  record_.status = response.result_int();
  record_.bytes_out += response.body().size();
  response.version(parser_.get().version());
  response.keep_alive(keep_alive());
  response.prepare_payload();
  // A HEAD response carries the headers of the GET, without the body.
  std::string_view body = response.body();
  if (parser_.get().method() == http::verb::head) body = {};
  error_code ec;
  co_await write_message(client_, response.base(), body, ec);
  if (ec) close_after();
}

Task<void> Exchange::respond_error(http::status status, std::string_view message) {
  if (!refuse_as_grpc_) {
    co_await respond(handler_.render_error(status, message));
    co_return;
  }
  close_after();
  mark_response_started();
  record_.status = 101;
  record_.hijacked = true;
  GaugeHold hijacked(hijacked_sessions());
  auto bytes = co_await refuse_grpc_calls(client_, buffer_, grpc_status_for(static_cast<unsigned>(status)), message);
  record_.bytes_in += bytes.in;
  record_.bytes_out += bytes.out;
}

}  // namespace flocker::transport

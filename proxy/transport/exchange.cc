#include "exchange.h"

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

Task<std::optional<std::string>> Exchange::read_body(std::size_t limit) {
  std::string body;
  bool too_large = false;
  auto append = [&](const char* data, std::size_t n) {
    if (body.size() + n > limit) too_large = true;
    if (!too_large) body.append(data, n);
  };
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

Task<void> Exchange::respond(http::response<http::string_body> response) {
  response_started_ = true;
  record_.status = response.result_int();
  record_.bytes_out += response.body().size();
  response.version(parser_.get().version());
  response.keep_alive(keep_alive());
  response.prepare_payload();
  if (parser_.get().method() == http::verb::head) {
    // A HEAD response carries the headers of the GET, without the body.
    http::response_serializer<http::string_body> sr(response);
    error_code ec;
    co_await http::async_write_header(client_, sr, ec_token(ec));
    if (ec) close_after();
    co_return;
  }
  error_code ec;
  co_await http::async_write(client_, response, ec_token(ec));
  if (ec) close_after();
}

Task<void> Exchange::respond_error(http::status status, std::string_view message) {
  co_await respond(handler_.render_error(status, message));
}

}  // namespace flocker::transport

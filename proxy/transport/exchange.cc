#include "exchange.h"

namespace flocker::transport {

Exchange::Exchange(Worker& worker, const Handler& handler, Socket& client,
                   beast::flat_buffer& buffer, RequestParser& parser, const Peer& peer,
                   SessionEntry& entry)
    : worker_(worker),
      handler_(handler),
      client_(client),
      buffer_(buffer),
      parser_(parser),
      peer_(peer),
      entry_(entry),
      request_id_(worker.next_request_id()) {}

bool Exchange::keep_alive() const {
  return !close_after_ && parser_.is_done() && parser_.get().keep_alive() && !worker_.draining();
}

Task<std::optional<std::string>> Exchange::read_body(std::size_t limit) {
  std::string body;
  if (auto length = parser_.content_length(); length && *length > limit) {
    close_after();
    co_await respond_error(http::status::payload_too_large, "request body is too large");
    co_return std::nullopt;
  }
  char chunk[16 * 1024];
  while (!parser_.is_done()) {
    auto& b = parser_.get().body();
    b.data = chunk;
    b.size = sizeof(chunk);
    error_code ec;
    co_await http::async_read_some(client_, buffer_, parser_, ec_token(ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      close_after();
      co_return std::nullopt;
    }
    const std::size_t n = sizeof(chunk) - b.size;
    if (body.size() + n > limit) {
      close_after();
      co_await respond_error(http::status::payload_too_large, "request body is too large");
      co_return std::nullopt;
    }
    body.append(chunk, n);
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

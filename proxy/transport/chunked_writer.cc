#include "chunked_writer.h"

#include <fmt/format.h>

#include <array>
#include <boost/asio/write.hpp>

namespace flocker::transport {

Task<bool> ChunkedWriter::start(http::status status, std::string_view content_type) {
  http::response<http::empty_body> res{status, ex_.request().version()};
  res.set(http::field::content_type, content_type);
  res.chunked(true);
  res.keep_alive(ex_.keep_alive());
  if (!res.keep_alive()) ex_.close_after();
  ex_.mark_response_started();
  ex_.record().status = res.result_int();
  http::response_serializer<http::empty_body> sr(res);
  error_code ec;
  co_await http::async_write_header(ex_.client(), sr, ec_token(ec));
  if (ec) ex_.close_after();
  co_return !ec;
}

Task<bool> ChunkedWriter::write(std::string_view data) {
  if (data.empty()) co_return true;
  const std::string size = fmt::format("{:x}\r\n", data.size());
  std::array<asio::const_buffer, 3> parts{asio::buffer(size), asio::buffer(data),
                                          asio::buffer("\r\n", 2)};
  error_code ec;
  co_await asio::async_write(ex_.client(), parts, ec_token(ec));
  if (ec) {
    ex_.close_after();
    ex_.record().client_gone = true;
  } else {
    ex_.record().bytes_out += data.size();
  }
  co_return !ec;
}

Task<bool> ChunkedWriter::finish() {
  error_code ec;
  co_await asio::async_write(ex_.client(), asio::buffer("0\r\n\r\n", 5), ec_token(ec));
  if (ec) ex_.close_after();
  co_return !ec;
}

}  // namespace flocker::transport

// Test helper: a blocking client speaking raw bytes or HTTP to a tcp:// or unix:// address,
// for sending exactly what a test needs (malformed requests, half-closes).
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>
#include <string_view>

namespace flocker::test {

namespace http = boost::beast::http;

class RawClient {
 public:
  // Connects (throws on failure). Reads time out after `timeout` (then read_* throw).
  // `from`: the local address to connect from (another client, e.g. "127.0.0.2"), TCP only.
  explicit RawClient(const std::string& address,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10), const std::string& from = "");

  void send(std::string_view bytes);
  void shutdown_write();
  // One HTTP response; for a response to HEAD pass head = true.
  http::response<http::string_body> read_response(bool head = false);
  // The header of a response; the body stays to be read raw (hijack, streams).
  http::response<http::empty_body> read_response_header();
  // Raw bytes: whatever arrives next (after any header read), up to `max`.
  std::string read_some(std::size_t max = 65536);
  // Raw bytes until the peer closes (or the timeout).
  std::string read_until_eof();
  // True when the peer has closed the connection (reads EOF or a reset) within `wait`.
  bool closed_by_peer(std::chrono::milliseconds wait = std::chrono::seconds(5));
  void set_receive_buffer(int bytes);

  boost::asio::generic::stream_protocol::socket& socket() { return socket_; }

 private:
  boost::asio::io_context ctx_;
  boost::asio::generic::stream_protocol::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// A whole HTTP/1.1 request as text.
std::string request_text(std::string_view method, std::string_view target,
                         std::string_view extra_headers = "", std::string_view body = "");

}  // namespace flocker::test

#include "raw_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>

namespace flocker::test {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

RawClient::RawClient(const std::string& address, std::chrono::milliseconds timeout, const std::string& from)
    : socket_(ctx_) {
  if (address.rfind("unix://", 0) == 0) {
    asio::local::stream_protocol::endpoint ep(address.substr(7));
    socket_.connect(ep);
  } else {
    std::string hostport = address.substr(address.find("://") + 3);
    auto colon = hostport.rfind(':');
    asio::ip::tcp::endpoint ep(asio::ip::make_address(hostport.substr(0, colon)),
                               static_cast<unsigned short>(std::stoi(hostport.substr(colon + 1))));
    if (!from.empty()) {
      socket_.open(asio::generic::stream_protocol(ep.protocol().family(), ep.protocol().protocol()));
      socket_.bind(asio::ip::tcp::endpoint(asio::ip::make_address(from), 0));
    }
    socket_.connect(ep);
  }
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void RawClient::send(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes)); }

void RawClient::shutdown_write() { socket_.shutdown(asio::socket_base::shutdown_send); }

void RawClient::set_receive_buffer(int bytes) {
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

http::response<http::string_body> RawClient::read_response(bool head) {
  http::response_parser<http::string_body> p;
  p.body_limit(std::numeric_limits<uint64_t>::max());
  p.skip(head);
  http::read(socket_, buffer_, p);
  return p.release();
}

http::response<http::empty_body> RawClient::read_response_header() {
  http::response_parser<http::empty_body> p;
  p.body_limit(std::numeric_limits<uint64_t>::max());
  http::read_header(socket_, buffer_, p);
  return p.release();
}

std::string RawClient::read_some(std::size_t max) {
  std::string out;
  if (buffer_.size()) {
    std::size_t n = std::min(max, buffer_.size());
    out.assign(static_cast<const char*>(buffer_.data().data()), n);
    buffer_.consume(n);
    return out;
  }
  out.resize(max);
  std::size_t n = socket_.read_some(asio::buffer(out));
  out.resize(n);
  return out;
}

std::string RawClient::read_until_eof() {
  std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  char buf[65536];
  for (;;) {
    error_code ec;
    std::size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) break;
    if (ec) throw std::runtime_error("read_until_eof: " + ec.message());
    out.append(buf, n);
  }
  return out;
}

bool RawClient::closed_by_peer(std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  buffer_.consume(buffer_.size());
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    error_code ec;
    socket_.read_some(asio::buffer(buf), ec);  // data is skipped; EOF or an error is the close
    if (ec) return true;
  }
}

std::string request_text(std::string_view method, std::string_view target,
                         std::string_view extra_headers, std::string_view body) {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: docker\r\n";
  out += extra_headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace flocker::test

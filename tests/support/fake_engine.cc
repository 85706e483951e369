#include "fake_engine.h"


#include <array>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <unistd.h>

namespace flocker::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::generic::stream_protocol::socket;
using error_code = boost::system::error_code;

uint64_t checksum_update(uint64_t sum, const char* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) sum = (sum ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
  return sum;
}

namespace {

uint64_t query_number(std::string_view target, std::string_view key) {
  auto pos = target.find(std::string(key) + "=");
  if (pos == std::string_view::npos) return 0;
  auto start = target.data() + pos + key.size() + 1;
  uint64_t v = 0;
  std::from_chars(start, target.data() + target.size(), v);
  return v;
}

void write_all(Socket& s, const void* data, std::size_t n) {
  error_code ec;
  asio::write(s, asio::buffer(data, n), ec);
}

// Echoes raw bytes until EOF; then "[eof]" and close.
void echo_until_eof(Socket& s, beast::flat_buffer& pending) {
  error_code ec;
  if (pending.size()) {
    asio::write(s, pending.data(), ec);
    pending.consume(pending.size());
  }
  char buf[16384];
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    asio::write(s, asio::buffer(buf, n), ec);
    if (ec) return;
  }
  write_all(s, "[eof]", 5);
  s.shutdown(Socket::shutdown_send, ec);
}

}  // namespace

struct FakeEngine::Impl {
  explicit Impl(FakeEngine& owner) : self(owner), acceptor(ctx) {}
  FakeEngine& self;
  asio::io_context ctx;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor;
  std::thread accept_thread;
  std::mutex mu;
  std::vector<std::shared_ptr<Socket>> sockets;
  std::vector<std::thread> threads;
  std::string unix_path;
  std::atomic<bool> stopping{false};

  void accept_loop() {
    for (;;) {
      auto socket = std::make_shared<Socket>(ctx);
      error_code ec;
      acceptor.accept(*socket, ec);
      if (ec || stopping) return;
      ++self.connections_;
      std::lock_guard lock(mu);
      sockets.push_back(socket);
      threads.emplace_back([this, socket] {
        serve(*socket);
        error_code ignored;
        socket->shutdown(Socket::shutdown_both, ignored);  // the EOF some responses end with
      });
    }
  }

  void serve(Socket& s) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::buffer_body> p;
      p.body_limit(std::numeric_limits<uint64_t>::max());
      error_code ec;
      http::read_header(s, buffer, p, ec);
      if (ec) return;
      ++self.requests_;
      if (!respond(s, buffer, p)) return;
    }
  }

  // Reads the rest of the request body, feeding each piece to `sink`.
  template <class Sink>
  bool read_body(Socket& s, beast::flat_buffer& buffer, http::request_parser<http::buffer_body>& p,
                 Sink&& sink) {
    char buf[65536];
    while (!p.is_done()) {
      p.get().body().data = buf;
      p.get().body().size = sizeof(buf);
      error_code ec;
      http::read_some(s, buffer, p, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return false;
      sink(buf, sizeof(buf) - p.get().body().size);
    }
    return true;
  }

  static http::response<http::string_body> simple(http::status status, std::string body,
                                                  bool keep_alive) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
  }

  // Streams n pattern bytes; framing: "chunked", "length" or "eof".
  void stream(Socket& s, uint64_t n, std::string_view framing) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n";
    if (framing == "chunked") head += "Transfer-Encoding: chunked\r\n\r\n";
    if (framing == "length") head += "Content-Length: " + std::to_string(n) + "\r\n\r\n";
    if (framing == "eof") head += "Connection: close\r\n\r\n";
    write_all(s, head.data(), head.size());
    std::vector<char> chunk(65536);
    error_code ec;
    for (uint64_t off = 0; off < n && !ec;) {
      std::size_t k = static_cast<std::size_t>(std::min<uint64_t>(chunk.size(), n - off));
      for (std::size_t i = 0; i < k; ++i) chunk[i] = pattern_byte(off + i);
      if (framing == "chunked") {
        char size_line[32];
        int len = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", k);
        std::array<asio::const_buffer, 3> parts{asio::buffer(size_line, len), asio::buffer(chunk.data(), k),
                                                asio::buffer("\r\n", 2)};
        asio::write(s, parts, ec);
      } else {
        asio::write(s, asio::buffer(chunk.data(), k), ec);
      }
      if (!ec) self.stream_bytes_ += k;
      off += k;
    }
    if (framing == "chunked" && !ec) write_all(s, "0\r\n\r\n", 5);
  }

  // Returns whether the connection may serve another request.
  bool respond(Socket& s, beast::flat_buffer& buffer, http::request_parser<http::buffer_body>& p) {
    auto& req = p.get();
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    const bool keep = req.keep_alive();
    error_code ec;
    auto send = [&](http::response<http::string_body> res) {
      http::write(s, res, ec);
      return !ec && res.keep_alive();
    };

    if (path == "/_ping") {
      auto res = simple(http::status::ok, req.method() == http::verb::head ? "" : "OK", keep);
      res.set("Api-Version", "1.41");
      res.set("Ostype", "linux");
      res.set("Docker-Experimental", "false");
      res.set("Builder-Version", "1");
      res.set(http::field::cache_control, "no-cache, no-store, must-revalidate");
      res.set(http::field::pragma, "no-cache");
      if (req.method() == http::verb::head) {
        res.content_length(0);
        http::response_serializer<http::string_body> sr(res);
        http::write_header(s, sr, ec);
        return !ec;
      }
      return send(std::move(res));
    }
    if (path == "/headers") {
      std::string lines;
      for (const auto& f : req) lines += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
      return send(simple(http::status::ok, lines, keep));
    }
    if (path == "/sink") {
      uint64_t bytes = 0, sum = 14695981039346656037ull;
      if (!read_body(s, buffer, p, [&](const char* d, std::size_t n) {
            bytes += n;
            sum = checksum_update(sum, d, n);
          })) {
        return false;
      }
      return send(simple(http::status::ok, "bytes=" + std::to_string(bytes) + " sum=" + std::to_string(sum), keep));
    }
    if (path == "/echo") {
      std::string body;
      const bool chunked = req.chunked();
      if (!read_body(s, buffer, p, [&](const char* d, std::size_t n) { body.append(d, n); })) return false;
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = body;
      res.keep_alive(keep);
      if (chunked) {
        res.chunked(true);
      } else {
        res.prepare_payload();
      }
      return send(std::move(res));
    }
    if (path == "/stream" || path == "/stream-length" || path == "/until-eof") {
      stream(s, query_number(target, "bytes"),
             path == "/stream" ? "chunked" : path == "/stream-length" ? "length" : "eof");
      return path != "/until-eof";
    }
    if (path == "/hijack" || path == "/legacy-hijack" || path == "/hijack-server-first") {
      std::string head = path == "/legacy-hijack"
                             ? "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
                             : "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                               "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
      write_all(s, head.data(), head.size());
      if (path != "/hijack-server-first") {
        echo_until_eof(s, buffer);
        return false;
      }
      write_all(s, "server done", 11);
      s.shutdown(Socket::shutdown_send, ec);
      std::string got(static_cast<const char*>(buffer.data().data()), buffer.size());
      char buf[4096];
      for (;;) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        if (ec) break;
        got.append(buf, n);
      }
      std::lock_guard lock(self.mu_);
      self.received_after_half_close_ = got;
      return false;
    }
    if (path == "/idle-stream") {
      const std::string head =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
          "6\r\nfirst\n\r\n";
      write_all(s, head.data(), head.size());
      char byte;
      s.read_some(asio::buffer(&byte, 1), ec);  // until the peer goes away
      ++self.idle_streams_closed_;
      return false;
    }
    if (path == "/hang") {
      char byte;
      s.read_some(asio::buffer(&byte, 1), ec);  // until the peer goes away
      return false;
    }
    if (path == "/close") return false;
    auto res = simple(http::status::not_found, "{\"message\":\"page not found\"}", keep);
    res.set(http::field::content_type, "application/json");
    return send(std::move(res));
  }
};

FakeEngine::FakeEngine(const std::string& unix_path) : impl_(std::make_unique<Impl>(*this)) {
  if (unix_path.empty()) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(asio::generic::stream_protocol(AF_INET, IPPROTO_TCP));
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    asio::ip::tcp::endpoint bound;
    auto local = impl_->acceptor.local_endpoint();
    std::memcpy(bound.data(), local.data(), local.size());
    port_ = bound.port();
    address_ = "tcp://127.0.0.1:" + std::to_string(port_);
  } else {
    ::unlink(unix_path.c_str());
    asio::local::stream_protocol::endpoint ep(unix_path);
    impl_->acceptor.open(asio::generic::stream_protocol(AF_UNIX, 0));
    impl_->acceptor.bind(ep);
    impl_->unix_path = unix_path;
    address_ = "unix://" + unix_path;
  }
  impl_->acceptor.listen();
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

FakeEngine::~FakeEngine() { stop(); }

void FakeEngine::stop() {
  if (impl_->stopping.exchange(true)) return;
  error_code ec;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptor.close(ec);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& s : impl_->sockets) {
      ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    threads = std::move(impl_->threads);
  }
  for (auto& t : threads) t.join();
  if (!impl_->unix_path.empty()) ::unlink(impl_->unix_path.c_str());
}

std::string FakeEngine::received_after_half_close() const {
  std::lock_guard lock(mu_);
  return received_after_half_close_;
}

}  // namespace flocker::test

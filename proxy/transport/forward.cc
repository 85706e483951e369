#include "forward.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <optional>

#include "body_relay.h"
#include "fanout.h"
#include "companion.h"
#include "tunnel.h"

namespace flocker::transport {
namespace {

constexpr std::size_t kMaxResponseHeader = 64 * 1024;

using ResponseParser = http::response_parser<http::buffer_body>;

}  // namespace

// Hop-by-hop headers concern the client's connection to us, not ours to the engine.
void prepare_upstream_request(Exchange& ex) {
  auto& req = ex.request();
  const bool upgrade = ex.parser().upgrade();
  req.erase(http::field::keep_alive);
  req.erase(http::field::proxy_connection);
  if (upgrade) {
    req.set(http::field::connection, "Upgrade");
  } else {
    req.erase(http::field::connection);
  }
  if (req.find("X-Request-Id") == req.end()) req.set("X-Request-Id", ex.request_id());
}

namespace {

// Where the response body ends: nothing for HEAD, 1xx, 204 and 304; else its framing.
BodyFraming response_framing(const ResponseParser& rp, http::verb method) {
  const unsigned status = rp.get().result_int();
  if (method == http::verb::head || status < 200 || status == 204 || status == 304) {
    return BodyFraming::none();
  }
  if (rp.chunked()) return BodyFraming::chunked();
  if (auto length = rp.content_length()) return BodyFraming::length(*length);
  return BodyFraming::until_eof();
}

// Docker's hijack without an Upgrade header: a 200 whose raw stream has no framing at all.
bool is_legacy_hijack(const ResponseParser& rp) {
  const auto& res = rp.get();
  if (res.result() != http::status::ok || rp.chunked() || rp.content_length()) return false;
  auto type = res[http::field::content_type];
  return type == "application/vnd.docker.raw-stream" ||
         type == "application/vnd.docker.multiplexed-stream";
}

// The companion of a forward: sends the request body up, then watches the client socket so
// that a client going away (docker logs -f, Ctrl-C) ends the upstream stream at once instead
// of at the next byte the engine sends.
struct Companionship {
  enum class Phase { kStarting, kUploading, kWatching, kDone } phase = Phase::kStarting;
  bool stop = false;  // set by settle(): the response is over, or the connection is hijacked
  RelayEnd upload = RelayEnd::kDone;
  bool client_gone = false;
};

bool peer_has_closed(Socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

Task<void> upload_then_watch(Exchange& ex, Socket& upstream, Companionship& c) {
  error_code ec;
  if (!c.stop && !ex.request_body().done()) {
    c.phase = Companionship::Phase::kUploading;
    c.upload = co_await relay_body(ex.client(), ex.client_buffer(), ex.request_body(), upstream,
                                   ex.worker().buffers());
    ex.record().bytes_in += ex.request_body().payload_bytes();
    if (c.upload == RelayEnd::kInputFailed && !c.stop) {
      // The client failed mid-body: the engine must not act on a truncated request.
      c.client_gone = true;
      upstream.close(ec);
    }
  }
  // An upgrade request is not watched: its client may legitimately half-close before the
  // 101 arrives (stdin already at EOF), and the tunnel carries that half-close on.
  if (!c.stop && c.upload == RelayEnd::kDone && !ex.parser().upgrade()) {
    c.phase = Companionship::Phase::kWatching;
    co_await ex.client().async_wait(Socket::wait_read, ec_token(ec));
    if (!ec && !c.stop && peer_has_closed(ex.client())) {
      c.client_gone = true;
      upstream.close(ec);  // ends the relay from the engine
    }
    // Readable with data: the client pipelined its next request; it waits in the socket.
  }
  c.phase = Companionship::Phase::kDone;
}

// Ends the companion. An upload not finished means the engine answered without reading the
// whole body: neither connection can be reused, and both are cancelled (the upload may be
// blocked on either side). A watch is simply cancelled.
Task<void> settle(Exchange& ex, Socket& upstream, Companion& companion, Companionship& c) {
  if (companion.running()) {
    c.stop = true;
    const bool body_unsent =
        c.phase == Companionship::Phase::kUploading ||
        (c.phase == Companionship::Phase::kStarting && !ex.request_body().done());
    error_code ignored;
    if (body_unsent) {
      ex.close_after();
      c.upload = RelayEnd::kOutputFailed;
      upstream.cancel(ignored);
    }
    ex.client().cancel(ignored);
  }
  co_await companion.join();
  if (c.upload != RelayEnd::kDone) ex.close_after();
  if (c.client_gone) {
    ex.record().client_gone = true;
    ex.close_after();
  }
}

enum class Outcome { kReusable, kClose, kRetry };

// Reads the response header; interim 1xx responses (100 Continue) are passed on as they come.
Task<void> read_final_header(Exchange& ex, UpstreamConnection& conn,
                             std::optional<ResponseParser>& rp, error_code& ec) {
  for (;;) {
    rp.emplace();
    rp->header_limit(kMaxResponseHeader);
    rp->body_limit(kUnlimitedBody);
    co_await http::async_read_header(conn.socket, conn.buffer, *rp, ec_token(ec));
    const unsigned status = ec ? 0 : rp->get().result_int();
    if (ec || status < 100 || status >= 200 || status == 101) co_return;
    http::response_serializer<http::buffer_body> interim(rp->get());
    co_await http::async_write_header(ex.client(), interim, ec_token(ec));
    if (ec) co_return;
  }
}

Task<Outcome> exchange_once(Exchange& ex, const Address& upstream, UpstreamConnection& conn) {
  auto& req = ex.request();
  error_code ec;
  {
    http::request_serializer<http::buffer_body> header(req);
    co_await http::async_write_header(conn.socket, header, ec_token(ec));
  }
  if (ec) {
    if (conn.reused) co_return Outcome::kRetry;  // nothing of the body was consumed yet
    co_await ex.respond_error(http::status::bad_gateway,
                              fmt::format("engine {} failed: {}", upstream.text, ec.message()));
    co_return Outcome::kClose;
  }
  spdlog::debug("{} request header sent to {} ({} connection)", ex.request_id(), upstream.text,
                conn.reused ? "pooled" : "new");

  Companionship c;
  Companion companion(co_await asio::this_coro::executor);
  companion.start(upload_then_watch(ex, conn.socket, c));

  std::optional<ResponseParser> rp;
  co_await read_final_header(ex, conn, rp, ec);
  if (ec) {
    const bool body_started = ex.request_body().payload_bytes() > 0 || !ex.request_body().done();
    co_await settle(ex, conn.socket, companion, c);
    if (c.client_gone) co_return Outcome::kClose;
    if (conn.reused && !body_started &&
        (ec == http::error::end_of_stream || ec == asio::error::connection_reset)) {
      co_return Outcome::kRetry;  // a pooled connection the engine had closed meanwhile
    }
    ex.close_after();
    co_await ex.respond_error(
        http::status::bad_gateway,
        fmt::format("engine {} did not answer: {}", upstream.text, ec.message()));
    co_return Outcome::kClose;
  }

  auto& res = rp->get();
  ex.record().status = res.result_int();
  ex.mark_response_started();
  spdlog::debug("{} response header {} from {}", ex.request_id(), res.result_int(), upstream.text);

  if (res.result() == http::status::switching_protocols || is_legacy_hijack(*rp)) {
    co_await settle(ex, conn.socket, companion, c);
    ex.close_after();
    if (c.client_gone) co_return Outcome::kClose;
    {
      http::response_serializer<http::buffer_body> header(res);
      co_await http::async_write_header(ex.client(), header, ec_token(ec));
    }
    if (ec) co_return Outcome::kClose;
    ex.record().hijacked = true;
    auto bytes = co_await tunnel(ex.client(), ex.client_buffer(), conn.socket, conn.buffer,
                                 ex.worker().buffers());
    ex.record().bytes_in += bytes.a_to_b;
    ex.record().bytes_out += bytes.b_to_a;
    co_return Outcome::kClose;
  }

  BodyFraming body = response_framing(*rp, req.method());
  const bool upstream_keep_alive = rp->keep_alive();
  // A body that ends at EOF can only be passed on the same way: the client connection closes.
  res.keep_alive(req.keep_alive() && !body.is_until_eof() && !ex.worker().draining());
  if (!res.keep_alive()) ex.close_after();

  {
    http::response_serializer<http::buffer_body> header(res);
    co_await http::async_write_header(ex.client(), header, ec_token(ec));
  }
  RelayEnd end = RelayEnd::kOutputFailed;
  if (!ec) {
    end = co_await relay_body(conn.socket, conn.buffer, body, ex.client(), ex.worker().buffers());
  }
  ex.record().bytes_out += body.payload_bytes();
  co_await settle(ex, conn.socket, companion, c);
  if (end == RelayEnd::kOutputFailed) ex.record().client_gone = true;
  if (end != RelayEnd::kDone) ex.close_after();
  const bool reusable = end == RelayEnd::kDone && c.upload == RelayEnd::kDone && !c.client_gone &&
                        upstream_keep_alive && !body.is_until_eof() && conn.buffer.size() == 0;
  co_return reusable ? Outcome::kReusable : Outcome::kClose;
}

}  // namespace

Task<void> forward(Exchange& ex, const Address& upstream) {
  prepare_upstream_request(ex);
  auto& record = ex.record();
  if (!record.upstream.empty()) record.upstream += ",";
  record.upstream += upstream.text;
  auto& pool = ex.worker().pool();
  for (int attempt = 0;; ++attempt) {
    error_code ec;
    ConnectionPtr conn = co_await pool.acquire(upstream, ec);
    if (!conn) {
      co_await ex.respond_error(
          http::status::bad_gateway,
          fmt::format("cannot reach engine {}: {}", upstream.text, ec.message()));
      co_return;
    }
    ex.set_upstream_socket(&conn->socket);
    Outcome outcome = co_await exchange_once(ex, upstream, *conn);
    ex.set_upstream_socket(nullptr);
    if (outcome == Outcome::kRetry && attempt == 0) continue;
    if (outcome == Outcome::kReusable) pool.release(upstream, std::move(conn));
    co_return;
  }
}

}  // namespace flocker::transport

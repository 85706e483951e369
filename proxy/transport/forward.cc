#include "forward.h"
#include "request_metrics.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/write.hpp>
#include <optional>

#include "body_relay.h"
#include "companion.h"
#include "deadline.h"
#include "fanout.h"
#include "header_bytes.h"
#include "tunnel.h"

namespace flocker::transport {

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

constexpr std::size_t kMaxResponseHeader = 64 * 1024;
// Room for a whole typical API answer (header and JSON body) in the first read from the
// engine; given back when the answer turns out to be a long stream.
constexpr std::size_t kResponseReadSize = 16 * 1024;

using ResponseParser = http::response_parser<http::buffer_body>;

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

// Writes a header and the body bytes `framing` takes from `pending`, in one write.
Task<void> write_head_and_pending(Socket& out, const std::string& head, beast::flat_buffer& pending,
                                  BodyFraming& framing, error_code& ec) {
  const char* data = static_cast<const char*>(pending.data().data());
  const std::size_t used = framing.done() ? 0 : framing.consume(data, pending.size());
  if (framing.error()) {
    ec = http::error::bad_chunk;
    co_return;
  }
  std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(data, used)};
  co_await asio::async_write(out, parts, ec_token(ec));
  pending.consume(used);
}

// The rest of the request body, up to the engine as it arrives.
struct Upload {
  RelayEnd end = RelayEnd::kDone;
  bool stop = false;
};

Task<void> upload(Exchange& ex, Socket& upstream, Upload& up) {
  up.end = co_await relay_body(ex.client(), ex.client_buffer(), ex.request_body(), upstream,
                               ex.worker().buffers());
  if (up.end == RelayEnd::kInputFailed && !up.stop) {
    // The client failed mid-body: the engine must not act on a truncated request.
    error_code ignored;
    upstream.close(ignored);
  }
}

// Ends an upload still running: the engine answered without reading the whole body, so
// neither connection can be reused; the upload may be blocked on either side.
Task<void> settle_upload(Exchange& ex, Socket& upstream, Companion& companion, Upload& up) {
  if (companion.running()) {
    up.stop = true;
    up.end = RelayEnd::kOutputFailed;
    error_code ignored;
    upstream.cancel(ignored);
    ex.client().cancel(ignored);
  }
  co_await companion.join();
  if (up.end != RelayEnd::kDone) ex.close_after();
}

bool peer_has_closed(Socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// While a response streams (logs -f, events), a client going away must end the engine's
// stream at once, not at the next byte the engine sends.
struct Watch {
  bool stop = false;
  bool client_gone = false;
};

Task<void> watch_client(Exchange& ex, Socket& upstream, Watch& w) {
  // The relay may be over before this coroutine first runs (a body that ended at once): its
  // cancel() then found nothing to cancel, and a wait now would last as long as the client.
  if (w.stop) co_return;
  error_code ec;
  co_await ex.client().async_wait(Socket::wait_read, ec_token(ec));
  if (!ec && !w.stop && peer_has_closed(ex.client())) {
    w.client_gone = true;
    upstream.close(ec);  // ends the relay from the engine
  }
  // Readable with data: the client pipelined its next request; it waits in the socket.
}

enum class Outcome { kReusable, kClose, kRetry };

// The upstream in messages: the caller's name for it, else its address.
std::string engine_name(const Address& upstream, const ForwardOptions& options) {
  return options.name.empty() ? upstream.text : options.name;
}

// Why no answer came: the pool closed the connection because the engine was found down, the
// answer deadline passed, or the connection failed.
std::string no_answer(const Address& upstream, const ForwardOptions& options, const UpstreamConnection& conn,
                      const error_code& ec) {
  const std::string name = engine_name(upstream, options);
  if (!conn.aborted.empty()) return fmt::format("engine {} is down: {}", name, conn.aborted);
  if (ec == asio::error::timed_out) {
    return fmt::format("engine {} did not answer within {} s", name, options.answer_timeout.count() / 1000.0);
  }
  return fmt::format("engine {} did not answer: {}", name, ec.message());
}

// Reads the response header; interim 1xx responses (100 Continue) are passed on as they come.
Task<void> read_final_header(Exchange& ex, UpstreamConnection& conn,
                             std::optional<ResponseParser>& rp, error_code& ec) {
  conn.buffer.reserve(kResponseReadSize);
  for (;;) {
    rp.emplace();
    rp->header_limit(kMaxResponseHeader);
    rp->body_limit(kUnlimitedBody);
    co_await http::async_read_header(conn.socket, conn.buffer, *rp, ec_token(ec));
    const unsigned status = ec ? 0 : rp->get().result_int();
    if (ec || status < 100 || status >= 200 || status == 101) co_return;
    std::string interim;
    append_header(interim, rp->get().base());
    co_await asio::async_write(ex.client(), asio::buffer(interim), ec_token(ec));
    if (ec) co_return;
  }
}

Task<Outcome> exchange_once(Exchange& ex, const Address& upstream, const ForwardOptions& options,
                            UpstreamConnection& conn) {
  auto& req = ex.request();
  error_code ec;
  // The request header, with whatever body bytes came with it, in one write.
  const bool had_body = !ex.request_body().done();
  {
    std::string head;
    append_header(head, req.base());
    co_await write_head_and_pending(conn.socket, head, ex.client_buffer(), ex.request_body(), ec);
  }
  if (ec == http::error::bad_chunk) {
    ex.close_after();
    co_await ex.respond_error(http::status::bad_request, "malformed chunked request body");
    co_return Outcome::kClose;
  }
  if (ec) {
    if (conn.reused && !had_body && conn.aborted.empty()) co_return Outcome::kRetry;  // nothing of it was consumed
    ex.close_after();
    co_await ex.respond_error(http::status::bad_gateway,
                              conn.aborted.empty()
                                  ? fmt::format("engine {} failed: {}", engine_name(upstream, options), ec.message())
                                  : no_answer(upstream, options, conn, ec));
    co_return Outcome::kClose;
  }
  spdlog::debug("{} request header sent to {} ({} connection)", ex.request_id(), upstream.text,
                conn.reused ? "pooled" : "new");

  // The rest of the body goes up while the response may already come down.
  Upload up;
  Companion uploading(co_await asio::this_coro::executor);
  if (!ex.request_body().done()) uploading.start(upload(ex, conn.socket, up));

  // The answer's deadline runs once the whole request is there (an upload still running
  // sets no deadline: the engine may answer only after it), and an engine slow to answer is
  // checked at once.
  auto deadline = arm(conn.socket, uploading.running() ? std::chrono::milliseconds(0) : options.answer_timeout);
  Alarm slow = ex.worker().slow_answer_alarm(upstream);
  std::optional<ResponseParser> rp;
  co_await read_final_header(ex, conn, rp, ec);
  disarm(deadline, ec);
  slow.cancel();
  if (ec) {
    co_await settle_upload(ex, conn.socket, uploading, up);
    if (conn.reused && !had_body && conn.aborted.empty() &&
        (ec == http::error::end_of_stream || ec == asio::error::connection_reset)) {
      co_return Outcome::kRetry;  // a pooled connection the engine had closed meanwhile
    }
    ex.close_after();
    if (up.end == RelayEnd::kInputFailed) {  // the client went away mid-body
      ex.record().client_gone = true;
      co_return Outcome::kClose;
    }
    const std::string why = no_answer(upstream, options, conn, ec);
    spdlog::warn("{} {}", ex.request_id(), why);
    co_await ex.respond_error(http::status::bad_gateway, why);
    co_return Outcome::kClose;
  }

  auto& res = rp->get();
  ex.record().status = res.result_int();
  ex.mark_response_started();
  spdlog::debug("{} response header {} from {}", ex.request_id(), res.result_int(), upstream.text);

  if (res.result() == http::status::switching_protocols || is_legacy_hijack(*rp)) {
    co_await settle_upload(ex, conn.socket, uploading, up);
    ex.close_after();
    std::string head;
    append_header(head, res.base());
    co_await asio::async_write(ex.client(), asio::buffer(head), ec_token(ec));
    if (ec) co_return Outcome::kClose;
    ex.record().hijacked = true;
    GaugeHold hijacked(hijacked_sessions());
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

  // The header and the body bytes already read, in one write; the rest as it comes.
  {
    std::string head;
    append_header(head, res.base());
    co_await write_head_and_pending(ex.client(), head, conn.buffer, body, ec);
  }
  RelayEnd end = RelayEnd::kDone;
  Watch watch;
  if (ec) {
    end = ec == http::error::bad_chunk ? RelayEnd::kInputFailed : RelayEnd::kOutputFailed;
  } else if (!body.done()) {
    // A stream (or a large body): watch the client meanwhile, unless it is still uploading.
    Companion watching(co_await asio::this_coro::executor);
    std::optional<GaugeHold> streaming;
    if (!body.is_length()) streaming.emplace(open_streams());
    if (!uploading.running()) watching.start(watch_client(ex, conn.socket, watch));
    // A body of a told length is an answer, not a stream (dockerd streams chunked or until
    // it closes): it too must come within the deadline; a stream is never cut for being slow.
    auto body_deadline = arm(conn.socket, body.is_length() ? options.answer_timeout : std::chrono::milliseconds(0));
    end = co_await relay_body(conn.socket, conn.buffer, body, ex.client(), ex.worker().buffers());
    error_code late;
    disarm(body_deadline, late);
    if (late) spdlog::warn("{} {}", ex.request_id(), no_answer(upstream, options, conn, late));
    if (watching.running()) {
      watch.stop = true;
      error_code ignored;
      ex.client().cancel(ignored);
    }
    co_await watching.join();
  }
  ex.record().bytes_out += body.payload_bytes();
  co_await settle_upload(ex, conn.socket, uploading, up);
  ex.record().bytes_in += ex.request_body().payload_bytes();
  if (end == RelayEnd::kOutputFailed || watch.client_gone) ex.record().client_gone = true;
  if (end != RelayEnd::kDone || watch.client_gone) ex.close_after();
  const bool reusable = end == RelayEnd::kDone && up.end == RelayEnd::kDone && !watch.client_gone &&
                        upstream_keep_alive && !body.is_until_eof() && conn.buffer.size() == 0;
  co_return reusable ? Outcome::kReusable : Outcome::kClose;
}

}  // namespace

Task<void> forward(Exchange& ex, const Address& upstream, const ForwardOptions& options) {
  prepare_upstream_request(ex);
  auto& record = ex.record();
  if (!record.upstream.empty()) record.upstream += ",";
  record.upstream += upstream.text;
  auto& pool = ex.worker().pool();
  // A request without a body can be sent again on a new connection if a pooled one turns
  // out dead; one with a body cannot, so only then is the pooled connection checked first.
  const bool can_retry = ex.request_body().done();
  for (int attempt = 0;; ++attempt) {
    error_code ec;
    ConnectionPtr conn = co_await pool.acquire(upstream, ec, /*check_alive=*/!can_retry);
    if (!conn) {
      co_await ex.respond_error(
          http::status::bad_gateway,
          fmt::format("cannot reach engine {}: {}", engine_name(upstream, options), ec.message()));
      co_return;
    }
    ex.set_upstream_socket(&conn->socket);
    Outcome outcome = co_await exchange_once(ex, upstream, options, *conn);
    ex.set_upstream_socket(nullptr);
    if (outcome == Outcome::kRetry && attempt == 0) continue;
    if (outcome == Outcome::kReusable) pool.release(upstream, std::move(conn));
    co_return;
  }
}

}  // namespace flocker::transport

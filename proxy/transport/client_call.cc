#include "client_call.h"

#include <fmt/format.h>

#include <array>

#include <boost/asio/write.hpp>

#include "deadline.h"
#include "header_bytes.h"

namespace flocker::transport {
namespace {

// An inspect answer is 2-5 KiB; list answers stream on in further reads.
constexpr std::size_t kAnswerReadSize = 16 * 1024;

// A reused pooled connection failing at once: the engine closed it while it sat idle. The
// request was not acted on; it is safe to send again on a new connection.
bool stale_pooled(const ConnectionPtr& conn, const error_code& ec) {
  return conn && conn->reused &&
         (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
          ec == asio::error::broken_pipe);
}

std::string describe(const error_code& ec) {
  if (ec == asio::error::timed_out) return "timed out";
  if (ec == http::error::end_of_stream) return "connection closed";
  return ec.message();
}

// What became of a request whose connection failed: the pool may have closed it because the
// engine was found down, which says more than "Operation canceled".
std::string failed(const Address& upstream, const ConnectionPtr& conn, const error_code& ec) {
  if (conn && !conn->aborted.empty()) return "engine " + upstream.text + " is down: " + conn->aborted;
  return "engine " + upstream.text + " failed: " + describe(ec);
}

}  // namespace

http::request<http::string_body> make_request(http::verb method, std::string_view target,
                                              std::string body, std::string_view request_id) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "flocker");
  if (!request_id.empty()) req.set("X-Request-Id", request_id);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

Task<CallResult> call(Worker& worker, const Address& upstream,
                      http::request<http::string_body> request, CallOptions options) {
  CallResult result;
  for (int attempt = 0;; ++attempt) {
    ConnectionPtr conn = co_await worker.pool().acquire(upstream, result.ec);
    if (!conn) {
      result.error = "cannot reach engine " + upstream.text + ": " + describe(result.ec);
      co_return result;
    }
    auto deadline = arm(conn->socket, options.timeout);
    Alarm slow = worker.slow_answer_alarm(upstream);
    error_code ec;
    co_await write_message(conn->socket, request.base(), request.body(), ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_body);
    parser.header_limit(64 * 1024);
    if (request.method() == http::verb::head) parser.skip(true);
    // Room for a whole typical answer in one read (a fresh buffer grows from 512 bytes).
    conn->buffer.reserve(kAnswerReadSize);
    if (!ec) co_await http::async_read(conn->socket, conn->buffer, parser, ec_token(ec));
    disarm(deadline, ec);
    slow.cancel();
    if (ec && attempt == 0 && conn->aborted.empty() && stale_pooled(conn, ec)) continue;
    if (ec) {
      result.ec = conn->aborted.empty() ? ec : asio::error::connection_aborted;
      result.error = failed(upstream, conn, ec);
      co_return result;
    }
    result.response = parser.release();
    if (result.response.keep_alive() && conn->buffer.size() == 0) {
      worker.pool().release(upstream, std::move(conn));
    }
    co_return result;
  }
}

Task<std::unique_ptr<StreamCall>> StreamCall::open(Worker& worker, const Address& upstream,
                                                   http::request<http::string_body> request,
                                                   CallResult& failure,
                                                   std::chrono::milliseconds answer_timeout) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<StreamCall> call(new StreamCall);
    call->pool_ = &worker.buffers();
    call->conn_ = co_await worker.pool().acquire(upstream, failure.ec);
    if (!call->conn_) {
      failure.error = "cannot reach engine " + upstream.text + ": " + describe(failure.ec);
      co_return nullptr;
    }
    // The deadline covers the response's header (an event stream's comes at once), not the
    // stream after it.
    auto deadline = arm(call->conn_->socket, answer_timeout);
    Alarm slow = worker.slow_answer_alarm(upstream);
    error_code ec;
    co_await http::async_write(call->conn_->socket, request, ec_token(ec));
    bool answered = false;
    if (!ec) {
      answered = co_await call->read_header(failure);
      ec = failure.ec;
    }
    disarm(deadline, ec);
    if (answered && !ec) co_return call;
    if (!ec) co_return nullptr;  // an HTTP error status: failure holds the response
    if (attempt == 0 && call->conn_->aborted.empty() && stale_pooled(call->conn_, ec)) {
      failure = {};
      continue;
    }
    failure.ec = ec;
    failure.error = failed(upstream, call->conn_, ec);
    co_return nullptr;
  }
}

Task<std::unique_ptr<StreamCall>> StreamCall::start(Worker& worker, const Address& upstream,
                                                    const http::request_header<>& header,
                                                    CallResult& failure) {
  std::unique_ptr<StreamCall> call(new StreamCall);
  call->pool_ = &worker.buffers();
  call->conn_ = co_await worker.pool().acquire(upstream, failure.ec);
  if (!call->conn_) {
    failure.error = "cannot reach engine " + upstream.text + ": " + describe(failure.ec);
    co_return nullptr;
  }
  http::request<http::empty_body> head(header);
  http::request_serializer<http::empty_body> sr(head);
  co_await http::async_write_header(call->conn_->socket, sr, ec_token(failure.ec));
  if (failure.ec) {
    failure.error = "engine " + upstream.text + " failed: " + describe(failure.ec);
    co_return nullptr;
  }
  co_return call;
}

Task<bool> StreamCall::write(std::string_view raw) {
  error_code ec;
  co_await asio::async_write(conn_->socket, asio::buffer(raw), ec_token(ec));
  co_return !ec;
}

Task<bool> StreamCall::write_chunk(std::string_view data) {
  if (data.empty()) co_return true;  // an empty chunk would end the body
  const std::string size = fmt::format("{:x}\r\n", data.size());
  const std::array<asio::const_buffer, 3> pieces{asio::buffer(size), asio::buffer(data),
                                                 asio::buffer("\r\n", 2)};
  error_code ec;
  co_await asio::async_write(conn_->socket, pieces, ec_token(ec));
  co_return !ec;
}

Task<bool> StreamCall::finish_chunks() { co_return co_await write("0\r\n\r\n"); }

void StreamCall::set_framing(bool chunked, std::optional<uint64_t> length, unsigned status) {
  if (status == 204 || status == 304) {
    framing_ = BodyFraming::none();
  } else if (chunked) {
    framing_ = BodyFraming::chunked();
  } else if (length) {
    framing_ = BodyFraming::length(*length);
  } else {
    framing_ = BodyFraming::until_eof();
  }
}

Task<bool> StreamCall::read_header(CallResult& failure) {
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(kUnlimitedBody);
  parser.header_limit(64 * 1024);
  conn_->buffer.reserve(kAnswerReadSize);
  co_await http::async_read_header(conn_->socket, conn_->buffer, parser, ec_token(failure.ec));
  if (failure.ec) {
    failure.error = conn_->aborted.empty() ? "engine failed: " + describe(failure.ec) : "engine is down: " + conn_->aborted;
    co_return false;
  }
  header_ = parser.get().base();
  const unsigned status = parser.get().result_int();
  auto length = parser.content_length();
  set_framing(parser.chunked(), length ? std::optional<uint64_t>(*length) : std::nullopt, status);
  if (status >= 300) {  // an error: read it whole for the caller's message
    failure.response.base() = header_;
    error_code ec;
    for (;;) {
      auto piece = co_await next(ec);
      if (!piece) break;
      if (failure.response.body().size() < (1 << 20)) failure.response.body().append(*piece);
    }
    co_return false;
  }
  co_return true;
}

Task<std::optional<std::string_view>> StreamCall::next(error_code& ec) {
  ec = {};
  auto& buffer = conn_->buffer;
  for (;;) {
    if (framing_.done()) co_return std::nullopt;
    piece_.clear();
    if (buffer.size() > 0) {
      std::size_t used = framing_.consume(static_cast<const char*>(buffer.data().data()),
                                          buffer.size(), [&](const char* d, std::size_t n) {
                                            piece_.append(d, n);
                                          });
      buffer.consume(used);
      if (framing_.error()) {
        ec = http::error::bad_chunk;
        co_return std::nullopt;
      }
      if (!piece_.empty()) co_return std::string_view(piece_);
      continue;
    }
    std::size_t n = conn_->socket.read_some(buffer.prepare(16 * 1024), ec);
    if (ec == asio::error::eof) {
      framing_.end_of_input();
      if (!framing_.done()) co_return std::nullopt;
      ec = {};
      co_return std::nullopt;
    }
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      // Wait for data without holding a buffer: an idle event stream costs its socket only.
      buffer.shrink_to_fit();
      std::string().swap(piece_);
      co_await conn_->socket.async_wait(Socket::wait_read, ec_token(ec));
      if (ec) co_return std::nullopt;
      continue;
    }
    if (ec) co_return std::nullopt;
    buffer.commit(n);
  }
}

void StreamCall::cancel() {
  error_code ignored;
  if (conn_) conn_->socket.close(ignored);
}

}  // namespace flocker::transport

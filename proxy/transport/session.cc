#include "session.h"

#include <spdlog/spdlog.h>

#include <boost/beast/core/string.hpp>

#include "access_log.h"

namespace flocker::transport {
namespace {

// Refusals of requests that parsed but must not be passed on. Beast already refuses
// Content-Length together with Transfer-Encoding, and conflicting Content-Lengths.
std::optional<std::string> refusal(const RequestParser& parser) {
  const auto& req = parser.get();
  if (req.target().empty() || (req.target()[0] != '/' && req.target() != "*")) {
    return "malformed request target";
  }
  // A Transfer-Encoding other than exactly "chunked" is ignored by the parser (it would
  // read the body as absent) but not by every server: a smuggling vector, refused.
  auto te = req.find(http::field::transfer_encoding);
  if (te != req.end() && !beast::iequals(te->value(), "chunked")) {
    return "unsupported Transfer-Encoding '" + std::string(te->value()) + "'";
  }
  if (req.count(http::field::transfer_encoding) > 1) return "repeated Transfer-Encoding";
  if (req.method() == http::verb::unknown) return "unknown method";
  return std::nullopt;
}

bool client_went_away(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor || ec == http::error::partial_message;
}

// Answers a request the transport itself refuses, then the connection closes.
Task<void> refuse(Socket& client, const Handler& handler, http::status status,
                  std::string_view message, const Peer& peer) {
  auto res = handler.render_error(status, message);
  res.keep_alive(false);
  res.prepare_payload();
  error_code ec;
  co_await http::async_write(client, res, ec_token(ec));
  spdlog::warn("refused a request from {}: {} {}", peer.address, res.result_int(), message);
}

}  // namespace

Task<void> run_session(Worker& worker, Handler& handler, Socket client, Peer peer,
                       const SessionOptions& options) {
  auto entry = worker.add_session(&client);
  beast::flat_buffer buffer;
  for (;;) {
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(kUnlimitedBody);
    entry->idle = true;
    if (worker.draining()) break;
    error_code ec;
    co_await http::async_read_header(client, buffer, parser, ec_token(ec));
    entry->idle = false;
    if (ec) {
      if (client_went_away(ec)) break;
      if (ec == http::error::header_limit) {
        co_await refuse(client, handler, http::status::request_header_fields_too_large,
                        "request header is larger than the limit", peer);
      } else {
        co_await refuse(client, handler, http::status::bad_request,
                        "malformed HTTP request: " + ec.message(), peer);
      }
      break;
    }
    if (auto why = refusal(parser)) {
      co_await refuse(client, handler, http::status::bad_request, *why, peer);
      break;
    }

    Exchange exchange(worker, handler, client, buffer, parser, peer, *entry);
    std::string failure;
    try {
      co_await handler.handle(exchange);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      spdlog::error("request {} failed: {}", exchange.request_id(), failure);
      exchange.close_after();
      if (!exchange.response_started()) {
        co_await exchange.respond_error(http::status::internal_server_error, failure);
      }
    }
    log_access(exchange);
    if (!exchange.keep_alive()) break;
  }
  error_code ignored;
  client.shutdown(Socket::shutdown_both, ignored);
  client.close(ignored);
  worker.remove_session(entry);
}

}  // namespace flocker::transport

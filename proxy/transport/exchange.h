// One request from a client and what became of it. The session creates it once the request
// header has been read; the handler responds or forwards through it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "body_framing.h"
#include "handler.h"
#include "net.h"
#include "worker.h"

namespace flocker::transport {

struct Peer {
  std::string address;      // "IP:PORT", or "unix" for unix-socket clients
  std::string tls_subject;  // the client certificate's subject (RFC 2253), "" without TLS
};

// The fields of the request's access-log line, filled in along the way.
struct AccessRecord {
  unsigned status = 0;
  uint64_t bytes_in = 0;   // request body bytes (or client->engine bytes of a tunnel)
  uint64_t bytes_out = 0;  // response body bytes (or engine->client bytes of a tunnel)
  std::string upstream;    // engine(s) involved
  bool hijacked = false;
  bool client_gone = false;  // the client went away before the response ended
  // The request's class for metrics (a static string the handler sets, e.g. "containers");
  // nullptr: "other".
  const char* label = nullptr;
};

using RequestParser = http::request_parser<http::buffer_body>;

class Exchange {
 public:
  Exchange(Worker& worker, const Handler& handler, Socket& client, beast::flat_buffer& buffer,
           RequestParser& parser, const Peer& peer, SessionEntry& entry);

  http::request<http::buffer_body>& request() { return parser_.get(); }
  RequestParser& parser() { return parser_; }
  // Where the request body (still on the wire, or partly in client_buffer()) ends.
  BodyFraming& request_body() { return request_body_; }
  const std::string& request_id() const { return request_id_; }
  const Peer& peer() const { return peer_; }
  Worker& worker() { return worker_; }
  Socket& client() { return client_; }
  beast::flat_buffer& client_buffer() { return buffer_; }
  AccessRecord& record() { return record_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

  // The upstream socket in use, so that a forced shutdown can close it.
  void set_upstream_socket(Socket* socket) { entry_.upstream = socket; }

  // Reads the rest of the request body, up to `limit` bytes. nullopt when the body is larger
  // (a 413 has then been sent) or the client failed; the connection closes after.
  Task<std::optional<std::string>> read_body(std::size_t limit);

  // Reads ahead without consuming: the request body's first payload bytes (chunk framing
  // taken off), up to `limit` or the body's end. The bytes read stay in client_buffer(), so
  // whatever relays the body next relays it raw and whole; memory is bounded by `limit`.
  // Less than asked when the client fails or goes quiet for `patience` (then the relay
  // deals with it).
  Task<std::string> peek_body(std::size_t limit, std::chrono::milliseconds patience = std::chrono::seconds(10));

  // Puts a body read with read_body back in front of the connection's unread bytes, framed
  // by Content-Length, so that whatever handles the request next reads it as if it had just
  // arrived: checked bodies pass on exactly as they were checked.
  void replay_body(std::string body);

  // Sends a complete response, keep-alive set as the exchange allows.
  Task<void> respond(http::response<http::string_body> response);
  // A refusal in the handler's shape (Handler::render_error), or as a gRPC server refuses
  // calls once refuse_as_grpc() was called.
  Task<void> respond_error(http::status status, std::string_view message);
  // From now on a refusal answers the h2c upgrade this request asks for and ends every gRPC
  // call on it with the refusal's status and message (h2c_refusal.h): a gRPC client over the
  // Docker API (BuildKit's /grpc) takes a refused upgrade for "no such service here" and
  // goes elsewhere, where this way it reports the refusal.
  void refuse_as_grpc() { refuse_as_grpc_ = true; }

  // Whether the session may read another request from this connection.
  bool keep_alive() const;
  void close_after() { close_after_ = true; }

  // The state of the response, for the session's error handling.
  bool response_started() const { return answered_.has_value(); }
  void mark_response_started() {
    if (!answered_) answered_ = std::chrono::steady_clock::now();
  }
  // When the response's header went out (the request's latency ends there).
  const std::optional<std::chrono::steady_clock::time_point>& answered() const { return answered_; }

 private:
  // Expect: 100-continue: the go-ahead, before the body is read.
  Task<void> send_continue();

  Worker& worker_;
  const Handler& handler_;
  Socket& client_;
  beast::flat_buffer& buffer_;
  RequestParser& parser_;
  BodyFraming request_body_;
  const Peer& peer_;
  SessionEntry& entry_;
  std::string request_id_;
  AccessRecord record_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> answered_;
  bool close_after_ = false;
  bool refuse_as_grpc_ = false;
};

}  // namespace flocker::transport

// The proxy's own requests to an upstream (inventory checks, list fan-outs, inspect before a
// remap): a whole request, a whole (bounded) response, over the worker's pooled connections.
// For responses that stream (events, pull progress), StreamCall reads the body piece by piece.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "address.h"
#include "body_framing.h"
#include "net.h"
#include "upstream_pool.h"
#include "worker.h"

namespace flocker::transport {

struct CallOptions {
  std::chrono::milliseconds timeout{0};        // 0: none (the connect timeout still applies)
  std::size_t max_body = 64 * 1024 * 1024;      // a larger response is an error
};

struct CallResult {
  error_code ec;        // transport failure (then `response` is empty)
  std::string error;    // ec, in words fit for a user message
  http::response<http::string_body> response;
  bool ok() const { return !ec; }
};

// A request with a JSON or empty body; Host, Content-Length and X-Request-Id are set here.
http::request<http::string_body> make_request(http::verb method, std::string_view target,
                                              std::string body = {},
                                              std::string_view request_id = {});

Task<CallResult> call(Worker& worker, const Address& upstream,
                      http::request<http::string_body> request, CallOptions options = {});

// A request whose response body is read as it arrives.
class StreamCall {
 public:
  // Sends the request and reads the response header, within `answer_timeout` (0: no limit).
  // On failure returns null and fills `failure` (ec and error; for an HTTP error status the
  // response is read whole into it).
  static Task<std::unique_ptr<StreamCall>> open(Worker& worker, const Address& upstream,
                                                http::request<http::string_body> request,
                                                CallResult& failure,
                                                std::chrono::milliseconds answer_timeout = {});

  // In two steps, for a request whose body follows as raw bytes (framed as its header says):
  // start() sends the header, write() the body, read_header() waits for the response.
  static Task<std::unique_ptr<StreamCall>> start(Worker& worker, const Address& upstream,
                                                 const http::request_header<>& header,
                                                 CallResult& failure);
  Task<bool> write(std::string_view raw);
  // For a header that says Transfer-Encoding: chunked: one chunk (none for empty data), and
  // the last chunk that ends the body.
  Task<bool> write_chunk(std::string_view data);
  Task<bool> finish_chunks();
  Task<bool> read_header(CallResult& failure);

  const http::response_header<>& header() const { return header_; }
  // The next piece of the decoded body, valid until the next call; nullopt at the end of the
  // body or on an error (then ec is set).
  Task<std::optional<std::string_view>> next(error_code& ec);
  // Ends the stream from any coroutine on this worker (the pending next() returns an error).
  void cancel();
  Socket& socket() { return conn_->socket; }

 private:
  StreamCall() = default;
  void set_framing(bool chunked, std::optional<uint64_t> length, unsigned status);
  ConnectionPtr conn_;
  http::response_header<> header_;
  BodyFraming framing_ = BodyFraming::none();
  std::string piece_;
  BufferPool::Buffer buffer_;
  BufferPool* pool_ = nullptr;
};

// Splits a stream of bytes into lines (docker's JSON streams: one message per line).
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line = 1 << 20) : max_line_(max_line) {}
  // Adds bytes; calls `line` for every complete line (without "\r\n" / "\n"). Returns false
  // when a line exceeds the limit.
  template <class F>
  bool feed(std::string_view data, F&& line) {
    while (!data.empty()) {
      auto nl = data.find('\n');
      if (nl == std::string_view::npos) {
        partial_.append(data);
        return partial_.size() <= max_line_;
      }
      std::string_view piece = data.substr(0, nl);
      data.remove_prefix(nl + 1);
      if (!partial_.empty()) {
        partial_.append(piece);
        emit(partial_, line);
        partial_.clear();
      } else {
        emit(piece, line);
      }
    }
    return true;
  }
  // What is left without a final newline.
  std::string_view rest() const { return partial_; }

 private:
  template <class F>
  static void emit(std::string_view l, F& line) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (!l.empty()) line(l);
  }
  std::size_t max_line_;
  std::string partial_;
};

}  // namespace flocker::transport

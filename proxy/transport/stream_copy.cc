#include "stream_copy.h"

namespace flocker::transport {

Task<CopyResult> copy_body(Worker& worker, const Address& from, std::string_view source_target,
                           const Address& to, http::request_header<> to_request,
                           std::chrono::milliseconds connect_timeout) {
  CopyResult out;
  CallResult failure;
  auto source = co_await StreamCall::open(worker, from, make_request(http::verb::get, source_target),
                                          failure, connect_timeout);
  if (!source) {
    out.error = failure.ec ? failure.error
                           : from.text + " answered " + std::to_string(failure.response.result_int()) +
                                 ": " + failure.response.body();
    co_return out;
  }
  to_request.erase(http::field::content_length);
  to_request.set(http::field::transfer_encoding, "chunked");
  CallResult sink_failure;
  auto sink = co_await StreamCall::start(worker, to, to_request, sink_failure);
  if (!sink) {
    source->cancel();
    out.error = sink_failure.error;
    co_return out;
  }
  error_code ec;
  for (;;) {
    auto piece = co_await source->next(ec);
    if (!piece) break;
    const bool written = co_await sink->write_chunk(*piece);
    if (!written) {
      source->cancel();
      out.error = "writing to " + to.text + " failed";
      co_return out;
    }
    out.bytes += piece->size();
  }
  if (ec) {
    // A truncated body must not look complete: the receiver sees its connection end instead
    // of the last chunk.
    sink->cancel();
    out.error = "reading from " + from.text + " failed: " + ec.message();
    co_return out;
  }
  const bool finished = co_await sink->finish_chunks();
  if (!finished) {
    out.error = "writing to " + to.text + " failed";
    co_return out;
  }
  const bool answered = co_await sink->read_header(sink_failure);
  if (!answered) {
    if (sink_failure.ec) {
      out.error = to.text + " failed: " + sink_failure.error;
    } else {
      out.response = std::move(sink_failure.response);
      out.error = to.text + " answered " + std::to_string(out.response.result_int()) + ": " + out.response.body();
    }
    co_return out;
  }
  out.response.base() = sink->header();
  for (;;) {
    auto piece = co_await sink->next(ec);
    if (!piece) break;
    if (out.response.body().size() < (1 << 20)) out.response.body().append(*piece);
  }
  if (ec) {
    out.error = "reading the answer of " + to.text + " failed: " + ec.message();
    co_return out;
  }
  out.ok = true;
  co_return out;
}

}  // namespace flocker::transport

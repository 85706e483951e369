// A body streamed from one upstream into a request to another, through the proxy: what one
// server answers to a GET becomes, piece by piece, the chunked body of a request to another
// (an image saved on one engine, loaded into another). One piece in memory at a time; the
// slower side sets the pace.
#pragma once

#include <chrono>
#include <string>

#include "address.h"
#include "client_call.h"
#include "worker.h"

namespace flocker::transport {

struct CopyResult {
  bool ok = false;      // both sides answered 2xx and the whole body went across
  std::string error;    // why not, in words fit for a log and a user message
  uint64_t bytes = 0;   // body bytes copied
  // The receiving side's answer, its body read whole (up to 1 MiB) when it answered.
  http::response<http::string_body> response;
};

// GETs `source_target` from `from` and sends its body as the body of `to_request` (its
// header; Transfer-Encoding is set to chunked here) to `to`. `connect_timeout` bounds each
// connection and the source's header; the copy itself may take as long as it needs.
Task<CopyResult> copy_body(Worker& worker, const Address& from, std::string_view source_target,
                           const Address& to, http::request_header<> to_request,
                           std::chrono::milliseconds connect_timeout);

}  // namespace flocker::transport
